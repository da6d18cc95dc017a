import ArgumentParser
import Foundation
import Recognition

/// `resnet18 labels QUERY`: what a label names (a class, or a WordNet category and its classes).
struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Resolve a class name, index, WordNet id or WordNet category, and list its ImageNet-1k classes.",
        discussion: """
            A category is any WordNet 3.0 noun synset with ImageNet-1k classes below it: "dog" (n02084071, the 118 \
            breeds), "domestic cat", "bird", "car", "vehicle"... Names are matched in any case, with spaces or \
            underscores; torchvision's class names come first ("crane" is the machine, class 517). A name several \
            categories share means the one with the most classes; the others are named, to be chosen by WordNet id. \
            --alert, --group and the API's rules accept the same labels.
            """)

    @Argument(help: ArgumentHelp("A class name, index or WordNet id, or a category (words are joined with spaces).",
                                 valueName: "query"))
    var words: [String]

    @Flag(help: "One JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard !words.isEmpty else { throw ValidationError("give a QUERY: a class name, index, WordNet id or category") }
    }

    func run() throws {
        let labels = Labels.imageNet
        let match = try LabelResolver(labels: labels).resolve(words.joined(separator: " "))
        let group = match.group
        let category = group.wnid.flatMap { CategoryTable.imageNet.category(wnid: $0) }
        if json {
            let object: [String: Any] = [
                "query": words.joined(separator: " "),
                "kind": group.kind.rawValue,
                "name": group.name,
                "wnid": group.wnid ?? NSNull(),
                "lemmas": category?.lemmas ?? [group.name],
                "classes": group.classes.map { index -> [String: Any] in
                    ["index": index, "wnid": labels[index].wnid ?? NSNull(), "name": labels[index].name]
                },
                "alternatives": match.alternatives.map { other -> [String: Any] in
                    ["name": other.name, "lemmas": other.lemmas, "wnid": other.wnid ?? NSNull(), "kind": other.kind.rawValue,
                     "classes": other.classes.count]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let lemmas = category.map { " (\($0.lemmas.joined(separator: ", ")))" } ?? ""
        switch group.kind {
        case .class:
            let indices = group.classes.map(String.init).joined(separator: ", ")
            print("\(group.name): class \(indices)\(group.wnid.map { ", \($0)" } ?? "")\(lemmas)")
        case .category:
            print("\(group.name): category \(group.wnid ?? "")\(lemmas), \(group.classes.count) classes")
        case .custom:
            print("\(group.name): a category of your own")
            return
        }
        for index in group.classes {
            print("  \(String(index).leftPadding(to: 3))  \(labels[index].wnid ?? "-")  \(labels[index].name)")
        }
        if let note = match.note { printError("note: \(note)") }
    }
}

extension String {
    /// Right-aligned in `width` columns.
    func leftPadding(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
