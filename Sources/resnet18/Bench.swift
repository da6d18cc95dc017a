import ArgumentParser
import Foundation
import Recognition
import Server
import ResNet

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure engine latency and throughput on synthetic input.",
        discussion: "Reports median and p90 milliseconds per batch, images per second, GFLOP/s (GOP/s in int8), and the share of the measured convolution peak (one direct 64→64 3x3 convolution at 56×56, batch 1, in the same precision: the best of several short measurements, as other work on the machine only slows it). Operations are counted as direct convolutions, so a plan with Winograd convolutions, which do fewer, can pass 100 %. When the share is beyond what the plan can reach, the peak was measured while the machine was busy, and no share is given.")

    @Option(help: "Images per engine call; several as 1,8.")
    var batch = "1"

    @Option(help: "Timed runs per batch size (after 5 warm-up runs).")
    var runs = 60

    @Flag(help: "One JSON object per batch size.")
    var json = false

    @Option(help: ArgumentHelp(
        "Engine calls run at once, each from its own thread on --threads threads (as serve --engine-calls): the median is of one call, images/s of all together.",
        valueName: "count"))
    var engineCalls = 1

    @Flag(help: "Also time each step of the network (each convolution, pooling, reorder and fc), every step waited for before the next: where a batch's time goes, and which implementation runs each step.")
    var layers = false

    @OptionGroup var engine: ExecutionOptions

    @Option(name: .customLong("similar-rows"), help: ArgumentHelp(
        "Instead of the engine: time /v1/history/{id}/similar's exact search over this many random rows (memory: 512 bytes a row).",
        valueName: "rows"))
    var similarRows: Int?

    func run() throws {
        if let similarRows { return try benchSimilar(rows: similarRows) }
        let batches = batch.split(separator: ",").compactMap { Int($0) }
        guard !batches.isEmpty, batches.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch takes positive numbers, as 1 or 1,8") }
        // The server's own bound on one engine call: far beyond it, a batch's tensors do not fit in memory.
        if let size = batches.first(where: { $0 > ServerConfiguration.largestBatch }) {
            throw ValidationError("--batch \(size) is too large: at most \(ServerConfiguration.largestBatch) images per engine call")
        }
        // A median needs one run at least; past a million the command would not end this year.
        guard (1...1_000_000).contains(runs) else { throw ValidationError("--runs must be from 1 to 1000000, not \(runs)") }
        do { try EngineOptions.checkCalls(engineCalls, flag: "--engine-calls") } catch { throw ValidationError(error.description) }
        let started = ContinuousClock.now
        var configuration = engine.configuration
        configuration.calls = engineCalls
        let recognizer = try engine.loadRecognizer(configuration)
        let engineReady = (ContinuousClock.now - started).milliseconds
        let precision = recognizer.engine.options.precision
        var peak = 0.0
        for _ in 0..<Self.peakMeasurements {
            peak = max(peak, try ConvolutionPeak.measure(threads: recognizer.engine.threads, precision: precision, runs: Self.peakRuns))
        }
        // Which plans run Winograd convolutions (oneDNN's or our own): their share of the peak may pass 100 %.
        var winogradPlans: [Int: Bool] = [:]
        for size in batches {
            winogradPlans[size] = try recognizer.engine.prepare(batch: size).contains { $0.lowercased().contains("wino") }
        }
        try recognizer.engine.finishPreparing(batches: batches)
        for size in batches {
            let winograd = winogradPlans[size] ?? false
            // A real photo's tensor would run the same arithmetic; the values do not change the timing.
            var random = SplitMix64(seed: UInt64(size))
            let input = (0..<(size * ResNet18Engine.inputCount)).map { _ in Float.random(in: -2...2, using: &random) }
            var times = try Self.timeCalls(recognizer.engine, input: input, batch: size, runs: runs)
            // Once more after the timed runs: the peak nearest to them in time, if the machine was quieter then.
            peak = max(peak, try ConvolutionPeak.measure(threads: recognizer.engine.threads, precision: precision, runs: Self.peakRuns))
            times.sort()
            let median = times[times.count / 2]
            let p90 = times[min(times.count - 1, Int(0.9 * Double(times.count - 1)))]
            let imagesPerSecond = Double(size * engineCalls) * 1000 / median
            let gflops = ResNet18Engine.flopsPerImage * imagesPerSecond / 1e9
            let share = Self.plausibleShare(gflops / peak, winograd: winograd)
            var report: [String: Any] = [
                "engine": "resnet18-\(recognizer.engine.options.precision.rawValue)",
                "batch": size,
                "threads": recognizer.engine.threads,
                "engine_calls": engineCalls,
                "median_ms": (median * 100).rounded() / 100,
                "p90_ms": (p90 * 100).rounded() / 100,
                "img_per_s": (imagesPerSecond * 10).rounded() / 10,
                "gflops": (gflops * 10).rounded() / 10,
                "conv_peak_gflops": (peak * 10).rounded() / 10,
                "share_of_peak": share.map { ($0 * 1000).rounded() / 1000 } ?? NSNull(),
                "winograd": winograd,
                "startup_ms": (engineReady * 10).rounded() / 10,
                "rss_mb": ((residentMegabytes() ?? 0) * 10).rounded() / 10,
                "weights_mb": megabytes(recognizer.engine.memory.weights),
                "arena_mb": megabytes(recognizer.engine.memory.arena),
                "scratchpad_mb": megabytes(recognizer.engine.memory.scratchpad),
                "weights": recognizer.weights.resultLabel,
            ]
            let unit = precision == .int8 ? "GOP/s" : "GFLOP/s"
            let peakText = String(format: "%.0f", peak) + " \(unit) \(precision.rawValue) conv peak"
            let shareText: String
            if let share {
                shareText = " = \(String(format: "%.0f", share * 100)) % of the \(peakText)" + (winograd ? " (Winograd's operations counted as direct)" : "")
            } else {
                shareText = "; no share of the peak: the machine was too busy to measure it (the \(peakText) came out below what the network reached)"
                report["peak_note"] = "the machine was too busy to measure the convolution peak"
            }
            let steps = layers ? try stepTimes(recognizer.engine, input: input, batch: size) : []
            if layers {
                report["layers"] = steps.map { step in
                    ["name": step.name, "implementation": step.implementation,
                     "median_ms": (step.medianMilliseconds * 1000).rounded() / 1000] as [String: Any]
                }
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("""
                    batch \(size) (\(engineCalls > 1 ? "\(engineCalls) calls at once, each on " : "")\(counted(recognizer.engine.threads, "thread")), \(precision.rawValue)): \
                    median \(String(format: "%.2f", median)) ms, p90 \(String(format: "%.2f", p90)) ms, \
                    \(String(format: "%.1f", imagesPerSecond)) images/s, \(String(format: "%.1f", gflops)) \(unit)\(shareText); \
                    \(report["rss_mb"]!) MB resident (weights \(report["weights_mb"]!), activations \(report["arena_mb"]!), \
                    scratchpad \(report["scratchpad_mb"]!))
                    """)
                if layers { printStepTable(steps) }
            }
        }
    }
}

