/// What can go wrong loading ResNet-18 weights or running the network.
public enum ResNetError: Error, CustomStringConvertible, Sendable {
    /// A required tensor is absent from the weights file.
    case missingKey(file: String, key: String)
    /// A tensor has the wrong shape for ResNet-18.
    case shapeMismatch(file: String, key: String, expected: [Int], found: [Int])
    /// A tensor that ResNet-18 has no place for.
    case unexpectedKey(file: String, key: String)
    /// The classifier's class count differs from the labels in use.
    case classCountMismatch(file: String, classes: Int, labels: Int)
    /// oneDNN refused a call.
    case engine(String)
    /// The caller passed a tensor of the wrong size.
    case badInput(String)
    /// int8 calibration parameters are missing, unreadable, or belong to other weights.
    case quantization(String)
    /// This CPU lacks the instructions a precision needs.
    case unsupportedCPU(String)

    public var description: String {
        switch self {
        case let .missingKey(file, key):
            return "missing key \(key) in \(file): is this a ResNet-18 state_dict?"
        case let .shapeMismatch(file, key, expected, found):
            return "\(key) in \(file) has shape \(found), ResNet-18 expects \(expected): is this a ResNet-18 state_dict?"
        case let .unexpectedKey(file, key):
            return "unexpected key \(key) in \(file): ResNet-18 has no such tensor (a ResNet-34 or deeper checkpoint?)"
        case let .classCountMismatch(file, classes, labels):
            return "\(file) classifies into \(classes) classes but the label list has \(labels): pass a label file (--labels) with one label per class"
        case let .engine(message):
            return "oneDNN: \(message)"
        case let .badInput(message):
            return message
        case let .quantization(message):
            return message
        case let .unsupportedCPU(message):
            return message
        }
    }
}
