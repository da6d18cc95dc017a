import Imaging
import Recognition
import ResNet

/// One upload's answer and whether it came from the result cache.
struct Classified: Sendable {
    var classification: Classification
    var cached: Bool
    /// The history row, once committed (nil when history is off or the database is failing).
    var historyID: Int64?
    /// Each head's categories by probability (`--head`).
    var custom: [CustomAnswer] = []
}

/// A head's answer for one image.
struct CustomAnswer: Encodable, Sendable, Equatable {
    struct Category: Encodable, Sendable, Equatable {
        let label: String
        let probability: Double
    }

    let head: String
    let top: [Category]

    init(head: LinearHead, features: [Float]) {
        self.head = head.name
        top = head.top(features: features).map { Category(label: $0.label, probability: $0.probability) }
    }
}

/// What every image route does with uploaded bytes: the request's limits, the result cache, then decoding on the
/// request's own task under the server-wide pixel budget, then the shared batcher for the engine call.
struct ClassifyPipeline: Sendable {
    let recognizer: Recognizer
    let batcher: Batcher
    let cache: ResultCache
    let metrics: ServiceMetrics
    let retryAfterSeconds: Int
    /// Pixels being decoded at once, across all requests.
    let decodeBudget: DecodeBudget
    /// The most pixels (summed over its images, from their headers) one request may bring.
    let maxRequestPixels: Int
    /// Records each answer in the history; nil when history is off.
    var history: HistoryRecorder? = nil
    /// Heads whose categories each answer carries (`--head`, and those switched on from the heads page).
    var heads = HeadRegistry(files: [])

    /// Classifies uploads in order; the first one that cannot be read fails the request, naming it.
    /// With a `source` (`"POST /v1/classify"`, `"page"`, …) and history on, each answer is recorded.
    /// With `includeFeatures`, each answer carries the image's 512 pooled features (`/v1/embed`); they are kept in
    /// the result cache with the logits (2 kB an entry).
    func classify(_ uploads: [Upload], topK: Int, includeLogits: Bool = false, includeFeatures: Bool = false,
                  source: String? = nil) async throws(APIError) -> [Classified] {
        // Limits first, before the cache: a cached image is answered and recorded like any other.
        try checkLimits(uploads)
        var answers = [Classified?](repeating: nil, count: uploads.count)
        var items = [HistoryRecorder.Item?](repeating: nil, count: uploads.count)
        let recording = history != nil && source != nil
        let heads = self.heads.current
        var misses: [(position: Int, key: ResultCache.Key)] = []
        for (position, upload) in uploads.enumerated() {
            let started = ContinuousClock.now
            let key = ResultCache.key(for: upload.bytes)
            if var hit = await cache.value(for: key), let logits = hit.logits, !includeFeatures || hit.features != nil {
                metrics.cacheHits.increment()
                hit.top = logits.withUnsafeBufferPointer { topPredictions(logits: $0, labels: recognizer.labels, k: topK) }
                hit.timings = Timings(total: (ContinuousClock.now - started).milliseconds)
                if recording { items[position] = .init(classification: hit, sha256: key, bytes: upload.bytes, image: nil) }
                let custom = heads.map { CustomAnswer(head: $0, features: hit.features ?? []) }
                if !includeLogits { hit.logits = nil }
                if !includeFeatures { hit.features = nil }
                answers[position] = Classified(classification: hit, cached: true, custom: custom)
            } else {
                metrics.cacheMisses.increment()
                misses.append((position, key))
            }
        }
        let prepared = try await classifyMisses(misses.map(\.position), of: uploads, topK: topK)
        for (miss, (result, image)) in zip(misses, prepared) {
            await cache.insert(result, for: miss.key)
            if recording {
                items[miss.position] = .init(classification: result, sha256: miss.key, bytes: uploads[miss.position].bytes,
                                             image: image)
            }
            var answer = result
            let custom = heads.map { CustomAnswer(head: $0, features: result.features ?? []) }
            if !includeLogits { answer.logits = nil }
            if !includeFeatures { answer.features = nil }
            answers[miss.position] = Classified(classification: answer, cached: false, custom: custom)
        }
        var classified = answers.map { $0! }
        for answer in classified {
            for custom in answer.custom { if let top = custom.top.first { metrics.recordCustom(head: custom.head, category: top.label) } }
        }
        if let history, let source {
            let ids = await history.record(items.map { $0! }, source: source, user: Caller.current?.recordedName)
            for (position, id) in ids.enumerated() { classified[position].historyID = id }
        }
        return classified
    }

