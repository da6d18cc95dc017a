import Foundation
import Imaging
import Recognition
import Storage

/// Turns answered classifications into history rows: the top-5 from the logits (whatever `top_k` the client
/// asked), the image's SHA-256, the weights, the timings, and a thumbnail of what the network saw (the centre
/// crop) when thumbnails are on. Rows go through the `HistoryWriter`; the answer carries the id once committed.
struct HistoryRecorder: Sendable {
    let writer: HistoryWriter
    let labels: Labels
    let thumbnails: Bool
    let recognizer: Recognizer

    /// One image's facts for its row.
    struct Item: Sendable {
        let classification: Classification
        let sha256: String
        /// The upload, for a thumbnail made later when the result came from the cache.
        let bytes: [UInt8]
        /// The preprocessed image, when the image was decoded for this request.
        let image: PreparedImage?
    }

    /// Records the items together (one transaction when they arrive together); their ids, nil where not committed.
    func record(_ items: [Item], source: String, user: String? = nil) async -> [Int64?] {
        let time = Date()
        let records = items.map { record(for: $0, source: source, user: user, time: time) }
        return await withTaskGroup(of: (Int, Int64?).self) { group in
            for (position, (record, makeThumbnail)) in records.enumerated() {
                group.addTask { (position, await writer.submit(record, makeThumbnail: makeThumbnail)) }
            }
            var ids = [Int64?](repeating: nil, count: items.count)
            for await (position, id) in group { ids[position] = id }
            return ids
        }
    }

    private func record(for item: Item, source: String, user: String?, time: Date)
        -> (RecognitionRecord, (@Sendable () -> [UInt8]?)?) {
        let result = item.classification
        let top5: [RecordedClass]
        if let logits = result.logits {
            top5 = logits.withUnsafeBufferPointer { topPredictions(logits: $0, labels: labels, k: 5) }
                .map { RecordedClass(index: $0.index, wnid: $0.wnid ?? "", label: $0.label, probability: $0.probability) }
        } else {
            top5 = result.top.prefix(5).map { RecordedClass(index: $0.index, wnid: $0.wnid ?? "", label: $0.label, probability: $0.probability) }
        }
        var thumbnail: [UInt8]?
        var makeThumbnail: (@Sendable () -> [UInt8]?)?
        if thumbnails {
            if let image = item.image {
                thumbnail = try? image.thumbnailJPEG()
            } else {
                // A result-cache hit: the writer reuses the picture of the same image, or decodes it off the request path.
                let recognizer = self.recognizer
                let bytes = item.bytes
                makeThumbnail = { (try? recognizer.prepare(bytes)).flatMap { try? $0.thumbnailJPEG() } }
            }
        }
        let timings = result.timings
        let record = RecognitionRecord(
            time: time, source: source, user: user, imageSHA256: item.sha256, thumbnailJPEG: thumbnail, top5: top5,
            weights: RecordedWeights(name: result.weights.name, sha256Prefix: result.weights.sha256Prefix, trained: result.weights.trained),
            timings: RecordedTimings(decodeMilliseconds: timings.decode, preprocessMilliseconds: timings.preprocess,
                                     queueMilliseconds: timings.queue, inferenceMilliseconds: timings.inference,
                                     totalMilliseconds: timings.total),
            embedding: result.features.map(EmbeddingCode.encode))
        return (record, makeThumbnail)
    }
}
