import NIOCore

/// The packets of MQTT 3.1.1 this client sends (encoded) and receives (decoded); the rest of the protocol
/// (subscriptions, QoS 2) is not used.
enum MQTTPacket: Equatable {
    case connectionAcknowledged(sessionPresent: Bool, returnCode: UInt8)
    case publishAcknowledged(packetID: UInt16)
    case pingResponse
    /// Anything else a broker may send a client that subscribed to nothing (ignored).
    case other(type: UInt8)

    /// The largest remaining length four bytes can say (MQTT 3.1.1, 2.2.3).
    static let maximumRemainingLength = 268_435_455

    // MARK: Encoding

    struct Connect {
        var clientID: String
        var keepAliveSeconds: UInt16
        var username: String?
        var password: String?
        var will: MQTTMessage?
    }

    static func connect(_ connect: Connect) -> ByteBuffer {
        var body = ByteBuffer()
        writeString("MQTT", to: &body)
        body.writeInteger(UInt8(4))  // protocol level: 3.1.1
        var flags: UInt8 = 0x02  // clean session
        if let will = connect.will {
            flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0)
        }
        if connect.username != nil { flags |= 0x80 }
        if connect.password != nil && connect.username != nil { flags |= 0x40 }
        body.writeInteger(flags)
        body.writeInteger(connect.keepAliveSeconds)
        writeString(connect.clientID, to: &body)
        if let will = connect.will {
            writeString(will.topic, to: &body)
            body.writeInteger(UInt16(will.payload.count))
            body.writeBytes(will.payload)
        }
        if let username = connect.username {
            writeString(username, to: &body)
            if let password = connect.password { writeString(password, to: &body) }
        }
        return packet(type: 1, flags: 0, body: body)
    }

    /// PUBLISH; `packetID` is required for QoS 1, `duplicate` marks a resend.
    static func publish(_ message: MQTTMessage, packetID: UInt16?, duplicate: Bool = false) -> ByteBuffer {
        var body = ByteBuffer()
        writeString(message.topic, to: &body)
        if message.qos > 0, let packetID { body.writeInteger(packetID) }
        body.writeBytes(message.payload)
        let flags = (duplicate ? 0x08 : 0) | (message.qos << 1) | (message.retain ? 0x01 : 0)
        return packet(type: 3, flags: flags, body: body)
    }

    static let pingRequest = ByteBuffer(bytes: [0xC0, 0x00])
    static let disconnect = ByteBuffer(bytes: [0xE0, 0x00])

    private static func packet(type: UInt8, flags: UInt8, body: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(type << 4 | flags)
        writeRemainingLength(body.readableBytes, to: &buffer)
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    /// A UTF-8 string with its 16-bit length (topics, client id, user name, password: checked to fit beforehand).
    private static func writeString(_ string: String, to buffer: inout ByteBuffer) {
        let bytes = Array(string.utf8.prefix(65_535))
        buffer.writeInteger(UInt16(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// 7 bits a byte, least significant first, the high bit saying that another byte follows.
    static func writeRemainingLength(_ length: Int, to buffer: inout ByteBuffer) {
        precondition((0...maximumRemainingLength).contains(length), "an MQTT packet holds at most 256 MB")
        var rest = length
        repeat {
            var byte = UInt8(rest & 0x7F)
            rest >>= 7
            if rest > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while rest > 0
    }

    // MARK: Decoding

    enum RemainingLength: Equatable {
        case complete(length: Int, bytes: Int)
        case needMoreBytes
        /// A fifth length byte, which would say more than 256 MB.
        case malformed
    }

    /// Reads the remaining length starting at `index`, without moving the reader index.
    static func remainingLength(in buffer: ByteBuffer, at index: Int) -> RemainingLength {
        var length = 0
        for position in 0..<4 {
            guard let byte = buffer.getInteger(at: index + position, as: UInt8.self) else { return .needMoreBytes }
            length |= Int(byte & 0x7F) << (7 * position)
            if byte & 0x80 == 0 { return .complete(length: length, bytes: position + 1) }
        }
        return .malformed
    }

    /// A whole packet: its first byte and its body.
    init(header: UInt8, body: ByteBuffer) throws(MQTTError) {
        var body = body
        switch header >> 4 {
        case 2:
            guard body.readableBytes == 2, let flags = body.readInteger(as: UInt8.self), let code = body.readInteger(as: UInt8.self) else {
                throw .protocolViolation("a CONNACK of \(body.readableBytes) bytes instead of 2")
            }
            self = .connectionAcknowledged(sessionPresent: flags & 1 == 1, returnCode: code)
        case 4:
            guard body.readableBytes == 2, let id = body.readInteger(as: UInt16.self) else {
                throw .protocolViolation("a PUBACK of \(body.readableBytes) bytes instead of 2")
            }
            self = .publishAcknowledged(packetID: id)
        case 13:
            self = .pingResponse
        default:
            self = .other(type: header >> 4)
        }
    }
}
