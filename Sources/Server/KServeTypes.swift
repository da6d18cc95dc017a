import Foundation

/// The JSON bodies of the KServe Open Inference Protocol v2 (REST), as far as this model needs them.
enum KServe {
    /// `POST /v2/models/{model}/infer` request.
    struct InferenceRequest: Decodable {
        let id: String?
        let inputs: [Input]
        let outputs: [RequestedOutput]?
        let parameters: RequestParameters?
    }

    /// The binary tensor data extension's `binary_data_output: true` asks for every output as binary data.
    struct RequestParameters: Decodable {
        let binaryDataOutput: Bool?

        enum CodingKeys: String, CodingKey { case binaryDataOutput = "binary_data_output" }
    }

    /// One input tensor: FP32 `[N,3,224,224]`, or BYTES `[N]` of encoded images. Its data is in `data`, or, with
    /// `parameters.binary_data_size`, in the binary tensor data after the JSON header (`KServeBinaryBody`).
    struct Input: Decodable {
        let name: String
        let shape: [Int]
        let datatype: String
        let data: TensorData?
        let parameters: InputParameters?

        enum CodingKeys: String, CodingKey { case name, shape, datatype, data, parameters }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            shape = try WholeNumbers.decode(container, forKey: .shape)
            datatype = try container.decode(String.self, forKey: .datatype)
            data = try container.decodeIfPresent(TensorData.self, forKey: .data)
            parameters = try container.decodeIfPresent(InputParameters.self, forKey: .parameters)
        }
    }

    struct InputParameters: Decodable {
        /// How much of the binary tensor data this input takes, in bytes (checked against the body, never trusted).
        let binaryDataSize: Int?

        enum CodingKeys: String, CodingKey { case binaryDataSize = "binary_data_size" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            binaryDataSize = try WholeNumbers.decodeIfPresent(container, forKey: .binaryDataSize)
        }
    }

    /// An output the client asks for; `parameters.classification: k` asks for the top-k strings instead,
    /// `parameters.binary_data: true` for the output as binary data after the JSON header.
    struct RequestedOutput: Decodable {
        let name: String
        let parameters: OutputParameters?
    }

    struct OutputParameters: Decodable {
        let classification: Int?
        let binaryData: Bool?

        enum CodingKeys: String, CodingKey { case classification, binaryData = "binary_data" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            classification = try WholeNumbers.decodeIfPresent(container, forKey: .classification)
            binaryData = try container.decodeIfPresent(Bool.self, forKey: .binaryData)
        }
    }

    /// Whole numbers read so that one no `Int` holds (1e40, 1.5, 2^64) is an error naming its field: JSONDecoder
    /// calls those "not valid JSON", with no path.
    enum WholeNumbers {
        static func decode<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> [Int] {
            do {
                return try container.decode([Int].self, forKey: key)
            } catch {
                let numbers = try container.decode([Double].self, forKey: key)
                // As a Double, -2^63-1 rounds to -2^63, which looks whole: it is the culprit when nothing else is.
                guard let index = numbers.firstIndex(where: { Int(exactly: $0) == nil }) ?? numbers.firstIndex(of: -0x1p63)
                else { throw error }
                throw notWhole(numbers[index], at: container.codingPath + [key, Index(intValue: index)])
            }
        }

        static func decodeIfPresent<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> Int? {
            do {
                return try container.decodeIfPresent(Int.self, forKey: key)
            } catch {
                // A number that decodes as a Double but not as an Int is not a whole number an Int holds.
                guard let number = try container.decodeIfPresent(Double.self, forKey: key) else { throw error }
                throw notWhole(number, at: container.codingPath + [key])
            }
        }

        private static func notWhole(_ number: Double, at path: [any CodingKey]) -> DecodingError {
            .dataCorrupted(.init(codingPath: path, debugDescription: "\(number) is not a whole number from -2^63 to 2^63-1"))
        }
    }

    /// A position in a JSON list, as a coding path names it.
    struct Index: CodingKey {
        let intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(intValue: Int) { self.intValue = intValue }
        init?(stringValue: String) { nil }
    }

    /// Tensor contents, row-major, flattened whatever the nesting the client sent.
    enum TensorData: Decodable {
        case numbers([Float])
        /// BYTES elements: base64 text (or `{"b64": "..."}` objects), decoded later.
        case strings([String])

        /// Lists inside lists, at most: a shape's rank, plus one for `{"b64": ...}` objects, with room to spare.
        static let maximumNesting = 8

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
            // Time and memory grow faster than the square of the nesting depth here (500 levels, 1 KB of JSON, took
            // seconds and hundreds of MB); no shape needs more than a few levels, so the depth is bounded.
            let depth = decoder.codingPath.reversed().prefix { $0.intValue != nil }.count
            guard depth < Self.maximumNesting else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: Array(decoder.codingPath.prefix(decoder.codingPath.count - depth)),
                    debugDescription: "tensor data nested more than \(Self.maximumNesting) lists deep: "
                        + "send it flat, or nested as its shape is ([N,3,224,224] is 4 deep)"))
            }
            var numbers: [Float] = []
            var strings: [String] = []
            var container = try decoder.unkeyedContainer()
            while !container.isAtEnd {
                let index = container.currentIndex
                if let object = try? container.decode([String: String].self) {
                    // Decoded means consumed: an object without "b64" must not let the next element take its place.
                    guard let base64 = object["b64"] else {
                        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Index(intValue: index)],
                                                                debugDescription: "an object in BYTES data must be {\"b64\": \"...\"}"))
                    }
                    strings.append(base64)
                } else if let number = try? container.decode(Float.self) {
                    numbers.append(number)
                } else if let number = try? container.decode(Double.self) {
                    // JSONDecoder calls a number beyond Float's range "not valid JSON", with no path: name it here.
                    throw DecodingError.dataCorrupted(.init(
                        codingPath: decoder.codingPath + [Index(intValue: index)],
                        debugDescription: "\(number) is beyond the range of FP32 (±3.4e38)"))
                } else if let string = try? container.decode(String.self) {
                    strings.append(string)
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

    /// An output tensor: its values in `data`, or, as binary data, `parameters.binary_data_size` bytes of the tail.
    struct Output: Encodable {
        let name: String
        let datatype: String
        let shape: [Int]
        let data: OutputData?
        let parameters: [String: Parameter]?
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
