/// An HTML page from `Resources/` with two kinds of markers: `{{> head.html}}` is replaced by that file (the shared
/// head, the account bar), once, when the template is made; `{{name}}` by a value given at `render`, HTML-escaped.
/// Nothing else is interpreted: no conditions, no loops, no unescaped values.
struct PageTemplate: Sendable {
    private enum Part: Sendable {
        case text(String)
        case value(name: String)
    }

    private let parts: [Part]
    /// The names of the values `render` needs.
    let valueNames: Set<String>

    /// The embedded file `name`, its includes resolved.
    init(file name: String) {
        var parts: [Part] = []
        var text = ""
        Self.expand(EmbeddedFile.text(name), indent: "", into: &parts, text: &text)
        if !text.isEmpty { parts.append(.text(text)) }
        self.parts = parts
        valueNames = Set(parts.compactMap { if case .value(let name) = $0 { name } else { nil } })
    }

    /// The page with every `{{name}}` replaced by `values[name]`, escaped.
    func render(_ values: [String: String] = [:]) -> String {
        precondition(Set(values.keys) == valueNames, "PageTemplate.render: values \(values.keys.sorted()), template wants \(valueNames.sorted())")
        var page = ""
        for part in parts {
            switch part {
            case .text(let text): page += text
            case .value(let name): page += HTMLText.escape(values[name] ?? "")
            }
        }
        return page
    }

    /// Appends `source` to `parts`, resolving includes (indented like the line they are on, so the page reads well).
    private static func expand(_ source: String, indent: String, into parts: inout [Part], text: inout String) {
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            let before = rest[..<open.lowerBound]
            text += before.replacing("\n", with: "\n" + indent)
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else { preconditionFailure("unclosed {{ in a page template") }
            let marker = rest[open.upperBound..<close.lowerBound]
            if marker.hasPrefix(">") {
                let file = String(marker.dropFirst().filter { $0 != " " })
                var fragment = EmbeddedFile.text(file)
                if fragment.hasSuffix("\n") { fragment.removeLast() }
                let lineStart = text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
                let column = String(text[lineStart...].prefix(while: { $0 == " " }))
                expand(fragment, indent: indent + column, into: &parts, text: &text)
            } else {
                precondition(marker.allSatisfy { $0.isLetter || $0 == "_" } && !marker.isEmpty, "bad marker {{\(marker)}} in a page template")
                if !text.isEmpty { parts.append(.text(text)) }
                text = ""
                parts.append(.value(name: String(marker)))
            }
            rest = rest[close.upperBound...]
        }
        text += rest.replacing("\n", with: "\n" + indent)
    }
}
