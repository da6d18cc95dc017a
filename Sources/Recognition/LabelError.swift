/// Why a label (a class or category a user typed) names nothing, or names too much. Each says what to type instead.
public enum LabelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No class or category has this name; the closest names, best first. `categories`: whether categories
    /// could have matched (not with a custom head's labels).
    case unknown(String, suggestions: [String], categories: Bool)
    /// A class index past the last class.
    case indexOutOfRange(Int, count: Int)
    /// The name belongs to several categories with equally many classes: no choice is better than another.
    case ambiguous(String, choices: [LabelGroup])
    case empty

    public var description: String {
        switch self {
        case let .unknown(label, suggestions, categories):
            (categories ? "no class or category is called \"\(label)\": " : "no class is called \"\(label)\": ")
                + "give a class name as torchvision writes it (\"tabby\"), its index (281) or its WordNet id (n02123045)"
                + (categories ? ", or a WordNet category (\"dog\", \"domestic cat\", n02084071)" : "")
                + (suggestions.isEmpty ? "" : "; did you mean \(suggestions.map { "\"\($0)\"" }.joined(separator: ", "))?")
        case let .indexOutOfRange(index, count):
            "there is no class \(index): class indices run from 0 to \(count - 1)"
        case let .ambiguous(label, choices):
            "\"\(label)\" names \(choices.count) categories of \(choices.first?.classes.count ?? 0) "
                + ((choices.first?.classes.count ?? 0) == 1 ? "class" : "classes") + " each: "
                + choices.map(\.summary).joined(separator: "; ") + "; give the name or WordNet id of the one you mean"
        case .empty:
            "an empty label names nothing: give a class name, index, WordNet id or category"
        }
    }
}
