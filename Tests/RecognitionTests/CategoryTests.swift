import Foundation
import Testing
import TestSupport
@testable import Recognition

/// The WordNet categories built into the binary, and the resolver that turns what a user types into classes.
@Suite struct CategoryTests {
    let table = CategoryTable.imageNet
    let resolver = LabelResolver(labels: .imageNet)

    func resolve(_ label: String) throws -> LabelMatch {
        try resolver.resolve(label)
    }

    func refusal(_ label: String) -> LabelError? {
        do {
            _ = try resolver.resolve(label)
            return nil
        } catch {
            return error
        }
    }

    @Test("WordNet's dog holds 118 classes, domestic cat 5, bird 59, car 10 (the counts of issue 18)")
    func issueCounts() throws {
        let expected = ["n02084071": 118, "n02121808": 5, "n01503061": 59, "n02958343": 10]
        for (wnid, count) in expected {
            #expect(table.category(wnid: wnid)?.classes.count == count, "\(wnid)")
        }
        #expect(table.category(wnid: "n02958343")?.lemmas == ["car", "auto", "automobile", "machine", "motorcar"])
        // ImageNet lists the dog breeds together: Chihuahua (151) to Mexican hairless (268).
        #expect(table.category(wnid: "n02084071")?.classes == Array(151...268))
        #expect(table.category(wnid: "n02121808")?.classes == Array(281...285))
    }

    @Test("the table is whole: entity holds all 1000 classes, every class is a category of its own, and it describes the built-in labels")
    func tableIsWhole() throws {
        #expect(table.categories.count == 1860)
        #expect(table.categories.first?.wnid == "n00001740")
        #expect(table.categories.first?.classes == Array(0..<1000))
        for label in Labels.imageNet.classes {
            #expect(table.category(wnid: label.wnid ?? "")?.classes == [label.index], "\(label.name)")
        }
        #expect(table.categories.allSatisfy { $0.classes == $0.classes.sorted() && $0.classes.allSatisfy { (0..<1000).contains($0) } })
        #expect(table.describes(.imageNet))
    }

    @Test("labels other than the built-in ones are checked class by class: a copy is described, a class given another's WordNet id is not")
    func otherLabelsAreChecked() {
        let builtIn = Labels.imageNet.classes
        #expect(CategoryTable.imageNet.describes(Labels(classes: builtIn, source: "a copy")))
        var crossed = builtIn
        crossed[3] = ClassLabel(index: 3, wnid: builtIn[4].wnid, name: builtIn[3].name)
        #expect(!CategoryTable.imageNet.describes(Labels(classes: crossed, source: "crossed")))
        #expect(!CategoryTable.imageNet.describes(Labels(classes: Array(builtIn.prefix(999)), source: "short")))
    }

    @Test("the committed table is the script's output: its header names WordNet 3.0, the Debian package and data.noun's SHA-256")
    func provenanceHeader() throws {
        let file = Fixtures.projectRoot.appendingPathComponent("Sources/Recognition/Resources/imagenet-categories.tsv")
        let header = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").prefix { $0.hasPrefix("#") }.joined(separator: "\n")
        #expect(header.contains("WordNet 3.0"))
        #expect(header.contains("Debian package wordnet-base 1:3.0-37"))
        #expect(header.contains("sha256 fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2"))
        #expect(header.contains("scripts/make-categories.py"))
        // What the binary carries is that file, byte for byte.
        #expect(PackageResources.imagenet_categories_tsv == Array(try Data(contentsOf: file)))
    }

    @Test("a malformed line is refused naming its line")
    func malformedTable() {
        #expect(throws: RecognitionError.self) { try CategoryTable(tsv: "# header\nn1\tdog\t5-x\n", source: "t.tsv") }
        do {
            _ = try CategoryTable(tsv: "# header\nn02084071\tdog\t151-268\nn1\tcat\n", source: "t.tsv")
            Issue.record("a line without classes was accepted")
        } catch {
            #expect(error.description.contains("t.tsv") && error.description.contains("line 3"), "\(error)")
        }
        #expect((try? CategoryTable(tsv: "n1\tx|y\t1 3-5 9\n", source: "t"))?.categories.first?.classes == [1, 3, 4, 5, 9])
    }

    @Test("classes resolve as before: torchvision's names (any case), indices and WordNet ids; class names win over lemmas")
    func classesResolve() throws {
        for label in ["tabby", "Tabby", "281", "n02123045", "N02123045", "tabby cat", "tabby_cat"] {
            let group = try resolve(label).group
            #expect(group == LabelGroup(name: "tabby", wnid: "n02123045", classes: [281], kind: .class), "\(label)")
        }
        #expect(try resolve("crane").group.classes == [517])
        #expect(try resolve("Crane Bird").group.classes == [134])
        // torchvision's "amphibian" is the amphibious vehicle; the animals' category is offered beside it.
        let amphibian = try resolve("amphibian")
        #expect(amphibian.group.classes == [408])
        #expect(amphibian.alternatives.map(\.wnid) == ["n01627424"])
        #expect(refusal("1000") == .indexOutOfRange(1000, count: 1000))
        #expect(refusal("  ") == .empty)
    }

