import NIOCore

/// Splits the bytes from the broker into packets. Brokers send a client that subscribes to nothing only small
/// packets, so anything past `maximumPacketBytes` is refused rather than buffered.
struct MQTTPacketDecoder: ByteToMessageDecoder {
    typealias InboundOut = MQTTPacket

    static let maximumPacketBytes = 1 << 20

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let header = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
        switch MQTTPacket.remainingLength(in: buffer, at: buffer.readerIndex + 1) {
        case .needMoreBytes:
            return .needMoreData
        case .malformed:
            throw MQTTError.protocolViolation("a remaining length of more than four bytes")
        case let .complete(length, lengthBytes):
            guard length <= Self.maximumPacketBytes else {
                throw MQTTError.protocolViolation("a packet of \(length) bytes, more than a broker sends a publisher")
            }
            guard buffer.readableBytes >= 1 + lengthBytes + length else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: 1 + lengthBytes)
            let body = buffer.readSlice(length: length)!
            context.fireChannelRead(wrapInboundOut(try MQTTPacket(header: header, body: body)))
            return .continue
        }
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
