import Foundation

/// A JSON document as a label file needs it: objects keep every member in order, duplicates included, with the
/// line each key is on, and a syntax error says where it is. (Foundation's parser keeps only the last of duplicate
/// keys, so a label file listing class 5 twice would lose one silently, and its error messages vary by platform.)
indirect enum LabelFileJSON {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([LabelFileJSON])
    case object([(key: String, line: Int, value: LabelFileJSON)])

    /// Where a document stops being JSON: 1-based line and column (in characters), and the byte offset.
    struct SyntaxError: Error, CustomStringConvertible {
        let problem: String
        let line: Int
        let column: Int
        let byteOffset: Int

        var description: String { "\(problem) at line \(line), column \(column) (byte \(byteOffset))" }
    }

    /// Parses a whole document; anything but whitespace after the value is an error.
    static func parse(_ data: Data) throws(SyntaxError) -> LabelFileJSON {
        var parser = Parser(bytes: [UInt8](data))
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.position = 3 }  // a UTF-8 byte-order mark
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected \(parser.shown) after the JSON value") }
        return value
    }

    /// A recursive-descent parser over the document's bytes.
    private struct Parser {
        let bytes: [UInt8]
        var position = 0
        /// The line `position` is on. Newlines can only be whitespace (a string may not hold a raw one).
        var line = 1

        /// Nesting deeper than this is refused rather than recursed into (a label file is two levels deep).
        static let maxDepth = 64

        func error(_ problem: String) -> SyntaxError {
            let lineStart = bytes[..<position].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let column = String(decoding: bytes[lineStart..<position], as: UTF8.self).count + 1
            return SyntaxError(problem: problem, line: line, column: column, byteOffset: position)
        }

        /// The byte at the position, for messages: `'x'`, or "the end of the file".
        var shown: String {
            guard position < bytes.count else { return "end of file" }
            let byte = bytes[position]
            if byte >= 0x20 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
            return String(format: "byte 0x%02X", byte)
        }

        mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
                if bytes[position] == 0x0A { line += 1 }
                position += 1
            }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> LabelFileJSON {
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of file where a value was expected") }
            guard depth < Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected \(shown) where a value was expected")
            }
        }

        mutating func literal(_ word: String) throws(SyntaxError) {
            let expected = Array(word.utf8)
            guard bytes[position...].starts(with: expected) else { throw error("unexpected \(shown) where a value was expected") }
            position += expected.count
        }

        mutating func number() throws(SyntaxError) -> String {
            let start = position
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.position
                while parser.position < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.position]) {
                    parser.position += 1
                }
                return parser.position - from
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw error("a number needs digits, not \(shown)") }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw error("a number needs digits after '.', not \(shown)") }
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("a number needs digits in its exponent, not \(shown)") }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func string() throws(SyntaxError) -> String {
            position += 1  // the opening quote
            var scalars = String.UnicodeScalarView()
            var runStart = position
            func flush(_ parser: Parser, upTo end: Int) {
                scalars.append(contentsOf: String(decoding: parser.bytes[runStart..<end], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard position < bytes.count else { throw error("unexpected end of file inside a string") }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    flush(self, upTo: position)
                    position += 1
                    return String(scalars)
                }
                if byte < 0x20 { throw error("a control character (\(shown)) inside a string: write it as an escape such as \\n") }
                if byte != UInt8(ascii: "\\") {
                    position += 1
                    continue
                }
                flush(self, upTo: position)
                position += 1
                guard position < bytes.count else { throw error("unexpected end of file inside a string") }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), bytes[position...].starts(with: Array("\\u".utf8)) {
                        position += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                    }
                    scalars.append(UnicodeScalar(code) ?? "\u{FFFD}")
                default:
                    position -= 2
                    throw error("unknown escape inside a string")
                }
                runStart = position
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            var code: UInt32 = 0
            for _ in 0..<4 {
                guard position < bytes.count, let digit = UInt32(String(UnicodeScalar(bytes[position])), radix: 16) else {
                    throw error("\\u needs four hex digits, not \(shown)")
                }
                code = code * 16 + digit
                position += 1
            }
            return code
        }

        mutating func array(depth: Int) throws(SyntaxError) -> LabelFileJSON {
            position += 1
            var items: [LabelFileJSON] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of file inside a list: a ']' is missing") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(items)
                default: throw error("expected ',' or ']' in a list, not \(shown)")
                }
            }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> LabelFileJSON {
            position += 1
            var members: [(key: String, line: Int, value: LabelFileJSON)] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw error("expected a key in double quotes, not \(shown)")
                }
                let line = self.line
                let key = try string()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':' after a key, not \(shown)") }
                position += 1
                members.append((key, line, try value(depth: depth + 1)))
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of file inside an object: a '}' is missing") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return .object(members)
                default: throw error("expected ',' or '}' in an object, not \(shown)")
                }
            }
        }
    }
}
