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

    /// True only for `imageNet`: lets `CategoryTable.describes` answer from a check made once.
    let isBuiltIn: Bool

    public init(classes: [ClassLabel], source: String) {
        self.init(classes: classes, source: source, isBuiltIn: false)
    }

    private init(classes: [ClassLabel], source: String, isBuiltIn: Bool) {
        self.classes = classes
        self.source = source
        self.isBuiltIn = isBuiltIn
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
        return Labels(classes: classes, source: "imagenet-1k (built in)", isBuiltIn: true)
    }()

    /// Index of the class with this WordNet id, for `eval` folders.
    public func index(ofWnid wnid: String) -> Int? {
        classes.firstIndex { $0.wnid == wnid }
    }

    /// A label file in any of the forms people have:
    /// - a JSON list: `["tench", ...]`, or `[{"index": 0, "wnid": "n01440764", "name": "tench"}, ...]`;
    /// - a JSON object keyed by index strings: `{"0": "tench, Tinca tinca", ...}` (`imagenet_classes.json`), or
    ///   `{"0": ["n01440764", "tench"], ...}` (PyTorch's `imagenet_class_index.json`, WordNet id and name);
    /// - plain text, one name a line.
    public init(contentsOf url: URL) throws(RecognitionError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .labels(path: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        let text = String(decoding: data, as: UTF8.self)
        let classes: [ClassLabel]
        let first = text.unicodeScalars.first { !CharacterSet.whitespacesAndNewlines.contains($0) && $0 != "\u{FEFF}" }
        if first == "[" || first == "{" {
            let json: LabelFileJSON
            do { json = try LabelFileJSON.parse(data) } catch {
                throw .labels(path: url.path, problem: "is malformed JSON: \(error)")
            }
            do { classes = try Self.classes(json) } catch {
                throw .labels(path: url.path, problem: error.problem)
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

    /// Why a well-formed JSON label file cannot be used.
    private struct ContentError: Error {
        let problem: String
    }

    private static func classes(_ json: LabelFileJSON) throws(ContentError) -> [ClassLabel] {
        switch json {
        case let .array(items):
            return try items.enumerated().map { (position, item) throws(ContentError) in
                switch item {
                case let .string(name):
                    return ClassLabel(index: position, wnid: nil, name: name)
                case let .object(members):
                    func field(_ key: String) -> LabelFileJSON? { members.last { $0.key == key }?.value }
                    guard case let .string(name)? = field("name") else {
                        throw ContentError(problem: "entry \(position) is neither a name nor an object with a \"name\"")
                    }
                    if case let .number(index)? = field("index"), Int(index) != position {
                        throw ContentError(problem: "entry \(position) has index \(index): list the classes in output order")
                    }
                    var wnid: String?
                    if case let .string(value)? = field("wnid") { wnid = value }
                    return ClassLabel(index: position, wnid: wnid, name: name)
                default:
                    throw ContentError(problem: "entry \(position) is neither a name nor an object with a \"name\"")
                }
            }
        case let .object(members):
            var byIndex: [Int: (line: Int, label: ClassLabel)] = [:]
            for member in members {
                guard !member.key.isEmpty, member.key.allSatisfy(\.isASCII), member.key.allSatisfy(\.isNumber),
                      let index = Int(member.key) else {
                    throw ContentError(problem: "has the key \"\(member.key)\" on line \(member.line): keys must be class indices (\"0\", \"1\", ...)")
                }
                if let earlier = byIndex[index] {
                    throw ContentError(problem: "lists class \(index) twice (lines \(earlier.line) and \(member.line))")
                }
                var label: ClassLabel?
                switch member.value {
                case let .string(name):
                    label = ClassLabel(index: index, wnid: nil, name: name)
                case let .array(pair) where pair.count == 2:
                    if case let .string(wnid) = pair[0], case let .string(name) = pair[1] {
                        label = ClassLabel(index: index, wnid: wnid, name: name)
                    }
                default:
                    break
                }
                guard let label else {
                    throw ContentError(problem: "class \(index) on line \(member.line) is neither a name nor a [\"wnid\", \"name\"] pair")
                }
                byIndex[index] = (member.line, label)
            }
            let missing = (0..<byIndex.count).filter { byIndex[$0] == nil }
            guard missing.isEmpty else {
                let beyond = byIndex.keys.filter { $0 >= byIndex.count }.sorted()
                throw ContentError(problem: "has \(byIndex.count) classes but not indices 0 to \(byIndex.count - 1): "
                                   + "missing \(Self.some(missing)), and \(Self.some(beyond)) beyond them")
            }
            return (0..<byIndex.count).map { byIndex[$0]!.label }
        default:
            throw ContentError(problem: "is JSON but neither a list of names nor an object keyed by class index")
        }
    }

    /// The first few numbers of a list, for messages.
    private static func some(_ numbers: [Int]) -> String {
        numbers.prefix(5).map(String.init).joined(separator: ", ") + (numbers.count > 5 ? " and \(numbers.count - 5) more" : "")
    }
}
