import Imaging

/// Somewhere alerts are kept (the history database): the service and `watch --db` record each alert there.
public protocol AlertRecorder: Sendable {
    /// Records one alert with its frame. `streamSource` is what history calls the source (`stream:<id>`, or the SOURCE).
    func record(_ alert: Alert, snapshot: RGBImage, streamSource: String) async throws
}
