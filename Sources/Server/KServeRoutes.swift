import Foundation
import Hummingbird
import Recognition
import ResNet

/// The KServe Open Inference Protocol v2 (what Triton, OpenVINO Model Server, TorchServe and KServe clients speak):
/// health, metadata, and `infer` on FP32 tensors or BYTES of encoded images, with the classification extension.
struct KServeRoutes: Sendable {
    static let modelName = "resnet18"
    static let modelVersion = "1"
    static let outputName = "logits"

    let pipeline: ClassifyPipeline
    let uploads: UploadReader

    func register(on router: RouteTable) {
        router.get("/v2") { _, _ in
            try JSONBody.response(KServe.ServerMetadata(name: "resnet18", version: Self.modelVersion, extensions: ["classification"]))
        }
        router.get("/v2/health/live") { _, _ in try JSONBody.response(["live": true]) }
        router.get("/v2/health/ready") { _, _ in try JSONBody.response(["ready": true]) }
        for prefix in ["/v2/models/{model}", "/v2/models/{model}/versions/{version}"] {
            router.get(RouterPath(prefix)) { _, context in
                try checkModel(context)
                return try JSONBody.response(metadata)
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                try checkModel(context)
                return try JSONBody.response(ModelReady(name: Self.modelName, ready: true))
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                try checkModel(context)
                return try await infer(request)
            }
        }
    }

    struct ModelReady: Encodable {
        let name: String
        let ready: Bool
    }

    private func checkModel(_ context: BasicRequestContext) throws(APIError) {
        let model = context.parameters.get("model") ?? ""
        guard model == Self.modelName else {
            throw .notFound("unknown model \"\(model)\": this server serves \"\(Self.modelName)\"")
        }
        if let version = context.parameters.get("version"), version != Self.modelVersion {
            throw .notFound("unknown version \"\(version)\" of \(Self.modelName): the only version is \(Self.modelVersion)")
        }
    }

    private var weightsParameters: [String: KServe.Parameter] {
        let weights = pipeline.recognizer.weights
        var parameters: [String: KServe.Parameter] = [
            "weights_name": .string(weights.name),
            "weights_sha256": .string(weights.sha256Prefix),
            "weights_trained": .bool(weights.trained),
            "weights_official": .bool(weights.official),
        ]
        if !weights.trained { parameters["warning"] = .string(UntrainedWarning.text) }
        return parameters
    }

    private var metadata: KServe.ModelMetadata {
        KServe.ModelMetadata(
            name: Self.modelName, versions: [Self.modelVersion], platform: "resnet18-onednn",
            inputs: [
                .init(name: "input", datatype: "FP32", shape: [-1, 3, 224, 224]),
                .init(name: "image", datatype: "BYTES", shape: [-1]),
            ],
            outputs: [.init(name: Self.outputName, datatype: "FP32", shape: [-1, pipeline.recognizer.labels.count])],
            parameters: weightsParameters)
    }

    private func infer(_ request: Request) async throws -> Response {
        let buffer = try await uploads.body(of: request)
        let inference: KServe.InferenceRequest
        do {
            inference = try JSONDecoder().decode(KServe.InferenceRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not a KServe v2 inference request: \(Self.describe(error))")
        }
        guard inference.inputs.count == 1, let input = inference.inputs.first else {
            throw APIError.badRequest("send exactly one input: FP32 [N,3,224,224] or BYTES [N] of encoded images")
        }
        let classCount = pipeline.recognizer.labels.count
        var classification: Int?
        for output in inference.outputs ?? [] {
            guard output.name == Self.outputName else {
                throw APIError.badRequest("unknown output \"\(output.name)\": the only output is \"\(Self.outputName)\"")
            }
            if let k = output.parameters?.classification {
                guard (1...classCount).contains(k) else {
                    throw APIError.badRequest("parameters.classification must be from 1 to \(classCount), not \(k)")
                }
                classification = k
            }
        }
        let topK = classification ?? 1
        let results: [Classification]
        switch (input.datatype.uppercased(), input.data) {
        case ("FP32", .numbers(let values)):
            results = try await pipeline.classify(tensors: try Self.images(in: values, shape: input.shape), topK: topK,
                                                  source: "POST /v2/models/\(Self.modelName)/infer")
        case ("BYTES", .strings(let encoded)):
            let images = try Self.uploads(from: encoded, shape: input.shape)
            results = try await pipeline.classify(images, topK: topK, includeLogits: true,
                                                  source: "POST /v2/models/\(Self.modelName)/infer").map(\.classification)
        case ("FP32", _), ("BYTES", _):
            throw APIError.badRequest("input \"\(input.name)\": \(input.datatype) data must be "
                + (input.datatype.uppercased() == "FP32" ? "numbers" : "base64 strings"))
        default:
            throw APIError.badRequest("input datatype \(input.datatype) is not supported: send FP32 [N,3,224,224] or BYTES [N] of encoded images")
        }
        let output: KServe.Output
        if let k = classification {
            let strings = results.flatMap { result in
                // The extension's "<value>:<index>:<label>", value as in the output tensor (the logit).
                result.top.map { "\(result.logits![$0.index]):\($0.index):\($0.label)" }
            }
            output = KServe.Output(name: Self.outputName, datatype: "BYTES", shape: [results.count, k], data: .strings(strings))
        } else {
            output = KServe.Output(name: Self.outputName, datatype: "FP32", shape: [results.count, classCount],
                                   data: .numbers(results.flatMap { $0.logits! }))
        }
        var parameters = weightsParameters
        parameters["batch_size"] = .int(results.map(\.batchSize).max() ?? 0)
        return try JSONBody.response(KServe.InferenceResponse(
            modelName: Self.modelName, modelVersion: Self.modelVersion, id: inference.id,
            parameters: parameters, outputs: [output]))
    }

    /// Splits FP32 data of shape `[N,3,224,224]` into N image tensors.
    static func images(in values: [Float], shape: [Int]) throws(APIError) -> [[Float]] {
        do {
            return try KServeInput.imageTensors(values, shape: shape, valuesPerImage: ResNet18Engine.inputCount)
        } catch {
            throw .badRequest("FP32 \(error.message)")
        }
    }

    /// Decodes BYTES elements (base64 of image files) of shape `[N]` or `[N,1]`.
    static func uploads(from encoded: [String], shape: [Int]) throws(APIError) -> [Upload] {
        do {
            try KServeInput.checkBytesShape(shape, count: encoded.count)
        } catch {
            throw .badRequest(error.message)
        }
        return try encoded.enumerated().map { (position, text) throws(APIError) in
            guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                throw .badRequest("BYTES element \(position) is not base64: encode each image file's bytes in base64")
            }
            return Upload(filename: "element \(position)", bytes: [UInt8](data))
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            "missing \"\(key.stringValue)\"\(context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))")"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
             let DecodingError.dataCorrupted(context):
            "\(context.debugDescription)\(context.codingPath.isEmpty ? "" : " at \(path(context.codingPath))")"
        default:
            "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
