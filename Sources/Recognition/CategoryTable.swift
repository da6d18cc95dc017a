import Foundation

/// The ImageNet-1k categories derived from WordNet 3.0 by `scripts/make-categories.py`, by wnid and by lemma.
public struct CategoryTable: Sendable {
    /// Most classes first (the table's order).
    public let categories: [Category]
    private let positionByWnid: [String: Int]
    /// Lemma (as `key(_:)` writes it) → positions in `categories`, most classes first.
    private let positionsByLemma: [String: [Int]]
    /// True only for `imageNet`.
    private var isBuiltIn = false

    /// The table built into the binary (`Resources/imagenet-categories.tsv`, with its provenance header).
    public static let imageNet: CategoryTable = {
        do {
            var table = try CategoryTable(tsv: String(decoding: PackageResources.imagenet_categories_tsv, as: UTF8.self),
                                          source: "imagenet-categories.tsv (built in)")
            table.isBuiltIn = true
            return table
        } catch {
            // The table is generated, committed and parsed by the tests: a failure here is a broken build.
            fatalError("\(error)")
        }
    }()

    /// Parses the table: `#` lines are its header; then `wnid TAB lemma|lemma... TAB 1 5-9 12`, one synset a line.
    public init(tsv: String, source: String) throws(RecognitionError) {
        var categories: [Category] = []
        for (number, line) in tsv.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            let problem = { (text: String) in RecognitionError.labels(path: source, problem: "line \(number + 1): \(text)") }
            guard fields.count == 3, fields[0].hasPrefix("n"), !fields[1].isEmpty else {
                throw problem("expected wnid, lemmas and class indices separated by tabs")
            }
            var classes: [Int] = []
            for run in fields[2].split(separator: " ") {
                let ends = run.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard let first = ends.first ?? nil, let last = ends.last ?? nil, ends.count <= 2, first >= 0, first <= last else {
                    throw problem("\"\(run)\" is neither a class index nor a run FIRST-LAST")
                }
                classes += first...last
            }
            guard !classes.isEmpty else { throw problem("no member classes") }
            categories.append(Category(wnid: String(fields[0]), lemmas: fields[1].split(separator: "|").map(String.init),
                                       classes: classes))
        }
        self.categories = categories
        positionByWnid = Dictionary(categories.enumerated().map { ($0.element.wnid, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var positions: [String: [Int]] = [:]
        for (position, category) in categories.enumerated() {
            for lemma in Set(category.lemmas.map(Self.key)) { positions[lemma, default: []].append(position) }
        }
        positionsByLemma = positions
    }

    /// The category with this wnid.
    public func category(wnid: String) -> Category? {
        positionByWnid[wnid].map { categories[$0] }
    }

    /// The categories one of whose lemmas is `name` (any case, spaces or underscores), most classes first.
    public func categories(named name: String) -> [Category] {
        (positionsByLemma[Self.key(name)] ?? []).map { categories[$0] }
    }

    /// Whether the table's class indices mean `labels`' classes: each class's own synset lists its index.
    public func describes(_ labels: Labels) -> Bool {
        // The built-in pair is asked about by every request that names groups and every rule made: it is checked
        // once (a thousand lookups by string key), not each time.
        if isBuiltIn && labels.isBuiltIn { return Self.builtInDescribesBuiltInLabels }
        return matches(labels)
    }

    private static let builtInDescribesBuiltInLabels = CategoryTable.imageNet.matches(.imageNet)

    private func matches(_ labels: Labels) -> Bool {
        let largest = categories.first?.classes.last ?? -1
        return labels.count == largest + 1 && labels.classes.allSatisfy { label in
            label.wnid.flatMap { category(wnid: $0) }?.classes.contains(label.index) == true
        }
    }

    /// How names are compared: "Domestic_Cat " and "domestic cat" are the same.
    public static func key(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "_", with: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
