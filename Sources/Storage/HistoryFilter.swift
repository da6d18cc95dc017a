import Foundation

/// Which history rows a query or export wants; nil fields do not filter.
public struct HistoryFilter: Sendable, Equatable {
    /// Part of the best class's label, case-insensitive (`"retriever"` finds `golden retriever`).
    public var label: String?
    /// From this time on (inclusive).
    public var from: Date?
    /// Before this time (exclusive).
    public var to: Date?
    /// The best class's probability is at least this.
    public var minProbability: Double?
    /// The source, exactly (`"POST /v1/classify"`), or a prefix ending in `*` (`"stream:*"`).
    public var source: String?
    /// Only stream alerts (events) when true.
    public var alertsOnly: Bool

    public init(label: String? = nil, from: Date? = nil, to: Date? = nil, minProbability: Double? = nil,
                source: String? = nil, alertsOnly: Bool = false) {
        self.label = label
        self.from = from
        self.to = to
        self.minProbability = minProbability
        self.source = source
        self.alertsOnly = alertsOnly
    }

    /// The `WHERE` clause (empty or starting with ` WHERE`) and its arguments, the same SQL on both back-ends.
    func whereClause(beforeID cursor: Int64? = nil) -> (sql: String, arguments: [SQLValue]) {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let label = label?.trimmingCharacters(in: .whitespaces), !label.isEmpty {
            conditions.append("LOWER(top_label) LIKE ? ESCAPE '\\'")
            arguments.append(.text("%" + Self.escapeLike(label.lowercased()) + "%"))
        }
        if let from {
            conditions.append("time_ms >= ?")
            arguments.append(.integer(from.millisecondsSince1970))
        }
        if let to {
            conditions.append("time_ms < ?")
            arguments.append(.integer(to.millisecondsSince1970))
        }
        if let minProbability {
            conditions.append("top_probability >= ?")
            arguments.append(.real(minProbability))
        }
        if let source, !source.isEmpty {
            if source.hasSuffix("*") {
                conditions.append("source LIKE ? ESCAPE '\\'")
                arguments.append(.text(Self.escapeLike(String(source.dropLast())) + "%"))
            } else {
                conditions.append("source = ?")
                arguments.append(.text(source))
            }
        }
        if alertsOnly {
            conditions.append("alert IS NOT NULL")
        }
        if let cursor {
            conditions.append("id < ?")
            arguments.append(.integer(cursor))
        }
        return (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

/// Which page of a query: at most `limit` rows, newest first, after a `cursor` (the `nextCursor` of the page
/// before: stable while rows are added) or after skipping `offset` rows.
public struct HistoryPageRequest: Sendable, Equatable {
    public var limit: Int
    public var cursor: Int64?
    public var offset: Int

    /// The most rows one page may ask for.
    public static let maximumLimit = 1000

    public init(limit: Int = 50, cursor: Int64? = nil, offset: Int = 0) {
        self.limit = min(max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
        self.offset = max(offset, 0)
    }
}

/// One page of history, newest first.
public struct HistoryPage: Sendable, Equatable {
    public var entries: [HistoryEntry]
    /// Pass as `cursor` for the next (older) page; nil on the last page.
    public var nextCursor: Int64?
    /// Rows matching the filter, all pages together.
    public var total: Int

    public init(entries: [HistoryEntry], nextCursor: Int64?, total: Int) {
        self.entries = entries
        self.nextCursor = nextCursor
        self.total = total
    }
}

/// How many recognitions had a label as their best class in one time bucket (for the history page's chart).
public struct LabelCount: Sendable, Equatable {
    public var bucketStart: Date
    public var label: String
    public var count: Int

    public init(bucketStart: Date, label: String, count: Int) {
        self.bucketStart = bucketStart
        self.label = label
        self.count = count
    }
}

extension Date {
    /// Milliseconds since 1970, as the database stores times.
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
