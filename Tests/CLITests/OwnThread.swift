import Testing
import TestSupport

/// Runs each test of a suite on a serial dispatch queue of its own instead of the shared cooperative pool.
///
/// These tests block while they wait: for a child process to exit, for a blocking socket to be answered, for a
/// pipe to be read to its end. The pool has one thread per core (two on CI), and every suite of every target
/// shares it: a test blocked there for seconds holds up the others' tasks, the in-process servers of the server
/// suites among them. On a queue of its own a blocked test holds up only itself.
struct OwnThreadTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        // The suite itself runs nothing but its tests, and each of those gets a queue of its own.
        guard testCase != nil else { return try await function() }
        try await withTaskExecutorPreference(OwnQueueExecutor()) { try await function() }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Each test on a thread of its own (`OwnThreadTrait`).
    static var ownThread: Self { Self() }
}

@Suite(.ownThread) struct OwnThreadTests {
    @Test("a test of an .ownThread suite runs on its own queue, not on the shared pool")
    func runsOnItsOwnQueue() async {
        #expect(OwnQueueExecutor.isCurrent)
        try? await Task.sleep(for: .milliseconds(1))
        #expect(OwnQueueExecutor.isCurrent, "after a suspension too")
        #expect(await Task.detached { OwnQueueExecutor.isCurrent }.value == false, "a detached task is on the pool")
    }
}
