import Foundation
import Monitoring
import Recognition
import ResNet
import Yams

/// `resnet18 serve --config FILE`: the cameras to watch (as Frigate users write them, `cameras: NAME: ...`) and
/// some of serve's options, in YAML. Unknown keys and bad values are refused with the file's line; flags given on
/// the command line override the file's options. Cameras from the file run like streams added through the API,
/// but the API cannot change or delete them (they are not stored in the database either: the file is their home).
///
/// ```yaml
/// serve: {host: 0.0.0.0, port: 8080, db: /var/lib/resnet18/history.sqlite, max_streams: 8, thumbnails: on}
/// cameras:
///   front-door:
///     source: rtsp://user:password@camera.local:554/stream
///     fps: 2
///     rules:
///       - {labels: [tabby, tiger cat], threshold: 0.6, window: 2/3, cooldown: 60, settle: 10}
///     webhook: {url: https://hooks.example/alerts, secret: s3cret}
/// ```
public struct ConfigFile: Sendable, Equatable {
    public let path: String
    /// The `serve:` options the file gives (nil: not given).
    public var host: String?
    public var port: Int?
    /// `grpc_port:` (as `serve --grpc-port`; 0 turns gRPC off).
    public var grpcPort: Int?
    public var publicURL: String?
    /// `heads:` (as `serve --head`, repeatable): files made by `resnet18 train`, relative to the config file's folder.
    public var heads: [String]?
    public var database: String?
    public var maxStreams: Int?
    public var streamMaxBackoffSeconds: Int?
    public var thumbnails: Bool?
    public var logLevel: String?
    /// `mqtt:` (as `serve --mqtt`, `--mqtt-prefix`, `--mqtt-discovery`, `--mqtt-ca`); nil: not given.
    public var mqtt: MQTTSettings?
    /// The cameras, in the file's order.
    public let cameras: [ConfiguredCamera]

    static let topKeys: Set<String> = ["serve", "mqtt", "cameras"]
    static let mqttKeys: Set<String> = ["url", "prefix", "discovery", "ca"]
    static let serveKeys: Set<String> = ["host", "port", "grpc_port", "public_url", "heads", "db", "max_streams", "stream_max_backoff", "thumbnails", "log_level"]
    static let cameraKeys: Set<String> = ["source", "fps", "enabled", "rules", "webhook"]
    static let ruleKeys: Set<String> = ["labels", "threshold", "window", "cooldown", "settle"]
    static let webhookKeys: Set<String> = ["url", "secret"]

