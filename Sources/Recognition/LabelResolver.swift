import Foundation

/// What a label resolved to, and the other things its name could have meant.
public struct LabelMatch: Sendable, Equatable {
    public let group: LabelGroup
    /// Categories that share the name but were not chosen ("cat" chooses "cat, true cat" over "big cat, cat").
    public let alternatives: [LabelGroup]

    /// Says which meaning was chosen over which, when the name had several; nil when it had one.
    public var note: String? {
        guard !alternatives.isEmpty else { return nil }
        return "chose \(group.summary); the name also means " + alternatives.map(\.summary).joined(separator: ", ")
            + ": give a WordNet id to choose another"
    }
}

/// Finds what a label names: a class (torchvision's name, index or WordNet id, as before categories) or a
/// category (any lemma of a WordNet synset with classes below it, or its WordNet id).
///
/// Class names win over category lemmas, so every label that named a class still does ("crane" is class 517,
/// as torchvision names it). A lemma shared by several categories means the one with the most classes ("car" is
/// the automobile, 10 classes, not the railway car, 2): a name usually means its broader sense; the others are
/// listed in `LabelMatch.alternatives`. A tie is refused with the choices, as no rule can say which is meant.
public struct LabelResolver: Sendable {
    public let labels: Labels
    /// Nil when the labels are not ImageNet-1k's (a custom head): classes only.
    public let categories: CategoryTable?
    /// Heads whose categories rules may name as `HEAD/CATEGORY`; their probabilities follow the classes' (see
    /// `customProbabilities`).
    public let heads: [LinearHead]

    public init(labels: Labels, categories: CategoryTable = .imageNet, heads: [LinearHead] = []) {
        self.labels = labels
        self.categories = categories.describes(labels) ? categories : nil
        self.heads = heads
    }

    /// The probability vector rules read: the classes' softmax, then each head's categories in order.
    public static func extendedProbabilities(_ classes: [Double], features: [Float]?, heads: [LinearHead]) -> [Double] {
        guard !heads.isEmpty, let features, features.count == LinearHead.featureCount else { return classes }
        return classes + heads.flatMap { head in
            let probabilities = head.probabilities(features: features)
            return probabilities.isEmpty ? [Double](repeating: 0, count: head.categories.count) : probabilities
        }
    }

    /// `HEAD/CATEGORY` as a group whose one index is past the classes'.
    private func custom(_ wanted: String) throws(LabelError) -> LabelMatch? {
        guard let slash = wanted.firstIndex(of: "/") else { return nil }
        let headName = String(wanted[..<slash]), categoryName = String(wanted[wanted.index(after: slash)...])
        var offset = labels.count
        for head in heads {
            if head.name == headName {
                guard let position = head.categories.firstIndex(where: { $0.lowercased() == categoryName.lowercased() }) else {
                    throw .unknown(String(wanted.prefix(100)), suggestions: head.categories.map { "\(head.name)/\($0)" },
                                   categories: false)
                }
                return LabelMatch(group: LabelGroup(name: "\(head.name)/\(head.categories[position])", wnid: nil,
                                                    classes: [offset + position], kind: .custom), alternatives: [])
            }
            offset += head.categories.count
        }
        throw .unknown(String(wanted.prefix(100)), suggestions: heads.flatMap { head in head.categories.map { "\(head.name)/\($0)" } }.prefix(5).map { $0 },
                       categories: false)
    }

    public func resolve(_ label: String) throws(LabelError) -> LabelMatch {
        let wanted = label.trimmingCharacters(in: .whitespaces)
        guard !wanted.isEmpty else { throw .empty }
        if !heads.isEmpty, let match = try custom(wanted) { return match }
        if let index = Int(wanted) {
            guard index >= 0, index < labels.count else { throw .indexOutOfRange(index, count: labels.count) }
            return LabelMatch(group: LabelGroup(classIndex: index, in: labels), alternatives: [])
        }
        let key = CategoryTable.key(wanted)
        let wnid = wanted.lowercased()
        let named = labels.classes.filter { CategoryTable.key($0.name) == key || $0.wnid == wnid }
        let categories = self.categories?.categories(named: wanted) ?? []
        if let first = named.first {
            let classes = named.map(\.index)
            let group = LabelGroup(name: first.name, wnid: named.count == 1 ? first.wnid : nil, classes: classes, kind: .class)
            return LabelMatch(group: group, alternatives: categories.filter { $0.classes != classes }.map(LabelGroup.init))
        }
        if let category = self.categories?.category(wnid: wnid) {
            return LabelMatch(group: group(for: category), alternatives: [])
        }
        guard let chosen = categories.first else {
            throw .unknown(String(wanted.prefix(100)), suggestions: suggestions(for: wanted), categories: self.categories != nil)
        }
        let tied = categories.filter { $0.classes.count == chosen.classes.count }
        guard tied.count == 1 else { throw .ambiguous(String(wanted.prefix(100)), choices: tied.map(group(for:))) }
        return LabelMatch(group: group(for: chosen), alternatives: categories.dropFirst().map(group(for:)))
    }

    /// A category that is one class's own synset ("tabby cat" → n02123045) is that class, named as torchvision does.
    private func group(for category: Category) -> LabelGroup {
        if category.classes.count == 1, let index = category.classes.first, index < labels.count,
           labels[index].wnid == category.wnid {
            return LabelGroup(classIndex: index, in: labels)
        }
        return LabelGroup(category)
    }

    /// Names close to an unknown one: within a few edits ("doggo" → "dog"), broad categories first, then names
    /// that contain it ("retriev" → "golden retriever"), shortest first. At most five.
    func suggestions(for label: String) -> [String] {
        let key = CategoryTable.key(label)
        var names: [(name: String, key: String, classes: Int)] = labels.classes.map { ($0.name, CategoryTable.key($0.name), 1) }
        for category in categories?.categories ?? [] {
            names += category.lemmas.map { ($0, CategoryTable.key($0), category.classes.count) }
        }
        var seen = Set<String>()
        names = names.filter { seen.insert($0.key).inserted }
        let allowed = key.count <= 3 ? 1 : key.count <= 6 ? 2 : 3
        let close = names.compactMap { candidate -> (name: String, distance: Int, classes: Int)? in
            guard abs(candidate.key.count - key.count) <= allowed else { return nil }
            let distance = Self.editDistance(key, candidate.key)
            return distance <= allowed ? (candidate.name, distance, candidate.classes) : nil
        }
        .sorted { ($0.distance, -$0.classes, $0.name) < ($1.distance, -$1.classes, $1.name) }
        .map(\.name)
        let containing = key.count < 3 ? [] : names.filter { $0.key.contains(key) }
            .sorted { ($0.key.count, $0.name) < ($1.key.count, $1.name) }
            .map(\.name)
        var suggestions: [String] = []
        for name in close + containing where !suggestions.contains(name) && suggestions.count < 5 {
            suggestions.append(name)
        }
        return suggestions
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours, one each.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
