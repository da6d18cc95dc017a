import Recognition

/// Alert when any class of `classes` reaches `threshold` in at least `k` of the last `n` frames.
public struct AlertRule: Sendable, Equatable {
    /// Class indices, and how the user named them.
    public let classes: Set<Int>
    public let names: [String]
    /// Softmax probability, 0...1.
    public let threshold: Double
    public let k: Int
    public let n: Int

    public init(classes: Set<Int>, names: [String], threshold: Double, k: Int, n: Int) throws(MonitoringError) {
        guard !classes.isEmpty else { throw .badRule("a rule needs at least one label to alert on") }
        guard threshold.isFinite, threshold > 0, threshold <= 1 else {
            throw .badRule("the threshold must be a probability above 0 and at most 1 (e.g. 0.5), got \(threshold)")
        }
        guard n >= 1, n <= 1000, k >= 1, k <= n else {
            throw .badRule("the window must be K/N with 1 ≤ K ≤ N ≤ 1000 (e.g. 2/3: in 2 of the last 3 frames), got \(k)/\(n)")
        }
        self.classes = classes
        self.names = names
        self.threshold = threshold
        self.k = k
        self.n = n
    }

    /// A rule from the words a user types: labels (names, indices or WordNet ids), a threshold and "K/N".
    public init(labels: [String], in classLabels: Labels, threshold: Double, window: String) throws(MonitoringError) {
        var classes = Set<Int>()
        for label in labels {
            classes.formUnion(try Self.resolve(label, in: classLabels))
        }
        let (k, n) = try Self.parseWindow(window)
        try self.init(classes: classes, names: labels, threshold: threshold, k: k, n: n)
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
    /// label file repeat one), a class index, or a WordNet id.
    public static func resolve(_ label: String, in labels: Labels) throws(MonitoringError) -> Set<Int> {
        let wanted = label.trimmingCharacters(in: .whitespaces)
        if let index = Int(wanted) {
            guard index >= 0, index < labels.count else {
                throw .unknownLabel(label, suggestions: ["a class index from 0 to \(labels.count - 1)"])
            }
            return [index]
        }
        let lowered = wanted.lowercased()
        let byName = labels.classes.filter { $0.name.lowercased() == lowered || $0.wnid == wanted }.map(\.index)
        guard byName.isEmpty else { return Set(byName) }
        let suggestions = lowered.count >= 3 ? labels.classes.filter { $0.name.lowercased().contains(lowered) }.prefix(5).map(\.name) : []
        throw .unknownLabel(String(label.prefix(100)), suggestions: Array(suggestions))
    }
}

/// A rule's memory of the last n frames, and its edge detector: one alert when the condition starts to hold,
/// none while it keeps holding, armed again once it stops.
struct RuleWindow: Sendable {
    let rule: AlertRule
    private var hits: [Bool] = []
    private var holding = false

    init(rule: AlertRule) { self.rule = rule }

    /// Takes a frame's probabilities (all classes); returns the class and probability that raise an alert, if
    /// this frame makes the condition start to hold.
    mutating func observe(probabilities: [Double]) -> (index: Int, probability: Double)? {
        let best = rule.classes.filter { $0 < probabilities.count }
            .map { (index: $0, probability: probabilities[$0]) }
            .max { $0.probability < $1.probability || ($0.probability == $1.probability && $0.index > $1.index) }
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
