import Foundation
import ResNet
import Storage

/// One history row in JSON answers.
struct HistoryEntryBody: Encodable, Sendable {
    struct ClassBody: Encodable, Sendable {
        let index: Int
        let wnid: String
        let label: String
        let probability: Double
    }

    struct WeightsBody: Encodable, Sendable {
        let name: String
        let sha256: String
        let trained: Bool
        /// torchvision's ImageNet checkpoint (`WeightsIdentity.official`; other weights' labels mean what their training made them).
        let official: Bool
    }

    struct TimingsBody: Encodable, Sendable {
        let decode: Double
        let preprocess: Double
        let queue: Double
        let inference: Double
        let total: Double
    }

    let id: Int64
    /// ISO 8601, UTC, milliseconds.
    let time: String
    let source: String
    let streamID: String?
    let user: String?
    let imageSHA256: String
    let top: [ClassBody]
    let weights: WeightsBody
    let timings: TimingsBody
    let alert: String?
    /// `/v1/history/{id}/thumbnail`, or null when the row has none.
    let thumbnailURL: String?

    enum CodingKeys: String, CodingKey {
        case id, time, source, user, top, weights, timings, alert
        case streamID = "stream_id", imageSHA256 = "image_sha256", thumbnailURL = "thumbnail_url"
    }

    init(_ entry: HistoryEntry) {
        let record = entry.record
        id = entry.id
        time = record.time.formatted(Self.timeStyle)
        source = record.source
        streamID = record.streamID
        user = record.user
        imageSHA256 = record.imageSHA256
        top = record.top5.map { ClassBody(index: $0.index, wnid: $0.wnid, label: $0.label, probability: $0.probability) }
        weights = WeightsBody(name: record.weights.name, sha256: record.weights.sha256Prefix, trained: record.weights.trained,
                              official: WeightsIdentity(name: record.weights.name, sha256Prefix: record.weights.sha256Prefix,
                                                        trained: record.weights.trained).official)
        let t = record.timings
        timings = TimingsBody(decode: t.decodeMilliseconds, preprocess: t.preprocessMilliseconds, queue: t.queueMilliseconds,
                              inference: t.inferenceMilliseconds, total: t.totalMilliseconds)
        alert = record.alert
        thumbnailURL = entry.hasThumbnail ? "/v1/history/\(entry.id)/thumbnail" : nil
    }

    func encode(to encoder: any Encoder) throws {
        // Nulls are written (not left out), so every row has the same keys.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(time, forKey: .time)
        try container.encode(source, forKey: .source)
        try container.encode(streamID, forKey: .streamID)
        try container.encode(user, forKey: .user)
        try container.encode(imageSHA256, forKey: .imageSHA256)
        try container.encode(top, forKey: .top)
        try container.encode(weights, forKey: .weights)
        try container.encode(timings, forKey: .timings)
        try container.encode(alert, forKey: .alert)
        try container.encode(thumbnailURL, forKey: .thumbnailURL)
    }

    /// ISO 8601, UTC, milliseconds.
    static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// The answer of `GET /v1/history`.
struct HistoryListBody: Encodable, Sendable {
    let entries: [HistoryEntryBody]
    /// Pass as `cursor` for the next (older) page; null on the last page.
    let nextCursor: Int64?
    /// Rows matching the filters, on all pages.
    let total: Int

    enum CodingKeys: String, CodingKey {
        case entries, total
        case nextCursor = "next_cursor"
    }

    init(_ page: HistoryPage) {
        entries = page.entries.map(HistoryEntryBody.init)
        nextCursor = page.nextCursor
        total = page.total
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entries, forKey: .entries)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encode(total, forKey: .total)
    }
}

/// The answer of `GET /v1/history/labels`: how often each label was the best class per time bucket.
struct LabelCountsBody: Encodable, Sendable {
    struct Count: Encodable, Sendable {
        /// The bucket's start, ISO 8601 UTC.
        let start: String
        let label: String
        let count: Int
    }

    let bucketSeconds: Int
    let counts: [Count]

    enum CodingKeys: String, CodingKey {
        case counts
        case bucketSeconds = "bucket_seconds"
    }

    init(bucketSeconds: Int, counts: [LabelCount]) {
        self.bucketSeconds = bucketSeconds
        self.counts = counts.map { Count(start: $0.bucketStart.formatted(HistoryEntryBody.timeStyle), label: $0.label, count: $0.count) }
    }
}