extension Bench {
    /// Each call's milliseconds: 5 warm-up calls then `runs` timed ones on every lane of `engine` at once, each lane
    /// from a thread of its own (one lane: this thread).
    static func timeCalls(_ engine: ResNet18Engine, input: [Float], batch: Int, runs: Int) throws -> [Double] {
        let results = CallTimes()
        let runLane: @Sendable (Int) -> Void = { lane in
            var output = [Float](repeating: 0, count: batch * engine.classCount)
            do {
                for run in 0..<(runs + 5) {
                    let start = ContinuousClock.now
                    try input.withUnsafeBufferPointer { inputBuffer in
                        try output.withUnsafeMutableBufferPointer { outputBuffer in
                            try engine.logits(nchw: inputBuffer, batch: batch, into: outputBuffer, lane: lane)
                        }
                    }
                    if run >= 5 { results.append((ContinuousClock.now - start).milliseconds) }
                }
            } catch {
                results.fail(error)
            }
        }
        if engine.calls == 1 {
            runLane(0)
        } else {
            let finished = DispatchSemaphore(value: 0)
            for lane in 0..<engine.calls {
                Thread {
                    runLane(lane)
                    finished.signal()
                }.start()
            }
            for _ in 0..<engine.calls { finished.wait() }
        }
        return try results.times()
    }

    /// Short peak measurements, the best one kept: contention only ever slows a run, so the fastest is the truest.
    static let peakMeasurements = 3
    static let peakRuns = 10

