import Foundation

/// The JSON bodies of the KServe Open Inference Protocol v2 (REST), as far as this model needs them.
enum KServe {
    /// `POST /v2/models/{model}/infer` request.
    struct InferenceRequest: Decodable {
        let id: String?
        let inputs: [Input]
        let outputs: [RequestedOutput]?
    }

    /// One input tensor: FP32 `[N,3,224,224]`, or BYTES `[N]` of encoded images.
    struct Input: Decodable {
        let name: String
        let shape: [Int]
        let datatype: String
        let data: TensorData
    }

    /// An output the client asks for; `parameters.classification: k` asks for the top-k strings instead.
    struct RequestedOutput: Decodable {
        let name: String
        let parameters: OutputParameters?
    }

    struct OutputParameters: Decodable {
        let classification: Int?
    }

    /// Tensor contents, row-major, flattened whatever the nesting the client sent.
    enum TensorData: Decodable {
        case numbers([Float])
        /// BYTES elements: base64 text (or `{"b64": "..."}` objects), decoded later.
        case strings([String])

        init(from decoder: any Decoder) throws {
            let single = try decoder.singleValueContainer()
            // The common case, a flat list, in one call; nested lists and b64 objects element by element.
            if let numbers = try? single.decode([Float].self) {
                self = .numbers(numbers)
                return
            }
            if let strings = try? single.decode([String].self) {
                self = .strings(strings)
                return
            }
            var numbers: [Float] = []
            var strings: [String] = []
            var container = try decoder.unkeyedContainer()
            while !container.isAtEnd {
                if let object = try? container.decode([String: String].self), let base64 = object["b64"] {
                    strings.append(base64)
                } else {
                    switch try container.decode(TensorData.self) {
                    case let .numbers(inner): numbers += inner
                    case let .strings(inner): strings += inner
                    }
                }
            }
            guard numbers.isEmpty || strings.isEmpty else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "a tensor mixes numbers and strings"))
            }
            self = strings.isEmpty ? .numbers(numbers) : .strings(strings)
        }
    }

    /// `POST /v2/models/{model}/infer` response.
    struct InferenceResponse: Encodable {
        let modelName: String
        let modelVersion: String
        let id: String?
        let parameters: [String: Parameter]
        let outputs: [Output]

        enum CodingKeys: String, CodingKey {
            case modelName = "model_name", modelVersion = "model_version", id, parameters, outputs
        }
    }

    struct Output: Encodable {
        let name: String
        let datatype: String
        let shape: [Int]
        let data: OutputData
    }

    enum OutputData: Encodable {
        case numbers([Float])
        case strings([String])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .numbers(values): try container.encode(values)
            case let .strings(values): try container.encode(values)
            }
        }
    }

    /// A parameter value: the protocol allows strings, numbers and booleans.
    enum Parameter: Encodable {
        case string(String)
        case bool(Bool)
        case int(Int)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .string(value): try container.encode(value)
            case let .bool(value): try container.encode(value)
            case let .int(value): try container.encode(value)
            }
        }
    }

    /// `GET /v2/models/{model}` response.
    struct ModelMetadata: Encodable {
        let name: String
        let versions: [String]
        let platform: String
        let inputs: [TensorMetadata]
        let outputs: [TensorMetadata]
        let parameters: [String: Parameter]
    }

    struct TensorMetadata: Encodable {
        let name: String
        let datatype: String
        let shape: [Int]
    }

    /// `GET /v2` response.
    struct ServerMetadata: Encodable {
        let name: String
        let version: String
        let extensions: [String]
    }
}
