import Recognition

/// Alert when any label reaches `threshold` in at least `k` of the last `n` frames. A label is a class, or a
/// category whose probability is the sum of its member classes' ("dog": 118 breeds). After an alert the rule is
/// quiet until the condition has stopped holding for `settleSeconds` and `cooldownSeconds` have passed since it.
public struct AlertRule: Sendable, Equatable {
    /// What each label names, in the order given.
    public let groups: [LabelGroup]
    /// How the user named them.
    public let names: [String]
    /// Softmax probability, 0...1.
    public let threshold: Double
    public let k: Int
    public let n: Int
    /// Seconds after an alert during which the rule alerts no more, even on a new rising edge (which is counted as
    /// suppressed instead).
    public let cooldownSeconds: Double
    /// Seconds the condition must have stopped holding before a new rising edge may alert again.
    public let settleSeconds: Double

    public static let defaultCooldownSeconds = 60.0
    public static let defaultSettleSeconds = 10.0
    /// The longest cooldown or settle time: a day.
    public static let maximumQuietSeconds = 86_400.0

    /// Every class the rule watches.
    public var classes: Set<Int> { Set(groups.flatMap(\.classes)) }

    public init(groups: [LabelGroup], names: [String], threshold: Double, k: Int, n: Int,
                cooldownSeconds: Double = defaultCooldownSeconds, settleSeconds: Double = defaultSettleSeconds) throws(MonitoringError) {
        guard !groups.isEmpty, groups.allSatisfy({ !$0.classes.isEmpty }) else {
            throw .badRule("a rule needs at least one label to alert on")
        }
        guard threshold.isFinite, threshold > 0, threshold <= 1 else {
            throw .badRule("the threshold must be a probability above 0 and at most 1 (e.g. 0.5), got \(threshold)")
        }
        guard n >= 1, n <= 1000, k >= 1, k <= n else {
            throw .badRule("the window must be K/N with 1 ≤ K ≤ N ≤ 1000 (e.g. 2/3: in 2 of the last 3 frames), got \(k)/\(n)")
        }
        for (name, value) in [("cooldown", cooldownSeconds), ("settle", settleSeconds)] {
            guard value.isFinite, value >= 0, value <= Self.maximumQuietSeconds else {
                throw .badRule("the \(name) must be a number of seconds from 0 to 86400 (a day), got \(value)")
            }
        }
        self.groups = groups
        self.names = names
        self.threshold = threshold
        self.k = k
        self.n = n
        self.cooldownSeconds = cooldownSeconds
        self.settleSeconds = settleSeconds
    }

    /// A rule on single classes, each a label of its own.
    public init(classes: Set<Int>, names: [String], threshold: Double, k: Int, n: Int,
                cooldownSeconds: Double = defaultCooldownSeconds, settleSeconds: Double = defaultSettleSeconds) throws(MonitoringError) {
        let groups = classes.sorted().map { LabelGroup(name: "class \($0)", wnid: nil, classes: [$0], kind: .class) }
        try self.init(groups: groups, names: names, threshold: threshold, k: k, n: n,
                      cooldownSeconds: cooldownSeconds, settleSeconds: settleSeconds)
    }

    /// A rule from the words a user types: labels (class names, indices, WordNet ids or categories), a threshold
    /// and "K/N".
    public init(labels: [String], resolver: LabelResolver, threshold: Double, window: String,
                cooldownSeconds: Double = defaultCooldownSeconds, settleSeconds: Double = defaultSettleSeconds) throws(MonitoringError) {
        var groups: [LabelGroup] = []
        for label in labels {
            do { groups.append(try resolver.resolve(label).group) } catch { throw .label(error) }
        }
        let (k, n) = try Self.parseWindow(window)
        try self.init(groups: groups, names: labels, threshold: threshold, k: k, n: n,
                      cooldownSeconds: cooldownSeconds, settleSeconds: settleSeconds)
    }

    /// As `init(labels:resolver:...)`, with the WordNet categories when `classLabels` are ImageNet-1k's.
    public init(labels: [String], in classLabels: Labels, heads: [LinearHead] = [], threshold: Double, window: String,
                cooldownSeconds: Double = defaultCooldownSeconds, settleSeconds: Double = defaultSettleSeconds) throws(MonitoringError) {
        try self.init(labels: labels, resolver: LabelResolver(labels: classLabels, heads: heads), threshold: threshold, window: window,
                      cooldownSeconds: cooldownSeconds, settleSeconds: settleSeconds)
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

/// What a frame did to a rule: made it start to hold and alert, or start to hold within the cooldown of its
/// last alert (no alert; counted).
enum RuleOutcome: Sendable, Equatable {
    case fire(RuleHit)
    case suppressed(RuleHit)
}

/// A rule's memory of the last n frames, and its edge detector: one alert when the condition starts to hold, none
/// while it keeps holding; armed again once it has stopped holding for the rule's settle time, and a rising edge
/// within the cooldown of the last alert is suppressed (and disarms it the same way).
///
/// Times are seconds on one clock (the frames' capture times for a live source, the video's own time for a file).
/// A restart of the source forgets the frames (`reset`), not the edge state: until the window has seen n frames
/// again it cannot tell that the condition stopped holding, so a reconnect or restart never re-arms the rule.
struct RuleWindow: Sendable {
    let rule: AlertRule
    private var hits: [Bool] = []
    /// The condition held at the last frame that could tell.
    private var holding = false
    /// A rising edge may alert (settled since the last one).
    private var armed = true
    /// When the condition was first seen not holding, since it last held.
    private var clearSince: Double?
    /// When the rule last alerted.
    private var lastAlert: Double?

    /// With `lastAlertSeconds`, the rule carries on from an alert it gave before (a restart of the service): as if
    /// the condition still held since, it does not alert again until it has stopped holding for the settle time and
    /// the cooldown has passed.
    init(rule: AlertRule, lastAlertSeconds: Double? = nil) {
        self.rule = rule
        if let lastAlertSeconds {
            lastAlert = lastAlertSeconds
            holding = true
            armed = false
        }
    }

    /// Takes a frame's probabilities (all classes) and its time; says whether this frame makes the condition start
    /// to hold, with the label of the highest probability, and whether that alerts.
    mutating func observe(probabilities: [Double], atSeconds now: Double) -> RuleOutcome? {
        var best: RuleHit?
        for group in rule.groups {
            guard let index = group.mostProbableClass(in: probabilities) else { continue }
            let probability = group.probability(in: probabilities)
            if probability > best?.probability ?? -1 { best = RuleHit(group: group, index: index, probability: probability) }
        }
        let hit = (best?.probability ?? 0) >= rule.threshold
        hits.append(hit)
        if hits.count > rule.n { hits.removeFirst() }
        if hits.filter({ $0 }).count >= rule.k, let best {
            clearSince = nil
            defer { holding = true }
            guard !holding, armed else { return nil }
            armed = false
            if let lastAlert, now - lastAlert < rule.cooldownSeconds { return .suppressed(best) }
            lastAlert = now
            return .fire(best)
        }
        // Fewer than n frames since a restart cannot tell that the condition stopped holding.
        guard hits.count >= rule.n else { return nil }
        holding = false
        let since = clearSince ?? now
        clearSince = since
        if now - since >= rule.settleSeconds { armed = true }
        return nil
    }

    /// Forgets the frames seen (the source restarted: frames before and after a gap are not consecutive); the edge
    /// state stays.
    mutating func reset() {
        hits.removeAll()
    }
}
