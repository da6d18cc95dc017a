/// The classes one label names, whose probabilities add up to the label's: one class ("tabby"), or a category
/// ("dog": its 118 breeds).
public struct LabelGroup: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case `class`
        case category
        /// A category of a head trained with `resnet18 train` (`HEAD/CATEGORY`): its index is past the classes'.
        case custom
    }

    /// torchvision's class name, or the category's first lemma.
    public let name: String
    /// A category's WordNet lemmas ("car", "auto", ...); a class's name alone.
    public let lemmas: [String]
    public let wnid: String?
    /// Output indices, ascending.
    public let classes: [Int]
    public let kind: Kind

    public init(name: String, lemmas: [String]? = nil, wnid: String?, classes: [Int], kind: Kind) {
        self.name = name
        self.lemmas = lemmas ?? [name]
        self.wnid = wnid
        self.classes = classes.sorted()
        self.kind = kind
    }

    /// One class of `labels` (or "class N" past their end).
    public init(classIndex index: Int, in labels: Labels) {
        let label = index < labels.count ? labels[index] : nil
        self.init(name: label?.name ?? "class \(index)", wnid: label?.wnid, classes: [index], kind: .class)
    }

    public init(_ category: Category) {
        self.init(name: category.name, lemmas: category.lemmas, wnid: category.wnid, classes: category.classes, kind: .category)
    }

    /// The sum of the members' probabilities (softmax over all classes: a category's is at most 1).
    public func probability(in probabilities: [Double]) -> Double {
        classes.reduce(0) { $1 < probabilities.count ? $0 + probabilities[$1] : $0 }
    }

    /// The member with the highest probability (ties to the lower index).
    public func mostProbableClass(in probabilities: [Double]) -> Int? {
        classes.filter { $0 < probabilities.count }.max { probabilities[$0] < probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 > $1) }
    }

    /// "car, railcar, railway car, railroad car (n02959942, 2 classes)", "tabby (class 281, n02123045)".
    public var summary: String {
        switch kind {
        case .class where classes.count == 1: "\(name) (class \(classes[0])\(wnid.map { ", \($0)" } ?? ""))"
        case .class: "\(name) (classes \(classes.map(String.init).joined(separator: ", ")))"
        case .category: "\(lemmas.joined(separator: ", ")) (\(wnid ?? "category"), \(classes.count) class\(classes.count == 1 ? "" : "es"))"
        case .custom: "\(name) (a category of your own)"
        }
    }
}
