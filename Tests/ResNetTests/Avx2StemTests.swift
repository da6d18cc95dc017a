import CKernels
import Testing
import TestSupport
@testable import ResNet

/// The fp32 AVX2 stem kernel (7x7 stride-2 convolution, bias, ReLU, 3x3 stride-2 max pooling in one pass, nChw8c out).
@Suite struct Avx2StemTests {
    /// The stem written out plainly in Double for channels `channels`: the convolution with zero padding, the bias,
    /// the ReLU, then the max over each pooling window (stem outputs outside the map never win). [channel: [n][56][56]]
    static func reference(input: [Float], batch: Int, weights: [Float], bias: [Float], channels: [Int]) -> [Int: [Float]] {
        let (out, pooled) = (StemReference.out, StemReference.pooled)
        var result: [Int: [Float]] = [:]
        for o in channels {
            var pooledValues = [Float](repeating: 0, count: batch * pooled * pooled)
            var stem = [Double](repeating: 0, count: out * out)
            for n in 0..<batch {
                let image = n * 3 * StemReference.side * StemReference.side, filter = o * 147
                for oy in 0..<out {
                    for ox in 0..<out {
                        var sum = Double(bias[o])
                        StemReference.forEachTap(oy: oy, ox: ox) { pixel, tap in
                            sum += Double(input[image + pixel]) * Double(weights[filter + tap])
                        }
                        stem[oy * out + ox] = max(0, sum)
                    }
                }
                var pooledDoubles = [Double](repeating: 0, count: pooled * pooled)
                StemReference.maxPool(stem, floor: 0, into: &pooledDoubles, at: 0)
                for index in 0..<(pooled * pooled) { pooledValues[n * pooled * pooled + index] = Float(pooledDoubles[index]) }
            }
            result[o] = pooledValues
        }
        return result
    }

    /// The first two fixture photos' input tensors, and random stem weights and bias (the same every run).
    static func twoPhotosAndRandomStem() throws -> (input: [Float], weights: [Float], bias: [Float]) {
        let photos = Array(Fixtures.photoNames.prefix(2))
        let input = try photos.flatMap { try Fixtures.inputTensor(for: $0) }
        var random = Int8WinogradKernelTests.Generator(state: 11)
        let weights = (0..<(64 * 3 * 49)).map { _ in (random.uniform() - 0.5) * 0.2 }
        let bias = (0..<64).map { _ in (random.uniform() - 0.5) * 2 }
        return (input, weights, bias)
    }

    /// A stem kernel's pooled output over two images (`value(image, channel, pixel)`) against `reference`'s, on every
    /// fifth output channel from `first` (the plain loops are slow in a debug build): the worst difference relative to
    /// max(1, |expected|), how many outputs are zero, and how many were compared.
    static func compareWithReference(input: [Float], weights: [Float], bias: [Float], first: Int,
                                     value: (Int, Int, Int) -> Float) -> (worst: Float, zeros: Int, count: Int) {
        let channels = Array(stride(from: first, to: 64, by: 5))
        let expected = reference(input: input, batch: 2, weights: weights, bias: bias, channels: channels)
        var worst: Float = 0, zeros = 0
        for o in channels {
            for n in 0..<2 {
                for pixel in 0..<(56 * 56) {
                    let got = value(n, o, pixel), wanted = expected[o]![n * 56 * 56 + pixel]
                    worst = max(worst, abs(got - wanted) / max(1, abs(wanted)))
                    if got == 0 { zeros += 1 }
                }
            }
        }
        return (worst, zeros, channels.count * 2 * 56 * 56)
    }

