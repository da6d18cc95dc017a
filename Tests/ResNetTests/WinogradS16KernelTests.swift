import CKernels
import Testing

/// The 16-bit Winograd F(4x4, 3x3) kernel against a float convolution of the same u8 input, bias, residual and ReLU.
@Suite struct WinogradS16KernelTests {
    /// Runs the kernel and the float reference on one shape; returns (max, mean) absolute difference in output levels.
    static func compare(batch: Int, side: Int, channelsIn: Int, channelsOut: Int, signedResidual: Bool?) throws -> (Int, Double) {
        let (source, weights, bias, residual) = Int8WinogradKernelTests.testCase(
            seed: UInt64(side * 1000 + channelsIn + 7), batch: batch, side: side, channelsIn: channelsIn,
            channelsOut: channelsOut, signedResidual: signedResidual)
        let inputScale: Float = 20, outputScale: Float = 12, residualScale: Float = 10

        var transformed = [Int16](repeating: 0, count: 36 * channelsIn * channelsOut)
        var weightScales = [Float](repeating: 0, count: 36 * channelsOut)
        resnet18_winograd_s16_transform_weights(weights, Int32(channelsIn), Int32(channelsOut), &transformed, &weightScales)
        // No sum can leave int32, whatever the u8 input: at each point and output channel, the sum over the input
        // channels of |weight| x the point's largest transformed input (255 x the two B^T rows' sums of |entries|).
        let rowSum = [10, 10, 10, 6, 6, 10]
        var worst = 0, largestWeight = 0
        for p in 0..<36 {
            for o in 0..<channelsOut {
                var sum = 0
                for c in 0..<channelsIn {
                    let weight = Int(transformed[resnet18_winograd_s16_weight_index(
                        resnet18_winograd_s16_form(), Int32(p), Int32(c), Int32(o), Int32(channelsIn), Int32(channelsOut))])
                    sum += abs(weight)
                    largestWeight = max(largestWeight, abs(weight))
                }
                worst = max(worst, sum * 255 * rowSum[p / 6] * rowSum[p % 6])
            }
        }
        #expect(worst <= Int(Int32.max), "worst sum \(worst)")
        #expect(worst > Int(Int32.max) / 2 && largestWeight > 2048, "the scales leave precision unused: \(worst), \(largestWeight)")
        let dequantize = weightScales.map { outputScale / (inputScale * $0) }
        let levelsBias = bias.map { $0 * outputScale }
        var output = residual ?? [UInt8](repeating: 0, count: batch * side * side * channelsOut)
        let scratchBytes = resnet18_winograd_s16_scratch_bytes(Int32(batch), Int32(channelsIn), Int32(channelsOut), Int32(side), 2)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
        defer { scratch.deallocate() }
        let pinned = Int8WinogradKernelTests.self
        let (src, u, dq, b) = (pinned.pinned(source), pinned.pinned(transformed), pinned.pinned(dequantize), pinned.pinned(levelsBias))
        defer { src.deallocate(); u.deallocate(); dq.deallocate(); b.deallocate() }
        let status = output.withUnsafeMutableBufferPointer { out in
            (residual ?? []).withUnsafeBufferPointer { identity in
                var conv = resnet18_winograd_s16_conv(
                    batch: Int32(batch), channels_in: Int32(channelsIn), channels_out: Int32(channelsOut), side: Int32(side),
                    src: src.baseAddress, dst: out.baseAddress, weights: u.baseAddress, dequantize: dq.baseAddress, bias: b.baseAddress,
                    residual: residual == nil ? nil : UnsafeRawPointer(identity.baseAddress),
                    residual_signed: signedResidual == true ? 1 : 0, residual_scale: outputScale / residualScale,
                    scratch: scratch, threads: 2)
                return resnet18_winograd_s16_run(&conv)
            }
        }
        try #require(status == 0)
        return Int8WinogradKernelTests.levelsOff(output, source: source, batch: batch, side: side, channelsIn: channelsIn,
                                                 channelsOut: channelsOut, weights: weights, bias: bias, inputScale: inputScale,
                                                 outputScale: outputScale,
                                                 residual: residual.map { ($0, signedResidual == true, residualScale) })
    }

    // Batch 4 and up takes blocks of six tiles (16 here: two blocks of six and one of four); the AVX2 form takes
    // output blocks through every tile where the tiles are no more than the output channels (all but the last two
    // here, 100 tiles of 64 channels, in blocks). The AVX2 form's planes get a row more where they would be a multiple
    // of 16 lines (`plane_rows`): batch 2 at 8x8 and batch 4 at 6x6 by output blocks, and batch 1 at 40x40 in blocks
    // of 48 tiles, as layer 1 at batch 1.
    @Test("F(4x4) in 16 bits matches a float convolution within two levels: whole and partial tiles and blocks, u8 and s8 residuals",
          .enabled(if: resnet18_winograd_s16_supported() != 0, "needs AVX2 or AVX-512 VNNI"),
          arguments: [(2, 8, 64, 64, Bool?.none), (1, 7, 64, 128, Bool?.some(false)), (1, 10, 128, 64, Bool?.some(true)),
                      (4, 6, 64, 64, Bool?.some(false)), (4, 20, 64, 64, Bool?.some(true)), (1, 40, 64, 64, Bool?.some(true))])
    func matchesFloatConvolution(batch: Int, side: Int, channelsIn: Int, channelsOut: Int, signedResidual: Bool?) throws {
        let (largest, mean) = try Self.compare(batch: batch, side: side, channelsIn: channelsIn, channelsOut: channelsOut,
                                               signedResidual: signedResidual)
        print("s16 Winograd batch \(batch), \(side)x\(side), \(channelsIn)->\(channelsOut), residual \(signedResidual.map { $0 ? "s8" : "u8" } ?? "none"): max \(largest) levels, mean \(mean)")
        // Measured: at most 1 level off with 64 input channels (weights to ±1315), 2 with 128 (±657); 0.03-0.09 on
        // average, against 0.12-0.19 for the int8 F(2x2) kernel on the same kind of input.
        #expect(largest <= 2, "max \(largest) levels")
        #expect(mean < 0.15, "mean \(mean) levels")
    }
}
