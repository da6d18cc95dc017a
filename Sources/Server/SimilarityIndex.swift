import CKernels
import Foundation
import Storage

/// An image's 512 features as a history row keeps them: a float32 scale (little-endian), then 512 int8 values,
/// each feature ≈ value × scale (scale = largest |feature| / 127). 516 bytes a row; cosine similarity needs no scale.
public enum EmbeddingCode {
    public static let width = 512
    public static let bytes = 4 + width

    static func encode(_ features: [Float]) -> [UInt8] {
        let largest = features.map(abs).max() ?? 0
        let scale = largest > 0 ? largest / 127 : 1
        var code = [UInt8](repeating: 0, count: bytes)
        withUnsafeBytes(of: scale.bitPattern.littleEndian) { for (index, byte) in $0.enumerated() { code[index] = byte } }
        for (index, value) in features.prefix(width).enumerated() {
            code[4 + index] = UInt8(bitPattern: Int8(max(-127, min(127, (value / scale).rounded()))))
        }
        return code
    }

    /// The features a code stands for (each value × the scale); nil for a code of the wrong size.
    static func features(_ code: [UInt8]) -> [Float]? {
        guard code.count == bytes else { return nil }
        let scale = Float(bitPattern: UInt32(code[0]) | UInt32(code[1]) << 8 | UInt32(code[2]) << 16 | UInt32(code[3]) << 24)
        return code[4...].map { Float(Int8(bitPattern: $0)) * scale }
    }

    /// The int8 values of a code (nil for a code of the wrong size).
    static func values(_ code: [UInt8]) -> [Int8]? {
        guard code.count == bytes else { return nil }
        return code[4...].map { Int8(bitPattern: $0) }
    }
}

/// Rows of int8 embeddings and their norms, searched exactly by cosine similarity (int8 dot products on libgomp's
/// threads, then the best `limit` kept).
public struct EmbeddingMatrix: Sendable {
    public private(set) var ids: [Int64] = []
    private var codes: [Int8] = []
    private var norms: [Float] = []
    private let threads: Int

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.threads = max(1, threads)
    }

    public var count: Int { ids.count }

    /// Room for `rows` rows, so that loading a large history reallocates nothing.
    public mutating func reserve(rows: Int) {
        ids.reserveCapacity(rows)
        codes.reserveCapacity(rows * EmbeddingCode.width)
        norms.reserveCapacity(rows)
    }

    /// Adds a row of `EmbeddingCode.width` values.
    public mutating func append(id: Int64, _ values: [Int8]) {
        ids.append(id)
        codes += values
        norms.append(Self.norm(values))
    }

    /// The `limit` rows most like `query`, best first, `excluding` one id.
    public func nearest(to query: [Int8], limit: Int, excluding excluded: Int64? = nil) -> [(id: Int64, similarity: Double)] {
        let rows = ids.count
        guard rows > 0, limit > 0, query.count == EmbeddingCode.width else { return [] }
        var dots = [Int32](repeating: 0, count: rows)
        codes.withUnsafeBufferPointer { matrix in
            query.withUnsafeBufferPointer { query in
                dots.withUnsafeMutableBufferPointer { out in
                    resnet18_int8_dots(matrix.baseAddress, Int64(rows), Int64(EmbeddingCode.width), query.baseAddress,
                                       out.baseAddress, Int32(threads))
                }
            }
        }
        let queryNorm = Self.norm(query)
        guard queryNorm > 0 else { return [] }
        // The best `limit` by a bounded insertion: cheap next to the dot products for small limits.
        var best: [(index: Int, similarity: Float)] = []
        best.reserveCapacity(limit + 1)
        norms.withUnsafeBufferPointer { norms in
            dots.withUnsafeBufferPointer { dots in
                for row in 0..<rows where norms[row] > 0 {
                    let similarity = Float(dots[row]) / (queryNorm * norms[row])
                    if best.count == limit, let worst = best.last, similarity <= worst.similarity { continue }
                    if let excluded, ids[row] == excluded { continue }
                    let position = best.firstIndex { similarity > $0.similarity } ?? best.count
                    best.insert((row, similarity), at: position)
                    if best.count > limit { best.removeLast() }
                }
            }
        }
        return best.map { (ids[$0.index], Double($0.similarity)) }
    }

    static func norm(_ values: [Int8]) -> Float {
        Float(values.reduce(0) { $0 + Int($1) * Int($1) }).squareRoot()
    }
}

/// "Find frames like this one": every history row's embedding in memory (512 bytes a row: 1 million rows are 512 MB),
/// searched exactly. Loaded from the database on first use and then followed (rows added since, by id); rows
/// deleted by retention are dropped from answers when their entries are read.
actor SimilarityIndex {
    private let store: HistoryStore
    private var matrix = EmbeddingMatrix()
    private var lastID: Int64 = 0

    init(store: HistoryStore) {
        self.store = store
    }

    var count: Int { matrix.count }

    /// Reads the rows recorded since the last call.
    func refresh() async throws(StorageError) {
        while true {
            let page = try await store.embeddings(after: lastID, limit: 10_000)
            for row in page {
                lastID = max(lastID, row.id)
                guard let values = EmbeddingCode.values(row.embedding) else { continue }
                matrix.append(id: row.id, values)
            }
            if page.count < 10_000 { return }
        }
    }

    func nearest(to query: [Int8], limit: Int, excluding excluded: Int64? = nil) -> [(id: Int64, similarity: Double)] {
        matrix.nearest(to: query, limit: limit, excluding: excluded)
    }
}
