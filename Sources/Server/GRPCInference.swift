import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import HTTPTypes
import InferenceGRPC
import NIOCore
import Recognition
import ResNet
import ServiceLifecycle

/// The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, as Triton's and KServe's clients call
/// it), beside the HTTP routes: the same model and metadata, and inference through the same pipeline (result cache,
/// batcher, history) as `POST /v2/models/resnet18/infer`. Inputs come as `raw_input_contents` (what tritonclient
/// sends) or typed contents; outputs go back as `raw_output_contents`.
struct InferenceGRPCService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let kserve: KServeRoutes

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        .with { $0.live = true }
    }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        .with { $0.ready = true }
    }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        .with { $0.ready = Self.isServed(name: request.name, version: request.version) }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        .with {
            $0.name = KServeRoutes.modelName
            $0.version = ProductVersion.current
            $0.extensions = ["classification"]
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        do {
            try Self.checkModel(name: request.name, version: request.version)
        } catch {
            throw Self.rpcError(error, retryAfterSeconds: kserve.pipeline.retryAfterSeconds)
        }
        let metadata = kserve.metadata
        func tensors(_ list: [KServe.TensorMetadata]) -> [Inference_ModelMetadataResponse.TensorMetadata] {
            list.map { tensor in .with { $0.name = tensor.name; $0.datatype = tensor.datatype; $0.shape = tensor.shape.map(Int64.init) } }
        }
        return .with {
            $0.name = metadata.name
            $0.versions = metadata.versions
            $0.platform = metadata.platform
            $0.inputs = tensors(metadata.inputs)
            $0.outputs = tensors(metadata.outputs)
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        do {
            try Self.checkModel(name: request.modelName, version: request.modelVersion)
            guard request.inputs.count == 1, let input = request.inputs.first else {
                throw APIError.badRequest("send exactly one input: FP32 [N,3,224,224] or BYTES [N] of encoded images")
            }
            guard request.rawInputContents.isEmpty || request.rawInputContents.count == request.inputs.count else {
                throw APIError.badRequest("raw_input_contents has \(request.rawInputContents.count) entries for \(request.inputs.count) input: send one per input")
            }
            let shape = try Self.shape(input.shape)
            let tensor = try Self.tensor(datatype: input.datatype.uppercased(), shape: shape, raw: request.rawInputContents.first,
                                         contents: input.hasContents ? input.contents : nil)
            ServerTiming.current?.recordReceived()
            let asked = try request.outputs.map { output throws(APIError) in
                var classification: Int?
                if let parameter = output.parameters["classification"] {
                    guard case let .int64Param(k)? = parameter.parameterChoice, let value = Int(exactly: k) else {
                        throw APIError.badRequest("parameters.classification of output \"\(output.name)\" must be an int64")
                    }
                    classification = value
                }
                return KServeRoutes.RequestedOutput(name: output.name, classification: classification, binary: true)
            }
            let produced = try await kserve.run(tensor, shape: shape, outputs: asked, defaultBinary: true,
                                                source: "gRPC \(KServeRoutes.modelName) ModelInfer")
            return .with { response in
                response.modelName = KServeRoutes.modelName
                response.modelVersion = KServeRoutes.modelVersion
                response.id = request.id
                response.parameters = produced.parameters.mapValues(Self.parameter)
                response.outputs = produced.outputs.map { output in
                    .with {
                        $0.name = output.name
                        $0.datatype = output.datatype
                        $0.shape = output.shape.map(Int64.init)
                    }
                }
                response.rawOutputContents = produced.outputs.map { Data($0.bytes) }
            }
        } catch {
            throw Self.rpcError(error, retryAfterSeconds: kserve.pipeline.retryAfterSeconds)
        }
    }

    private static func isServed(name: String, version: String) -> Bool {
        name == KServeRoutes.modelName && (version.isEmpty || version == KServeRoutes.modelVersion)
    }

    private static func checkModel(name: String, version: String) throws(APIError) {
        guard name == KServeRoutes.modelName else {
            throw .notFound("unknown model \"\(name)\": this server serves \"\(KServeRoutes.modelName)\"")
        }
        guard version.isEmpty || version == KServeRoutes.modelVersion else {
            throw .notFound("unknown version \"\(version)\" of \(KServeRoutes.modelName): the only version is \(KServeRoutes.modelVersion)")
        }
    }

    /// A shape from the wire: each dimension 0 to Int.max (the element count is checked, overflow-safe, later).
    private static func shape(_ dimensions: [Int64]) throws(APIError) -> [Int] {
        try dimensions.map { dimension throws(APIError) in
            guard dimension >= 0, let value = Int(exactly: dimension) else {
                throw .badRequest("input shape \(dimensions) has a negative dimension")
            }
            return value
        }
    }

    /// The input's tensor from its raw bytes (FP32 little-endian; BYTES elements each after a 4-byte length) or its
    /// typed contents (fp32_contents; bytes_contents holding image files).
    private static func tensor(datatype: String, shape: [Int], raw: Data?, contents: Inference_InferTensorContents?)
        throws(APIError) -> KServeRoutes.Tensor {
        guard datatype == "FP32" || datatype == "BYTES" else {
            throw .badRequest("input datatype \(datatype) is not supported: send FP32 [N,3,224,224] or BYTES [N] of encoded images")
        }
        do {
            if let raw {
                guard contents == nil else { throw APIError.badRequest("the input has both contents and raw_input_contents: send one") }
                if datatype == "FP32" {
                    try KServeInput.checkImageShape(shape)
                    let parsed = raw.withUnsafeBytes { bytes in
                        Result { () throws(KServeInput.Invalid) in try KServeBinaryBody.fp32(bytes, shape: shape, field: "raw_input_contents[0]") }
                    }
                    return .fp32(try parsed.get())
                }
                let bytes = ArraySlice([UInt8](raw))
                let elements = try KServeBinaryBody.elements(bytes, field: "raw_input_contents[0]")
                try KServeInput.checkBytesShape(shape, count: elements.count)
                return .images(elements.enumerated().map { Upload(filename: "element \($0.offset)", bytes: Array($0.element)) })
            }
            guard let contents else {
                throw APIError.badRequest("the input has no data: send it in raw_input_contents or in contents")
            }
            if datatype == "FP32" {
                try KServeInput.checkImageShape(shape)
                return .fp32(contents.fp32Contents)
            }
            try KServeInput.checkBytesShape(shape, count: contents.bytesContents.count)
            return .images(contents.bytesContents.enumerated().map { Upload(filename: "element \($0.offset)", bytes: [UInt8]($0.element)) })
        } catch let error as APIError {
            throw error
        } catch let error as KServeInput.Invalid {
            throw .badRequest(error.message)
        } catch {
            throw .badRequest("\(error)")
        }
    }

    private static func parameter(_ value: KServe.Parameter) -> Inference_InferParameter {
        .with {
            switch value {
            case let .string(text): $0.stringParam = text
            case let .bool(flag): $0.boolParam = flag
            case let .int(number): $0.int64Param = Int64(number)
            }
        }
    }

    /// The gRPC status for what the HTTP routes would answer.
    static func rpcError(_ error: any Error, retryAfterSeconds: Int) -> RPCError {
        if let error = error as? RPCError { return error }
        let api = APIError(error, retryAfterSeconds: retryAfterSeconds)
        let code: RPCError.Code = switch api.status.code {
        case 400, 413, 415, 422: .invalidArgument
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .notFound
        case 409: .failedPrecondition
        case 429: .resourceExhausted
        case 503: .unavailable
        default: .internalError
        }
        return RPCError(code: code, message: api.description)
    }
}

