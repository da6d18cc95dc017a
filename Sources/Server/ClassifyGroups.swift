import Recognition

/// The `group` query parameters of `POST /v1/classify` (repeatable): classes or WordNet categories ("dog": its
/// 118 breeds) whose summed probability each result reports beside its top-k.
/// Each is a class (name, index, WordNet id) or a WordNet category, resolved as alert rules resolve labels.
struct ClassifyGroups: Sendable {
    let groups: [LabelGroup]

    static let maxGroups = 32
    /// The longest name a group may be given (openapi.yaml says so too); no class or category name comes near it.
    static let maxNameLength = 200

    var isEmpty: Bool { groups.isEmpty }

    /// An unknown or ambiguous name is a 400 that says what to type ("did you mean dog?").
    static func parse(_ names: [String], labels: Labels) throws(APIError) -> ClassifyGroups {
        guard names.count <= maxGroups else { throw .badRequest("at most \(maxGroups) group parameters per request") }
        // Most requests ask for none; making a resolver checks every class against WordNet's table (1,000 lookups).
        guard !names.isEmpty else { return ClassifyGroups(groups: []) }
        let resolver = LabelResolver(labels: labels)
        var groups: [LabelGroup] = []
        for name in names {
            // Counted as JSON Schema's maxLength counts: in Unicode code points.
            let length = name.unicodeScalars.count
            guard (1...maxNameLength).contains(length) else {
                throw .badRequest("a group name is 1 to \(maxNameLength) characters, not \(length): send a class (name, index "
                    + "or WordNet id) or a category such as dog")
            }
            do { groups.append(try resolver.resolve(name).group) } catch { throw .badRequest("group: \(error)") }
        }
        return ClassifyGroups(groups: groups)
    }

    /// Each group's probability from one image's logits, in the order asked.
    func probabilities(_ logits: [Float]) -> [GroupProbability] {
        let probabilities = softmaxProbabilities(logits)
        return groups.map {
            GroupProbability(name: $0.name, wnid: $0.wnid, classes: $0.classes.count, probability: $0.probability(in: probabilities))
        }
    }
}

/// One group of a classification: `{"name": "dog", "wnid": "n02084071", "classes": 118, "probability": 0.93}`.
struct GroupProbability: Encodable, Sendable, Equatable {
    let name: String
    let wnid: String?
    /// How many classes were summed.
    let classes: Int
    let probability: Double
}
