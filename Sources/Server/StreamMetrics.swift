import Foundation

/// One camera's figures for `/metrics`, read from the supervisor at scrape time.
struct StreamMetricSample: Sendable {
    let name: String
    /// Frames are being read and classified (state `running`).
    let up: Bool
    /// Frames classified since the stream was added (across restarts).
    let frames: Int
    /// Frames read from the camera and dropped unclassified (classification fell behind).
    let droppedFrames: Int
    let restarts: Int
    let alerts: Int
    /// Rising edges within a rule's cooldown or settle time, not alerted.
    let suppressedAlerts: Int
    /// Seconds since the last classified frame was read; nil before the first.
    let lastFrameAgeSeconds: Double?
    /// Its MQTT connection (with `--mqtt`, while the stream publishes); nil without.
    var mqtt: MQTTSample?
}

/// One camera's MQTT connection: whether the broker has it, and its outbox.
struct MQTTSample: Sendable {
    let connected: Bool
    /// Messages queued or awaiting the broker's PUBACK.
    let pending: Int
    let delivered: Int
    /// Dropped because the outbox was full while the broker was away.
    let dropped: Int
}

/// The per-camera series of `/metrics`, each family with its `# HELP` and `# TYPE`, one sample per camera
/// labelled `camera="NAME"` (names are `[a-z0-9_-]`, nothing to escape; escaped all the same).
enum StreamMetrics {
    static func exposition(_ samples: [StreamMetricSample]) -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (StreamMetricSample) -> Double?) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                guard let number = value(sample) else { continue }
                text += "\(name){camera=\"\(escaped(sample.name))\"} \(format(number))\n"
            }
        }
        family("resnet18_stream_up", "gauge", "1 while the camera's frames are read and classified, 0 while it starts, restarts, has failed or is disabled.") { $0.up ? 1 : 0 }
        family("resnet18_stream_frames_total", "counter", "Frames of the camera classified (rate() gives frames per second).") { Double($0.frames) }
        family("resnet18_stream_frames_dropped_total", "counter", "Frames read from the camera and dropped unclassified because classification fell behind (frames decoded = classified + dropped).") { Double($0.droppedFrames) }
        family("resnet18_stream_restarts_total", "counter", "Times the camera's ffmpeg ended and was started again after a backoff.") { Double($0.restarts) }
        family("resnet18_stream_alerts_total", "counter", "Alerts the camera's rules fired.") { Double($0.alerts) }
        family("resnet18_stream_alerts_suppressed_total", "counter", "Rule matches not alerted: within the rule's cooldown, or before it had settled.") { Double($0.suppressedAlerts) }
        family("resnet18_stream_last_frame_age_seconds", "gauge", "Seconds since the camera's last classified frame was read (absent before the first).") { $0.lastFrameAgeSeconds }
        guard samples.contains(where: { $0.mqtt != nil }) else { return text }
        family("resnet18_stream_mqtt_connected", "gauge", "1 while the camera's MQTT connection is up, 0 while it connects or waits to retry (the broker unreachable, refusing, ...).") { $0.mqtt.map { $0.connected ? 1 : 0 } }
        family("resnet18_stream_mqtt_pending", "gauge", "The camera's MQTT messages queued or awaiting the broker's acknowledgement.") { $0.mqtt.map { Double($0.pending) } }
        family("resnet18_stream_mqtt_delivered_total", "counter", "The camera's MQTT messages the broker acknowledged.") { $0.mqtt.map { Double($0.delivered) } }
        family("resnet18_stream_mqtt_dropped_total", "counter", "The camera's MQTT messages dropped because the outbox was full while the broker was away.") { $0.mqtt.map { Double($0.dropped) } }
        return text
    }

    static func escaped(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3f", value)
    }
}