/// Login on the gRPC port: when the service enforces it, every call but the liveness and readiness probes needs
/// the metadata `authorization: Bearer TOKEN` (an API token of any role, as the HTTP inference routes need).
struct GRPCAuthentication: ServerInterceptor {
    let gate: AuthenticationGate
    let credentials: CredentialService?
    static let publicMethods: Set<String> = ["ServerLive", "ServerReady"]

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard try await gate.isEnforced() else {
            return try await Caller.$current.withValue(Caller(credential: .open)) { try await next(request, context) }
        }
        if Self.publicMethods.contains(context.descriptor.method) { return try await next(request, context) }
        guard let credentials else { throw RPCError(code: .internalError, message: "login is enforced but there is no credential store") }
        guard let header = request.metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw RPCError(code: .unauthenticated, message: "send the metadata `authorization: Bearer TOKEN` (an admin makes tokens at /admin)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              let token = try await credentials.token(secret: parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw RPCError(code: .unauthenticated, message: "the API token is unknown, revoked or expired: ask an admin for a new one")
        }
        return try await Caller.$current.withValue(Caller(credential: .token(token))) { try await next(request, context) }
    }
}

/// Tells the batcher that a `ModelInfer` call's tensor is on its way (`Batcher.expectWork`), once the call has
/// passed authentication, so the engine's thread is awake by the time the tensor has arrived.
struct GRPCEngineWake: ServerInterceptor {
    let batcher: Batcher

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        if context.descriptor.method == "ModelInfer" { batcher.expectWork() }
        return try await next(request, context)
    }
}

/// Runs the gRPC server beside the HTTP server; on shutdown it lets calls in flight finish.
struct GRPCServerService: Service {
    let host: String
    let port: Int
    let maxRequestBytes: Int
    let services: [any RegistrableRPCService]
    let interceptors: [any ServerInterceptor]
    let onListening: @Sendable (Int) async -> Void

    func run() async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port),
            transportSecurity: .plaintext,
            config: .defaults {
                $0.rpc.maxRequestPayloadSize = maxRequestBytes
                // A 600 kB tensor in one window and few frames, not ten round trips of 64 kB; and each answer
                // written at once (coalescing flushes helps many small calls, and delays a lone one).
                $0.http2.targetWindowSize = 16 << 20
                $0.http2.maxFrameSize = (1 << 24) - 1
                $0.connection.flushCoalescing = nil
                // Reads of up to 1 MiB: a tensor comes in a few reads instead of ten or more of NIO's 64 kB.
                $0.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
                    channel.setOption(ChannelOptions.recvAllocator,
                                      value: AdaptiveRecvByteBufferAllocator(minimum: 64 << 10, initial: 256 << 10, maximum: 1 << 20))
                }
            })
        let server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                if let address = try? await transport.listeningAddress {
                    await onListening(address.ipv4?.port ?? address.ipv6?.port ?? port)
                }
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
