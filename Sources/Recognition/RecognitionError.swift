import Imaging
import ResNet

/// What can go wrong between image bytes and a classification.
public enum RecognitionError: Error, CustomStringConvertible, Sendable {
    /// The image could not be decoded (unsupported, corrupt, too large).
    case image(ImagingError)
    /// The weights file could not be loaded or is not ResNet-18.
    case weights(path: String, problem: String)
    /// The label file could not be used.
    case labels(path: String, problem: String)
    /// Downloading the official weights failed.
    case fetch(String)
    /// The engine failed.
    case engine(ResNetError)
    /// int8 was asked for without usable calibration parameters.
    case quantization(String)
    /// A file could not be read.
    case unreadable(path: String, problem: String)

    public var description: String {
        switch self {
        case let .image(error): return error.description
        case let .weights(path, problem): return "\(path): \(problem)"
        case let .labels(path, problem): return "label file \(path) \(problem)"
        case let .fetch(message): return message
        case let .engine(error): return error.description
        case let .unreadable(path, problem): return "\(path): \(problem)"
        case let .quantization(message): return message
        }
    }
}
