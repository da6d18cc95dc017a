import Foundation

/// One example of a category, as listed (without its features).
public struct HeadExample: Sendable, Equatable {
    public let id: Int64
    public let head: String
    public let category: String
    /// Where it came from: `upload NAME` or `history ID`.
    public let source: String
    public let historyID: Int64?
    /// How many feature vectors it holds (the image and its augmented variants).
    public let samples: Int
    public let createdAt: Date
}

/// A head stored by the page: the head file's JSON and whether the server answers with it.
public struct StoredHead: Sendable, Equatable {
    public let name: String
    public let json: String
    public let active: Bool
    public let updatedAt: Date
}

/// The `head_examples` and `heads` tables (`Migration.heads`): what the heads page teaches and trains, on SQLite or
/// PostgreSQL alike.
public final class HeadStore: Sendable {
    public static let featureCount = 512
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Stores an example: `features` is one or more rows of `featureCount` numbers (the image first). Its id.
    public func addExample(head: String, category: String, source: String, historyID: Int64? = nil, features: [[Float]],
                           thumbnail: [UInt8]?, at date: Date = Date()) async throws(StorageError) -> Int64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(features.count * Self.featureCount * 4)
        for row in features {
            precondition(row.count == Self.featureCount, "an example's features are \(Self.featureCount) numbers a row")
            for value in row { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        }
        let rows = try await database.write(SQLStatement(
            "INSERT INTO head_examples (head, category, source, history_id, features, thumbnail_jpeg, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [.text(head), .text(category), .text(source), historyID.map { .integer($0) } ?? .null, .blob(bytes),
             .blob(thumbnail), .integer(Self.milliseconds(date))]))
        guard let id = rows.first?.optionalInt64("id") else { throw .unexpectedRow("the example was not stored (no id returned)") }
        return id
    }

    /// A head's examples, by category then age.
    public func examples(head: String) async throws(StorageError) -> [HeadExample] {
        let rows = try await database.read(SQLStatement(
            "SELECT id, head, category, source, history_id, length(features) AS feature_bytes, created_at_ms FROM head_examples WHERE head = ? ORDER BY category, id",
            [.text(head)]))
        var examples: [HeadExample] = []
        for row in rows {
            examples.append(HeadExample(id: try row.int64("id"), head: try row.string("head"), category: try row.string("category"),
                                        source: try row.string("source"), historyID: row.optionalInt64("history_id"),
                                        samples: Int(try row.int64("feature_bytes")) / (Self.featureCount * 4),
                                        createdAt: Date(timeIntervalSince1970: Double(try row.int64("created_at_ms")) / 1000)))
        }
        return examples
    }

    /// A head's examples with their features (rows of `featureCount`), by category then age.
    public func features(head: String) async throws(StorageError) -> [(example: Int64, category: String, source: String, features: [[Float]])] {
        let rows = try await database.read(SQLStatement(
            "SELECT id, category, source, features FROM head_examples WHERE head = ? ORDER BY category, id", [.text(head)]))
        var found: [(example: Int64, category: String, source: String, features: [[Float]])] = []
        let rowBytes = Self.featureCount * 4
        for row in rows {
            let bytes = row.optionalBytes("features") ?? []
            guard !bytes.isEmpty, bytes.count % rowBytes == 0 else { continue }
            var features: [[Float]] = []
            for start in stride(from: 0, to: bytes.count, by: rowBytes) {
                features.append((0..<Self.featureCount).map { index in
                    let offset = start + index * 4
                    let bits = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                        | UInt32(bytes[offset + 3]) << 24
                    return Float(bitPattern: bits)
                })
            }
            found.append((try row.int64("id"), try row.string("category"), try row.string("source"), features))
        }
        return found
    }

    /// An example's thumbnail; nil when it has none or there is no such example of that head.
    public func thumbnail(head: String, id: Int64) async throws(StorageError) -> [UInt8]? {
        let rows = try await database.read(SQLStatement(
            "SELECT thumbnail_jpeg FROM head_examples WHERE head = ? AND id = ?", [.text(head), .integer(id)]))
        return rows.first?.optionalBytes("thumbnail_jpeg")
    }

    /// Forgets an example; false when the head has none with that id.
    public func deleteExample(head: String, id: Int64) async throws(StorageError) -> Bool {
        !(try await database.write(SQLStatement(
            "DELETE FROM head_examples WHERE head = ? AND id = ? RETURNING id", [.text(head), .integer(id)]))).isEmpty
    }

    /// Stores a trained head (replacing one of the same name), active or not.
    public func saveHead(name: String, json: String, active: Bool, at date: Date = Date()) async throws(StorageError) {
        _ = try await database.write(SQLStatement(
            "INSERT INTO heads (name, head_json, active, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET head_json = excluded.head_json, active = excluded.active, updated_at_ms = excluded.updated_at_ms",
            [.text(name), .text(json), .integer(active ? 1 : 0), .integer(Self.milliseconds(date))]))
    }

    /// Marks a stored head active or not; false when there is none of that name.
    public func setActive(name: String, _ active: Bool) async throws(StorageError) -> Bool {
        !(try await database.write(SQLStatement(
            "UPDATE heads SET active = ?, updated_at_ms = ? WHERE name = ? RETURNING name",
            [.integer(active ? 1 : 0), .integer(Self.milliseconds(Date())), .text(name)]))).isEmpty
    }

    /// Every stored head, by name.
    public func heads() async throws(StorageError) -> [StoredHead] {
        let rows = try await database.read(SQLStatement("SELECT name, head_json, active, updated_at_ms FROM heads ORDER BY name"))
        var heads: [StoredHead] = []
        for row in rows {
            heads.append(StoredHead(name: try row.string("name"), json: try row.string("head_json"), active: try row.int64("active") != 0,
                                    updatedAt: Date(timeIntervalSince1970: Double(try row.int64("updated_at_ms")) / 1000)))
        }
        return heads
    }

    /// How many examples each head has of each category, `[head: [category: count]]`, in one query (heads without
    /// examples are absent).
    public func exampleCounts() async throws(StorageError) -> [String: [String: Int]] {
        let rows = try await database.read(SQLStatement(
            "SELECT head, category, COUNT(*) AS examples FROM head_examples GROUP BY head, category"))
        var counts: [String: [String: Int]] = [:]
        for row in rows { counts[try row.string("head"), default: [:]][try row.string("category")] = Int(try row.int64("examples")) }
        return counts
    }

    /// The names of heads with examples, and of stored heads, by name.
    public func names() async throws(StorageError) -> [String] {
        let rows = try await database.read(SQLStatement("SELECT DISTINCT head FROM head_examples UNION SELECT name FROM heads ORDER BY 1"))
        return rows.compactMap { $0.optionalString("head") }
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
