import Recognition

/// Why a stream cannot be watched. Each message says what happened and what to do about it.
public enum MonitoringError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A SOURCE that is neither a URL ffmpeg reads here, nor an existing file, nor a V4L2 device.
    case badSource(String)
    /// An alert label that names no class or category, or several equally.
    case label(LabelError)
    /// A rule setting out of range (threshold, window, fps).
    case badRule(String)
    /// A program (ffmpeg) could not be started.
    case cannotStart(String, problem: String)
    /// ffmpeg's output was not the PPM frames asked for.
    case badFrame(String)

    public var description: String {
        switch self {
        case let .badSource(message), let .badRule(message):
            message
        case let .label(error):
            error.description
        case let .cannotStart(program, problem):
            "cannot start \(program): \(problem)"
        case let .badFrame(message):
            "unreadable frame: \(message)"
        }
    }
}
