import Foundation

/// The recognition history: records, pages through, counts, exports and trims `recognitions` rows, with the
/// same SQL on SQLite and PostgreSQL. A record is committed when `record` returns.
public final class HistoryStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Stores one record; its id once committed.
    public func record(_ record: RecognitionRecord) async throws(StorageError) -> Int64 {
        let rows = try await database.write(try Self.insert(record))
        guard let id = rows.first?.optionalInt64("id") else { throw .unexpectedRow("the insert returned no id") }
        return id
    }

    /// Stores several records in one transaction (one disk sync for all); their ids, in order, once committed.
    public func record(all records: [RecognitionRecord]) async throws(StorageError) -> [Int64] {
        var statements: [SQLStatement] = []
        for record in records { statements.append(try Self.insert(record)) }
        let results = try await database.writeTransaction(statements)
        var ids: [Int64] = []
        for rows in results {
            guard let id = rows.first?.optionalInt64("id") else { throw .unexpectedRow("an insert returned no id") }
            ids.append(id)
        }
        return ids
    }

    /// One page of the rows matching the filter, newest first.
    public func query(_ filter: HistoryFilter, page: HistoryPageRequest = HistoryPageRequest()) async throws(StorageError) -> HistoryPage {
        let (whereSQL, arguments) = filter.whereClause(beforeID: page.cursor)
        // One row more than asked tells whether there is a next page.
        let rows = try await database.read(SQLStatement(
            "SELECT \(Self.columns) FROM recognitions\(whereSQL) ORDER BY id DESC LIMIT ? OFFSET ?",
            arguments + [.integer(page.limit + 1), .integer(page.offset)]))
        var entries: [HistoryEntry] = []
        for row in rows.prefix(page.limit) { entries.append(try Self.entry(row)) }
        let total = try await count(filter)
        return HistoryPage(entries: entries, nextCursor: rows.count > page.limit ? entries.last?.id : nil, total: total)
    }

    /// The row with this id, without its thumbnail bytes.
    public func entry(id: Int64) async throws(StorageError) -> HistoryEntry? {
        let rows = try await database.read(SQLStatement("SELECT \(Self.columns) FROM recognitions WHERE id = ?", [.integer(id)]))
        guard let row = rows.first else { return nil }
        return try Self.entry(row)
    }

    /// A row's embedding (`EmbeddingCode`), nil when the row has none; throws nothing for a missing row (nil).
    public func embedding(id: Int64) async throws(StorageError) -> [UInt8]? {
        let rows = try await database.read(SQLStatement("SELECT embedding FROM recognitions WHERE id = ?", [.integer(id)]))
        return rows.first?.optionalBytes("embedding")
    }

    /// Rows with an embedding and an id above `id`, oldest first, at most `limit`: how the similarity index loads
    /// and then follows the history.
    public func embeddings(after id: Int64, limit: Int) async throws(StorageError) -> [(id: Int64, embedding: [UInt8])] {
        let rows = try await database.read(SQLStatement(
            "SELECT id, embedding FROM recognitions WHERE id > ? AND embedding IS NOT NULL ORDER BY id LIMIT ?",
            [.integer(id), .integer(Int64(limit))]))
        var found: [(id: Int64, embedding: [UInt8])] = []
        for row in rows {
            guard let rowID = row.optionalInt64("id"), let bytes = row.optionalBytes("embedding") else { continue }
            found.append((rowID, bytes))
        }
        return found
    }

    /// The JPEG thumbnail of a row; nil when the row is gone or was stored without one.
    public func thumbnail(id: Int64) async throws(StorageError) -> [UInt8]? {
        let rows = try await database.read(SQLStatement("SELECT thumbnail_jpeg FROM recognitions WHERE id = ?", [.integer(id)]))
        return rows.first?.optionalBytes("thumbnail_jpeg")
    }

    /// How many rows match.
    public func count(_ filter: HistoryFilter = HistoryFilter()) async throws(StorageError) -> Int {
        let (whereSQL, arguments) = filter.whereClause()
        let rows = try await database.read(SQLStatement("SELECT COUNT(*) AS n FROM recognitions\(whereSQL)", arguments))
        return Int(try rows.first?.int64("n") ?? 0)
    }

    /// How often each label was the best class, per time bucket of `bucketSeconds`, oldest bucket first.
    public func labelCounts(_ filter: HistoryFilter = HistoryFilter(), bucketSeconds: Int,
                            maximumRows: Int = 5000) async throws(StorageError) -> [LabelCount] {
        let bucketMilliseconds = Int64(max(bucketSeconds, 1)) * 1000
        let (whereSQL, arguments) = filter.whereClause()
        let rows = try await database.read(SQLStatement(
            "SELECT time_ms / ? AS bucket, top_label, COUNT(*) AS n FROM recognitions\(whereSQL) GROUP BY bucket, top_label ORDER BY bucket, top_label LIMIT ?",
            [.integer(bucketMilliseconds)] + arguments + [.integer(maximumRows)]))
        var counts: [LabelCount] = []
        for row in rows {
            counts.append(LabelCount(bucketStart: Date(millisecondsSince1970: try row.int64("bucket") * bucketMilliseconds),
                                     label: try row.string("top_label"), count: Int(try row.int64("n"))))
        }
        return counts
    }

    /// Writes the matching rows as CSV (header first, newest row first), a page at a time, to `write`.
    public func exportCSV(_ filter: HistoryFilter = HistoryFilter(), pageSize: Int = 500,
                          write: (String) async throws -> Void) async throws {
        try await write(HistoryCSV.header)
        var cursor: Int64?
        repeat {
            let page = try await query(filter, page: HistoryPageRequest(limit: pageSize, cursor: cursor))
            if !page.entries.isEmpty {
                try await write(page.entries.map(HistoryCSV.line).joined())
            }
            cursor = page.nextCursor
        } while cursor != nil
    }

    /// The whole export as one string (for small histories and tests).
    public func csv(_ filter: HistoryFilter = HistoryFilter()) async throws -> String {
        var text = ""
        try await exportCSV(filter) { text += $0 }
        return text
    }

    /// Deletes rows older than the policy's age and beyond its row count (oldest first); how many were deleted.
    @discardableResult
    public func applyRetention(_ retention: HistoryRetention, now: Date = Date()) async throws(StorageError) -> Int {
        var deleted = 0
        if let maxAge = retention.maxAgeSeconds {
            let cutoff = SQLValue.integer(now.addingTimeInterval(-maxAge).millisecondsSince1970)
            deleted += try await deleteCounted(where: "time_ms < ?", [cutoff])
        }
        if let maxRows = retention.maxRows {
            // The id of the newest row beyond the limit; rows up to it go. NULL (fewer rows) deletes nothing.
            let rows = try await database.read(SQLStatement("SELECT id FROM recognitions ORDER BY id DESC LIMIT 1 OFFSET ?", [.integer(maxRows)]))
            if let newestToDelete = rows.first?.optionalInt64("id") {
                deleted += try await deleteCounted(where: "id <= ?", [.integer(newestToDelete)])
            }
        }
        return deleted
    }

    private func deleteCounted(where condition: String, _ arguments: [SQLValue]) async throws(StorageError) -> Int {
        let results = try await database.writeTransaction([
            SQLStatement("SELECT COUNT(*) AS n FROM recognitions WHERE \(condition)", arguments),
            SQLStatement("DELETE FROM recognitions WHERE \(condition)", arguments),
        ])
        return Int(results[0].first?.optionalInt64("n") ?? 0)
    }

    // MARK: rows

    static let columns = """
        id, time_ms, source, stream_id, user_name, image_sha256, top5_json, weights_name, weights_sha256, weights_trained, \
        decode_ms, preprocess_ms, queue_ms, inference_ms, total_ms, alert, \
        CASE WHEN thumbnail_jpeg IS NULL THEN 0 ELSE 1 END AS has_thumbnail
        """

    static func insert(_ record: RecognitionRecord) throws(StorageError) -> SQLStatement {
        let top = record.top
        let top5JSON: String
        do {
            top5JSON = String(decoding: try JSONEncoder().encode(record.top5), as: UTF8.self)
        } catch {
            throw .statementFailed(reason: "cannot encode the top-5 classes: \(error)")
        }
        return SQLStatement("""
            INSERT INTO recognitions (time_ms, source, stream_id, user_name, image_sha256, top_index, top_label, \
            top_probability, top5_json, weights_name, weights_sha256, weights_trained, decode_ms, preprocess_ms, queue_ms, \
            inference_ms, total_ms, alert, thumbnail_jpeg, embedding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
            """, [
            .integer(record.time.millisecondsSince1970), .text(record.source), .text(record.streamID), .text(record.user),
            .text(record.imageSHA256), .integer(top.index), .text(top.label), .real(top.probability), .text(top5JSON),
            .text(record.weights.name), .text(record.weights.sha256Prefix), .integer(record.weights.trained ? 1 : 0),
            .real(record.timings.decodeMilliseconds), .real(record.timings.preprocessMilliseconds),
            .real(record.timings.queueMilliseconds), .real(record.timings.inferenceMilliseconds),
            .real(record.timings.totalMilliseconds), .text(record.alert), .blob(record.thumbnailJPEG), .blob(record.embedding),
        ])
    }

    static func entry(_ row: SQLRow) throws(StorageError) -> HistoryEntry {
        let top5: [RecordedClass]
        do {
            top5 = try JSONDecoder().decode([RecordedClass].self, from: Data(try row.string("top5_json").utf8))
        } catch let error as StorageError {
            throw error
        } catch {
            throw .unexpectedRow("top5_json of row \(row.optionalInt64("id") ?? -1) is not a list of classes")
        }
        let record = RecognitionRecord(
            time: Date(millisecondsSince1970: try row.int64("time_ms")),
            source: try row.string("source"),
            streamID: row.optionalString("stream_id"),
            user: row.optionalString("user_name"),
            imageSHA256: try row.string("image_sha256"),
            top5: top5,
            weights: RecordedWeights(name: try row.string("weights_name"), sha256Prefix: try row.string("weights_sha256"),
                                     trained: try row.int64("weights_trained") != 0),
            timings: RecordedTimings(decodeMilliseconds: try row.double("decode_ms"),
                                     preprocessMilliseconds: try row.double("preprocess_ms"),
                                     queueMilliseconds: try row.double("queue_ms"),
                                     inferenceMilliseconds: try row.double("inference_ms"),
                                     totalMilliseconds: try row.double("total_ms")),
            alert: row.optionalString("alert"))
        return HistoryEntry(id: try row.int64("id"), record: record, hasThumbnail: try row.int64("has_thumbnail") != 0)
    }
}
