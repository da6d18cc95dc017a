import Foundation

/// Where alerts go over MQTT and under which topics: one struct fed by `--mqtt`, `--mqtt-prefix` and
/// `--mqtt-discovery` (`watch` and `serve` alike).
public struct MQTTSettings: Sendable, Equatable, CustomStringConvertible {
    /// The URL as given, credentials included: only the client reads it.
    public let url: String
    public let useTLS: Bool
    public let host: String
    public let port: Int
    public let username: String?
    public let password: String?
    /// Topics start with it: `PREFIX/CAMERA/alert`.
    public let prefix: String
    /// Publish Home Assistant discovery messages (`homeassistant/sensor/resnet18_CAMERA/last_alert/config`).
    public let discovery: Bool
    /// `--mqtt-ca`: PEM certificates trusted for `mqtts://` besides the system's (a broker's own CA, self-signed).
    public let certificateAuthorityFile: String?

    /// Checks `mqtt://[user[:password]@]host[:port]` or `mqtts://...` (ports 1883 and 8883 by default) and the prefix.
    public init(url: String, prefix: String = "resnet18", discovery: Bool = false,
                certificateAuthorityFile: String? = nil) throws(MQTTError) {
        let usage = "--mqtt must be mqtt://[user:password@]host[:port] or mqtts://[user:password@]host[:port]"
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 2048, !trimmed.contains(where: { $0.isNewline || $0 == "\0" }),
              let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased() else {
            throw .badSetting("\(usage), got \"\(Redaction.url(String(trimmed.prefix(120))))\"")
        }
        guard scheme == "mqtt" || scheme == "mqtts" else {
            throw .badSetting("\(usage): \(scheme):// is not an MQTT URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .badSetting("\(usage): \(Redaction.url(trimmed)) names no host")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil else {
            throw .badSetting("\(usage): \(Redaction.url(trimmed)) has a path or query, which MQTT does not use (topics come from --mqtt-prefix)")
        }
        let port = components.port ?? (scheme == "mqtts" ? 8883 : 1883)
        guard (1...65535).contains(port) else { throw .badSetting("\(usage): port \(port) is not from 1 to 65535") }
        if components.password != nil, components.user?.isEmpty ?? true {
            throw .badSetting("\(usage): \(Redaction.url(trimmed)) has a password without a user name")
        }
        try Self.validate(prefix: prefix)
        if let path = certificateAuthorityFile {
            guard scheme == "mqtts" else { throw .badSetting("--mqtt-ca is for mqtts:// brokers only (TLS)") }
            guard let contents = FileManager.default.contents(atPath: path),
                  String(decoding: contents, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
                throw .badSetting("--mqtt-ca \(path): not a readable PEM file of certificates (-----BEGIN CERTIFICATE-----)")
            }
        }
        self.certificateAuthorityFile = certificateAuthorityFile
        self.url = trimmed
        self.useTLS = scheme == "mqtts"
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        self.port = port
        self.username = components.user.flatMap { $0.isEmpty ? nil : $0 }
        self.password = components.password
        self.prefix = prefix
        self.discovery = discovery
    }

    /// The URL with its password masked: what logs and the start-up summary show.
    public var redacted: String { Redaction.url(url) }

    public var description: String {
        "\(redacted)\(certificateAuthorityFile.map { " (also trusting \($0))" } ?? ""), topics \(prefix)/CAMERA/..., Home Assistant discovery \(discovery ? "on" : "off")"
    }

    /// A topic prefix: levels of printable characters, no wildcards, no empty level.
    static func validate(prefix: String) throws(MQTTError) {
        let levels = prefix.split(separator: "/", omittingEmptySubsequences: false)
        guard !prefix.isEmpty, prefix.utf8.count <= 200, levels.allSatisfy({ !$0.isEmpty }),
              !prefix.contains(where: { $0 == "+" || $0 == "#" || $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false }) else {
            throw .badSetting("--mqtt-prefix must be topic levels separated by / (e.g. resnet18 or home/cameras), without +, #, spaces or empty levels, got \"\(prefix.prefix(80))\"")
        }
    }
}
