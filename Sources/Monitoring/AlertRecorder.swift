import Imaging

/// Somewhere alerts are kept (the history database): the service and `watch --db` record each alert there.
public protocol AlertRecorder: Sendable {
    /// Records one alert with its frame. `source` is what the history calls the origin (`stream:<id>`, `watch`).
    func record(_ alert: Alert, snapshot: RGBImage, rule: AlertRule, source: String, streamID: String?) async throws
}
