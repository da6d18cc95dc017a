import NIOCore

/// The end of a broker connection's pipeline: hands each packet to the client's stream, pings when nothing was
/// sent for half the keep-alive, and closes a connection silent for one and a half (the broker is gone).
final class MQTTChannelHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket
    typealias OutboundOut = ByteBuffer

    private let packets: AsyncThrowingStream<MQTTPacket, any Error>.Continuation

    init(packets: AsyncThrowingStream<MQTTPacket, any Error>.Continuation) {
        self.packets = packets
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        packets.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        packets.finish(throwing: MQTTError.connectionLost("the broker closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        packets.finish(throwing: error)
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event as? IdleStateHandler.IdleStateEvent {
        case .write:
            context.writeAndFlush(wrapOutboundOut(MQTTPacket.pingRequest), promise: nil)
        case .read:
            packets.finish(throwing: MQTTError.connectionLost("the broker stopped answering (no PINGRESP)"))
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }
}
