import Hummingbird
import NIOCore
import Recognition

/// The routes around the API: the page, `/v1/model`, `/metrics` and `/openapi.yaml`, all served from the binary.
struct OperationRoutes: Sendable {
    let recognizer: Recognizer
    let configuration: ServerConfiguration
    let metrics: ServiceMetrics
    let batcher: Batcher
    let streams: StreamSupervisor
    let heads: HeadRegistry
    /// Whether the server records recognitions.
    let historyEnabled: Bool

    /// The answer of `GET /v1/model`: what the server runs, for the page and for operators.
    struct ModelInfo: Encodable {
        let model: String
        /// The product's version (`resnet18 --version`).
        let version: String
        let weights: WeightsBody
        let warning: String?
        let labels: String
        let classes: Int
        let threads: Int
        let precision: String
        let maxBatch: Int
        let maxUploadBytes: Int
        let maxPixels: Int
        /// Whether recognitions are recorded (`--db` other than none).
        let history: Bool
        /// Whether history rows keep a thumbnail.
        let thumbnails: Bool
        /// The heads answers carry (`--head`), with their categories (rules name them HEAD/CATEGORY).
        let heads: [HeadInfo]

        struct HeadInfo: Encodable {
            let name: String
            let categories: [String]
        }

        enum CodingKeys: String, CodingKey {
            case model, version, weights, warning, labels, classes, threads, precision, history, thumbnails, heads
            case maxBatch = "max_batch", maxUploadBytes = "max_upload_bytes", maxPixels = "max_pixels"
        }
    }

    func register(on router: RouteTable) {
        router.get("/v1/model") { _, _ in
            try JSONBody.response(ModelInfo(
                model: "resnet18", version: ProductVersion.current, weights: WeightsBody(recognizer.weights),
                warning: recognizer.weights.trained ? nil : UntrainedWarning.text,
                labels: recognizer.labels.source, classes: recognizer.labels.count,
                threads: recognizer.engine.threads, precision: recognizer.engine.options.precision.rawValue,
                maxBatch: configuration.maxBatch, maxUploadBytes: configuration.maxUploadBytes,
                maxPixels: recognizer.decodeOptions.maxPixels,
                history: historyEnabled, thumbnails: historyEnabled && configuration.thumbnails,
                heads: heads.current.map { ModelInfo.HeadInfo(name: $0.name, categories: $0.categories) }))
        }
        router.get("/metrics") { _, _ in
            metrics.recordQueueDepth(batcher.waiting)
            let cameras = StreamMetrics.exposition(await streams.metricSamplesWithMQTT())
            return Self.text(metrics.exposition() + cameras, type: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.get("/openapi.yaml") { _, _ in
            Self.text(OpenAPIDocument.yaml, type: "application/yaml; charset=utf-8")
        }
    }

    private static func text(_ body: String, type: String, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