    /// Refuses a request over the per-request limits before any work: more images than the queue holds, or more
    /// pixels (from the headers, overflow-checked) than `maxRequestPixels`. A file that is not an image fails here.
    private func checkLimits(_ uploads: [Upload]) throws(APIError) {
        if uploads.count > batcher.queueDepth {
            throw APIError(BatcherError.tooManyImages(count: uploads.count, depth: batcher.queueDepth),
                           retryAfterSeconds: retryAfterSeconds)
        }
        var total = 0
        for (position, upload) in uploads.enumerated() {
            let info: ImageInfo
            do {
                info = try ImageDecoder.info(of: upload.bytes)
                // One image past --max-pixels is that image's fault (422, as its decoding would say), whatever the
                // request's total.
                try info.checkDimensions(maxPixels: recognizer.decodeOptions.maxPixels)
            } catch {
                throw APIError(error, file: uploads.count > 1 ? upload.filename ?? "image \(position + 1)" : nil,
                               retryAfterSeconds: retryAfterSeconds)
            }
            let (pixels, overflow) = info.width.multipliedReportingOverflow(by: info.height)
            let (sum, sumOverflow) = total.addingReportingOverflow(pixels)
            guard !overflow, !sumOverflow, sum <= maxRequestPixels else {
                throw .tooManyImages("the \(uploads.count == 1 ? "image has" : "\(uploads.count) images have") more than "
                    + "\(maxRequestPixels) pixels in all (--max-request-pixels): send fewer or smaller images per request")
            }
            total = sum
        }
    }

    /// Decodes the uploads at `positions` one at a time under the pixel budget, and hands them to the batcher in
    /// groups of up to a batch, each group admitted to the queue just before it is decoded: a request never holds
    /// more than about two batches' worth of the queue, however many images it brings, and the engine runs one
    /// group while the next decodes. Results in the order of `positions`, with the prepared images.
    private func classifyMisses(_ positions: [Int], of uploads: [Upload], topK: Int) async throws(APIError)
        -> [(Classification, PreparedImage)] {
        guard !positions.isEmpty else { return [] }
        let groupSize = max(1, batcher.maxBatch)
        let batcher = self.batcher
        do {
            return try await withThrowingTaskGroup(of: (Int, [(Classification, PreparedImage)]).self) { group in
                var groupIndex = 0
                for start in stride(from: 0, to: positions.count, by: groupSize) {
                    let chunk = positions[start..<min(start + groupSize, positions.count)]
                    try batcher.announce(chunk.count)
                    var images: [PreparedImage] = []
                    for position in chunk {
                        do {
                            images.append(try await prepare(uploads[position]))
                        } catch {
                            batcher.withdraw(chunk.count - images.count)
                            throw APIError(error, file: uploads.count > 1 ? uploads[position].filename ?? "image \(position + 1)" : nil,
                                           retryAfterSeconds: retryAfterSeconds)
                        }
                    }
                    let index = groupIndex
                    groupIndex += 1
                    group.addTask { [images] in
                        let results = try await batcher.classify(images, topK: topK, includeLogits: true, includeFeatures: true,
                                                                 announced: true)
                        return (index, Array(zip(results, images)))
                    }
                }
                var groups = [[(Classification, PreparedImage)]](repeating: [], count: groupIndex)
                for try await (index, results) in group { groups[index] = results }
                return groups.flatMap { $0 }
            }
        } catch {
            throw APIError(error, retryAfterSeconds: retryAfterSeconds)
        }
    }

    /// Decodes and preprocesses one upload once its pixels fit in the server's decode budget.
    private func prepare(_ upload: Upload) async throws -> PreparedImage {
        let pixels = (try? ImageDecoder.info(of: upload.bytes)).map { $0.width.multipliedReportingOverflow(by: $0.height) }
        let cost = pixels.map { $0.overflow ? Int.max : $0.partialValue } ?? 1
        let recognizer = self.recognizer
        return try await decodeBudget.withPixels(cost) { () throws(RecognitionError) in try recognizer.prepare(upload.bytes) }
    }

    /// Classifies ready tensors (KServe FP32 input): no decoding, no cache. With a `source` and history on, each
    /// answer is recorded like an upload's: the SHA-256 of the tensor's float32 bytes, a thumbnail of what it shows.
    func classify(tensors: [[Float]], topK: Int, includeFeatures: Bool = false, source: String? = nil) async throws(APIError) -> [Classification] {
        let images = tensors.map {
            PreparedImage(tensor: $0, width: 224, height: 224, decodeMilliseconds: 0, preprocessMilliseconds: 0)
        }
        let results: [Classification]
        do {
            results = try await batcher.classify(images, topK: topK, includeLogits: true, includeFeatures: includeFeatures)
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
