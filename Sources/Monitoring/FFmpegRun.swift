import Foundation
import Imaging
import Synchronization

/// One ffmpeg process decoding a source into frames: started, read to the end of its output, then reaped.
/// A stream makes a new one for every (re)start.
final class FFmpegRun: Sendable {
    /// How a run ended.
    struct Outcome: Sendable {
        /// ffmpeg's exit status (128 + signal when killed).
        let status: Int32
        /// Its last lines on stderr: the reason, when it failed.
        let lastErrors: [String]
        /// Frames it delivered.
        let frames: Int
        /// A frame that could not be parsed, if that ended the run.
        let readError: MonitoringError?

        /// What happened, in words an operator acts on ("connection refused", "authentication failed: …"), then
        /// ffmpeg's own last line for the details.
        var summary: String {
            let detail = readError?.description ?? lastErrors.last
            var text = Self.cause(status: status, lastErrors: readError == nil ? lastErrors : [])
            if let detail { text += " (ffmpeg: \(detail))" }
            return text
        }

        /// The cause of an ended run, from ffmpeg's exit status and its last lines on stderr.
        static func cause(status: Int32, lastErrors: [String]) -> String {
            if status > 128 { return "ffmpeg was killed (signal \(status - 128))" }
            let text = lastErrors.joined(separator: "\n").lowercased()
            let causes: [(phrases: [String], words: String)] = [
                (["401 unauthorized", "authorization failed", "unauthorized"],
                 "authentication failed: wrong user name or password"),
                (["403 forbidden"], "access forbidden (403): the camera refuses this user"),
                (["404 not found", "server returned 404"], "not found (404): check the stream's path"),
                (["connection refused"], "connection refused: nothing listens at that address and port"),
                (["connection timed out", "timed out", "timeout"], "connection timed out: the camera does not answer"),
                (["no route to host", "network is unreachable"], "host unreachable: check the network"),
                (["name or service not known", "failed to resolve", "temporary failure in name resolution"],
                 "host name not found: check the address"),
                (["connection reset", "broken pipe", "end of file"], "the camera closed the connection"),
                (["no such file or directory"], "no such device or file"),
                (["permission denied"], "permission denied"),
                (["invalid data found", "could not find codec", "does not contain any stream"],
                 "not a video stream ffmpeg can decode"),
            ]
            if let match = causes.first(where: { $0.phrases.contains(where: text.contains) }) { return match.words }
            return status == 0 ? "stream ended" : "ffmpeg exited with status \(status)"
        }
    }

    let process: ChildProcess
    let queue: FrameQueue
    private let errorTail: ErrorTail
    private let delivered: Counter
    private let readError: ErrorBox

    /// Starts ffmpeg on `source`. Frames are taken with `next()`.
    init(source: VideoSource, fps: Double, maxPixels: Int, timeoutSeconds: Int, executable: String = "ffmpeg",
         queueCapacity: Int) throws(MonitoringError) {
        process = try ChildProcess(executable: executable,
                                   arguments: source.ffmpegArguments(fps: fps, timeoutSeconds: timeoutSeconds),
                                   standardInput: source.ffmpegInput(timeoutSeconds: timeoutSeconds))
        queue = FrameQueue(capacity: queueCapacity, dropsOldest: source.isLive)
        errorTail = ErrorTail(keep: 8)
        delivered = Counter()
        readError = ErrorBox()
        let (process, queue, errorTail, delivered, readError) = (process, queue, errorTail, delivered, readError)
        Thread.detachNewThread {
            var parser = PPMStreamParser(maxPixels: maxPixels)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            reading: while true {
                let count = chunk.withUnsafeMutableBytes { read(process.standardOutput, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                do {
                    let frames = try chunk.withUnsafeBytes { try parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    let time = Date()
                    for frame in frames {
                        guard queue.push(CapturedFrame(image: frame, time: time)) else { break reading }
                        delivered.increment()
                    }
                } catch {
                    readError.set(error as? MonitoringError ?? .badFrame("\(error)"))
                    process.terminate()
                    break
                }
            }
            queue.finish()
        }
        Thread.detachNewThread {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(process.standardError, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                errorTail.append(chunk[0..<count])
            }
        }
    }

    /// The process id of this ffmpeg (for operators and fault tests).
    var processID: Int32 { process.processID }

    /// The next frame, with when it was read; nil when ffmpeg's output ended.
    func next() async -> CapturedFrame? { await queue.next() }

    /// Frames dropped because classification fell behind a live source.
    var dropped: Int { queue.dropped }

    /// Stops ffmpeg (the stream was removed or the program is stopping).
    func stop() {
        queue.close()
        process.terminate()
    }

    /// Waits for ffmpeg to exit and says how it ended.
    func finish() async -> Outcome {
        let status = await process.waitForExit()
        // stderr may still be draining for a moment after exit.
        try? await Task.sleep(for: .milliseconds(50))
        return Outcome(status: status, lastErrors: errorTail.lines, frames: delivered.value, readError: readError.value)
    }
}

/// The last lines ffmpeg wrote on stderr.
final class ErrorTail: Sendable {
    private struct Lines {
        var partial: [UInt8] = []
        var kept: [String] = []
    }
    private let state = Mutex(Lines())
    let keep: Int

    init(keep: Int) { self.keep = keep }

    func append(_ bytes: ArraySlice<UInt8>) {
        state.withLock { state in
            state.partial += bytes
            while let newline = state.partial.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                let line = String(decoding: state.partial[..<newline], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                state.partial.removeSubrange(...newline)
                if !line.isEmpty {
                    state.kept.append(String(line.prefix(500)))
                    if state.kept.count > keep { state.kept.removeFirst() }
                }
            }
            if state.partial.count > 4096 { state.partial.removeAll() }
        }
    }

    var lines: [String] {
        state.withLock { state in
            let rest = String(decoding: state.partial, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return rest.isEmpty ? state.kept : Array((state.kept + [String(rest.prefix(500))]).suffix(keep))
        }
    }
}

/// Frames delivered, counted by the reading task and read by `finish`.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// The read error, set by the reading task and read by `finish`.
final class ErrorBox: Sendable {
    private let error = Mutex<MonitoringError?>(nil)
    func set(_ error: MonitoringError) { self.error.withLock { $0 = error } }
    var value: MonitoringError? { error.withLock { $0 } }
}
