import Foundation
import Hummingbird
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

        /// Whether PyTorch's top logit leads the second by more than twice int8's bound on a logit's error (0.15,
        /// `Int8Tests`): then no rounding within the bounds can swap them. The seeded network's classes are close
        /// (its probabilities all near 0.1 %), and oneDNN's int8 without AVX-512 VNNI rounds more coarsely.
        static func topClassIsClear(_ name: String) throws -> Bool {
            let logits = try Fixtures.referenceLogits(for: name)
            let sorted = logits.sorted(by: >)
            return sorted[0] - sorted[1] > 0.3
        }

        @Test("/v1/classify keeps PyTorch's top class where it leads clearly (its top two and five where not); /v1/model names the precision", arguments: HostCPU.hasAVX512Core ? [Precision.bf16, .int8] : [.int8])
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
                    let answered = top?.compactMap { $0["index"] as? Int } ?? []
                    let reference = try Photos.referenceTop5(name).map(\.index)
                    if try Self.topClassIsClear(name) {
                        #expect(answered.first == reference[0], "\(precision) \(name)")
                    } else {
                        // Two classes closer than the precision's error: either may come first, the five stay.
                        #expect(Set(answered).intersection(reference).count >= 4 && reference.prefix(2).contains(answered.first ?? -1),
                                "\(precision) \(name): \(answered) against PyTorch's \(reference)")
                    }
                }
            }
        }
    }
}
