import HTTPTypes
import Hummingbird
import Recognition

/// `POST /predict`, the seeds' contract kept for existing clients: multipart field `file`, a JSON array of the
/// top 3 with percentages. The Flask service named the percentage `confidence`, the issue `probability`:
/// both keys carry it.
struct SeedRoutes: Sendable {
    let pipeline: ClassifyPipeline
    let uploads: UploadReader

    /// One of the top 3, as the seeds' clients read it.
    struct SeedPrediction: Encodable {
        let label: String
        /// Percent, two decimals.
        let probability: Double
        /// The same percentage under the Flask service's name.
        let confidence: Double
        /// Which weights said so (`name sha256:xxxxxxxx`, or `untrained`).
        let weights: String
    }

    func register(on router: RouteTable) {
        router.post("/predict") { request, _ in
            let upload = try await uploads.seedFile(in: request)
            let classified = try await pipeline.classify([upload], topK: 3, source: "POST /predict")[0]
            let result = classified.classification
            let answer = result.top.map { prediction in
                let percent = (prediction.probability * 10_000).rounded() / 100
                return SeedPrediction(label: prediction.label, probability: percent, confidence: percent,
                                      weights: result.weights.resultLabel)
            }
            var headers: HTTPFields = [:]
            headers[HTTPField.Name("X-ResNet18-Weights")!] = result.weights.resultLabel
            if let id = classified.historyID {
                headers[HistorySource.historyIDHeader] = String(id)
            }
            if !result.weights.trained {
                headers[HTTPField.Name("X-ResNet18-Warning")!] = UntrainedWarning.text
            }
            return try JSONBody.response(answer, headers: headers)
        }
    }
}
