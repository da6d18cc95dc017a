import Foundation
import Testing
import TestSupport

/// Numeric options no Int or Duration can hold (1e300, inf, 2^63-1): each is refused with a message naming the
/// flag, where the conversions made of them used to trap (the process died with SIGILL, no message).
@Suite(.serialized, .ownThread) struct HostileOptionTests {
    let weights = ["--weights", Fixtures.seededPth.path]

    @Test("serve refuses numeric options past what the server can convert, naming the flag, and does not start",
          arguments: [
              (["--max-upload-mb", "1e300"], "--max-upload-mb"),
              (["--max-upload-mb", "inf"], "--max-upload-mb"),
              (["--session-hours", "1e300"], "--session-hours"),
              (["--max-batch", "9223372036854775807"], "--max-batch"),
              (["--max-batch-delay-ms", "1e300"], "--max-batch-delay-ms"),
              (["--request-timeout", "1e300"], "--request-timeout"),
              (["--history-max-age-days", "1e300"], "--history-max-age-days"),
              (["--history-max-age-days", "inf"], "--history-max-age-days"),
              (["--stream-max-backoff", "9223372036854775807"], "--stream-max-backoff"),
              (["--max-pixels", "9223372036854775807"], "--max-pixels"),
              (["--max-pixels", "0"], "--max-pixels"),
          ])
    func serveRefusesHugeNumbers(option: [String], flag: String) async throws {
        let serve = try RunningCommand(["serve", "--port", "0", "--db", "none"] + option + weights)
        let said = await serve.wait(seconds: 60) { $0.stderr.contains(flag) && !$0.process.isRunning }
        let status = serve.stop()
        #expect(said, "\(option): status \(status), stderr \(serve.stderr)")
        #expect(status == 64, "\(option): status \(status) (64 is a usage error; 132/133 a trap), stderr \(serve.stderr)")
        #expect(!serve.stdout.contains("listening") && !serve.stderr.contains("listening"), "\(option)")
    }

    @Test("watch refuses a --max-backoff no Duration holds, naming the flag", arguments: ["1e300", "inf"])
    func watchRefusesHugeBackoff(value: String) async throws {
        let outcome = try await Command.run(["watch", "rtsp://127.0.0.1:1/x", "--max-backoff", value] + weights)
        #expect(outcome.status == 64, "status \(outcome.status), stderr \(outcome.stderr)")
        #expect(outcome.stderr.contains("--max-backoff"), "\(outcome.stderr)")
    }

    @Test("bench refuses a run count that gives no median or never ends, naming the flag", arguments: ["0", "99999999999"])
    func benchRefusesRunCounts(value: String) async throws {
        let outcome = try await Command.run(["bench", "--batch", "1", "--runs", value] + weights)
        #expect(outcome.status == 64, "status \(outcome.status) (132/133 a trap), stderr \(outcome.stderr)")
        #expect(outcome.stderr.contains("--runs must be from 1 to 1000000"), "\(outcome.stderr)")
    }

    @Test("bench refuses a batch no engine call can hold, naming the limit", arguments: ["99999999999", "1,2048"])
    func benchRefusesHugeBatch(value: String) async throws {
        let outcome = try await Command.run(["bench", "--batch", value, "--runs", "1"] + weights)
        #expect(outcome.status == 64, "status \(outcome.status) (132/133 a trap), stderr \(outcome.stderr)")
        #expect(outcome.stderr.contains("--batch") && outcome.stderr.contains("at most 1024"), "\(outcome.stderr)")
    }
}