    /// The share of the peak, or nil when it is beyond what the plan can reach: then the peak was measured slow.
    /// Direct convolutions cannot beat the direct-convolution peak by much (some layers run a little more
    /// efficiently than the 64→64 one: 150 % leaves room); Winograd F(4x4, 3x3) does a quarter of the multiplications
    /// of the 3x3 layers it runs, so up to about 400 % of the operations counted as direct.
    static func plausibleShare(_ share: Double, winograd: Bool) -> Double? {
        guard share.isFinite, share > 0 else { return nil }
        return share <= (winograd ? 4.0 : 1.5) ? share : nil
    }
}

extension Bench {
    /// Each step's median over as many runs as the batch's own measurement.
    func stepTimes(_ engine: ResNet18Engine, input: [Float], batch: Int) throws -> [ResNet18Engine.StepTime] {
        try input.withUnsafeBufferPointer { buffer in try engine.stepTimes(nchw: buffer, batch: batch, runs: runs) }
    }

    /// The steps as a table: median ms, share of their sum, name, implementation.
    func printStepTable(_ steps: [ResNet18Engine.StepTime]) {
        let total = steps.reduce(0) { $0 + $1.medianMilliseconds }
        let width = steps.map(\.name.count).max() ?? 0
        print("  step  median ms  share  " + "name".padding(toLength: width, withPad: " ", startingAt: 0) + "  implementation")
        for (index, step) in steps.enumerated() {
            let share = total > 0 ? step.medianMilliseconds / total * 100 : 0
            print(String(format: "  %4d  %9.3f  %4.1f%%  ", index, step.medianMilliseconds, share)
                  + step.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + step.implementation)
        }
        print(String(format: "  sum   %9.3f ms (each step waited for)", total))
    }
}

private func megabytes(_ bytes: Int) -> Double { (Double(bytes) / 1_048_576 * 10).rounded() / 10 }

extension Bench {
    /// The similarity search over `rows` random int8 rows: median and p90 of 21 queries (after 3 warm-ups).
    func benchSimilar(rows: Int) throws {
        guard (1...50_000_000).contains(rows) else { throw ValidationError("--similar-rows must be from 1 to 50000000, not \(rows)") }
        var generator = SplitMix64(seed: UInt64(rows))
        var matrix = EmbeddingMatrix(threads: engine.model.threads ?? ProcessInfo.processInfo.activeProcessorCount)
        matrix.reserve(rows: rows)
        let started = ContinuousClock.now
        // Eight random values from each 64-bit draw (-128 folded to -127, the codes' range).
        func randomRow() -> [Int8] {
            var values = [Int8](repeating: 0, count: EmbeddingCode.width)
            for block in stride(from: 0, to: values.count, by: 8) {
                var bits = generator.next()
                for offset in 0..<8 {
                    values[block + offset] = max(-127, Int8(truncatingIfNeeded: bits))
                    bits >>= 8
                }
            }
            return values
        }
        for row in 0..<rows { matrix.append(id: Int64(row + 1), randomRow()) }
        printError("similar: \(rows) random rows of \(EmbeddingCode.width) int8 values made in \(String(format: "%.1f", (ContinuousClock.now - started).milliseconds / 1000)) s")
        var times: [Double] = []
        for query in 0..<24 {
            let vector = randomRow()
            let start = ContinuousClock.now
            let found = matrix.nearest(to: vector, limit: 20)
            let milliseconds = (ContinuousClock.now - start).milliseconds
            if query >= 3 { times.append(milliseconds) }
            precondition(found.count == min(20, rows))
        }
        times.sort()
        let median = times[times.count / 2], p90 = times[Int(Double(times.count - 1) * 0.9)]
        if json {
            print(#"{"similar_rows":\#(rows),"median_ms":\#(median),"p90_ms":\#(p90),"threads":\#(engine.model.threads ?? ProcessInfo.processInfo.activeProcessorCount)}"#)
        } else {
            print(String(format: "similar over %d rows: median %.1f ms, p90 %.1f ms (limit 20, exact cosine)", rows, median, p90))
        }
    }
}

/// Call times gathered from the lanes' threads, or the first error one of them met.
private final class CallTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var gathered: [Double] = []
    private var failure: (any Error)?

    func append(_ milliseconds: Double) { lock.withLock { gathered.append(milliseconds) } }

    func fail(_ error: any Error) { lock.withLock { if failure == nil { failure = error } } }

    func times() throws -> [Double] {
        try lock.withLock {
            if let failure { throw failure }
            return gathered
        }
    }
}
