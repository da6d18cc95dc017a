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

/// Runs async work whose timing matters (a download with a read timeout) on a serial queue of its own rather than
/// the shared pool. The parallel tests' synchronous bodies (the engine and imaging checks) hold the pool's threads
/// for seconds each: a task resumed behind a queue of them can wait longer than a client's read timeout, and the
/// download under test then fails as "truncated" although the server sent every byte.
public func awayFromThePool<Value: Sendable>(_ work: () async throws -> Value) async throws -> Value {
    try await withTaskExecutorPreference(OwnQueueExecutor()) { try await work() }
}

/// A task executor that runs its jobs, one at a time, on a dispatch queue of its own (a thread outside the
/// cooperative pool's per-core limit).
public final class OwnQueueExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "resnet18.tests.own-queue")
    private static let marker = DispatchSpecificKey<Bool>()

    public init() {
        queue.setSpecific(key: Self.marker, value: true)
    }

    /// Whether the caller runs on the queue of one of these executors.
    public static var isCurrent: Bool { DispatchQueue.getSpecific(key: marker) == true }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
