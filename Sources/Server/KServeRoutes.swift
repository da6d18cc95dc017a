import Foundation
import HTTPTypes
import Hummingbird
import Recognition
import ResNet

/// The KServe Open Inference Protocol v2 (what Triton, OpenVINO Model Server, TorchServe and KServe clients speak):
/// health, metadata, and `infer` on FP32 tensors or BYTES of encoded images, with the classification and binary
/// tensor data extensions.
struct KServeRoutes: Sendable {
    static let modelName = "resnet18"
    static let modelVersion = "1"
    static let outputName = "logits"
    /// The 512 pooled features (the input of the network's classifier), when asked for among the outputs.
    static let featuresName = "features"

    let pipeline: ClassifyPipeline
    let uploads: UploadReader

    func register(on router: RouteTable) {
        router.get("/v2") { _, _ in
            try JSONBody.response(KServe.ServerMetadata(name: "resnet18", version: Self.modelVersion, extensions: ["classification", "binary_tensor_data"]))
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
                pipeline.batcher.expectWork()
                let timing = ServerTiming()
                var response = try await ServerTiming.$current.withValue(timing) { try await infer(request) }
                response.headers[Self.serverTimingField] = timing.value
                return response
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

    var weightsParameters: [String: KServe.Parameter] {
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

    var metadata: KServe.ModelMetadata {
        KServe.ModelMetadata(
            name: Self.modelName, versions: [Self.modelVersion], platform: "resnet18-onednn",
            inputs: [
                .init(name: "input", datatype: "FP32", shape: [-1, 3, 224, 224]),
                .init(name: "image", datatype: "BYTES", shape: [-1]),
            ],
            outputs: [.init(name: Self.outputName, datatype: "FP32", shape: [-1, pipeline.recognizer.labels.count]),
                      .init(name: Self.featuresName, datatype: "FP32", shape: [-1, ResNet18Engine.featureCount])],
            parameters: weightsParameters)
    }

    /// Reads JSON or binary tensor data (the `binary_tensor_data` extension) and answers in the form asked for.
    private func infer(_ request: Request) async throws -> Response {
        let bytes = try await uploads.bytes(of: request)
        let body: KServeBinaryBody
        do {
            body = try KServeBinaryBody(bytes: bytes, headerLength: request.headers[Self.headerLengthField])
        } catch {
            throw APIError.badRequest(error.message)
        }
        let inference: KServe.InferenceRequest
        do {
            inference = try JSONDecoder().decode(KServe.InferenceRequest.self, from: Data(body.header))
        } catch {
            throw APIError.badRequest("the body is not a KServe v2 inference request: \(Self.describe(error))"
                + (body.declaredHeaderLength == nil ? "" : " (the JSON header is the first \(Self.headerLengthField) bytes)"))
        }
        let binaryInputs: [ArraySlice<UInt8>?]
        do {
            binaryInputs = try body.tensors(sizes: inference.inputs.map { $0.parameters?.binaryDataSize })
        } catch {
            throw APIError.badRequest(error.message)
        }
        guard inference.inputs.count == 1, let input = inference.inputs.first, let binary = binaryInputs.first else {
            throw APIError.badRequest("send exactly one input: FP32 [N,3,224,224] or BYTES [N] of encoded images")
        }
        let defaultBinary = inference.parameters?.binaryDataOutput ?? false
        let asked = (inference.outputs ?? []).map {
            RequestedOutput(name: $0.name, classification: $0.parameters?.classification, binary: $0.parameters?.binaryData ?? defaultBinary)
        }
        let tensor = try Self.tensor(of: input, binary: binary)
        ServerTiming.current?.recordReceived()
        let produced = try await run(tensor, shape: input.shape, outputs: asked,
                                     defaultBinary: defaultBinary, source: "POST /v2/models/\(Self.modelName)/infer")
        var outputs: [KServe.Output] = []
        var tail: [UInt8] = []
        for output in produced.outputs {
            guard output.binary else {
                outputs.append(KServe.Output(name: output.name, datatype: output.datatype, shape: output.shape, data: output.data, parameters: nil))
                continue
            }
            let bytes = output.bytes
            tail += bytes
            outputs.append(KServe.Output(name: output.name, datatype: output.datatype, shape: output.shape, data: nil,
                                         parameters: ["binary_data_size": .int(bytes.count)]))
        }
        let response = KServe.InferenceResponse(modelName: Self.modelName, modelVersion: Self.modelVersion, id: inference.id,
                                                parameters: produced.parameters, outputs: outputs)
        guard produced.outputs.contains(where: \.binary) else { return try JSONBody.response(response) }
        let header = try JSONBody.encoder().encode(response)
        var answer = ByteBuffer(bytes: header)
        answer.writeBytes(tail)
        return Response(status: .ok,
                        headers: [.contentType: "application/octet-stream", Self.headerLengthField: String(header.count)],
                        body: .init(byteBuffer: answer))
    }

    /// An output a request names: `classification` (logits only) asks for the top k as strings.
    struct RequestedOutput {
        let name: String
        let classification: Int?
        let binary: Bool
    }

    /// An output tensor made, in the form both protocols send.
    struct ProducedOutput {
        let name: String
        let datatype: String
        let shape: [Int]
        let data: KServe.OutputData
        let binary: Bool

        /// The tensor's raw bytes: FP32 little-endian, BYTES each with its 4-byte little-endian length first.
        var bytes: [UInt8] {
            switch data {
            case let .numbers(values): KServeBinaryBody.bytes(of: values)
            case let .strings(strings): KServeBinaryBody.bytes(of: strings)
            }
        }
    }

    /// Runs one input through the shared pipeline (cache, batcher, history under `source`) and makes the outputs
    /// asked for, in their order (none asked: the logits). The answer's parameters name the weights and the batch.
    func run(_ tensor: Tensor, shape: [Int], outputs asked: [RequestedOutput], defaultBinary: Bool, source: String) async throws
        -> (outputs: [ProducedOutput], parameters: [String: KServe.Parameter]) {
        let classCount = pipeline.recognizer.labels.count
        var classification: Int?
        var wanted: [RequestedOutput] = []
        for output in asked {
            guard [Self.outputName, Self.featuresName].contains(output.name) else {
                throw APIError.badRequest("unknown output \"\(output.name)\": the outputs are \"\(Self.outputName)\" and \"\(Self.featuresName)\"")
            }
            guard !wanted.contains(where: { $0.name == output.name }) else {
                throw APIError.badRequest("output \"\(output.name)\" is asked for twice")
            }
            if let k = output.classification {
                guard output.name == Self.outputName else {
                    throw APIError.badRequest("parameters.classification applies to \"\(Self.outputName)\" only")
                }
                guard (1...classCount).contains(k) else {
                    throw APIError.badRequest("parameters.classification must be from 1 to \(classCount), not \(k)")
                }
                classification = k
            }
            wanted.append(output)
        }
        if wanted.isEmpty { wanted = [RequestedOutput(name: Self.outputName, classification: nil, binary: defaultBinary)] }
        let includeFeatures = wanted.contains { $0.name == Self.featuresName }
        let topK = classification ?? 1
        let results: [Classification]
        let handedOver = ContinuousClock.now
        switch tensor {
        case let .fp32(values):
            results = try await pipeline.classify(tensors: try Self.images(in: values, shape: shape), topK: topK,
                                                  includeFeatures: includeFeatures, source: source)
        case let .images(images):
            results = try await pipeline.classify(images, topK: topK, includeLogits: true, includeFeatures: includeFeatures,
                                                  source: source).map(\.classification)
        }
        ServerTiming.current?.recordEngine(milliseconds: results.first?.timings.inference ?? 0,
                                           batcher: (ContinuousClock.now - handedOver).milliseconds)
        var parameters = weightsParameters
        parameters["batch_size"] = .int(results.map(\.batchSize).max() ?? 0)
        let produced = wanted.map { output in
            let (datatype, shape, data) = output.name == Self.featuresName
                ? ("FP32", [results.count, ResNet18Engine.featureCount], KServe.OutputData.numbers(results.flatMap { $0.features ?? [] }))
                : Self.logitsOutput(results, classification: classification, classCount: classCount)
            return ProducedOutput(name: output.name, datatype: datatype, shape: shape, data: data, binary: output.binary)
        }
        return (produced, parameters)
    }

    /// The `logits` output: every class's logit, or with `classification` the top k as the classification
    /// extension's "<value>:<index>:<label>" strings (value as in the output tensor: the logit).
    private static func logitsOutput(_ results: [Classification], classification: Int?, classCount: Int)
        -> (String, [Int], KServe.OutputData) {
        guard classification != nil else {
            return ("FP32", [results.count, classCount], .numbers(results.flatMap { $0.logits! }))
        }
        return ("BYTES", [results.count, classification!], .strings(results.flatMap { result in
            result.top.map { "\(result.logits![$0.index]):\($0.index):\($0.label)" }
        }))
    }

    static let headerLengthField = HTTPField.Name(KServeBinaryBody.headerLengthField)!
    static let serverTimingField = HTTPField.Name(ServerTiming.headerName)!

    /// What an input carries, read from its JSON `data` or its binary tensor data.
    enum Tensor {
        case fp32([Float])
        case images([Upload])
    }

    private static func tensor(of input: KServe.Input, binary: ArraySlice<UInt8>?) throws(APIError) -> Tensor {
        let datatype = input.datatype.uppercased()
        guard datatype == "FP32" || datatype == "BYTES" else {
            throw .badRequest("input datatype \(input.datatype) is not supported: send FP32 [N,3,224,224] or BYTES [N] of encoded images")
        }
        switch (input.data, binary) {
        case (.some, .some):
            throw .badRequest("inputs[0] has both data and parameters.binary_data_size: send its tensor in one of them")
        case (nil, nil):
            throw .badRequest("inputs[0] has no data: send its tensor in data (JSON), or as binary data after the JSON "
                + "header with parameters.binary_data_size and \(KServeBinaryBody.headerLengthField)")
        case let (nil, bytes?):
            if datatype == "FP32" {
                do {
                    try KServeInput.checkImageShape(input.shape)
                } catch {
                    throw .badRequest("FP32 \(error.message)")
                }
                do {
                    return .fp32(try KServeBinaryBody.fp32(bytes, shape: input.shape, field: "inputs[0]"))
                } catch {
                    throw .badRequest(error.message)
                }
            }
            do {
                let elements = try KServeBinaryBody.elements(bytes, field: "inputs[0]")
                try KServeInput.checkBytesShape(input.shape, count: elements.count)
                return .images(elements.enumerated().map { Upload(filename: "element \($0.offset)", bytes: Array($0.element)) })
            } catch {
                throw .badRequest(error.message)
            }
        case let (.numbers(values)?, nil) where datatype == "FP32":
            return .fp32(values)
        case let (.strings(encoded)?, nil) where datatype == "BYTES":
            return .images(try uploads(from: encoded, shape: input.shape))
        case (.some, nil):
            throw .badRequest("input \"\(input.name)\": \(input.datatype) data must be "
                + (datatype == "FP32" ? "numbers" : "base64 strings"))
        }
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
