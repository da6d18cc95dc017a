import Foundation

/// What a stream reads: a network URL, a video file, or a V4L2 device, and how ffmpeg is told to open it.
public struct VideoSource: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// rtsp://, rtsps://, http://, https://: a camera or a server that may drop and come back.
        case url
        /// A file: it ends, and so does the stream.
        case file
        /// `/dev/videoN`: a camera on this machine.
        case device
    }

    public static let urlSchemes: Set<String> = ["rtsp", "rtsps", "http", "https"]

    /// As given by the user; only ffmpeg gets it (credentials included), never a person or a log.
    public let location: String
    public let kind: Kind

    /// The location with its credentials masked (`rtsp://user:***@host/...`): what answers, events and logs show.
    public var redacted: String { kind == .url ? Redaction.url(location) : location }

    /// Text from ffmpeg or the network with this source's secrets masked.
    public func redacting(_ text: String) -> String {
        kind == .url ? Redaction.masked(in: text, secrets: Redaction.secrets(of: location)) : text
    }

    public var description: String { redacted }

    /// A live source restarts with backoff when ffmpeg exits; a file ends.
    public var isLive: Bool { kind != .file }

    /// Classifies and checks a SOURCE: a URL must use a scheme of `urlSchemes` and name a host; a file must
    /// exist; a device must be `/dev/videoN`. `allowFiles: false` (the service) refuses files: a client of the
    /// API should not get ffmpeg to read the server's disk.
    public init(_ location: String, allowFiles: Bool = true) throws(MonitoringError) {
        let trimmed = location.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 2048, !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw .badSource("the source must be an rtsp://, http:// or https:// URL, a video file or /dev/videoN")
        }
        if let colon = trimmed.range(of: "://") {
            let scheme = trimmed[..<colon.lowerBound].lowercased()
            guard Self.urlSchemes.contains(scheme) else {
                throw .badSource("\(scheme):// sources are not read here: use rtsp://, rtsps://, http:// or https://")
            }
            // Schemes are case-insensitive (RFC 3986) but ffmpeg knows its protocols in lower case only.
            let normalised = scheme + trimmed[colon.lowerBound...]
            guard let components = URLComponents(string: normalised), let host = components.host, !host.isEmpty else {
                throw .badSource("\(Redaction.url(normalised)) is not a valid URL (it needs a host, e.g. rtsp://camera.local:554/stream)")
            }
            self.location = normalised
            self.kind = .url
            return
        }
        if trimmed.hasPrefix("/dev/") {
            let name = trimmed.dropFirst("/dev/".count)
            guard name.hasPrefix("video"), let number = Int(name.dropFirst("video".count)), number >= 0 else {
                throw .badSource("\(trimmed) is not a V4L2 camera: give /dev/videoN")
            }
            guard FileManager.default.fileExists(atPath: trimmed) else {
                throw .badSource("\(trimmed) does not exist: is the camera plugged in? (ls /dev/video*)")
            }
            self.location = trimmed
            self.kind = .device
            return
        }
        guard allowFiles else {
            throw .badSource("the service reads cameras only (rtsp://, rtsps://, http://, https:// or /dev/videoN), not files: watch a file with `resnet18 watch FILE`")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .badSource("\(trimmed): no such video file (or give an rtsp://, http:// or https:// URL, or /dev/videoN)")
        }
        self.location = trimmed
        self.kind = .file
    }

    /// ffmpeg's arguments before `-i`: transport and timeouts, so a dead network source ends ffmpeg (and the
    /// stream restarts) instead of hanging.
    func inputArguments(timeoutSeconds: Int) -> [String] {
        let microseconds = String(timeoutSeconds * 1_000_000)
        switch kind {
        case .file:
            return []
        case .device:
            return ["-f", "v4l2"]
        case .url:
            if location.lowercased().hasPrefix("rtsp") {
                return ["-rtsp_transport", "tcp", "-timeout", microseconds]
            }
            return ["-rw_timeout", microseconds]
        }
    }

    /// Whether the URL carries credentials (a password, or a secret query value) that must stay out of `ps`.
    var hasCredentials: Bool { kind == .url && !Redaction.secrets(of: location).isEmpty }

    /// The whole ffmpeg command line (without the program name): frames at `fps` as PPM on stdout. A URL with
    /// credentials is not on it: ffmpeg reads it from its stdin (`ffmpegInput`), as a one-entry concat list whose
    /// `option` lines carry the same transport and timeouts.
    func ffmpegArguments(fps: Double, timeoutSeconds: Int) -> [String] {
        let input = hasCredentials
            ? ["-f", "concat", "-safe", "0", "-protocol_whitelist", Self.concatProtocols, "-i", "pipe:0"]
            : inputArguments(timeoutSeconds: timeoutSeconds) + ["-i", location]
        return ["-nostdin", "-hide_banner", "-loglevel", "error"] + input
            + ["-an", "-sn", "-dn", "-vf", "fps=\(Self.format(fps))",
               "-pix_fmt", "rgb24", "-c:v", "ppm", "-f", "image2pipe", "-"]
    }

    /// What ffmpeg reads on stdin: the concat list naming a URL with credentials; nil for every other source.
    func ffmpegInput(timeoutSeconds: Int) -> [UInt8]? {
        guard hasCredentials else { return nil }
        let quoted = "'" + location.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        var lines = ["ffconcat version 1.0", "file \(quoted)"]
        let options = inputArguments(timeoutSeconds: timeoutSeconds)
        for index in stride(from: 0, to: options.count - 1, by: 2) {
            lines.append("option \(options[index].dropFirst()) \(options[index + 1])")
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// The protocols the concat list's URL may use (ffmpeg refuses network protocols from a list by default).
    static let concatProtocols = "pipe,file,http,https,tcp,tls,crypto,rtsp,rtsps,rtp,srtp,udp,httpproxy"

    static func format(_ fps: Double) -> String {
        fps == fps.rounded() ? String(Int(fps)) : String(fps)
    }
}
