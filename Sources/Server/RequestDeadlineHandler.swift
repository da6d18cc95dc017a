import HTTPTypes
import NIOHTTPTypes
import NIOCore

/// Closes a connection whose request has not fully arrived within `--request-timeout` of its start.
///
/// Hummingbird's idle timeout is restarted by every body part read, so a client that sends one byte a second
/// would hold a connection (and the memory of its partial upload) forever; this handler counts from the first
/// byte the server waits for (the connection's start, or a request head on a kept-alive connection) to the
/// request's end, however steadily the bytes trickle in. Idle kept-alive connections are closed by Hummingbird's
/// idle timeout, set to the same value.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil { arm(context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if deadline == nil { arm(context) }
        case .body:
            break
        case .end:
            disarm()
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private func arm(_ context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
