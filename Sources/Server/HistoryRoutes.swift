import Foundation
import Hummingbird
import NIOCore
import Storage

/// `GET /v1/history` (filters, pages), `/v1/history.csv`, `/v1/history/labels` (the chart's counts),
/// `/v1/history/{id}` and its `/thumbnail`. With history off they answer 404, saying so.
struct HistoryRoutes: Sendable {
    let store: HistoryStore?
    let writer: HistoryWriter?
    /// The rows' embeddings in memory, for `/v1/history/{id}/similar`.
    var similarity: SimilarityIndex? = nil

    func register(on router: RouteTable) {
        router.get("/v1/history") { request, _ in
            let store = try available()
            let query = request.formParameters
            let filter = try HistoryQuery.filter(query)
            let page = try HistoryQuery.page(query)
            let result = try await Self.storage { () async throws(StorageError) in try await store.query(filter, page: page) }
            return try JSONBody.response(HistoryListBody(result))
        }
        router.get("/v1/history.csv") { request, _ in
            let store = try available()
            let filter = try HistoryQuery.filter(request.formParameters)
            // Fails before the first byte when the database is unreadable (an error status, not a cut-off file).
            _ = try await Self.storage { () async throws(StorageError) in try await store.count(filter) }
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"resnet18-history.csv\""
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await store.exportCSV(filter) { text in try await writer.write(ByteBuffer(string: text)) }
                try await writer.finish(nil)
            })
        }
        router.get("/v1/history/labels") { request, _ in
            let store = try available()
            let query = request.formParameters
            let filter = try HistoryQuery.filter(query)
            let bucket = try HistoryQuery.bucketSeconds(query)
            let counts = try await Self.storage { () async throws(StorageError) in try await store.labelCounts(filter, bucketSeconds: bucket) }
            return try JSONBody.response(LabelCountsBody(bucketSeconds: bucket, counts: counts))
        }
        router.get("/v1/history/{id}") { _, context in
            let store = try available()
            let id = try HistoryQuery.id(context.parameters.get("id"))
            guard let entry = try await Self.storage({ () async throws(StorageError) in try await store.entry(id: id) }) else {
                throw APIError.notFound("no history row \(id): it was never recorded or retention deleted it")
            }
            return try JSONBody.response(HistoryEntryBody(entry))
        }
        // The rows most like this one (cosine similarity of the images' features), best first.
        router.get("/v1/history/{id}/similar") { request, context in
            let store = try available()
            let id = try HistoryQuery.id(context.parameters.get("id"))
            let limitText = request.formParameters["limit"].map(String.init) ?? "20"
            guard let limit = Int(limitText), (1...100).contains(limit) else {
                throw APIError.badRequest("limit must be a whole number from 1 to 100, not \"\(limitText.prefix(40))\"")
            }
            guard try await Self.storage({ () async throws(StorageError) in try await store.entry(id: id) }) != nil else {
                throw APIError.notFound("no history row \(id): it was never recorded or retention deleted it")
            }
            guard let code = try await Self.storage({ () async throws(StorageError) in try await store.embedding(id: id) }),
                  let query = EmbeddingCode.values(code), let similarity else {
                throw APIError.notFound("history row \(id) has no features kept (recorded before they were, or from a KServe tensor or a stream alert): nothing to compare")
            }
            try await Self.storage { () async throws(StorageError) in try await similarity.refresh() }
            let nearest = await similarity.nearest(to: query, limit: limit, excluding: id)
            var found: [SimilarBody.Match] = []
            for match in nearest {
                // A row retention deleted since the index read it is left out.
                guard let entry = try await Self.storage({ () async throws(StorageError) in try await store.entry(id: match.id) }) else { continue }
                found.append(SimilarBody.Match(similarity: match.similarity, entry: HistoryEntryBody(entry)))
            }
            return try JSONBody.response(SimilarBody(id: id, searched: await similarity.count, similar: found))
        }
        router.get("/v1/history/{id}/thumbnail") { _, context in
            let store = try available()
            let id = try HistoryQuery.id(context.parameters.get("id"))
            guard let jpeg = try await Self.storage({ () async throws(StorageError) in try await store.thumbnail(id: id) }) else {
                throw APIError.notFound("history row \(id) has no thumbnail: the row is gone, or was recorded with --thumbnails off")
            }
            var headers = HTTPFields()
            headers[.contentType] = "image/jpeg"
            headers[.cacheControl] = "private, max-age=86400"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jpeg)))
        }
    }

    private func available() throws(APIError) -> HistoryStore {
        guard let store else {
            throw .notFound("history is off on this server (--db none): start it with --db PATH or --db postgres://… to record recognitions")
        }
        return store
    }

    /// Runs a store call; a database failure becomes a 503 that says what is wrong.
    static func storage<T>(isolation: isolated (any Actor)? = #isolation,
                           _ body: () async throws(StorageError) -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch {
            throw .historyUnavailable(error.description)
        }
    }
}

