/// A WordNet noun synset with ImageNet-1k classes at or below it: "dog" (n02084071) holds the 118 breeds.
public struct Category: Sendable, Equatable {
    /// `n` + the synset's 8-digit WordNet 3.0 noun offset, as ImageNet writes it.
    public let wnid: String
    /// WordNet's lemmas in its order, spaces for its underscores: ["dog", "domestic dog", "Canis familiaris"].
    public let lemmas: [String]
    /// Output indices of the member classes, ascending.
    public let classes: [Int]

    /// How the category is shown: its first lemma.
    public var name: String { lemmas[0] }
}
