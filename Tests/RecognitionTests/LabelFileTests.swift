import Foundation
import Testing
import TestSupport
@testable import Recognition

/// `--labels` files in the forms people have, and the mistakes in them said by place.
@Suite struct LabelFileTests {
    func labels(_ text: String, name: String = "labels.json") throws -> Labels {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return try Labels(contentsOf: file)
    }

    func problem(_ text: String) throws -> String {
        do {
            _ = try labels(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("a JSON list of names, of objects, and one name a line")
    func listsAndLines() throws {
        #expect(try labels(#"["tench", "goldfish"]"#).classes.map(\.name) == ["tench", "goldfish"])
        let objects = try labels(#"[{"index": 0, "wnid": "n01440764", "name": "tench"}, {"index": 1, "name": "gold\"fish\u00e9"}]"#)
        #expect(objects.classes == [ClassLabel(index: 0, wnid: "n01440764", name: "tench"), ClassLabel(index: 1, wnid: nil, name: "gold\"fishé")])
        #expect(try labels("tench\n\n goldfish \r\nshark\n", name: "labels.txt").classes.map(\.name) == ["tench", "goldfish", "shark"])
    }

    @Test("an object keyed by index: names (imagenet_classes.json) or [wnid, name] pairs (imagenet_class_index.json), any order")
    func objectsByIndex() throws {
        let names = try labels("\u{FEFF}{\"1\": \"goldfish, Carassius auratus\", \"0\": \"tench, Tinca tinca\"}")
        #expect(names.classes == [ClassLabel(index: 0, wnid: nil, name: "tench, Tinca tinca"),
                                  ClassLabel(index: 1, wnid: nil, name: "goldfish, Carassius auratus")])
        let pairs = try labels(#"{"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}"#)
        #expect(pairs.classes.map(\.wnid) == ["n01440764", "n01443537"])
        #expect(pairs.index(ofWnid: "n01443537") == 1)
    }

    @Test("malformed JSON is said to be malformed, with line, column and byte offset")
    func malformed() throws {
        let missingComma = try problem("{\"0\": \"tench\",\n \"1\": \"goldfish\"\n \"2\": \"shark\"}")
        #expect(missingComma.hasSuffix("is malformed JSON: expected ',' or '}' in an object, not '\"' at line 3, column 2 (byte 33)"), "\(missingComma)")
        #expect(try problem(#"["tench", "goldfish",]"#).contains("is malformed JSON: unexpected ']' where a value was expected at line 1, column 22"))
        #expect(try problem("[\"tench\", \"gold").contains("is malformed JSON: unexpected end of file inside a string"))
        #expect(try problem("{\"0\": \"tench\"} x").contains("is malformed JSON: unexpected 'x' after the JSON value at line 1, column 16"))
        #expect(try problem(String(repeating: "[", count: 10_000)).contains("nesting deeper than 64 levels"))
    }

    @Test("duplicate, missing and non-numeric indices are named")
    func badIndices() throws {
        #expect(try problem("{\"0\": \"tench\",\n\"1\": \"goldfish\",\n\"01\": \"shark\"}").hasSuffix("lists class 1 twice (lines 2 and 3)"))
        #expect(try problem(#"{"0": "tench", "2": "shark", "3": "ray"}"#).hasSuffix("has 3 classes but not indices 0 to 2: missing 1, and 3 beyond them"))
        #expect(try problem(#"{"0": "tench", "one": "goldfish"}"#).contains("has the key \"one\" on line 1: keys must be class indices"))
        #expect(try problem(#"{"0": "tench", "1": 5}"#).contains("class 1 on line 1 is neither a name nor a [\"wnid\", \"name\"] pair"))
        #expect(try problem(#"{"0": ["n01440764"]}"#).contains("class 0 on line 1 is neither a name"))
        #expect(try problem("{}").hasSuffix("lists no classes"))
    }
}