    @Test("the AVX2 stem kernel gives the plain arithmetic's pooled output, in nChw8c, on two photos",
          .enabled(if: resnet18_stem_avx2_supported() != 0, "needs AVX2 and FMA"))
    func kernelMatchesPlainArithmetic() throws {
        let (input, weights, bias) = try Self.twoPhotosAndRandomStem()

        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_AVX2_WEIGHT_FLOATS) * 4)
        resnet18_stem_avx2_pack_weights(weights, packed.pointer.assumingMemoryBound(to: Float.self))
        let scratch = AlignedBuffer(byteCount: resnet18_stem_avx2_scratch_bytes(2, 2))
        var output = [Float](repeating: .nan, count: 2 * 64 * 56 * 56)
        let pinned = Int8WinogradKernelTests.self
        let (source, b) = (pinned.pinned(input), pinned.pinned(bias))
        defer { source.deallocate(); b.deallocate() }
        let status = output.withUnsafeMutableBufferPointer { output in
            var stem = resnet18_stem_avx2(batch: 2, src: source.baseAddress,
                                          weights: UnsafePointer(packed.pointer.assumingMemoryBound(to: Float.self)),
                                          bias: b.baseAddress, dst: output.baseAddress, scratch: scratch.pointer, threads: 2)
            return resnet18_stem_avx2_run(&stem)
        }
        #expect(status == 0)

        let (worst, zeros, count) = Self.compareWithReference(input: input, weights: weights, bias: bias, first: 2) { n, o, pixel in
            output[((n * 8 + o / 8) * 56 * 56 + pixel) * 8 + o % 8]
        }
        print("AVX2 stem kernel: worst relative difference \(worst) over \(count) outputs (\(zeros) zero)")
        #expect(worst < 1e-5)
        // The case is not degenerate: the ReLU clips some outputs, and most are not clipped.
        #expect(zeros > 0 && zeros < count / 2)
        #expect(!output.contains { $0.isNaN }, "every output is written")
    }

    @Test("the fp32 plan runs the stem as one step on AVX2-only CPUs (the Winograd stem's AVX2 form), with the logits of oneDNN's convolution and pooling",
          .enabled(if: CPUSupport.avx2Only, "needs AVX2 without AVX-512 (with AVX-512 the AVX-512 form runs)"))
    func planMatchesOneDNNStem() throws {
        try Self.checkPlanMatchesOneDNNStem(implementation: "resnet18_stem_pool_wino_3x4:avx2")
    }

    /// The fp32 plan runs the stem as one `implementation` step a chunk (batch 1 and 3), where oneDNN's is two, and its
    /// logits over three photos are within 1e-4 of oneDNN's convolution and pooling.
    static func checkPlanMatchesOneDNNStem(implementation: String) throws {
        let options = EngineOptions(threads: 2)
        var oneDNNOptions = options
        oneDNNOptions.ownStem = false
        let own = try ResNet18Engine(weights: Int8Tests.weights, options: options)
        let oneDNN = try ResNet18Engine(weights: Int8Tests.weights, options: oneDNNOptions)
        for batch in [1, 3] {
            let ownSteps = try own.prepare(batch: batch), oneDNNSteps = try oneDNN.prepare(batch: batch)
            // Batch 3 runs the stem in chunks of two images and one: a step for each.
            let chunks = (batch + ExecutionPlan.stemChunk - 1) / ExecutionPlan.stemChunk
            #expect(ownSteps.filter { $0 == implementation }.count == chunks, "\(ownSteps)")
            // oneDNN's: the convolution and the pooling of each chunk, where the kernel is one step.
            #expect(oneDNNSteps.count == ownSteps.count + chunks, "\(oneDNNSteps)")
        }
        let input = Int8Tests.inputs.prefix(3).flatMap { $0 }
        let logits = try own.logits(nchw: input, batch: 3)
        let reference = try oneDNN.logits(nchw: input, batch: 3)
        let difference = FidelityTests.maxAbsDifference(logits[...], reference)
        print("fp32 stem, \(implementation) vs oneDNN's, batch 3: max abs \(difference)")
        #expect(difference < 1e-4, "max abs \(difference)")
    }
}
