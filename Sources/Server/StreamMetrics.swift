import Foundation

/// One camera's figures for `/metrics`, read from the supervisor at scrape time.
struct StreamMetricSample: Sendable {
    let name: String
    /// Frames are being read and classified (state `running`).
    let up: Bool
    /// Frames classified since the stream was added (across restarts).
    let frames: Int
    let restarts: Int
    let alerts: Int
    /// Rising edges within a rule's cooldown or settle time, not alerted.
    let suppressedAlerts: Int
    /// Seconds since the last classified frame was read; nil before the first.
    let lastFrameAgeSeconds: Double?
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
        family("resnet18_stream_restarts_total", "counter", "Times the camera's ffmpeg ended and was started again after a backoff.") { Double($0.restarts) }
        family("resnet18_stream_alerts_total", "counter", "Alerts the camera's rules fired.") { Double($0.alerts) }
        family("resnet18_stream_alerts_suppressed_total", "counter", "Rule matches not alerted: within the rule's cooldown, or before it had settled.") { Double($0.suppressedAlerts) }
        family("resnet18_stream_last_frame_age_seconds", "gauge", "Seconds since the camera's last classified frame was read (absent before the first).") { $0.lastFrameAgeSeconds }
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
