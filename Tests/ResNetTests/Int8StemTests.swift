import CKernels
import Testing
import TestSupport
@testable import ResNet

/// The int8 stem kernel (quantise, 7x7 stride-2 convolution, bias, ReLU, 3x3 stride-2 max pooling in one pass).
@Suite struct Int8StemTests {
    /// The same integer arithmetic written out plainly: s8 input levels, s32 sums, one fused multiply-add to output
    /// units, ReLU, rounding to u8, then the max over each pooling window (stem outputs outside the map never win).
    static func reference(input: [Float], batch: Int, inputScale: Float, weights: [Int8], multipliers: [Float],
                          bias: [Float], channels: [Int]) -> [Int: [UInt8]] {
        let (out, pooled) = (StemReference.out, StemReference.pooled)
        let levels = input.map { Int32(max(-128, min(127, ($0 * inputScale).rounded(.toNearestOrEven)))) }
        var result: [Int: [UInt8]] = [:]
        for o in channels {
            var pooledValues = [UInt8](repeating: 0, count: batch * pooled * pooled)
            var stem = [UInt8](repeating: 0, count: out * out)
            for n in 0..<batch {
                let image = n * 3 * StemReference.side * StemReference.side, filter = o * 147
                for oy in 0..<out {
                    for ox in 0..<out {
                        var sum: Int32 = 0
                        StemReference.forEachTap(oy: oy, ox: ox) { pixel, tap in
                            sum += levels[image + pixel] * Int32(weights[filter + tap])
                        }
                        let value = bias[o].addingProduct(Float(sum), multipliers[o])
                        stem[oy * out + ox] = UInt8(max(0, min(255, value.rounded(.toNearestOrEven))))
                    }
                }
                StemReference.maxPool(stem, floor: 0, into: &pooledValues, at: n * pooled * pooled)
            }
            result[o] = pooledValues
        }
        return result
    }

    @Test("the stem kernel gives exactly the plain integer arithmetic's pooled u8 output on two photos",
          .enabled(if: resnet18_stem_int8_supported() != 0, "needs AVX-512 VNNI"))
    func kernelMatchesPlainArithmetic() throws {
        let photos = Array(Fixtures.photoNames.prefix(2))
        let input = try photos.flatMap { try Fixtures.inputTensor(for: $0) }
        var random = Int8WinogradKernelTests.Generator(state: 7)
        let weights = (0..<(64 * 3 * 49)).map { _ in Int8(Int(random.next() % 255) - 127) }
        // Sums reach about ±60 000 here; these multipliers put the outputs across u8's range, some of them saturating.
        let multipliers = (0..<64).map { _ in 0.001 + 0.003 * random.uniform() }
        let bias = (0..<64).map { _ in (random.uniform() - 0.5) * 60 }
        let inputScale: Float = 127 / 2.64

        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_INT8_WEIGHT_BYTES))
        var compensation = [Int32](repeating: 0, count: 64)
        resnet18_stem_int8_pack_weights(weights, packed.pointer.assumingMemoryBound(to: Int8.self), &compensation)
        #expect(compensation[5] == 128 * weights[(5 * 147)..<(6 * 147)].reduce(Int32(0)) { $0 + Int32($1) })
        let scratch = AlignedBuffer(byteCount: resnet18_stem_int8_scratch_bytes(2, 2))
        var output = [UInt8](repeating: 0xAA, count: 2 * 56 * 56 * 64)
        let pinned = Int8WinogradKernelTests.self
        let (source, c, m, b) = (pinned.pinned(input), pinned.pinned(compensation), pinned.pinned(multipliers), pinned.pinned(bias))
        defer { source.deallocate(); c.deallocate(); m.deallocate(); b.deallocate() }
        let status = output.withUnsafeMutableBufferPointer { output in
            var stem = resnet18_stem_int8(
                batch: 2, src: source.baseAddress, input_scale: inputScale,
                weights: UnsafePointer(packed.pointer.assumingMemoryBound(to: Int8.self)), compensation: c.baseAddress,
                multiplier: m.baseAddress, bias: b.baseAddress, dst: output.baseAddress, scratch: scratch.pointer, threads: 2)
            return resnet18_stem_int8_run(&stem)
        }
        #expect(status == 0)

        // Every fourth output channel (the plain loops are slow in a debug build), over both photos.
        let channels = Array(stride(from: 1, to: 64, by: 4))
        let expected = Self.reference(input: input, batch: 2, inputScale: inputScale, weights: weights,
                                      multipliers: multipliers, bias: bias, channels: channels)
        var mismatches = 0, zeros = 0, saturated = 0
        for o in channels {
            for pixel in 0..<(2 * 56 * 56) {
                let value = output[pixel * 64 + o]
                if value != expected[o]![pixel] { mismatches += 1 }
                if value == 0 { zeros += 1 } else if value == 255 { saturated += 1 }
            }
        }
        print("int8 stem kernel: \(mismatches) mismatches in \(channels.count * 2 * 56 * 56) outputs (\(zeros) zero, \(saturated) saturated)")
        #expect(mismatches == 0)
        // The case is not degenerate: the ReLU and the saturation both happen, and most values are neither.
        #expect(zeros > 0 && saturated > 0 && zeros + saturated < channels.count * 2 * 56 * 56 / 2)
    }

    @Test("the int8 plan runs the stem as one step, with the logits of oneDNN's quantise, convolution and pooling",
          .enabled(if: resnet18_stem_int8_supported() != 0, "needs AVX-512 VNNI"))
    func planMatchesOneDNNStem() throws {
        let options = EngineOptions(threads: 2, precision: .int8, quantization: Int8Tests.parameters)
        var oneDNNOptions = options
        oneDNNOptions.ownStem = false
        let own = try ResNet18Engine(weights: Int8Tests.weights, options: options)
        let oneDNN = try ResNet18Engine(weights: Int8Tests.weights, options: oneDNNOptions)
        let ownSteps = try own.prepare(batch: 1), oneDNNSteps = try oneDNN.prepare(batch: 1)
        #expect(ownSteps.first == "resnet18_stem_pool_int8:avx512_vnni", "\(ownSteps)")
        // oneDNN's: the quantising reorder, the convolution and the pooling, where the kernel is one step.
        #expect(oneDNNSteps.count == ownSteps.count + 2, "\(oneDNNSteps)")
        #expect(oneDNNSteps[1].contains("avx512_core_vnni"), "\(oneDNNSteps)")
        for (photo, input) in zip(Fixtures.photoNames, Int8Tests.inputs) {
            let logits = try own.logits(nchw: input, batch: 1)
            let reference = try oneDNN.logits(nchw: input, batch: 1)
            let difference = FidelityTests.maxAbsDifference(logits[...], reference)
            print("int8 stem, own kernel vs oneDNN's, \(photo): max abs \(difference)")
            // The same arithmetic; oneDNN adds the bias before its output scale, the kernel after, so a stem output
            // on a rounding edge can land one level apart.
            #expect(difference < 0.02, "\(photo): max abs \(difference)")
        }
    }
}
