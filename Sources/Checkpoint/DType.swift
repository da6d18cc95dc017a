/// The element type of a tensor, as PyTorch and safetensors name it.
public enum DType: String, Sendable {
    case float32, float16, bfloat16, float64, int64, int32, uint8, int8, bool

    /// Bytes per element in the file.
    var byteCount: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16: 2
        case .uint8, .int8, .bool: 1
        }
    }

    /// The dtype of a `torch.<Name>Storage` class, the way pickles name storages.
    init?(torchStorage name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ByteStorage": self = .uint8
        case "CharStorage": self = .int8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The dtype of a safetensors header's `dtype` string.
    init?(safetensors name: String) {
        switch name {
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F64": self = .float64
        case "I64": self = .int64
        case "I32": self = .int32
        case "U8": self = .uint8
        case "I8": self = .int8
        case "BOOL": self = .bool
        default: return nil
        }
    }
}
