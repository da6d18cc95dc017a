import NIOCore
import Testing
@testable import Monitoring

/// The bytes of MQTT 3.1.1 as the specification writes them, and the settings a user can get wrong.
@Suite struct MQTTPacketTests {
    @Test("remaining lengths take one to four bytes at the specification's boundaries, and a fifth is refused")
    func remainingLength() {
        let cases: [(Int, [UInt8])] = [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]), (16_384, [0x80, 0x80, 0x01]),
            (2_097_151, [0xFF, 0xFF, 0x7F]), (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (length, bytes) in cases {
            var buffer = ByteBuffer()
            MQTTPacket.writeRemainingLength(length, to: &buffer)
            #expect(Array(buffer.readableBytesView) == bytes, "\(length)")
            #expect(MQTTPacket.remainingLength(in: ByteBuffer(bytes: bytes), at: 0) == .complete(length: length, bytes: bytes.count))
            #expect(MQTTPacket.remainingLength(in: ByteBuffer(bytes: bytes.dropLast()), at: 0) == .needMoreBytes)
        }
        #expect(MQTTPacket.remainingLength(in: ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), at: 0) == .malformed)
    }

    @Test("CONNECT carries the clean-session, will, retain, user and password flags; PUBLISH its QoS, DUP and packet id")
    func packets() {
        var connect = MQTTPacket.connect(.init(clientID: "c", keepAliveSeconds: 30, username: "u", password: "p",
                                               will: MQTTMessage(topic: "t/availability", payload: "offline", retain: true)))
        let bytes = Array(connect.readBytes(length: connect.readableBytes)!)
        #expect(bytes[0] == 0x10)
        #expect(Array(bytes[2...8]) == [0, 4, 77, 81, 84, 84, 4])  // "MQTT", level 4
        #expect(bytes[9] == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02)
        #expect(Array(bytes[10...11]) == [0, 30])
        var publish = MQTTPacket.publish(MQTTMessage(topic: "a/b", payload: "x", retain: true), packetID: 0x0102, duplicate: true)
        #expect(Array(publish.readBytes(length: publish.readableBytes)!) == [0x3B, 8, 0, 3, 97, 47, 98, 1, 2, 120])
    }

    @Test("CONNACK return codes are said in words: 5 is a wrong user name or password")
    func returnCodes() {
        #expect(MQTTError.refused(returnCode: 5).description.contains("not authorised: wrong user name or password"))
        #expect(MQTTError.refused(returnCode: 4).description.contains("bad user name or password"))
    }

    @Test("URLs: ports by scheme, credentials kept for CONNECT and masked when shown; camera names from sources")
    func settings() throws {
        let plain = try MQTTSettings(url: "mqtt://broker.local")
        #expect(plain.port == 1883 && !plain.useTLS && plain.username == nil)
        let secure = try MQTTSettings(url: "mqtts://ada:p%40ss@broker.local:8884/", prefix: "home/cams")
        #expect(secure.port == 8884 && secure.useTLS && secure.username == "ada" && secure.password == "p@ss")
        #expect(secure.redacted == "mqtts://ada:***@broker.local:8884/")
        #expect(throws: MQTTError.self) { try MQTTSettings(url: "mqtt://broker", prefix: "a//b") }
        #expect(CameraName.derived(from: try VideoSource("rtsp://u:pw@Camera.Local:554/stream_1?x=1")) == "camera-local-stream_1")
        #expect(throws: MQTTError.self) { try CameraName.validate("Front Door") }
    }
}
