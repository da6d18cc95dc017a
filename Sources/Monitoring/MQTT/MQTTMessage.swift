/// One application message: what is published, where, and how.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    /// 0: at most once; 1: at least once (kept until the broker's PUBACK, sent again after a reconnect).
    public var qos: UInt8
    /// The broker keeps the last retained message of a topic and gives it to every new subscriber.
    public var retain: Bool

    public init(topic: String, payload: String, qos: UInt8 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = Array(payload.utf8)
        self.qos = min(qos, 1)
        self.retain = retain
    }
}
