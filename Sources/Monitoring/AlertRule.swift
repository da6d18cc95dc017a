import Recognition

/// Alert when any label reaches `threshold` in at least `k` of the last `n` frames. A label is a class, or a
/// category whose probability is the sum of its member classes' ("dog": 118 breeds).
public struct AlertRule: Sendable, Equatable {
    /// What each label names, in the order given.
    public let groups: [LabelGroup]
    /// How the user named them.
    public let names: [String]
    /// Softmax probability, 0...1.
    public let threshold: Double
    public let k: Int
    public let n: Int

    /// Every class the rule watches.
    public var classes: Set<Int> { Set(groups.flatMap(\.classes)) }

    public init(groups: [LabelGroup], names: [String], threshold: Double, k: Int, n: Int) throws(MonitoringError) {
        guard !groups.isEmpty, groups.allSatisfy({ !$0.classes.isEmpty }) else {
            throw .badRule("a rule needs at least one label to alert on")
        }
        guard threshold.isFinite, threshold > 0, threshold <= 1 else {
            throw .badRule("the threshold must be a probability above 0 and at most 1 (e.g. 0.5), got \(threshold)")
        }
        guard n >= 1, n <= 1000, k >= 1, k <= n else {
            throw .badRule("the window must be K/N with 1 ≤ K ≤ N ≤ 1000 (e.g. 2/3: in 2 of the last 3 frames), got \(k)/\(n)")
        }
        self.groups = groups
        self.names = names
        self.threshold = threshold
        self.k = k
        self.n = n
    }

    /// A rule on single classes, each a label of its own.
    public init(classes: Set<Int>, names: [String], threshold: Double, k: Int, n: Int) throws(MonitoringError) {
        let groups = classes.sorted().map { LabelGroup(name: "class \($0)", wnid: nil, classes: [$0], kind: .class) }
        try self.init(groups: groups, names: names, threshold: threshold, k: k, n: n)
    }

    /// A rule from the words a user types: labels (class names, indices, WordNet ids or categories), a threshold
    /// and "K/N".
    public init(labels: [String], resolver: LabelResolver, threshold: Double, window: String) throws(MonitoringError) {
        var groups: [LabelGroup] = []
        for label in labels {
            do { groups.append(try resolver.resolve(label).group) } catch { throw .label(error) }
        }
        let (k, n) = try Self.parseWindow(window)
        try self.init(groups: groups, names: labels, threshold: threshold, k: k, n: n)
    }

    /// As `init(labels:resolver:...)`, with the WordNet categories when `classLabels` are ImageNet-1k's.
    public init(labels: [String], in classLabels: Labels, threshold: Double, window: String) throws(MonitoringError) {
        try self.init(labels: labels, resolver: LabelResolver(labels: classLabels), threshold: threshold, window: window)
    }

    /// How the rule reads in the history: `streetcar ≥ 0.5 in 2/3 frames`.
    public var summary: String {
        "\(names.joined(separator: " | ")) ≥ \(threshold) in \(k)/\(n) frames"
    }

    /// "2/3" → (2, 3).
    public static func parseWindow(_ text: String) throws(MonitoringError) -> (k: Int, n: Int) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw .badRule("the window must be written K/N (e.g. 2/3: in 2 of the last 3 frames), got \"\(text.prefix(40))\"")
        }
        return (k, n)
    }

    /// The classes a label names: torchvision's short name (case-insensitive; every class of that name, should a
    /// label file repeat one), a class index, a WordNet id, or a WordNet category (see `LabelResolver`).
    public static func resolve(_ label: String, in labels: Labels) throws(MonitoringError) -> Set<Int> {
        do { return Set(try LabelResolver(labels: labels).resolve(label).group.classes) } catch { throw .label(error) }
    }
}

/// A frame that makes a rule start to hold: the label that reached the threshold, its probability (a category's:
/// the sum over its classes) and its most probable class.
struct RuleHit: Sendable, Equatable {
    let group: LabelGroup
    let index: Int
    let probability: Double
}

/// A rule's memory of the last n frames, and its edge detector: one alert when the condition starts to hold,
/// none while it keeps holding, armed again once it stops.
struct RuleWindow: Sendable {
    let rule: AlertRule
    private var hits: [Bool] = []
    private var holding = false

    init(rule: AlertRule) { self.rule = rule }

    /// Takes a frame's probabilities (all classes); returns the label with the highest probability, if this frame
    /// makes the condition start to hold.
    mutating func observe(probabilities: [Double]) -> RuleHit? {
        var best: RuleHit?
        for group in rule.groups {
            guard let index = group.mostProbableClass(in: probabilities) else { continue }
            let probability = group.probability(in: probabilities)
            if probability > best?.probability ?? -1 { best = RuleHit(group: group, index: index, probability: probability) }
        }
        let hit = (best?.probability ?? 0) >= rule.threshold
        hits.append(hit)
        if hits.count > rule.n { hits.removeFirst() }
        let holds = hits.filter { $0 }.count >= rule.k
        defer { holding = holds }
        return holds && !holding ? best : nil
    }

    /// Forgets the frames seen (the source restarted: frames before and after a gap are not consecutive).
    mutating func reset() {
        hits.removeAll()
        holding = false
    }
}