    @Test("categories resolve by lemma (any case, spaces or underscores) and by WordNet id")
    func categoriesResolve() throws {
        for label in ["dog", "Dog", "domestic dog", "canis_familiaris", " DOMESTIC  DOG ", "n02084071"] {
            let group = try resolve(label).group
            #expect(group.kind == .category && group.wnid == "n02084071" && group.name == "dog", "\(label)")
            #expect(group.classes == Array(151...268))
        }
        #expect(try resolve("domestic cat").group.classes == Array(281...285))
        #expect(try resolve("house_cat").group.wnid == "n02121808")
        #expect(try resolve("bird").group.classes.count == 59)
        #expect(try resolve("automobile").group.wnid == "n02958343")
        #expect(try resolve("vehicle").group.classes.count == 67)
    }

    @Test("a name several categories share means the one with the most classes, and the match names the others")
    func ambiguousNamesChooseTheBroadest() throws {
        let car = try resolve("car")
        #expect(car.group.wnid == "n02958343" && car.group.classes.count == 10)
        #expect(car.alternatives.map(\.wnid) == ["n02959942"])
        #expect(car.note == "chose car, auto, automobile, machine, motorcar (n02958343, 10 classes); the name also means "
                + "car, railcar, railway car, railroad car (n02959942, 2 classes): give a WordNet id to choose another")
        let cat = try resolve("cat")
        #expect(cat.group.wnid == "n02121620" && cat.group.classes.count == 7)
        #expect(cat.alternatives.map(\.name) == ["big cat"])
        #expect(try resolve("dog").alternatives.isEmpty)
        #expect(try resolve("dog").note == nil)
    }

    @Test("a name shared by categories of equal size is refused with the choices and their WordNet ids")
    func tiesAreRefused() throws {
        let error = try #require(refusal("panda"))
        guard case let .ambiguous(_, choices) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(Set(choices.map(\.classes)) == [[387], [388]])
        #expect(error.description.contains("n02509815") && error.description.contains("n02510455"), "\(error)")
        #expect(try resolve("giant panda").group.classes == [388])
    }

    @Test("an unknown name is refused with close names: \"doggo\" suggests dog first")
    func suggestions() throws {
        let error = try #require(refusal("doggo"))
        guard case let .unknown(label, suggestions, categories) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(label == "doggo" && categories)
        #expect(suggestions.first == "dog", "\(suggestions)")
        #expect(error.description.contains("did you mean \"dog\""), "\(error)")
        #expect(resolver.suggestions(for: "retriev").contains("golden retriever"))
        #expect(resolver.suggestions(for: "domestik cat").first == "domestic cat")
        #expect(resolver.suggestions(for: "qqqqqqqqqq").isEmpty)
    }

    @Test("labels of a custom head get classes only: no categories, and errors do not offer them")
    func customLabelsHaveNoCategories() throws {
        let labels = Labels(classes: [ClassLabel(index: 0, wnid: nil, name: "dog"), ClassLabel(index: 1, wnid: nil, name: "cat")],
                            source: "test")
        let resolver = LabelResolver(labels: labels)
        #expect(resolver.categories == nil)
        #expect(try resolver.resolve("Dog").group.classes == [0])
        do {
            _ = try resolver.resolve("bird")
            Issue.record("bird resolved")
        } catch {
            #expect(error == .unknown("bird", suggestions: [], categories: false))
            #expect(!error.description.contains("category"))
        }
    }

    @Test("a category's probability is the sum of its classes'; its most probable class is the best member")
    func probabilitySums() throws {
        var probabilities = [Double](repeating: 0, count: 1000)
        for index in 151...268 { probabilities[index] = 0.005 }
        probabilities[207] = 0.01
        probabilities[281] = 0.3
        let dog = try resolve("dog").group
        #expect(abs(dog.probability(in: probabilities) - (117 * 0.005 + 0.01)) < 1e-12)
        #expect(dog.mostProbableClass(in: probabilities) == 207)
        #expect(try resolve("tabby").group.probability(in: probabilities) == 0.3)
        let logits: [Float] = [1, 2, 3]
        let softmax = softmaxProbabilities(logits)
        #expect(abs(softmax.reduce(0, +) - 1) < 1e-12 && softmax[2] > softmax[1])
    }

    @Test("edit distance counts insertions, deletions, substitutions and swapped neighbours")
    func editDistance() {
        #expect(LabelResolver.editDistance("doggo", "dog") == 2)
        #expect(LabelResolver.editDistance("dgo", "dog") == 1)
        #expect(LabelResolver.editDistance("", "cat") == 3)
        #expect(LabelResolver.editDistance("kitten", "sitting") == 3)
    }
}
