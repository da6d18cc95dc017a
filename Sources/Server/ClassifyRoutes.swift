import Hummingbird
import Recognition

/// `POST /v1/classify`: one or many multipart files, or a raw `image/*` body; `top_k` and `group` (repeatable)
/// query parameters.
struct ClassifyRoutes: Sendable {
    let pipeline: ClassifyPipeline
    let uploads: UploadReader
    let defaultTopK: Int

    func register(on router: RouteTable) {
        router.post("/v1/classify") { request, _ in
            let topK = try TopK.parse(request.formParameters["top_k"].map(String.init), default: defaultTopK,
                                      classCount: pipeline.recognizer.labels.count)
            let groups = try ClassifyGroups.parse(request.formParameters.getAll("group"),
                                                  labels: pipeline.recognizer.labels)
            let images = try await uploads.images(in: request)
            // The page says so, so that its uploads show as "page" in the history.
            let source = request.headers[HistorySource.clientHeader] == "page" ? "page" : "POST /v1/classify"
            let classified = try await pipeline.classify(images, topK: topK, includeLogits: !groups.isEmpty, source: source)
            return try JSONBody.response(ClassifyResponse(classified, uploads: images, weights: pipeline.recognizer.weights,
                                                          groups: groups))
        }
        // The 512 pooled features of each image (the input of the network's classifier): what similarity search
        // and heads trained on your own categories work on.
        router.post("/v1/embed") { request, _ in
            let topK = try TopK.parse(request.formParameters["top_k"].map(String.init), default: defaultTopK,
                                      classCount: pipeline.recognizer.labels.count)
            let images = try await uploads.images(in: request)
            let classified = try await pipeline.classify(images, topK: topK, includeFeatures: true)
            return try JSONBody.response(EmbedResponse(classified, uploads: images, weights: pipeline.recognizer.weights))
        }
    }
}

/// The `top_k` query parameter.
enum TopK {
    static func parse(_ text: String?, default fallback: Int, classCount: Int) throws(APIError) -> Int {
        guard let text else { return min(fallback, classCount) }
        guard let value = Int(text), (1...classCount).contains(value) else {
            throw .badRequest("top_k must be a whole number from 1 to \(classCount), not \"\(text)\"")
        }
        return value
    }
}