/// Reads the history routes' query parameters; each error names the parameter and what it takes.
enum HistoryQuery {
    static func filter(_ query: Parameters) throws(APIError) -> HistoryFilter {
        var filter = HistoryFilter()
        filter.label = query["label"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        filter.source = query["source"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        filter.from = try time(query["from"].map(String.init), name: "from")
        filter.to = try time(query["to"].map(String.init), name: "to")
        if let text = query["min_probability"].map(String.init) {
            guard let value = Double(text), (0...1).contains(value) else {
                throw .badRequest("min_probability must be a number from 0 to 1, not \"\(text)\"")
            }
            filter.minProbability = value
        }
        if let text = query["alerts"].map(String.init) {
            switch text {
            case "true", "1": filter.alertsOnly = true
            case "false", "0": filter.alertsOnly = false
            default: throw .badRequest("alerts must be true or false, not \"\(text)\"")
            }
        }
        return filter
    }

    static func page(_ query: Parameters) throws(APIError) -> HistoryPageRequest {
        var limit = 50
        if let text = query["limit"].map(String.init) {
            guard let value = Int(text), (1...HistoryPageRequest.maximumLimit).contains(value) else {
                throw .badRequest("limit must be a whole number from 1 to \(HistoryPageRequest.maximumLimit), not \"\(text)\"")
            }
            limit = value
        }
        var cursor: Int64?
        if let text = query["cursor"].map(String.init) {
            guard let value = Int64(text), value >= 1 else {
                throw .badRequest("cursor must be the next_cursor of a previous page (a positive whole number), not \"\(text)\"")
            }
            cursor = value
        }
        var offset = 0
        if let text = query["offset"].map(String.init) {
            guard let value = Int(text), value >= 0, value <= 10_000_000 else {
                throw .badRequest("offset must be a whole number from 0 to 10000000, not \"\(text)\"")
            }
            offset = value
        }
        return HistoryPageRequest(limit: limit, cursor: cursor, offset: offset)
    }

    static func bucketSeconds(_ query: Parameters) throws(APIError) -> Int {
        guard let text = query["bucket_seconds"].map(String.init) else { return 3600 }
        guard let value = Int(text), (1...31_622_400).contains(value) else {
            throw .badRequest("bucket_seconds must be a whole number from 1 to 31622400 (a year), not \"\(text)\"")
        }
        return value
    }

    static func id(_ text: String?) throws(APIError) -> Int64 {
        guard let text, let value = Int64(text), value >= 1 else {
            throw .badRequest("a history id is a positive whole number, not \"\(text ?? "")\"")
        }
        return value
    }

    /// An RFC 3339 time (`2026-11-25T19:00:00Z`, `2026-11-25T20:00:00.5+01:00`), as OpenAPI's `date-time`.
    static func time(_ text: String?, name: String) throws(APIError) -> Date? {
        // Present but empty is refused like any other non-time: the parameter is typed.
        guard let text else { return nil }
        guard let date = RFC3339.date(text) else {
            throw .badRequest("\(name) must be an RFC 3339 time like 2026-11-25T19:00:00Z, not \"\(text)\"")
        }
        return date
    }
}

/// Parses RFC 3339 date-times (the `date-time` of JSON Schema): `T`/`t`/space, fractional seconds of any length,
/// `Z`/`z` or a `±hh:mm` offset; a leap second (`:60`) counts as the last instant of its minute.
enum RFC3339 {
    static func date(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var position = 0
        func number(_ digits: Int) -> Int? {
            guard position + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[position..<(position + digits)] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            position += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var fraction = 0.0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            var scale = 0.1
            let start = position
            while position < bytes.count, (48...57).contains(bytes[position]) {
                fraction += Double(bytes[position] - 48) * scale
                scale /= 10
                position += 1
            }
            guard position > start else { return nil }
        }
        var offsetSeconds = 0
        if expect("Zz") {
            offsetSeconds = 0
        } else if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
            let sign = bytes[position] == UInt8(ascii: "-") ? -1 : 1
            position += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard position == bytes.count else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        guard let midnight = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return nil }
        let seconds = Double(hour * 3600 + minute * 60 + min(second, 59)) + (second == 60 ? 0.999 : fraction) - Double(offsetSeconds)
        return midnight.addingTimeInterval(seconds)
    }
}

/// The answer of `GET /v1/history/{id}/similar`.
struct SimilarBody: Encodable {
    struct Match: Encodable {
        /// Cosine similarity of the two images' features, from -1 to 1 (1: the same features).
        let similarity: Double
        let entry: HistoryEntryBody
    }

    let id: Int64
    /// Rows compared (every row with features kept).
    let searched: Int
    let similar: [Match]
}
