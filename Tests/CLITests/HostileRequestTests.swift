import Foundation
import Testing
import TestSupport

/// `resnet18 serve` as a separate process, against requests an attacker or a careless client sends: each gets a
/// clear answer with the right status, and the process keeps serving.
@Suite(.serialized) struct HostileRequestTests {
    /// The status line's code and the body of a raw HTTP answer.
    static func status(_ answer: String) -> Int {
        Int(answer.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? -1
    }

    static func body(_ answer: String) -> String {
        answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
    }

    @Test("a KServe FP32 shape whose element count overflows is 400 naming the shape, and the server keeps serving",
          arguments: [
              "[100000000000000,3,224,224]", "[9223372036854775807,3,224,224]", "[-1,3,224,224]",
          ])
    func overflowingShape(shape: String) throws {
        let server = try ServeProcess([])
        defer { server.stop() }
        let body = #"{"inputs":[{"name":"input","shape":\#(shape),"datatype":"FP32","data":[0.5,0.5]}]}"#
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(Self.status(answer) == 400, "\(answer.prefix(400))")
        #expect(Self.body(answer).contains("shape"), "\(answer.prefix(400))")
        #expect(server.process.isRunning)
        let live = try ClientSocket(port: server.port).request("GET", "/v2/health/live")
        #expect(Self.status(live) == 200, "\(live.prefix(200))")
    }

    @Test("a KServe BYTES shape whose element count overflows is 400, and the server keeps serving")
    func overflowingBytesShape() throws {
        let server = try ServeProcess([])
        defer { server.stop() }
        let body = #"{"inputs":[{"name":"image","shape":[4294967296,4294967296],"datatype":"BYTES","data":["AAAA"]}]}"#
        let answer = try ClientSocket(port: server.port).request(
            "POST", "/v2/models/resnet18/infer", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(Self.status(answer) == 400, "\(answer.prefix(400))")
        #expect(server.process.isRunning)
        #expect(Self.status(try ClientSocket(port: server.port).request("GET", "/v2/health/live")) == 200)
    }
}
