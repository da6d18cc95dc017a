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

        /// What happened, in a few words, for status lines.
        var summary: String {
            var text = status == 0 ? "ffmpeg ended" : status > 128 ? "ffmpeg was killed (signal \(status - 128))" : "ffmpeg exited with status \(status)"
            if let readError { text += ": \(readError.description)" } else if let last = lastErrors.last { text += ": \(last)" }
            return text
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
