import Foundation

/// Runs blocking work (a child process to its end, a pipe read to EOF, a polling loop) on a thread of its own and
/// awaits it. Swift's async tasks share a pool of one thread per core: on a 2-core machine two tests blocked in a
/// child process would stall every in-process server, receiver and client of every other test (requests then miss
/// their deadlines, or a test waits forever for a server that cannot run).
public func offThePool<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// `offThePool` for work that cannot fail.
public func offThePool<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

extension Process {
    /// Waits for the process to exit without holding a pool thread (corelibs-foundation's `waitUntilExit` can spin
    /// forever off the main thread, so this polls).
    public func exited(pollMilliseconds: Int = 20) async {
        while isRunning { try? await Task.sleep(for: .milliseconds(pollMilliseconds)) }
    }
}
