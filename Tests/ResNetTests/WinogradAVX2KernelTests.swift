import CKernels
import Testing

/// The AVX2 form of the fp32 Winograd kernel with its weights transformed once against the same kernel transforming
/// them as it runs: plans pick one or the other by batch size, so they must agree bit for bit.
@Suite(.enabled(if: resnet18_winograd_avx2_supported() != 0, "needs AVX2 and FMA"))
struct WinogradAVX2KernelTests {
    /// Numbers in [-scale, scale) from a fixed sequence.
    static func values(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
        var generator = Int8WinogradKernelTests.Generator(state: seed)
        return (0..<count).map { _ in (generator.uniform() * 2 - 1) * scale }
    }

    /// A 64-byte aligned copy (the kernel loads whole vectors), which the caller deallocates.
    static func pinned(_ values: [Float]) -> UnsafeMutableBufferPointer<Float> {
        Int8WinogradKernelTests.pinned(values, alignment: 64)
    }

    /// Runs one shape both ways (with the residual sum and the ReLU) and returns the two outputs, nChw8c.
    static func bothWays(batch: Int, channelsIn: Int, channelsOut: Int, side: Int)
        throws -> (asItRuns: [Float], once: [Float], source: [Float], weights: [Float], bias: [Float], residual: [Float]) {
        let source = values(batch * channelsIn * side * side, seed: 1, scale: 1)
        let weights = values(channelsOut * channelsIn * 9, seed: 2, scale: 0.05)
        let bias = values(channelsOut, seed: 3, scale: 0.5)
        let residual = values(batch * channelsOut * side * side, seed: 4, scale: 1)
        let (src, w, b) = (pinned(source), pinned(weights), pinned(bias))
        let transformed = pinned([Float](repeating: 0, count: resnet18_winograd_avx2_transformed_floats(Int32(channelsIn), Int32(channelsOut))))
        defer { src.deallocate(); w.deallocate(); b.deallocate(); transformed.deallocate() }
        resnet18_winograd_avx2_transform_weights(w.baseAddress, Int32(channelsIn), Int32(channelsOut), transformed.baseAddress)
        let (n, i, o, s) = (Int32(batch), Int32(channelsIn), Int32(channelsOut), Int32(side))
        let scratchBytes = max(resnet18_winograd_avx2_scratch_bytes(n, i, o, s, s, 2), resnet18_winograd_avx2_transformed_scratch_bytes(n, i, o, s, s, 2))
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { scratch.deallocate() }
        func run(once: Bool) throws -> [Float] {
            let dst = pinned(residual)
            defer { dst.deallocate() }
            var conv = resnet18_winograd_conv(batch: n, channels_in: i, channels_out: o, height: s, width: s, src: src.baseAddress,
                                              dst: dst.baseAddress, weights: w.baseAddress, bias: b.baseAddress, accumulate: 1,
                                              relu: 1, scratch: scratch, threads: 2)
            let status = once ? resnet18_winograd_avx2_run_transformed(&conv, transformed.baseAddress) : resnet18_winograd_avx2_run(&conv)
            try #require(status == 0)
            return Array(dst)
        }
        return (try run(once: false), try run(once: true), source, weights, bias, residual)
    }

    @Test("weights transformed once give the output of weights transformed as it runs, bit for bit (layers 1-4; by blocks of tiles and point by point)",
          arguments: [(1, 64, 56), (5, 128, 28), (2, 128, 28), (1, 256, 14), (3, 256, 14), (1, 512, 7)])
    func onceMatchesAsItRuns(shape: (batch: Int, channels: Int, side: Int)) throws {
        let result = try Self.bothWays(batch: shape.batch, channelsIn: shape.channels, channelsOut: shape.channels, side: shape.side)
        let differing = zip(result.asItRuns, result.once).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(differing) of \(result.once.count) outputs differ")
        // Not a kernel that writes nothing: the ReLU leaves a good share of positive outputs.
        #expect(result.once.filter { $0 > 0 }.count > result.once.count / 4)
    }

    /// One tile an image at side 4, so batches 1-14 give the products every row count's split (6 a call, then 1 to
    /// 9 rows in one or two calls of 1 to 6); both ways are held to the direct sums, as-it-runs by blocks of tiles.
    @Test("the convolution itself, both ways, against a direct one in double (every row count of the products' tail)",
          arguments: [(2, 64, 32, 9)] + (1...14).map { ($0, 64, 16, 4) })
    func matchesDirect(shape: (batch: Int, channelsIn: Int, channelsOut: Int, side: Int)) throws {
        let (batch, channelsIn, channelsOut, side) = shape
        let result = try Self.bothWays(batch: batch, channelsIn: channelsIn, channelsOut: channelsOut, side: side)
        // nChw8c activations, ABcd8b8a weights ([oc / 8][ic / 8][kh][kw][8 ic][8 oc]).
        func input(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Double {
            guard y >= 0 && y < side && x >= 0 && x < side else { return 0 }
            return Double(result.source[(((n * channelsIn / 8 + c / 8) * side + y) * side + x) * 8 + c % 8])
        }
        var worst = 0.0
        for n in 0..<batch {
            for oc in 0..<channelsOut {
                for y in 0..<side {
                    for x in 0..<side {
                        let at = (((n * channelsOut / 8 + oc / 8) * side + y) * side + x) * 8 + oc % 8
                        var sum = Double(result.bias[oc]) + Double(result.residual[at])
                        for ic in 0..<channelsIn {
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let w = result.weights[((((oc / 8) * (channelsIn / 8) + ic / 8) * 9 + ky * 3 + kx) * 8 + ic % 8) * 8 + oc % 8]
                                    sum += Double(w) * input(n, ic, y + ky - 1, x + kx - 1)
                                }
                            }
                        }
                        worst = max(worst, abs(max(sum, 0) - Double(result.once[at])), abs(max(sum, 0) - Double(result.asItRuns[at])))
                    }
                }
            }
        }
        #expect(worst < 1e-4, "max abs difference \(worst)")
    }
}
