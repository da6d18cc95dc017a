import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Server
import ServiceLifecycle

/// What a request to the live server answered.
struct TestResponse: Sendable {
    let head: HTTPResponse
    var status: HTTPResponse.Status { head.status }
    var headers: HTTPFields { head.headerFields }
    let body: ByteBuffer
}

/// A client of the live server, as the tests use it.
protocol TestClientProtocol: Sendable {
    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse
    /// The port the server listens on.
    var port: Int? { get }
}

extension TestClientProtocol {
    /// Sends a request and returns `check`'s result on the answer (the answer itself by default).
    @discardableResult func execute<Return>(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        testCallback check: @escaping (TestResponse) async throws -> Return = { $0 }
    ) async throws -> Return {
        try await check(try await executeRequest(uri: uri, method: method, headers: headers, body: body))
    }
}

/// Runs the real application on an ephemeral port and talks to it over HTTP with AsyncHTTPClient.
///
/// HummingbirdTesting's clients give each request a fixed 15 s (20 s) and no way to change it; on a loaded 2-core CI
/// machine, with the CLI suites' process storms beside a test that queues 16 recognitions on one image at a time, a
/// request could wait that long and fail a test that was right. Here a request waits up to `patience`; a server
/// that hangs still fails the test, later.
enum LiveServer {
    static let patience: TimeAmount = .seconds(180)

    /// Serves `server`'s application until `body` returns, then shuts it down gracefully. `followRedirects` as a
    /// browser's fetch does (the API suites), or not, to see the 303s themselves (the login suites).
    static func run<Value: Sendable>(_ server: RecognitionServer, followRedirects: Bool,
                                     _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let (ports, listening) = AsyncStream<Int>.makeStream()
        let application = server.makeApplication(onListening: { port in
            listening.yield(port)
            listening.finish()
        })
        let logger = Logger(label: "resnet18.serve.test")
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let services = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger))
            group.addTask {
                defer { listening.finish() }  // a server that cannot start ends the wait for its port
                try await services.run()
            }
            guard let port = await ports.first(where: { _ in true }) else {
                try await group.next()  // rethrows why it did not start
                throw LiveServerError.didNotStart
            }
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
                redirectConfiguration: followRedirects ? .follow(max: 5, allowCycles: false) : .disallow))
            let patient = PatientClient(client: client, port: port)
            do {
                let value = try await body(patient)
                await services.triggerGracefulShutdown()
                try await client.shutdown()
                return value
            } catch {
                await services.triggerGracefulShutdown()
                try await client.shutdown()
                throw error
            }
        }
    }
}

enum LiveServerError: Error { case didNotStart }

private struct PatientClient: TestClientProtocol {
    let client: HTTPClient
    let port: Int?

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var request = HTTPClientRequest(url: "http://localhost:\(port!)\(uri.first == "/" ? "" : "/")\(uri)")
        request.method = HTTPMethod(rawValue: method.rawValue)
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        request.body = body.map { .bytes($0) }
        let response = try await client.execute(request, deadline: .now() + LiveServer.patience)
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let head = HTTPResponse(status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
                                headerFields: fields)
        return TestResponse(head: head, body: try await response.body.collect(upTo: .max))
    }
}
