import Foundation
import Hummingbird
import HummingbirdTesting
import Recognition
import ResNet
import Testing
import TestSupport

extension ServerTests {
    /// The service at each precision: the answers keep PyTorch's top class, and the model route says which arithmetic runs.
    @Suite("precisions through the API")
    struct PrecisionTests {
        static let photos = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]

        /// The seeded weights at `precision`; for int8, with parameters calibrated on the built-in photos into a temporary file.
        static func recognizer(_ precision: Precision) throws -> Recognizer {
            var configuration = RecognizerConfiguration()
            configuration.weightsPath = Fixtures.seededPth.path
            configuration.environment = [:]
            configuration.precision = precision
            if precision == .int8 {
                let folder = try Fixtures.temporaryDirectory()
                let parameters = try Recognizer.calibrate(weights: try Recognizer.loadWeights(Fixtures.seededPth),
                                                          images: try Recognizer.builtInCalibrationImages(), threads: 2)
                let file = folder.appendingPathComponent("seeded.int8.json")
                try parameters.save(to: file)
                configuration.quantizationPath = file.path
            }
            return try Recognizer.load(configuration)
        }

        @Test("/v1/classify answers with PyTorch's top class; /v1/model names the precision", arguments: HostCPU.hasAVX512Core ? [Precision.bf16, .int8] : [.int8])
        func topClassAtPrecision(_ precision: Precision) async throws {
            let recognizer = try Self.recognizer(precision)
            try await TestServer.run(recognizer: recognizer) { client in
                let model = try await client.execute(uri: "/v1/model", method: .get)
                #expect(try model.object["precision"] as? String == precision.rawValue)
                for name in Self.photos {
                    let response = try await client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: name.hasSuffix(".png") ? "image/png" : "image/jpeg"],
                                                            body: ByteBuffer(bytes: try Photos.bytes(name)))
                    #expect(response.status == .ok, "\(name): \(response.text)")
                    let top = (try response.object["results"] as? [[String: Any]])?.first?["top"] as? [[String: Any]]
                    #expect(top?.first?["index"] as? Int == (try Photos.referenceTop5(name))[0].index, "\(precision) \(name)")
                }
            }
        }
    }
}
