import Foundation
import Imaging
import Recognition

/// A rule fired: a class or category reached the threshold in k of the last n frames.
public struct Alert: Sendable, Codable, Equatable {
    /// Unique and stable: the same in the webhook's body and `X-ResNet18-Event-Id` on every attempt, in the
    /// events and in `watch --json`, so receivers can drop duplicates.
    public let id: String
    /// When the frame that fired it was read from ffmpeg (classification may come later when it lags).
    public let time: Date
    /// The SOURCE as given (the service adds which stream in its own records).
    public let source: String
    /// The class's name, or the category's ("dog").
    public let label: String
    /// The class; for a category, its most probable member class in the frame.
    public let index: Int
    /// The class's or the category's WordNet id.
    public let wnid: String?
    /// The class's probability; a category's is the sum over its classes.
    public let probability: Double
    /// The frame's number since the stream started (1 = the first frame read), counting across restarts.
    public let frame: Int
    /// Which weights recognised it (`resultLabel`), and whether they are trained: an untrained network's
    /// labels are not recognition, and every alert says so.
    public let weights: String
    public let trained: Bool
    /// Position of the rule in the stream's list of rules.
    public let rule: Int
    /// The frame's best classes (for the history row; not part of `jsonLine`).
    public let top: [Prediction]
}

/// A frame after classification: the stream's latest view.
public struct ClassifiedFrame: Sendable {
    public let number: Int
    /// When it was read from ffmpeg.
    public let time: Date
    public let image: RGBImage
    public let top: [Prediction]
    /// Frames of a live source dropped unclassified since the stream started (classification fell behind).
    public var dropped = 0
}

/// Where a stream is in its life.
public enum StreamState: String, Sendable, Codable {
    /// Starting ffmpeg, no frame yet.
    case starting
    /// Frames are arriving.
    case running
    /// ffmpeg exited or the source dropped; it starts again after a delay.
    case restarting
    /// A file source reached its end.
    case ended
    /// It cannot work (ffmpeg missing, a bad frame stream...); it does not restart.
    case failed
    /// Removed or stopped.
    case stopped
    /// Kept (the service's database) but not running: `enabled: false`.
    case disabled
}

/// A change of state, with the reason in words.
public struct StreamStatus: Sendable, Equatable {
    public var state: StreamState
    /// Why (ffmpeg's last error line, the restart delay).
    public var message: String?
    /// When it restarts, for `restarting`.
    public var retryAt: Date?
    /// Seconds of the current backoff, for `restarting`.
    public var backoffSeconds: Double?

    public init(state: StreamState, message: String? = nil, retryAt: Date? = nil, backoffSeconds: Double? = nil) {
        self.state = state
        self.message = message
        self.retryAt = retryAt
        self.backoffSeconds = backoffSeconds
    }

    /// Still working, or about to be again.
    public var isActive: Bool { [.starting, .running, .restarting].contains(state) }
}

/// What a stream reports as it runs.
public enum StreamEvent: Sendable {
    case frame(ClassifiedFrame)
    case alert(Alert, snapshot: RGBImage)
    /// A rule started to hold again within its cooldown: no alert, only counted.
    case suppressed(Alert)
    case status(StreamStatus)
}

extension Alert {
    /// ISO 8601 with milliseconds, UTC.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// One JSON object on one line: what `watch --json` prints, the webhook receives and the page is sent.
    public func jsonLine(extra: [String: Any] = [:]) -> String {
        var object: [String: Any] = [
            "id": id, "time": Self.timestamp(time), "source": source, "label": label, "index": index,
            "wnid": wnid ?? NSNull(), "probability": probability, "frame": frame,
            "weights": weights, "trained": trained, "rule": rule,
        ]
        for (key, value) in extra { object[key] = value }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
