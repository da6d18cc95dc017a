import Foundation
import Testing
import TestSupport

/// `resnet18 serve` as a separate process, against bodies of the KServe binary tensor data extension whose header
/// length and `binary_data_size`s come from an attacker: each is 400 naming the field, and the process keeps serving.
@Suite(.serialized, .ownThread) struct HostileBinaryTensorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        /// The JSON header.
        let header: String
        let tail: [UInt8]
        /// The `Inference-Header-Content-Length` value: nil leaves the field out, "" sends the header's real length.
        let headerLength: String?
        /// What the error message must say.
        let says: String

        var testDescription: String { name }
    }

    static func fp32(_ size: String, shape: String = "[1,3,224,224]", data: String = "") -> String {
        #"{"inputs":[{"name":"input","shape":\#(shape),"datatype":"FP32","parameters":{"binary_data_size":\#(size)}\#(data)}]}"#
    }

    static func bytes(_ size: String, shape: String = "[1]") -> String {
        #"{"inputs":[{"name":"image","shape":\#(shape),"datatype":"BYTES","parameters":{"binary_data_size":\#(size)}}]}"#
    }

    static let image = 3 * 224 * 224 * 4

    static let cases: [Case] = [
        Case(name: "header length past the body", header: fp32("8"), tail: [0, 0, 0, 0, 0, 0, 0, 0], headerLength: "5000",
             says: "Inference-Header-Content-Length is 5000 but the body has"),
        Case(name: "header length not a number", header: fp32("8"), tail: [], headerLength: "abc", says: "is not a byte count"),
        Case(name: "header length negative", header: fp32("8"), tail: [], headerLength: "-1", says: "is not a byte count"),
        Case(name: "header length zero", header: fp32("8"), tail: [], headerLength: "0", says: "is not a byte count"),
        Case(name: "header length past Int", header: fp32("8"), tail: [], headerLength: "99999999999999999999999",
             says: "is not a byte count"),
        Case(name: "header length cutting the JSON", header: fp32("8"), tail: [], headerLength: "10",
             says: "the JSON header is the first Inference-Header-Content-Length bytes"),
        Case(name: "sizes short of the tail", header: fp32("4"), tail: [0, 0, 0, 0, 0, 0, 0, 0], headerLength: "",
             says: "add up to 4 bytes, but the body has 8 after the JSON header"),
        Case(name: "sizes past the tail", header: fp32("\(image)"), tail: [0, 0, 0, 0], headerLength: "",
             says: "add up to \(image) bytes, but the body has 4"),
        Case(name: "size negative", header: fp32("-4"), tail: [], headerLength: "", says: "inputs[0].parameters.binary_data_size is -4"),
        Case(name: "size Int.max", header: fp32("9223372036854775807"), tail: [0, 0, 0, 0], headerLength: "",
             says: "add up to 9223372036854775807 bytes"),
        Case(name: "sizes overflowing together",
             header: #"{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":9223372036854775807}},"#
                 + #"{"name":"b","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":9223372036854775807}}]}"#,
             tail: [0, 0, 0, 0], headerLength: "", says: "add up to more than any body holds"),
        Case(name: "size past any integer", header: fp32("1e40"), tail: [], headerLength: "",
             says: "at .inputs[0].parameters.binary_data_size"),
        Case(name: "size a string", header: fp32(#""4""#), tail: [0, 0, 0, 0], headerLength: "",
             says: "at .inputs[0].parameters.binary_data_size"),
        Case(name: "size not the shape's", header: fp32("8"), tail: [0, 0, 0, 0, 0, 0, 0, 0], headerLength: "",
             says: "inputs[0].parameters.binary_data_size is 8 bytes, but FP32 of shape [1, 3, 224, 224] takes 602112"),
        Case(name: "shape overflowing", header: fp32("8", shape: "[4611686018427387904,3,224,224]"), tail: [0, 0, 0, 0, 0, 0, 0, 0],
             headerLength: "", says: "describes more elements than any request can hold"),
        Case(name: "shape not an image's", header: fp32("8", shape: "[1,3,224]"), tail: [0, 0, 0, 0, 0, 0, 0, 0], headerLength: "",
             says: "[N,3,224,224]"),
        Case(name: "tail without sizes",
             header: #"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[1]}]}"#, tail: [1, 2, 3, 4],
             headerLength: "", says: "no input has parameters.binary_data_size"),
        Case(name: "sizes without the header field", header: fp32("\(image)"), tail: [], headerLength: nil,
             says: "no Inference-Header-Content-Length header"),
        Case(name: "data and size both", header: fp32("0", data: #","data":[]"#), tail: [], headerLength: "",
             says: "both data and parameters.binary_data_size"),
        Case(name: "no data at all", header: #"{"inputs":[{"name":"input","shape":[1,3,224,224],"datatype":"FP32"}]}"#,
             tail: [], headerLength: "", says: "inputs[0] has no data"),
        Case(name: "NaN in FP32", header: fp32("\(image)"), tail: [0, 0, 0xC0, 0x7F] + [UInt8](repeating: 0, count: image - 4),
             headerLength: "", says: "FP32 value 0 is nan"),
        Case(name: "infinity as the last FP32 value", header: fp32("\(image)"),
             tail: [UInt8](repeating: 0, count: image - 4) + [0, 0, 0x80, 0xFF], headerLength: "", says: "FP32 value 150527 is -inf"),
        Case(name: "BYTES length cut off", header: bytes("2"), tail: [5, 0], headerLength: "", says: "too few for its 4-byte length"),
        Case(name: "BYTES length past its data", header: bytes("8"), tail: [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4], headerLength: "",
             says: "claims 4294967295 bytes, but 4 remain"),
        Case(name: "BYTES count not the shape's", header: bytes("8", shape: "[2]"), tail: [4, 0, 0, 0, 1, 2, 3, 4], headerLength: "",
             says: "BYTES input shape must be [N]"),
    ]

    @Test("malformed binary tensor data is 400 naming the field, and the server keeps serving")
    func malformed() async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        for hostile in Self.cases {
            let header = Array(hostile.header.utf8)
            var headers = ["Content-Type": "application/octet-stream"]
            if let length = hostile.headerLength {
                headers["Inference-Header-Content-Length"] = length.isEmpty ? String(header.count) : length
            }
            let answer = try ClientSocket(port: server.port).request(
                "POST", "/v2/models/resnet18/infer", headers: headers, body: header + hostile.tail)
            #expect(HostileRequestTests.status(answer) == 400, "\(hostile.name): \(answer.prefix(600))")
            #expect(HostileRequestTests.body(answer).contains(hostile.says), "\(hostile.name): \(answer.prefix(600))")
            try HostileBodyTests.expectServing(server)
        }
        // And a good one after them all.
        let tensor = [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea.input.f32")))
        let header = Array(Self.fp32("\(tensor.count)").utf8)
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer",
            headers: ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(header.count)],
            body: header + tensor)
        #expect(HostileRequestTests.status(answer) == 200, "\(answer.prefix(600))")
    }

    @Test("a binary body over --max-upload-mb is 413, and a pixel bomb as a binary BYTES element is 422 from its header")
    func limits() async throws {
        let server = try await ServeProcess.start(["--max-upload-mb", "1", "--max-pixels", "1000000"])
        defer { server.stop() }
        // Two images' FP32 tensors: 1.2 MB, over the 1 MB limit.
        let tail = [UInt8](repeating: 0, count: 2 * Self.image)
        let header = Array(Self.fp32("\(tail.count)", shape: "[2,3,224,224]").utf8)
        let large = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer",
            headers: ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(header.count)],
            body: header + tail)
        #expect(HostileRequestTests.status(large) == 413, "\(large.prefix(600))")
        try HostileBodyTests.expectServing(server)

        // A 6320x6320 lossless WebP of 1.6 kB: over --max-pixels from its header, refused before any decoding.
        let bomb = try HostileRequestTests.file(HostileRequestTests.hostile.appendingPathComponent("huge-lossless.webp"))
        let element = withUnsafeBytes(of: UInt32(bomb.count).littleEndian) { Array($0) } + bomb
        let bombHeader = Array(Self.bytes("\(element.count)").utf8)
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer",
            headers: ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(bombHeader.count)],
            body: bombHeader + element)
        #expect(HostileRequestTests.status(answer) == 422, "\(answer.prefix(600))")
        #expect(HostileRequestTests.body(answer).contains("too_many_pixels"), "\(answer.prefix(600))")
        try HostileBodyTests.expectServing(server)
    }
}
