import Foundation
import HTTPTypes
import Hummingbird
import Testing

extension ServerTests {
    @Suite("POST /predict, the seeds' contract")
    struct PredictRouteTests {
        @Test("top 3 labels equal PyTorch's for chelsea.png, in percent under both keys")
        func topThreeMatchPyTorch() async throws {
            let reference = try Photos.referenceTop5("chelsea.png")
            let (body, headers) = MultipartBody.file(try Photos.bytes("chelsea.png"), filename: "chelsea.png")
            try await TestServer.run { client in
                let response = try await client.execute(uri: "/predict", method: .post, headers: headers, body: body)
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("X-ResNet18-Weights")!]?.hasPrefix("resnet18-seeded.pth sha256:") == true)
                let answer = try response.array
                #expect(answer.map { $0["label"] as? String } == reference.prefix(3).map(\.label))
                for (item, expected) in zip(answer, reference) {
                    let percent = try #require(item["probability"] as? Double)
                    #expect(item["confidence"] as? Double == percent)
                    #expect(abs(percent - expected.probability * 100) < 0.011)
                    #expect((percent * 100).rounded() / 100 == percent)
                    #expect((item["weights"] as? String)?.hasPrefix("resnet18-seeded.pth") == true)
                }
            }
        }

        @Test("400 with a JSON error when the field `file` is missing")
        func missingFieldIs400() async throws {
            try await TestServer.run { client in
                let (body, headers) = MultipartBody.file(try Photos.bytes("chelsea.png"), field: "image")
                let wrongField = try await client.execute(uri: "/predict", method: .post, headers: headers, body: body)
                #expect(wrongField.status == .badRequest)
                #expect((try wrongField.object["error"] as? String)?.contains("\"file\"") == true)

                let notMultipart = try await client.execute(uri: "/predict", method: .post, headers: [.contentType: "image/png"],
                                                            body: ByteBuffer(bytes: try Photos.bytes("chelsea.png")))
                #expect(notMultipart.status == .badRequest)
                #expect(try await client.stillServes())
            }
        }
    }
}
