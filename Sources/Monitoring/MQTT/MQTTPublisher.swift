import Foundation
import Recognition

/// One camera's stream events as MQTT messages: alerts, the state (retained), the availability (`online` at each
/// connection, `offline` at the end or as the last will) and, with discovery on, a Home Assistant sensor whose
/// value is the last alert's label.
public struct MQTTPublisher: Sendable {
    public let topics: MQTTTopics
    public let client: MQTTClient
    private let offline: MQTTMessage

    public init(settings: MQTTSettings, camera: String, log: @escaping @Sendable (String) -> Void) throws(MQTTError) {
        try CameraName.validate(camera)
        let topics = MQTTTopics(prefix: settings.prefix, camera: camera)
        self.topics = topics
        offline = MQTTMessage(topic: topics.availability, payload: "offline", retain: true)
        var greeting = [MQTTMessage(topic: topics.availability, payload: "online", retain: true)]
        if settings.discovery {
            greeting.append(MQTTMessage(topic: topics.discovery, payload: Self.discoveryPayload(topics), retain: true))
        }
        // Unique per process: two watchers of one camera name must not take each other's connection.
        let suffix = UUID().uuidString.lowercased().prefix(6)
        client = MQTTClient(settings: settings, clientID: "resnet18-\(camera.prefix(40))-\(suffix)", will: offline,
                            greeting: greeting, log: log)
    }

    /// Connects in the background.
    public func start() async { await client.start() }

    /// Queues an alert or a change of state (frames are not published); `extra` adds keys to the JSON (`stream`).
    public func publish(_ event: StreamEvent, extra: [String: String] = [:]) async {
        switch event {
        case .frame, .suppressed:
            return
        case let .alert(alert, _):
            await client.publish(MQTTMessage(topic: topics.alert, payload: Self.alertPayload(alert, camera: topics.camera, extra: extra)))
        case let .status(status):
            await client.publish(MQTTMessage(topic: topics.state, payload: Self.statePayload(status, camera: topics.camera, extra: extra),
                                             retain: true))
        }
    }

    /// Says `offline`, waits up to `timeout` for the broker to take what is queued, and disconnects; returns how
    /// many messages were not delivered.
    @discardableResult
    public func stop(within timeout: Duration) async -> Int {
        await client.stop(publishing: [offline], within: timeout)
    }

    /// The alert's JSON (as `watch --json` prints it) with `camera` and `event_id`, an id that is the same each
    /// time this alert is sent (a resend after a reconnect can be recognised).
    static func alertPayload(_ alert: Alert, camera: String, extra: [String: String]) -> String {
        let milliseconds = Int64((alert.time.timeIntervalSince1970 * 1000).rounded())
        var keys: [String: Any] = ["camera": camera, "event_id": "\(camera)-\(milliseconds)-\(alert.frame)-\(alert.rule)"]
        for (key, value) in extra { keys[key] = value }
        return alert.jsonLine(extra: keys)
    }

    static func statePayload(_ status: StreamStatus, camera: String, extra: [String: String]) -> String {
        var object: [String: Any] = ["camera": camera, "state": status.state.rawValue, "time": Alert.timestamp(Date()),
                                     "message": status.message ?? NSNull()]
        if let retryAt = status.retryAt { object["retry_at"] = Alert.timestamp(retryAt) }
        if let backoff = status.backoffSeconds { object["backoff_seconds"] = backoff }
        for (key, value) in extra { object[key] = value }
        return json(object)
    }

    /// A sensor whose state is the last alert's label and whose attributes are the whole alert.
    static func discoveryPayload(_ topics: MQTTTopics) -> String {
        json([
            "name": "Last alert",
            "unique_id": "resnet18_\(topics.camera)_last_alert",
            "object_id": "resnet18_\(topics.camera)_last_alert",
            "state_topic": topics.alert,
            "value_template": "{{ value_json.label }}",
            "json_attributes_topic": topics.alert,
            "availability_topic": topics.availability,
            "payload_available": "online",
            "payload_not_available": "offline",
            "icon": "mdi:cctv",
            "device": [
                "identifiers": ["resnet18_\(topics.camera)"],
                "name": "resnet18 \(topics.camera)",
                "manufacturer": "resnet18",
                "model": "ResNet-18 camera monitor",
                "sw_version": ProductVersion.current,
            ] as [String: Any],
        ])
    }

    private static func json(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
