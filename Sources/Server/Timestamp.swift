import Foundation

/// Times in JSON answers: RFC 3339 in UTC, whole seconds (`2026-11-25T19:30:00Z`).
enum Timestamp {
    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
