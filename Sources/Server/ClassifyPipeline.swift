import Recognition
import ResNet

/// One upload's answer and whether it came from the result cache.
struct Classified: Sendable {
    var classification: Classification
    var cached: Bool
    /// The history row, once committed (nil when history is off or the database is failing).
    var historyID: Int64?
}

/// What every image route does with uploaded bytes: the result cache, then decoding on the request's own task,
/// then the shared batcher for the engine call.
struct ClassifyPipeline: Sendable {
    let recognizer: Recognizer
    let batcher: Batcher
    let cache: ResultCache
    let metrics: ServiceMetrics
    let retryAfterSeconds: Int
    /// Records each answer in the history; nil when history is off.
    var history: HistoryRecorder? = nil

    /// Classifies uploads in order; the first one that cannot be read fails the request, naming it.
    /// With a `source` (`"POST /v1/classify"`, `"page"`, …) and history on, each answer is recorded.
    func classify(_ uploads: [Upload], topK: Int, includeLogits: Bool = false,
                  source: String? = nil) async throws(APIError) -> [Classified] {
        var answers = [Classified?](repeating: nil, count: uploads.count)
        var items = [HistoryRecorder.Item?](repeating: nil, count: uploads.count)
        let recording = history != nil && source != nil
        var misses: [(position: Int, key: ResultCache.Key)] = []
        for (position, upload) in uploads.enumerated() {
            let started = ContinuousClock.now
            let key = ResultCache.key(for: upload.bytes)
            if var hit = await cache.value(for: key), let logits = hit.logits {
                metrics.cacheHits.increment()
                hit.top = logits.withUnsafeBufferPointer { topPredictions(logits: $0, labels: recognizer.labels, k: topK) }
                hit.timings = Timings(total: (ContinuousClock.now - started).milliseconds)
                if recording { items[position] = .init(classification: hit, sha256: key, bytes: upload.bytes, image: nil) }
                if !includeLogits { hit.logits = nil }
                answers[position] = Classified(classification: hit, cached: true)
            } else {
                metrics.cacheMisses.increment()
                misses.append((position, key))
            }
        }
        if !misses.isEmpty {
            // Admission first: a full queue refuses before any decoding work is spent.
            do {
                try await batcher.announce(misses.count)
            } catch {
                throw APIError(error, retryAfterSeconds: retryAfterSeconds)
            }
            var images: [PreparedImage] = []
            for miss in misses {
                let upload = uploads[miss.position]
                do {
                    images.append(try recognizer.prepare(upload.bytes))
                } catch {
                    await batcher.withdraw(misses.count)
                    throw APIError(error, file: uploads.count > 1 ? upload.filename ?? "image \(miss.position + 1)" : nil,
                                   retryAfterSeconds: retryAfterSeconds)
                }
            }
            let results: [Classification]
            do {
                results = try await batcher.classify(images, topK: topK, includeLogits: true, announced: true)
            } catch {
                throw APIError(error, retryAfterSeconds: retryAfterSeconds)
            }
            for ((miss, result), image) in zip(zip(misses, results), images) {
                await cache.insert(result, for: miss.key)
                if recording {
                    items[miss.position] = .init(classification: result, sha256: miss.key, bytes: uploads[miss.position].bytes,
                                                 image: image)
                }
                var answer = result
                if !includeLogits { answer.logits = nil }
                answers[miss.position] = Classified(classification: answer, cached: false)
            }
        }
        var classified = answers.map { $0! }
        if let history, let source {
            let ids = await history.record(items.map { $0! }, source: source, user: Caller.current?.recordedName)
            for (position, id) in ids.enumerated() { classified[position].historyID = id }
        }
        return classified
    }

    /// Classifies ready tensors (KServe FP32 input): no decoding, no cache. With a `source` and history on, each
    /// answer is recorded like an upload's: the SHA-256 of the tensor's float32 bytes, a thumbnail of what it shows.
    func classify(tensors: [[Float]], topK: Int, source: String? = nil) async throws(APIError) -> [Classification] {
        let images = tensors.map {
            PreparedImage(tensor: $0, width: 224, height: 224, decodeMilliseconds: 0, preprocessMilliseconds: 0)
        }
        let results: [Classification]
        do {
            results = try await batcher.classify(images, topK: topK, includeLogits: true)
        } catch {
            throw APIError(error, retryAfterSeconds: retryAfterSeconds)
        }
        if let history, let source {
            let items = zip(images, results).map { image, result in
                HistoryRecorder.Item(classification: result, sha256: Self.key(of: image), bytes: [], image: image)
            }
            _ = await history.record(items, source: source, user: Caller.current?.recordedName)
        }
        return results
    }

    /// The SHA-256 of a tensor's float32 bytes (little-endian, as sent).
    private static func key(of image: PreparedImage) -> ResultCache.Key {
        guard case .tensor(let values) = image.pixels else { return "" }
        return values.withUnsafeBytes { ResultCache.key(for: Array($0)) }
    }
}
