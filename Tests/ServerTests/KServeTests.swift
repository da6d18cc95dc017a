import Foundation
import Hummingbird
import TestSupport
import Testing

extension ServerTests {
    @Suite("KServe Open Inference Protocol v2")
    struct KServeTests {
        private func json(_ object: Any) throws -> ByteBuffer {
            ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
        }

        private let headers: HTTPFields = [.contentType: "application/json"]

        @Test("FP32 [1,3,224,224] from torchvision's preprocessing gives PyTorch's logits within 1e-3")
        func fp32Logits() async throws {
            let tensor = try Fixtures.inputTensor(for: "chelsea.png")
            let reference = try Fixtures.referenceLogits(for: "chelsea.png")
            let body = try json([
                "id": "cat-1",
                "inputs": [["name": "input", "shape": [1, 3, 224, 224], "datatype": "FP32", "data": tensor.map(Double.init)]],
            ])
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                let object = try response.object
                #expect(object["model_name"] as? String == "resnet18")
                #expect(object["id"] as? String == "cat-1")
                let parameters = try #require(object["parameters"] as? [String: Any])
                #expect(parameters["weights_name"] as? String == "resnet18-seeded.pth")
                #expect(parameters["weights_trained"] as? Bool == true)
                let output = try #require((object["outputs"] as? [[String: Any]])?.first)
                #expect(output["name"] as? String == "logits")
                #expect(output["datatype"] as? String == "FP32")
                #expect(output["shape"] as? [Int] == [1, 1000])
                let logits = try #require(output["data"] as? [Double])
                #expect(logits.count == 1000)
                let difference = zip(logits, reference).map { abs($0 - Double($1)) }.max()!
                #expect(difference < 1e-3)
            }
        }

        @Test("the classification extension answers the top-k as \"logit:index:label\"")
        func classificationExtension() async throws {
            let tensor = try Fixtures.inputTensor(for: "coffee.png")
            let reference = try Photos.referenceTop5("coffee.png")
            let body = try json([
                "inputs": [["name": "input", "shape": [2, 3, 224, 224], "datatype": "FP32", "data": (tensor + tensor).map(Double.init)]],
                "outputs": [["name": "logits", "parameters": ["classification": 3]]],
            ])
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                let output = try #require((try response.object["outputs"] as? [[String: Any]])?.first)
                #expect(output["datatype"] as? String == "BYTES")
                #expect(output["shape"] as? [Int] == [2, 3])
                let strings = try #require(output["data"] as? [String])
                let fields = strings.map { $0.split(separator: ":", maxSplits: 2).map(String.init) }
                #expect(fields.prefix(3).map { Int($0[1]) } == reference.prefix(3).map(\.index))
                #expect(fields.prefix(3).map { $0[2] } == reference.prefix(3).map(\.label))
                #expect(Array(strings.prefix(3)) == Array(strings.suffix(3)))
            }
        }

        @Test("BYTES input of base64 image files goes through decoding and preprocessing")
        func bytesInput() async throws {
            let encoded = [try Photos.bytes("chelsea.png"), try Photos.bytes("rocket.jpg")].map { Data($0).base64EncodedString() }
            let body = try json([
                "inputs": [["name": "image", "shape": [2], "datatype": "BYTES", "data": encoded]],
            ])
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                let output = try #require((try response.object["outputs"] as? [[String: Any]])?.first)
                #expect(output["shape"] as? [Int] == [2, 1000])
                let logits = try #require(output["data"] as? [Double])
                let first = Array(logits[0..<1000])
                #expect(first.indices.max { first[$0] < first[$1] } == (try Photos.referenceTop5("chelsea.png"))[0].index)
            }
        }

        @Test("health, readiness and metadata")
        func healthAndMetadata() async throws {
            try await TestServer.run { client in
                #expect(try await client.execute(uri: "/v2/health/live", method: .get).object["live"] as? Bool == true)
                #expect(try await client.execute(uri: "/v2/health/ready", method: .get).object["ready"] as? Bool == true)
                #expect(try await client.execute(uri: "/v2/models/resnet18/ready", method: .get).object["ready"] as? Bool == true)
                let server = try await client.execute(uri: "/v2", method: .get).object
                #expect(server["extensions"] as? [String] == ["classification", "binary_tensor_data"])
                let metadata = try await client.execute(uri: "/v2/models/resnet18", method: .get).object
                #expect(metadata["name"] as? String == "resnet18")
                let inputs = try #require(metadata["inputs"] as? [[String: Any]])
                #expect(inputs.first?["shape"] as? [Int] == [-1, 3, 224, 224])
                let outputs = try #require(metadata["outputs"] as? [[String: Any]])
                #expect(outputs.first?["shape"] as? [Int] == [-1, 1000])
                let versioned = try await client.execute(uri: "/v2/models/resnet18/versions/1", method: .get)
                #expect(versioned.status == .ok)
            }
        }

        @Test("errors use the protocol's {\"error\": ...} shape: unknown model 404, bad shape / JSON / datatype 400")
        func errors() async throws {
            try await TestServer.run { client in
                let unknown = try await client.execute(uri: "/v2/models/vgg16/infer", method: .post, headers: headers,
                                                       body: try json(["inputs": []]))
                #expect(unknown.status == .notFound)
                #expect((try unknown.object["error"] as? String)?.contains("vgg16") == true)
                #expect(try await client.execute(uri: "/v2/models/vgg16/ready", method: .get).status == .notFound)

                let badShape = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: try json([
                    "inputs": [["name": "input", "shape": [1, 3, 224], "datatype": "FP32", "data": [1.0, 2.0]]],
                ]))
                #expect(badShape.status == .badRequest)
                #expect((try badShape.object["error"] as? String)?.contains("[N,3,224,224]") == true)

                let notJSON = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers,
                                                       body: ByteBuffer(string: "{\"inputs\": [}"))
                #expect(notJSON.status == .badRequest)

                let int8 = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: try json([
                    "inputs": [["name": "input", "shape": [1], "datatype": "INT8", "data": [1]]],
                ]))
                #expect(int8.status == .badRequest)

                let notBase64 = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: try json([
                    "inputs": [["name": "image", "shape": [1], "datatype": "BYTES", "data": ["%%%"]]],
                ]))
                #expect(notBase64.status == .badRequest)

                let gif = Data(Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 20)).base64EncodedString()
                let notImage = try await client.execute(uri: "/v2/models/resnet18/infer", method: .post, headers: headers, body: try json([
                    "inputs": [["name": "image", "shape": [1], "datatype": "BYTES", "data": [gif]]],
                ]))
                #expect(notImage.status == .unsupportedMediaType)
                #expect(try notImage.object["error"] != nil)
                #expect(try await client.stillServes())
            }
        }
    }
}
