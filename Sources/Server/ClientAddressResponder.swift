import Hummingbird
import Logging
import NIOCore

/// The request context the server is built with: the basic one plus the peer's address, which the router's own
/// `BasicRequestContext` does not keep and the failed-login throttle needs.
struct ClientRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    let logger: Logger
    /// The peer's IP address; nil for a Unix socket or an in-process test client.
    let clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.logger = source.logger
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// Makes the peer's address available to the router (as `ClientAddress.current`) and hands the request
/// on with a `BasicRequestContext`, so routes and middleware keep their plain context type.
struct ClientAddressResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    typealias Context = ClientRequestContext
    let inner: Inner

    func respond(to request: Request, context: ClientRequestContext) async throws -> Response {
        try await ClientAddress.$current.withValue(context.clientAddress) {
            try await inner.respond(to: request, context: BasicRequestContext(source: .init(channel: context.channel, logger: context.logger)))
        }
    }
}

/// The peer address of the request being handled, set by `ClientAddressResponder`.
enum ClientAddress {
    @TaskLocal static var current: String?
}
