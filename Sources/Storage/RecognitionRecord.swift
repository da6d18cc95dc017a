import Foundation

/// One recognition as the history keeps it: what was seen, where it came from, by which weights, how fast.
/// A stream alert is a record too, with `alert` set (an "event" in the history).
public struct RecognitionRecord: Sendable, Equatable, Codable {
    /// When the recognition finished.
    public var time: Date
    /// The route or origin: `"POST /v1/classify"`, `"POST /predict"`, `"page"`, `"stream:<id>"`, `"watch"`, ….
    public var source: String
    /// The stream it came from, for stream frames.
    public var streamID: String?
    /// The signed-in user or token owner, when there is one.
    public var user: String?
    /// Hex SHA-256 of the image bytes as received.
    public var imageSHA256: String
    /// A small JPEG of the image, when thumbnails are on.
    public var thumbnailJPEG: [UInt8]?
    /// The best classes, best first (up to five).
    public var top5: [RecordedClass]
    /// The weights that answered.
    public var weights: RecordedWeights
    /// Where the time went.
    public var timings: RecordedTimings
    /// The rule that fired, for stream alerts; nil for plain recognitions.
    public var alert: String?
    /// The image's 512 features, int8 with a scale (`EmbeddingCode`), for "find frames like this one"; nil when not
    /// kept (tensors sent to KServe, stream alerts, rows from before embeddings were kept).
    public var embedding: [UInt8]?

    public init(time: Date = Date(), source: String, streamID: String? = nil, user: String? = nil,
                imageSHA256: String, thumbnailJPEG: [UInt8]? = nil, top5: [RecordedClass],
                weights: RecordedWeights, timings: RecordedTimings, alert: String? = nil, embedding: [UInt8]? = nil) {
        self.embedding = embedding
        self.time = time
        self.source = source
        self.streamID = streamID
        self.user = user
        self.imageSHA256 = imageSHA256
        self.thumbnailJPEG = thumbnailJPEG
        self.top5 = top5
        self.weights = weights
        self.timings = timings
        self.alert = alert
    }

    /// The best class, or an empty one when the record has none.
    public var top: RecordedClass { top5.first ?? RecordedClass(index: -1, wnid: "", label: "", probability: 0) }
}

/// A class and its probability, as recorded.
public struct RecordedClass: Sendable, Equatable, Codable {
    public var index: Int
    public var wnid: String
    public var label: String
    public var probability: Double

    public init(index: Int, wnid: String, label: String, probability: Double) {
        self.index = index
        self.wnid = wnid
        self.label = label
        self.probability = probability
    }
}

/// Which weights answered.
public struct RecordedWeights: Sendable, Equatable, Codable {
    /// The file or model name, e.g. `resnet18-f37072fd.pth`.
    public var name: String
    /// The first hex digits of the weights file's SHA-256.
    public var sha256Prefix: String
    /// False for the random-initialised demo network.
    public var trained: Bool

    public init(name: String, sha256Prefix: String, trained: Bool) {
        self.name = name
        self.sha256Prefix = sha256Prefix
        self.trained = trained
    }
}

/// Where the time of one recognition went, in milliseconds (0 when a stage did not run, e.g. a cache hit).
public struct RecordedTimings: Sendable, Equatable, Codable {
    public var decodeMilliseconds: Double
    public var preprocessMilliseconds: Double
    public var queueMilliseconds: Double
    public var inferenceMilliseconds: Double
    public var totalMilliseconds: Double

    public init(decodeMilliseconds: Double = 0, preprocessMilliseconds: Double = 0, queueMilliseconds: Double = 0,
                inferenceMilliseconds: Double = 0, totalMilliseconds: Double = 0) {
        self.decodeMilliseconds = decodeMilliseconds
        self.preprocessMilliseconds = preprocessMilliseconds
        self.queueMilliseconds = queueMilliseconds
        self.inferenceMilliseconds = inferenceMilliseconds
        self.totalMilliseconds = totalMilliseconds
    }
}

/// A record as stored: its id, and whether a thumbnail is kept (the bytes are fetched on their own).
public struct HistoryEntry: Sendable, Equatable {
    public var id: Int64
    /// The record; `thumbnailJPEG` is nil here (see `HistoryStore.thumbnail(id:)`).
    public var record: RecognitionRecord
    public var hasThumbnail: Bool

    public init(id: Int64, record: RecognitionRecord, hasThumbnail: Bool) {
        self.id = id
        self.record = record
        self.hasThumbnail = hasThumbnail
    }
}
