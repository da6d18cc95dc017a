import Foundation
import Storage
import Testing
import TestSupport

/// Opens a fresh database of the back-end, runs the body, closes and removes it.
func withDatabase<T>(_ backend: TestDatabases.Backend, _ body: (Database) async throws -> T) async throws -> T {
    let (location, cleanup) = try await TestDatabases.freshLocation(backend)
    do {
        let database = try await Database.open(location)
        do {
            let result = try await body(database)
            await database.close()
            await cleanup()
            return result
        } catch {
            await database.close()
            throw error
        }
    } catch {
        await cleanup()
        throw error
    }
}

/// A history store on a fresh database of the back-end.
func withStore<T>(_ backend: TestDatabases.Backend, _ body: (HistoryStore) async throws -> T) async throws -> T {
    try await withDatabase(backend) { try await body(HistoryStore(database: $0)) }
}

/// A plausible record: the label is the best class.
func sampleRecord(label: String = "tabby", probability: Double = 0.8, time: Date = Date(),
                  source: String = "POST /v1/classify", thumbnail: [UInt8]? = nil, alert: String? = nil,
                  streamID: String? = nil) -> RecognitionRecord {
    RecognitionRecord(
        time: time, source: source, streamID: streamID, user: "ana",
        imageSHA256: String(repeating: "ab", count: 32), thumbnailJPEG: thumbnail,
        top5: [
            RecordedClass(index: 281, wnid: "n02123045", label: label, probability: probability),
            RecordedClass(index: 282, wnid: "n02123159", label: "tiger cat", probability: 0.1),
            RecordedClass(index: 285, wnid: "n02124075", label: "Egyptian cat", probability: 0.05),
            RecordedClass(index: 287, wnid: "n02127052", label: "lynx", probability: 0.02),
            RecordedClass(index: 728, wnid: "n03958227", label: "plastic bag", probability: 0.01),
        ],
        weights: RecordedWeights(name: "resnet18-f37072fd.pth", sha256Prefix: "f37072fd", trained: true),
        timings: RecordedTimings(decodeMilliseconds: 1.5, preprocessMilliseconds: 2.25, queueMilliseconds: 0.5,
                                 inferenceMilliseconds: 9.75, totalMilliseconds: 14.0),
        alert: alert)
}