    /// Reads and parses the file (its cameras' labels and sources are checked by `check`).
    public static func load(path: String) throws(ConfigFileError) -> ConfigFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        return try ConfigFile(yaml: text, path: path)
    }

    public init(yaml: String, path: String) throws(ConfigFileError) {
        self.path = path
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw .invalid(path: path, line: nil, message: "not valid YAML: \(error)")
        }
        guard let root else {
            cameras = []
            return
        }
        let reader = Reader(path: path)
        let top = try reader.mapping(root, "the file", keys: Self.topKeys)
        if let serve = top["serve"] {
            let options = try reader.mapping(serve, "serve", keys: Self.serveKeys)
            host = try options["host"].map { node throws(ConfigFileError) in try reader.string(node, "serve.host") }
            port = try options["port"].map { node throws(ConfigFileError) in try reader.int(node, "serve.port", in: 0...65535) }
            grpcPort = try options["grpc_port"].map { node throws(ConfigFileError) in try reader.int(node, "serve.grpc_port", in: 0...65535) }
            publicURL = try options["public_url"].map { node throws(ConfigFileError) in
                let url = try reader.string(node, "serve.public_url")
                if let problem = ServerConfiguration.publicURLProblem(url) { throw reader.error(node, "serve.public_url \(problem)") }
                return url
            }
            heads = try options["heads"].map { node throws(ConfigFileError) in
                guard let items = node.sequence else { throw reader.error(node, "serve.heads must be a list of head files ([gate.json, ...])") }
                var paths: [String] = []
                for item in items {
                    let text = try reader.string(item, "each of serve.heads")
                    paths.append(text.hasPrefix("/") ? text : (URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(text).path))
                }
                return paths
            }
            database = try options["db"].map { node throws(ConfigFileError) in try reader.string(node, "serve.db") }
            maxStreams = try options["max_streams"].map { node throws(ConfigFileError) in try reader.int(node, "serve.max_streams", in: 0...1000) }
            streamMaxBackoffSeconds = try options["stream_max_backoff"].map { node throws(ConfigFileError) in
                try reader.int(node, "serve.stream_max_backoff", in: 1...86_400)
            }
            thumbnails = try options["thumbnails"].map { node throws(ConfigFileError) in try reader.bool(node, "serve.thumbnails") }
            logLevel = try options["log_level"].map { node throws(ConfigFileError) in try reader.string(node, "serve.log_level") }
        }
        if let node = top["mqtt"] {
            let options = try reader.mapping(node, "mqtt", keys: Self.mqttKeys)
            guard let urlNode = options["url"] else { throw reader.error(node, "mqtt needs a url: mqtt[s]://[user:password@]host[:port]") }
            let url = try reader.string(urlNode, "mqtt.url")
            let prefix = try options["prefix"].map { node throws(ConfigFileError) in try reader.string(node, "mqtt.prefix") } ?? "resnet18"
            let discovery = try options["discovery"].map { node throws(ConfigFileError) in try reader.bool(node, "mqtt.discovery") } ?? false
            let authority = try options["ca"].map { node throws(ConfigFileError) in try reader.string(node, "mqtt.ca") }
            do {
                mqtt = try MQTTSettings(url: url, prefix: prefix, discovery: discovery, certificateAuthorityFile: authority)
            } catch {
                throw reader.error(urlNode, "mqtt: \(error.description)")
            }
        }
        var cameras: [ConfiguredCamera] = []
        if let node = top["cameras"] {
            guard let mapping = node.mapping else { throw reader.error(node, "cameras must be a mapping of camera names to cameras") }
            for (key, value) in mapping {
                guard let name = key.string else { throw reader.error(key, "a camera's name must be text") }
                do { try StreamRequest.validate(name: name) } catch { throw reader.error(key, "camera \(name): \(error)") }
                cameras.append(try reader.camera(name: name, value))
            }
        }
        self.cameras = cameras
    }

    /// Checks what only the engine and the machine can tell: each camera's labels, source, rules and webhook.
    /// The heads of `serve.heads`, read and checked (against `backbone` when given).
    public func loadHeads(backbone: WeightsIdentity? = nil) throws(ConfigFileError) -> [LinearHead] {
        var loaded: [LinearHead] = []
        for head in heads ?? [] {
            do { loaded.append(try LinearHead.load(path: head, backbone: backbone)) } catch {
                throw .invalid(path: path, line: nil, message: "serve.heads: \(error)")
            }
        }
        return loaded
    }

    public func check(labels: Labels, heads: [LinearHead] = [], maxPixels: Int = 40_000_000) throws(ConfigFileError) {
        for camera in cameras {
            do {
                _ = try camera.request.configuration(labels: labels, heads: heads, maxPixels: maxPixels, maxBackoff: .seconds(30))
            } catch {
                throw .invalid(path: path, line: camera.line, message: "camera \(camera.name): \(error.description)")
            }
        }
    }

    /// Walks the YAML tree, naming the line of whatever is wrong.
    struct Reader {
        let path: String

        func error(_ node: Node, _ message: String) -> ConfigFileError {
            .invalid(path: path, line: node.mark?.line, message: message)
        }

        /// A mapping whose keys are all among `keys`, by key.
        func mapping(_ node: Node, _ what: String, keys: Set<String>) throws(ConfigFileError) -> [String: Node] {
            guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping (key: value lines)") }
            var result: [String: Node] = [:]
            for (key, value) in mapping {
                guard let name = key.string, keys.contains(name) else {
                    throw error(key, "unknown key \"\(key.string ?? "?")\" in \(what): it takes \(keys.sorted().joined(separator: ", "))")
                }
                result[name] = value
            }
            return result
        }

        func string(_ node: Node, _ what: String) throws(ConfigFileError) -> String {
            guard node.scalar != nil, let text = node.string, !text.isEmpty else { throw error(node, "\(what) must be text") }
            return text
        }

        func int(_ node: Node, _ what: String, in range: ClosedRange<Int>) throws(ConfigFileError) -> Int {
            guard let value = node.int, range.contains(value) else {
                throw error(node, "\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \(node.string ?? "that")")
            }
            return value
        }

        func number(_ node: Node, _ what: String) throws(ConfigFileError) -> Double {
            guard let value = node.float, value.isFinite else { throw error(node, "\(what) must be a number, not \(node.string ?? "that")") }
            return value
        }

        func bool(_ node: Node, _ what: String) throws(ConfigFileError) -> Bool {
            guard let value = node.bool else { throw error(node, "\(what) must be true or false (or on, off), not \(node.string ?? "that")") }
            return value
        }

        func camera(name: String, _ node: Node) throws(ConfigFileError) -> ConfiguredCamera {
            let fields = try mapping(node, "camera \(name)", keys: ConfigFile.cameraKeys)
            guard let sourceNode = fields["source"] else { throw error(node, "camera \(name) needs a source (rtsp://..., http(s)://... or /dev/videoN)") }
            let source = try string(sourceNode, "camera \(name)'s source")
            let fps = try fields["fps"].map { node throws(ConfigFileError) in try number(node, "camera \(name)'s fps") }
            let enabled = try fields["enabled"].map { node throws(ConfigFileError) in try bool(node, "camera \(name)'s enabled") }
            var rules: [StreamRequest.Rule] = []
            if let rulesNode = fields["rules"] {
                guard let sequence = rulesNode.sequence else { throw error(rulesNode, "camera \(name)'s rules must be a list (- labels: ...)") }
                for ruleNode in sequence {
                    let rule = try mapping(ruleNode, "a rule of camera \(name)", keys: ConfigFile.ruleKeys)
                    guard let labelsNode = rule["labels"] else { throw error(ruleNode, "a rule of camera \(name) needs labels") }
                    let labels: [String]
                    if let list = labelsNode.sequence {
                        var names: [String] = []
                        for label in list { names.append(try string(label, "a label of camera \(name)")) }
                        labels = names
                    } else {
                        labels = [try string(labelsNode, "a label of camera \(name)")]
                    }
                    guard !labels.isEmpty else { throw error(labelsNode, "a rule of camera \(name) needs at least one label") }
                    rules.append(StreamRequest.Rule(
                        labels: labels,
                        threshold: try rule["threshold"].map { node throws(ConfigFileError) in try number(node, "threshold") },
                        window: try rule["window"].map { node throws(ConfigFileError) in try string(node, "window") },
                        cooldown: try rule["cooldown"].map { node throws(ConfigFileError) in try number(node, "cooldown") },
                        settle: try rule["settle"].map { node throws(ConfigFileError) in try number(node, "settle") }))
                }
            }
            var webhook: String?, secret: String?
            if let hookNode = fields["webhook"] {
                if hookNode.mapping != nil {
                    let hook = try mapping(hookNode, "camera \(name)'s webhook", keys: ConfigFile.webhookKeys)
                    guard let url = hook["url"] else { throw error(hookNode, "camera \(name)'s webhook needs a url") }
                    webhook = try string(url, "camera \(name)'s webhook url")
                    secret = try hook["secret"].map { node throws(ConfigFileError) in try string(node, "camera \(name)'s webhook secret") }
                } else {
                    webhook = try string(hookNode, "camera \(name)'s webhook")
                }
            }
            let request = StreamRequest(name: name, source: source, fps: fps, rules: rules.isEmpty ? nil : rules,
                                        webhook: webhook, webhookSecret: secret, enabled: enabled)
            return ConfiguredCamera(name: name, request: request, line: node.mark?.line)
        }
    }
}

/// A camera of the config file: a stream the API shows but does not change.
public struct ConfiguredCamera: Sendable, Equatable {
    public let name: String
    let request: StreamRequest
    /// Where it is in the file, for errors.
    let line: Int?
}

/// A config file that cannot be used: the message names the file and line and says what it takes.
public enum ConfigFileError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(path: String, reason: String)
    case invalid(path: String, line: Int?, message: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read the config file \(path): \(reason)"
        case let .invalid(path, line, message): "\(path)\(line.map { ":\($0)" } ?? ""): \(message)"
        }
    }
}
