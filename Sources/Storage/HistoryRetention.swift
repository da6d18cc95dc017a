/// How much history to keep: rows older than `maxAgeSeconds` and beyond the newest `maxRows` are deleted.
/// nil keeps everything on that axis.
public struct HistoryRetention: Sendable, Equatable {
    public var maxAgeSeconds: Double?
    public var maxRows: Int?

    public init(maxAgeSeconds: Double? = nil, maxRows: Int? = nil) {
        self.maxAgeSeconds = maxAgeSeconds
        self.maxRows = maxRows
    }

    /// From `--history-max-age-days` and `--history-max-rows`.
    public init(maxAgeDays: Double?, maxRows: Int?) {
        self.init(maxAgeSeconds: maxAgeDays.map { $0 * 86_400 }, maxRows: maxRows)
    }

    /// True when nothing is ever deleted.
    public var keepsEverything: Bool { maxAgeSeconds == nil && maxRows == nil }

    /// For the start-up summary.
    public var summary: String {
        var parts: [String] = []
        if let maxAgeSeconds { parts.append("rows older than \(Self.format(maxAgeSeconds / 86_400)) days") }
        if let maxRows { parts.append("beyond the newest \(maxRows) rows") }
        return parts.isEmpty ? "kept forever" : "deleting " + parts.joined(separator: " and ")
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
