#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A subprocess started with `posix_spawnp`, stdin from /dev/null, stdout and stderr on pipes this object owns.
///
/// Not Foundation's `Process`: its exit monitoring spins off the main thread on Linux, and a stream needs
/// plain file descriptors it can read on threads of its own.
final class ChildProcess: @unchecked Sendable {
    let processID: pid_t
    /// Read end of the child's stdout; closed by `deinit`.
    let standardOutput: Int32
    /// Read end of the child's stderr; closed by `deinit`.
    let standardError: Int32
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` (looked up in `PATH`) with `arguments`; with `standardInput`, the child reads those
    /// bytes on its stdin (a pipe, then end of file) instead of /dev/null: how a secret reaches it without
    /// appearing in its command line, which every local user can read in `ps`.
    init(executable: String, arguments: [String], standardInput: [UInt8]? = nil) throws(MonitoringError) {
        var output: [Int32] = [0, 0], errors: [Int32] = [0, 0], input: [Int32] = [-1, -1]
        guard pipe(&output) == 0 else { throw .cannotStart(executable, problem: String(cString: strerror(errno))) }
        guard pipe(&errors) == 0 else {
            close(output[0]); close(output[1])
            throw .cannotStart(executable, problem: String(cString: strerror(errno)))
        }
        if standardInput != nil {
            guard pipe(&input) == 0 else {
                for descriptor in output + errors { close(descriptor) }
                throw .cannotStart(executable, problem: String(cString: strerror(errno)))
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if standardInput != nil {
            posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        for descriptor in output + errors + input where descriptor >= 0 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, executable, &actions, nil, argv, environ)
        close(output[1])
        close(errors[1])
        if let standardInput {
            close(input[0])
            // A few hundred bytes, well under a pipe's buffer: written at once, then end of file.
            if status == 0 {
                standardInput.withUnsafeBytes { bytes in
                    var written = 0
                    while written < bytes.count {
                        let count = write(input[1], bytes.baseAddress! + written, bytes.count - written)
                        if count < 0 && errno == EINTR { continue }
                        guard count > 0 else { break }
                        written += count
                    }
                }
            }
            close(input[1])
        }
        guard status == 0 else {
            close(output[0]); close(errors[0])
            let problem = status == ENOENT
                ? "not found in PATH: install it (Debian: apt-get install ffmpeg, or scripts/setup.sh)"
                : String(cString: strerror(status))
            throw .cannotStart(executable, problem: problem)
        }
        processID = pid
        standardOutput = output[0]
        standardError = errors[0]
    }

    deinit {
        close(standardOutput)
        close(standardError)
    }

    /// Asks the child to stop (SIGTERM), then kills it (SIGKILL) if it has not exited after `grace`.
    func terminate(grace: Duration = .seconds(2)) {
        guard status == nil else { return }
        kill(processID, SIGTERM)
        let pid = processID
        Thread.detachNewThread { [self] in
            Thread.sleep(forTimeInterval: Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18)
            if status == nil { kill(pid, SIGKILL) }
        }
    }

    /// The exit status once known: the exit code, or 128 + the signal number.
    var status: Int32? {
        lock.lock(); defer { lock.unlock() }
        return exitStatus
    }

    /// Waits for the child to exit (on a thread of its own) and returns its status.
    func waitForExit() async -> Int32 {
        if let status { return status }
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                var raw: Int32 = 0
                while waitpid(processID, &raw, 0) == -1 && errno == EINTR {}
                // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: Glibc's macros are not imported into Swift.
                let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                lock.lock(); exitStatus = code; lock.unlock()
                continuation.resume(returning: code)
            }
        }
    }
}
