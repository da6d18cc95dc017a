import Foundation

/// One class the network can answer: its output index, WordNet id (when known) and display name.
public struct ClassLabel: Sendable, Codable, Equatable {
    public let index: Int
    public let wnid: String?
    public let name: String
}

/// The class names for the network's outputs, in output order.
public struct Labels: Sendable {
    public let classes: [ClassLabel]
    /// Where they came from: `imagenet-1k (built in)` or a file path.
    public let source: String

    public var count: Int { classes.count }
    public subscript(index: Int) -> ClassLabel { classes[index] }

    public init(classes: [ClassLabel], source: String) {
        self.classes = classes
        self.source = source
    }

    /// torchvision's ImageNet-1k classes in its output order, built into the binary: `Resources/imagenet-classes.tsv`
    /// (index, WordNet id, torchvision's short name, synonyms; from `shared/data/imagenet-classes.json`), so the
    /// binary carries its labels and runs anywhere.
    public static let imageNet: Labels = {
        let rows = String(decoding: PackageResources.imagenet_classes_tsv, as: UTF8.self).split(separator: "\n").dropFirst()
        let classes = rows.enumerated().map { index, line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            precondition(fields.count == 4 && Int(fields[0]) == index, "imagenet-classes.tsv row \(index): not index, wnid, name, synonyms")
            return ClassLabel(index: index, wnid: String(fields[1]), name: String(fields[2]))
        }
        return Labels(classes: classes, source: "imagenet-1k (built in)")
    }()

    /// Index of the class with this WordNet id, for `eval` folders.
    public func index(ofWnid wnid: String) -> Int? {
        classes.firstIndex { $0.wnid == wnid }
    }

    /// A label file: JSON (`[{"index","wnid","name"}]` as in imagenet-classes.json, or `["name", ...]`),
    /// or plain text with one name a line.
    public init(contentsOf url: URL) throws(RecognitionError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .labels(path: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        let text = String(decoding: data, as: UTF8.self)
        var classes: [ClassLabel] = []
        if text.drop(while: \.isWhitespace).first == "[" {
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [Any] else {
                throw .labels(path: url.path, problem: "is not valid JSON")
            }
            for (position, item) in json.enumerated() {
                if let name = item as? String {
                    classes.append(ClassLabel(index: position, wnid: nil, name: name))
                } else if let object = item as? [String: Any], let name = object["name"] as? String {
                    let index = object["index"] as? Int ?? position
                    guard index == position else {
                        throw .labels(path: url.path, problem: "entry \(position) has index \(index): list the classes in output order")
                    }
                    classes.append(ClassLabel(index: position, wnid: object["wnid"] as? String, name: name))
                } else {
                    throw .labels(path: url.path, problem: "entry \(position) is neither a name nor an object with a \"name\"")
                }
            }
        } else {
            classes = text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
                .enumerated().map { ClassLabel(index: $0.offset, wnid: nil, name: $0.element) }
        }
        guard !classes.isEmpty else { throw .labels(path: url.path, problem: "lists no classes") }
        self.init(classes: classes, source: url.path)
    }
}
