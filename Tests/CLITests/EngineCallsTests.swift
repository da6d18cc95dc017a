import Foundation
import Testing
import TestSupport

/// `serve --engine-calls`: several engine calls at once, each on a thread of its own.
@Suite(.ownThread) struct EngineCallsTests {
    @Test("with two engine calls, concurrent requests are shared between both engine threads and answered alike")
    func twoCallsShareTheWork() async throws {
        let server = try await ServeProcess.start(["--engine-calls", "2", "--threads", "1", "--cache-entries", "0"])
        defer { server.stop() }
        #expect(server.printed.contains("engine: 2 calls at once, each on 1 thread,"), "\(server.printed)")
        let photo = try [UInt8](Data(contentsOf: Fixtures.images.appendingPathComponent("chelsea-q90.jpg")))
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask { try await offThePool { try ClientSocket(port: server.port).request(photo) } }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(answers.map { $0.prefix(120) })")
        let tops = Set(answers.map { answer in answer.components(separatedBy: "\r\n\r\n").last.map(Self.topIndex) ?? nil })
        #expect(tops.count == 1 && tops.first! != nil, "\(tops)")
        // With one thread a call, each engine thread computes its own calls: both have used the CPU.
        let seconds = Self.cpuSecondsByThreadName(pid: server.process.processIdentifier)
        #expect((seconds["resnet18.call0"] ?? 0) > 0 && (seconds["resnet18.call1"] ?? 0) > 0, "\(seconds)")
        // A request alone runs wide, on both lanes' threads, whichever lane takes it.
        let before = try Self.wideCalls(port: server.port)
        #expect(try await offThePool { try ClientSocket(port: server.port).request(photo) }.hasPrefix("HTTP/1.1 200"))
        #expect(try Self.wideCalls(port: server.port) == before + 1)
    }

    /// Engine calls that ran on 2 threads, from /metrics.
    static func wideCalls(port: Int) throws -> Int {
        let metrics = try ClientSocket(port: port).request("GET", "/metrics")
        return metrics.split(separator: "\n")
            .filter { $0.hasPrefix("resnet18_engine_calls_total{") && $0.contains("threads=\"2\"") }
            .compactMap { Int($0.split(separator: " ").last ?? "") }
            .reduce(0, +)
    }

    @Test("bench --engine-calls 2 times calls on both lanes at once and counts both lanes' images")
    func benchTwoCalls() async throws {
        let outcome = try await Command.run(["bench", "--engine-calls", "2", "--threads", "1", "--batch", "1", "--runs", "4", "--json",
                                             "--weights", Fixtures.seededPth.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let report = try #require(try Command.jsonLines(outcome.stdout).first)
        #expect(report["engine_calls"] as? Int == 2 && report["threads"] as? Int == 1, "\(report)")
        let median = try #require(report["median_ms"] as? Double)
        let imagesPerSecond = try #require(report["img_per_s"] as? Double)
        // Two calls of one image each in a median call's time.
        #expect(abs(imagesPerSecond - 2000 / median) <= 0.05 * imagesPerSecond, "\(report)")
        let refused = try await Command.run(["bench", "--engine-calls", "0", "--weights", Fixtures.seededPth.path])
        #expect(refused.status == 64 && refused.stderr.contains("--engine-calls"), "\(refused.stderr)")
    }

    @Test("serve refuses --engine-calls outside 1 to 256 and a --threads no CPU set holds, naming the flag",
          arguments: [["--engine-calls", "0"], ["--engine-calls", "9223372036854775807"], ["--threads", "0"],
                      ["--threads", "99999999999"]])
    func refusesBadCounts(option: [String]) async throws {
        let outcome = try await Command.run(["serve", "--port", "0", "--db", "none", "--weights", Fixtures.seededPth.path] + option)
        #expect(outcome.status == 64, "\(option): status \(outcome.status) (132/133 a trap), stderr \(outcome.stderr)")
        #expect(outcome.stderr.contains(option[0]), "\(outcome.stderr)")
    }

    /// The top class's index in a `/v1/classify` answer.
    static func topIndex(_ body: String) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let top = (object["top"] ?? (object["results"] as? [[String: Any]])?.first?["top"]) as? [[String: Any]] else { return nil }
        return top.first?["index"] as? Int
    }

    /// CPU seconds (user + system) of each thread of `pid`, by thread name.
    static func cpuSecondsByThreadName(pid: Int32) -> [String: Double] {
        let tasks = "/proc/\(pid)/task"
        var seconds: [String: Double] = [:]
        for tid in (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? [] {
            guard let name = try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "\(tasks)/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm) ": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            seconds[name.trimmingCharacters(in: .whitespacesAndNewlines), default: 0] += (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return seconds
    }
}
