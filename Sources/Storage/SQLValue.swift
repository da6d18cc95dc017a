import Foundation

/// A value bound into, or read out of, a statement: the few types both SQLite and PostgreSQL store alike.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// `.null` for nil, otherwise the text.
    public static func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// `.null` for nil, otherwise the bytes.
    public static func blob(_ value: [UInt8]?) -> SQLValue { value.map { .blob($0) } ?? .null }
    /// An integer from an `Int`.
    public static func integer(_ value: Int) -> SQLValue { .integer(Int64(value)) }
}

/// One statement with `?` placeholders and the values bound to them, written once for both back-ends
/// (PostgreSQL gets the placeholders renumbered `$1, $2, …`). Do not put a literal `?` inside quoted SQL text:
/// bind it instead.
public struct SQLStatement: Sendable, Equatable {
    public var sql: String
    public var arguments: [SQLValue]

    public init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }

    /// The SQL with `?` turned into PostgreSQL's numbered `$n` placeholders.
    var numberedPlaceholders: String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 8)
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// A row of a result: values by column name (lower-case, as PostgreSQL folds unquoted names).
public struct SQLRow: Sendable, Equatable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column, `.null` when the row has no such column.
    public subscript(_ column: String) -> SQLValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    public func int64(_ column: String) throws(StorageError) -> Int64 {
        guard let value = optionalInt64(column) else { throw .unexpectedRow("column \(column) is not an integer") }
        return value
    }

    public func optionalInt64(_ column: String) -> Int64? {
        switch self[column] {
        case let .integer(value): value
        case let .real(value): Int64(exactly: value.rounded())
        case let .text(value): Int64(value)
        default: nil
        }
    }

    public func double(_ column: String) throws(StorageError) -> Double {
        guard let value = optionalDouble(column) else { throw .unexpectedRow("column \(column) is not a number") }
        return value
    }

    public func optionalDouble(_ column: String) -> Double? {
        switch self[column] {
        case let .real(value): value
        case let .integer(value): Double(value)
        case let .text(value): Double(value)
        default: nil
        }
    }

    public func string(_ column: String) throws(StorageError) -> String {
        guard let value = optionalString(column) else { throw .unexpectedRow("column \(column) is not text") }
        return value
    }

    public func optionalString(_ column: String) -> String? {
        switch self[column] {
        case let .text(value): value
        case let .integer(value): String(value)
        case let .real(value): String(value)
        case let .blob(bytes): String(decoding: bytes, as: UTF8.self)
        case .null: nil
        }
    }

    public func optionalBytes(_ column: String) -> [UInt8]? {
        switch self[column] {
        case let .blob(bytes): bytes
        case let .text(value): Array(value.utf8)
        default: nil
        }
    }
}
