import Foundation

/// Reads `key=value` parameters of header values such as Content-Type and Content-Disposition.
enum MediaTypeParameters {
    /// The value of parameter `key` (case-insensitive), unquoted; nil when absent.
    static func value(of key: String, in header: String) -> String? {
        for parameter in splitParameters(header).dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            let name = parameter[..<equals].trimmingCharacters(in: .whitespaces)
            guard name.lowercased() == key.lowercased() else { continue }
            var value = parameter[parameter.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            return value
        }
        return nil
    }

    /// The media type alone, lowercased: `multipart/form-data` of `multipart/form-data; boundary=x`.
    static func mediaType(of header: String) -> String {
        (splitParameters(header).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Splits at semicolons outside quotes.
    private static func splitParameters(_ header: String) -> [String] {
        var pieces: [String] = []
        var piece = ""
        var quoted = false
        for character in header {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(piece)
                piece = ""
            } else {
                piece.append(character)
            }
        }
        pieces.append(piece)
        return pieces
    }
}
