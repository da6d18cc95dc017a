import ArgumentParser
import Foundation
import Recognition
import ResNet

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure engine latency and throughput on synthetic input.",
        discussion: "Reports median and p90 milliseconds per batch, images per second, GFLOP/s (GOP/s in int8), and the share of the measured convolution peak (one direct 64→64 3x3 convolution at 56×56, batch 1, in the same precision).")

    @Option(help: "Images per engine call; several as 1,8.")
    var batch = "1"

    @Option(help: "Timed runs per batch size (after 5 warm-up runs).")
    var runs = 60

    @Flag(help: "One JSON object per batch size.")
    var json = false

    @OptionGroup var engine: EngineOptionGroup

    func run() throws {
        let batches = batch.split(separator: ",").compactMap { Int($0) }
        guard !batches.isEmpty, batches.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch takes positive numbers, as 1 or 1,8") }
        let started = ContinuousClock.now
        let recognizer = try engine.loadRecognizer()
        let engineReady = (ContinuousClock.now - started).milliseconds
        let peak = try ConvolutionPeak.measure(threads: recognizer.engine.threads, precision: recognizer.engine.options.precision)
        try recognizer.engine.finishPreparing(batches: batches)
        for size in batches {
            // A real photo's tensor would run the same arithmetic; the values do not change the timing.
            var random = SystemRandomNumberGenerator()
            let input = (0..<(size * ResNet18Engine.inputCount)).map { _ in Float.random(in: -2...2, using: &random) }
            var output = [Float](repeating: 0, count: size * recognizer.engine.classCount)
            var times: [Double] = []
            for run in 0..<(runs + 5) {
                let start = ContinuousClock.now
                try input.withUnsafeBufferPointer { inputBuffer in
                    try output.withUnsafeMutableBufferPointer { outputBuffer in
                        try recognizer.engine.logits(nchw: inputBuffer, batch: size, into: outputBuffer)
                    }
                }
                if run >= 5 { times.append((ContinuousClock.now - start).milliseconds) }
            }
            times.sort()
            let median = times[times.count / 2]
            let p90 = times[min(times.count - 1, Int(0.9 * Double(times.count - 1)))]
            let imagesPerSecond = Double(size) * 1000 / median
            let gflops = ResNet18Engine.flopsPerImage * imagesPerSecond / 1e9
            let report: [String: Any] = [
                "engine": "resnet18-\(recognizer.engine.options.precision.rawValue)",
                "batch": size,
                "threads": recognizer.engine.threads,
                "median_ms": (median * 100).rounded() / 100,
                "p90_ms": (p90 * 100).rounded() / 100,
                "img_per_s": (imagesPerSecond * 10).rounded() / 10,
                "gflops": (gflops * 10).rounded() / 10,
                "conv_peak_gflops": (peak * 10).rounded() / 10,
                "share_of_peak": (gflops / peak * 1000).rounded() / 1000,
                "startup_ms": (engineReady * 10).rounded() / 10,
                "rss_mb": ((residentMegabytes() ?? 0) * 10).rounded() / 10,
                "weights_mb": megabytes(recognizer.engine.memory.weights),
                "arena_mb": megabytes(recognizer.engine.memory.arena),
                "scratchpad_mb": megabytes(recognizer.engine.memory.scratchpad),
                "weights": recognizer.weights.resultLabel,
            ]
            let unit = recognizer.engine.options.precision == .int8 ? "GOP/s" : "GFLOP/s"
            if json {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("""
                    batch \(size) (\(recognizer.engine.threads) threads, \(recognizer.engine.options.precision.rawValue)): \
                    median \(String(format: "%.2f", median)) ms, p90 \(String(format: "%.2f", p90)) ms, \
                    \(String(format: "%.1f", imagesPerSecond)) images/s, \(String(format: "%.1f", gflops)) \(unit) \
                    = \(String(format: "%.0f", gflops / peak * 100)) % of the \(String(format: "%.0f", peak)) \(unit) \
                    \(recognizer.engine.options.precision.rawValue) conv peak; \
                    \(report["rss_mb"]!) MB resident (weights \(report["weights_mb"]!), activations \(report["arena_mb"]!), \
                    scratchpad \(report["scratchpad_mb"]!))
                    """)
            }
        }
    }
}

private func megabytes(_ bytes: Int) -> Double { (Double(bytes) / 1_048_576 * 10).rounded() / 10 }
