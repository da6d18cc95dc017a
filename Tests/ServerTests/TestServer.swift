import Foundation
import Hummingbird
import Logging
import Recognition
import Server
import Storage
import TestSupport

/// Starts the real application on an ephemeral port and talks to it over HTTP (AsyncHTTPClient, several connections,
/// following redirects: `LiveServer`).
enum TestServer {
    /// The seeded fixture weights, loaded once for the whole test process.
    static let recognizer: Recognizer = {
        var configuration = RecognizerConfiguration()
        configuration.weightsPath = Fixtures.seededPth.path
        configuration.environment = [:]
        do {
            return try Recognizer.load(configuration)
        } catch {
            fatalError("cannot load \(Fixtures.seededPth.path): \(error)")
        }
    }()

    /// Defaults, port 0, changed by `change`.
    static func configuration(_ change: (inout ServerConfiguration) -> Void = { _ in }) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        // Answers wait for their history rows however loaded the machine (the fault suite sets its own wait).
        configuration.historyWaitSeconds = 120
        change(&configuration)
        return configuration
    }

    /// Runs `body` against a live server with this configuration, then shuts it down gracefully.
    static func run<Value: Sendable>(
        _ configuration: ServerConfiguration = configuration(),
        recognizer: Recognizer = recognizer,
        history: HistoryStore? = nil,
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        var logger = Logger(label: "resnet18.serve.test")
        logger.logLevel = .warning
        let server = RecognitionServer(recognizer: recognizer, configuration: configuration, logger: logger, history: history)
        return try await LiveServer.run(server, followRedirects: true, body)
    }
}

/// A `multipart/form-data` body built by hand, as a browser or curl sends it.
struct MultipartBody {
    static let boundary = "----resnet18-test-boundary"
    private var bytes: [UInt8] = []

    var contentType: String { "multipart/form-data; boundary=\(Self.boundary)" }

    mutating func addFile(field: String, filename: String, contentType: String = "application/octet-stream", _ data: [UInt8]) {
        bytes += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8)
        bytes += data
        bytes += Array("\r\n".utf8)
    }

    mutating func addField(_ field: String, value: String) {
        bytes += Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"\r\n\r\n\(value)\r\n".utf8)
    }

    func finished() -> ByteBuffer {
        ByteBuffer(bytes: bytes + Array("--\(Self.boundary)--\r\n".utf8))
    }

    /// One file in the field `file`.
    static func file(_ data: [UInt8], filename: String = "photo.png", field: String = "file") -> (ByteBuffer, HTTPFields) {
        var body = MultipartBody()
        body.addFile(field: field, filename: filename, data)
        return (body.finished(), [.contentType: body.contentType])
    }
}

/// Fixture files and PyTorch's answers for them.
enum Photos {
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent(name)))
    }

    /// PyTorch's top-5 for a fixture photo, from reference.json.
    static func referenceTop5(_ name: String) throws -> [(index: Int, label: String, probability: Double)] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.reference)) as! [String: Any]
        let entry = (json["references"] as! [[String: Any]]).first { $0["image"] as? String == name }!
        return (entry["top5"] as! [[String: Any]]).map {
            ($0["index"] as! Int, $0["label"] as! String, $0["probability"] as! Double)
        }
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var object: [String: Any] {
        get throws { try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [String: Any] }
    }

    /// The body as a JSON array.
    var array: [[String: Any]] {
        get throws { try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [[String: Any]] }
    }

    var text: String { String(buffer: body) }
}

extension TestClientProtocol {
    /// Whether a good request is still answered (after a bad one).
    func stillServes() async throws -> Bool {
        let response = try await execute(uri: "/v1/classify", method: .post, headers: [.contentType: "image/jpeg"],
                                         body: ByteBuffer(bytes: try Photos.bytes("chelsea-q90.jpg")))
        return response.status == .ok
    }
}
