import Foundation
import Imaging
import Monitoring
import Recognition
import Storage

/// Stream alerts as history records: source `stream:<id>` (or `watch`), the frame's top-5, the rule that fired in
/// `alert`, and the frame as the snapshot thumbnail (when thumbnails are on).
public struct AlertHistoryRecorder: AlertRecorder {
    /// Longest side of the snapshot, in pixels.
    public static let snapshotSide = 320
    let thumbnails: Bool
    let submit: @Sendable (RecognitionRecord) async throws -> Void

    /// `submit` stores a record (the server's `HistoryWriter`, or `HistoryStore.record` for `watch`).
    public init(thumbnails: Bool, submit: @escaping @Sendable (RecognitionRecord) async throws -> Void) {
        self.thumbnails = thumbnails
        self.submit = submit
    }

    public func record(_ alert: Alert, snapshot: RGBImage, rule: AlertRule, source: String, streamID: String?) async throws {
        let weights = alert.weights.split(separator: " ")
        let record = RecognitionRecord(
            time: alert.time, source: source, streamID: streamID,
            imageSHA256: ResultCache.key(for: snapshot.pixels),
            thumbnailJPEG: thumbnails ? try? JPEGEncoder.encode(snapshot.scaledDown(toFit: Self.snapshotSide), quality: 80) : nil,
            top5: alert.top.prefix(5).map { RecordedClass(index: $0.index, wnid: $0.wnid ?? "", label: $0.label, probability: $0.probability) },
            weights: RecordedWeights(name: alert.trained ? String(weights.first ?? "") : "untrained",
                                     sha256Prefix: weights.count > 1 ? String(weights[1].dropFirst("sha256:".count)) : "",
                                     trained: alert.trained),
            timings: RecordedTimings(decodeMilliseconds: 0, preprocessMilliseconds: 0, queueMilliseconds: 0,
                                     inferenceMilliseconds: 0, totalMilliseconds: 0),
            alert: "frame \(alert.frame): \(alert.label) \(String(format: "%.4f", alert.probability)) (rule \(alert.rule + 1): \(rule.summary))")
        try await submit(record)
    }
}
