import Foundation
import HTTPTypes
import Hummingbird
import TestSupport
import Testing

extension ServerTests {
    /// The binary tensor data extension: a JSON header, then raw tensor bytes, as tritonclient sends by default.
    @Suite("KServe binary tensor data extension")
    struct KServeBinaryTests {
        static let lengthField = HTTPField.Name("Inference-Header-Content-Length")!

        /// A body of `header` as JSON, then `tail`, with the header's length in the request's header field.
        static func request(_ header: [String: Any], tail: [UInt8]) throws -> (ByteBuffer, HTTPFields) {
            let json = try JSONSerialization.data(withJSONObject: header)
            return (ByteBuffer(bytes: [UInt8](json) + tail),
                    [.contentType: "application/octet-stream", lengthField: String(json.count)])
        }

        /// The answer's JSON header and binary tail, split at its `Inference-Header-Content-Length`.
        static func split(_ response: TestResponse) throws -> (header: [String: Any], tail: [UInt8]) {
            let length = try #require(response.headers[lengthField].flatMap { Int($0) })
            let bytes = [UInt8](response.body.readableBytesView)
            try #require(length <= bytes.count)
            let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[..<length])) as? [String: Any])
            return (header, Array(bytes[length...]))
        }

        /// `Server-Timing` as metric name to milliseconds ("engine;dur=24.113, total;dur=25.020").
        static func serverTiming(_ response: TestResponse) throws -> [String: Double] {
            let value = try #require(response.headers[HTTPField.Name("Server-Timing")!])
            var metrics: [String: Double] = [:]
            for metric in value.split(separator: ",") {
                let parts = metric.trimmingCharacters(in: .whitespaces).split(separator: ";", maxSplits: 1)
                try #require(parts.count == 2 && parts[1].hasPrefix("dur="), "\(value)")
                metrics[String(parts[0])] = try #require(Double(parts[1].dropFirst(4)))
            }
            return metrics
        }

        static func floats(_ bytes: [UInt8]) -> [Float] {
            stride(from: 0, to: bytes.count, by: 4).map { offset in
                Float(bitPattern: bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
            }
        }

        static func lengthPrefixed(_ elements: [[UInt8]]) -> [UInt8] {
            elements.flatMap { element in withUnsafeBytes(of: UInt32(element.count).littleEndian) { Array($0) } + element }
        }

        static func tensorBytes(_ photo: String) throws -> [UInt8] {
            let stem = (photo as NSString).deletingPathExtension
            return [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent("\(stem).input.f32")))
        }

        @Test("binary FP32 [1,3,224,224] in, binary logits out: the JSON path's logits exactly, PyTorch's within 1e-3")
        func binaryInBinaryOut() async throws {
            let tensor = try Self.tensorBytes("chelsea.png")
            let (body, headers) = try Self.request([
                "id": "bin-1",
                "inputs": [["name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
                            "parameters": ["binary_data_size": tensor.count]]],
                "outputs": [["name": "logits", "parameters": ["binary_data": true]]],
            ], tail: tensor)
            let json = try JSONSerialization.data(withJSONObject: [
                "inputs": [["name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
                            "data": try Fixtures.inputTensor(for: "chelsea.png").map(Double.init)]],
            ])
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/octet-stream")
                let (header, tail) = try Self.split(response)
                #expect(header["id"] as? String == "bin-1")
                let output = try #require((header["outputs"] as? [[String: Any]])?.first)
                #expect(output["datatype"] as? String == "FP32")
                #expect(output["shape"] as? [Int] == [1, 1000])
                #expect(output["data"] == nil)
                #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 4000)
                #expect(tail.count == 4000)
                let logits = Self.floats(tail)
                // Server-Timing: the body's receipt, the batcher, the engine and the whole, each within the whole.
                let timing = try Self.serverTiming(response)
                #expect(Set(timing.keys) == ["receive", "batcher", "engine", "total"])
                #expect(timing["engine"]! > 0 && timing["engine"]! <= timing["batcher"]! && timing["batcher"]! <= timing["total"]!)
                #expect(timing["receive"]! + timing["batcher"]! <= timing["total"]!)

                let viaJSON = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post,
                                                       headers: [.contentType: "application/json"], body: ByteBuffer(bytes: json))
                #expect(viaJSON.headers[Self.lengthField] == nil)
                let jsonLogits = try #require(((try viaJSON.object["outputs"] as? [[String: Any]])?.first?["data"]) as? [Double])
                #expect(zip(logits, jsonLogits).map { abs(Double($0) - $1) }.max()! <= 1e-5)
                let reference = try Fixtures.referenceLogits(for: "chelsea.png")
                #expect(zip(logits, reference).map { abs($0 - $1) }.max()! < 1e-3)
            }
        }

        @Test("binary input without binary_data asks answers JSON; binary_data_output: true answers binary; binary_data: false wins")
        func outputForm() async throws {
            let tensor = try Self.tensorBytes("coffee.png")
            let input: [String: Any] = ["name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32",
                                        "parameters": ["binary_data_size": tensor.count]]
            let (plain, plainHeaders) = try Self.request(["inputs": [input]], tail: tensor)
            let (all, allHeaders) = try Self.request(["inputs": [input], "parameters": ["binary_data_output": true]], tail: tensor)
            let (overridden, overriddenHeaders) = try Self.request([
                "inputs": [input], "parameters": ["binary_data_output": true],
                "outputs": [["name": "logits", "parameters": ["binary_data": false]]],
            ], tail: tensor)
            try await TestServer.run { client in
                let json = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: plainHeaders, body: plain)
                #expect(json.status == .ok)
                #expect(json.headers[Self.lengthField] == nil)
                #expect(((try json.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])?.count == 1000)

                let binary = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: allHeaders, body: all)
                #expect(binary.status == .ok)
                #expect(try Self.split(binary).tail.count == 4000)

                let answer = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post,
                                                      headers: overriddenHeaders, body: overridden)
                #expect(answer.status == .ok)
                #expect(answer.headers[Self.lengthField] == nil)
                #expect(((try answer.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])?.count == 1000)
            }
        }

        @Test("binary BYTES of two encoded images, classification as binary BYTES: length-prefixed \"logit:index:label\"")
        func bytesAndClassification() async throws {
            let tail = Self.lengthPrefixed([try Photos.bytes("chelsea.png"), try Photos.bytes("rocket.jpg")])
            let (body, headers) = try Self.request([
                "inputs": [["name": "image", "shape": [2], "datatype": "BYTES", "parameters": ["binary_data_size": tail.count]]],
                "outputs": [["name": "logits", "parameters": ["classification": 2, "binary_data": true]]],
            ], tail: tail)
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                let (header, data) = try Self.split(response)
                let output = try #require((header["outputs"] as? [[String: Any]])?.first)
                #expect(output["datatype"] as? String == "BYTES")
                #expect(output["shape"] as? [Int] == [2, 2])
                #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == data.count)
                var strings: [String] = []
                var offset = 0
                while offset + 4 <= data.count {
                    let length = Int(data[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | UInt32($1) })
                    strings.append(String(decoding: data[(offset + 4)..<(offset + 4 + length)], as: UTF8.self))
                    offset += 4 + length
                }
                #expect(offset == data.count)
                #expect(strings.count == 4)
                let indices = strings.map { Int($0.split(separator: ":")[1]) }
                #expect(indices[0] == (try Photos.referenceTop5("chelsea.png"))[0].index)
                #expect(indices[2] == (try Photos.referenceTop5("rocket.jpg"))[0].index)
            }
        }

        @Test("the server metadata lists binary_tensor_data beside classification")
        func advertised() async throws {
            try await TestServer.run { client in
                let server = try await client.execute(uri: "/v2", method: .get).object
                #expect(server["extensions"] as? [String] == ["classification", "binary_tensor_data"])
            }
        }
    }
}
