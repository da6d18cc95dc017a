import GRPCCore
import Recognition
import Synchronization

/// One inference request's W3C `Server-Timing`: the time to receive its body, the engine's time for its batch and
/// the server's whole time with the request, from its headers to its answer, so that a client can tell what the
/// server adds to the engine from what the network and the client itself add. Sent as the `Server-Timing` header of
/// `POST /v2/.../infer` and as the `server-timing` trailing metadata of gRPC `ModelInfer`.
final class ServerTiming: Sendable {
    /// The request being served, where one is being timed.
    @TaskLocal static var current: ServerTiming?

    static let headerName = "server-timing"
    private let started = ContinuousClock.now
    /// Milliseconds of each part, once known.
    private struct Parts {
        var received: Double?
        var batcher: Double?
        var engine: Double?
    }
    private let parts = Mutex(Parts())

    /// Notes that the request's body has arrived whole (and been parsed).
    func recordReceived() {
        let now = (ContinuousClock.now - started).milliseconds
        parts.withLock { $0.received = now }
    }

    /// Notes the engine's milliseconds for the batch that carried this request, and the milliseconds from handing
    /// the request's input on to having its results back (BYTES images' decoding, the wait for the engine, the
    /// engine's time and the hand-overs between threads).
    func recordEngine(milliseconds: Double, batcher batcherMilliseconds: Double) {
        parts.withLock {
            $0.engine = milliseconds
            $0.batcher = batcherMilliseconds
        }
    }

    /// `receive;dur=0.210, batcher;dur=24.302, engine;dur=24.113, total;dur=25.020` (milliseconds); the total
    /// runs to now.
    var value: String {
        let total = (ContinuousClock.now - started).milliseconds
        let known = parts.withLock { $0 }
        let named = [("receive", known.received), ("batcher", known.batcher), ("engine", known.engine), ("total", total)]
        return named.compactMap { name, duration in duration.map { "\(name);dur=" + Self.format($0) } }.joined(separator: ", ")
    }

    private static func format(_ milliseconds: Double) -> String {
        let microseconds = Int((milliseconds * 1000).rounded())
        let fraction = String(microseconds % 1000)
        return "\(microseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

/// Times gRPC `ModelInfer` calls from the moment their headers arrive and adds `server-timing` to the trailers.
struct GRPCServerTiming: ServerInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard context.descriptor.method == "ModelInfer" else { return try await next(request, context) }
        let timing = ServerTiming()
        var response = try await ServerTiming.$current.withValue(timing) { try await next(request, context) }
        guard case var .success(contents) = response.accepted else { return response }
        let producer = contents.producer
        contents.producer = { writer in
            var trailers = try await producer(writer)
            trailers.addString(timing.value, forKey: ServerTiming.headerName)
            return trailers
        }
        response.accepted = .success(contents)
        return response
    }
}
