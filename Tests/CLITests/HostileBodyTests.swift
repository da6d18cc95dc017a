import Foundation
import Testing
import TestSupport

/// `resnet18 serve` as a separate process, against request bodies and headers whose numbers, sizes and nesting
/// come from an attacker: each gets a clear 4xx naming what is wrong, and the process keeps serving.
@Suite(.serialized, .ownThread) struct HostileBodyTests {
    static func infer(_ server: ServeProcess, _ body: String) throws -> String {
        try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }

    static func expectServing(_ server: ServeProcess) throws {
        #expect(server.process.isRunning)
        let live = try ClientSocket(port: server.port).request("GET", "/v2/health/live")
        #expect(HostileRequestTests.status(live) == 200, "\(live.prefix(200))")
    }

    @Test("KServe tensor data nested hundreds of lists deep is 400 naming the nesting, and the server keeps serving",
          arguments: [9, 500])
    func deeplyNestedData(depth: Int) async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let data = String(repeating: "[", count: depth) + "0.5" + String(repeating: "]", count: depth)
        // Many such values in one body: each one cost seconds of CPU and hundreds of MB before the depth was bounded.
        let body = #"{"inputs":[{"name":"input","shape":[1,3,224,224],"datatype":"FP32","data":["#
            + Array(repeating: data, count: 50).joined(separator: ",") + "]}]}"
        let answer = try Self.infer(server, body)
        #expect(HostileRequestTests.status(answer) == 400, "\(answer.prefix(400))")
        #expect(HostileRequestTests.body(answer).contains("nested"), "\(answer.prefix(400))")
        #expect(HostileRequestTests.body(answer).contains("inputs[0].data"), "\(answer.prefix(400))")
        try Self.expectServing(server)
    }

    @Test("KServe tensor data nested 100,000 lists deep (past JSONDecoder's own limit, 512) is 400, and the server keeps serving")
    func nestedPastTheParser() async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let data = String(repeating: "[", count: 100_000) + "0.5" + String(repeating: "]", count: 100_000)
        let answer = try Self.infer(server, #"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":\#(data)}]}"#)
        #expect(HostileRequestTests.status(answer) == 400, "\(answer.prefix(400))")
        try Self.expectServing(server)
    }

    @Test("JSON numbers too large for the field they fill are 400 naming the field, and the server keeps serving",
          arguments: [
              (#"{"inputs":[{"name":"input","shape":[1e40,3,224,224],"datatype":"FP32","data":[1]}]}"#, "at .inputs[0].shape[0]"),
              (#"{"inputs":[{"name":"input","shape":[1,18446744073709551616],"datatype":"FP32","data":[1]}]}"#, "at .inputs[0].shape[1]"),
              (#"{"inputs":[{"name":"input","shape":[1.5],"datatype":"FP32","data":[1]}]}"#, "at .inputs[0].shape[0]"),
              (#"{"inputs":[{"name":"input","shape":[1,3,224,224],"datatype":"FP32","data":[0.5,-1e40]}]}"#, "at .inputs[0].data[1]"),
              (#"{"inputs":[{"name":"input","shape":[1,3,224,224],"datatype":"FP32","data":[[0.5],[1e39]]}]}"#, "at .inputs[0].data[1][0]"),
              (#"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["AAAA"]}],"#
                  + #""outputs":[{"name":"logits","parameters":{"classification":1e40}}]}"#, "at .outputs[0].parameters.classification"),
              (#"{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["AAAA"]}],"#
                  + #""outputs":[{"name":"logits","parameters":{"classification":-9223372036854775809}}]}"#, "at .outputs[0].parameters.classification"),
          ])
    func oversizedNumbers(body: String, field: String) async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let answer = try Self.infer(server, body)
        #expect(HostileRequestTests.status(answer) == 400, "\(answer.prefix(400))")
        #expect(HostileRequestTests.body(answer).contains(field), "\(answer.prefix(400))")
        try Self.expectServing(server)
    }

    @Test("a Content-Length no integer holds, or a negative one, is refused or cut off, and the server keeps serving",
          arguments: ["99999999999999999999999999", "9223372036854775807", "9223372036854775808", "-1", "1e9"])
    func hugeContentLength(length: String) async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let socket = try ClientSocket(port: server.port)
        try socket.send(Array(("POST /v2/models/resnet18/infer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(length)\r\n\r\n{\"inputs\":[]}").utf8))
        // NIO's HTTP parser answers 400 or, for some lengths (2^63), closes the connection without a word.
        let answer = (try? await socket.receiveUntilClosed()) ?? ""
        #expect(answer.isEmpty || (400...499).contains(HostileRequestTests.status(answer)), "\(answer.prefix(400))")
        try Self.expectServing(server)
    }

    @Test("multipart bodies with boundaries of odd, extreme or missing length are answered 4xx or read, never a crash",
          arguments: [1, 3, 69, 70, 71, 201])
    func multipartBoundaryLengths(length: Int) async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let boundary = String(repeating: "b", count: length)
        let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n\r\n"
        // Whole, cut inside the closing delimiter, cut after the part's headers, and a delimiter of odd length only.
        let bodies = [
            head + "not an image\r\n--\(boundary)--\r\n",
            head + "not an image\r\n--\(boundary.prefix(length / 2 + 1))",
            head,
            "--\(boundary.prefix(length / 2 + 1))",
        ]
        for body in bodies {
            let answer = try ClientSocket(port: server.port).request(
                "POST", "/v1/classify", headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"], body: Array(body.utf8))
            #expect((400...499).contains(HostileRequestTests.status(answer)), "\(answer.prefix(400))")
        }
        try Self.expectServing(server)
    }

    @Test("a BYTES element that is an object without \"b64\" is 400 naming it, not skipped")
    func objectWithoutBase64() async throws {
        let server = try await ServeProcess.start([])
        defer { server.stop() }
        let answer = try Self.infer(server, #"{"inputs":[{"name":"image","shape":[2],"datatype":"BYTES","data":[{"base64":"AAAA"},"AAAA"]}]}"#)
        #expect(HostileRequestTests.status(answer) == 400, "\(answer.prefix(400))")
        #expect(HostileRequestTests.body(answer).contains("b64"), "\(answer.prefix(400))")
        #expect(HostileRequestTests.body(answer).contains("at .inputs[0].data[0]"), "\(answer.prefix(400))")
        try Self.expectServing(server)
    }
}
