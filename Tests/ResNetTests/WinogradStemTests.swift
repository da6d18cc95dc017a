import CKernels
import Testing
import TestSupport
@testable import ResNet

/// The fp32 Winograd stem kernel: the 7x7 stride-2 convolution as Winograd F(3x3, 4x4) over the input's phases, bias,
/// ReLU and the 3x3 stride-2 max pooling in one pass, nChw16c out (AVX-512) or nChw8c (its AVX2 form).
@Suite struct WinogradStemTests {
    @Test("the Winograd stem kernel gives the plain arithmetic's pooled output, in nChw16c, on two photos",
          .enabled(if: resnet18_stem_winograd_supported() != 0, "needs AVX-512F"))
    func kernelMatchesPlainArithmetic() throws {
        try Self.checkAgainstPlainArithmetic(form: "AVX-512", lanes: 16) { resnet18_stem_winograd_run(&$0) }
    }

    @Test("the Winograd stem kernel's AVX2 form gives the plain arithmetic's pooled output, in nChw8c, on two photos",
          .enabled(if: resnet18_stem_winograd_avx2_supported() != 0, "needs AVX2 and FMA"))
    func avx2FormMatchesPlainArithmetic() throws {
        try Self.checkAgainstPlainArithmetic(form: "AVX2", lanes: 8) { resnet18_stem_winograd_avx2_run(&$0) }
    }

    /// Runs one form of the kernel (`run`, writing nChw`lanes`c) on two photos with a random stem and checks every
    /// pooled output against the plain arithmetic in double.
    static func checkAgainstPlainArithmetic(form: String, lanes: Int,
                                            run: (inout resnet18_stem_winograd) -> Int32) throws {
        let (input, weights, bias) = try Avx2StemTests.twoPhotosAndRandomStem()

        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS) * 4)
        resnet18_stem_winograd_pack_weights(weights, packed.pointer.assumingMemoryBound(to: Float.self))
        let scratch = AlignedBuffer(byteCount: resnet18_stem_winograd_scratch_bytes(2, 2))
        let outputCount = 2 * 64 * 56 * 56
        let output = AlignedBuffer(byteCount: outputCount * 4)
        let outputFloats = output.pointer.bindMemory(to: Float.self, capacity: outputCount)
        outputFloats.initialize(repeating: .nan, count: outputCount)
        let pinned = Int8WinogradKernelTests.self
        let (source, b) = (pinned.pinned(input), pinned.pinned(bias))
        defer { source.deallocate(); b.deallocate() }
        var stem = resnet18_stem_winograd(batch: 2, src: source.baseAddress,
                                          weights: UnsafePointer(packed.pointer.assumingMemoryBound(to: Float.self)),
                                          bias: b.baseAddress, dst: outputFloats, scratch: scratch.pointer, threads: 2)
        #expect(run(&stem) == 0)

        let blocks = 64 / lanes
        let (worst, zeros, count) = Avx2StemTests.compareWithReference(input: input, weights: weights, bias: bias, first: 1) { n, o, pixel in
            outputFloats[((n * blocks + o / lanes) * 56 * 56 + pixel) * lanes + o % lanes]
        }
        print("Winograd stem kernel, \(form): worst relative difference \(worst) over \(count) outputs (\(zeros) zero)")
        // Winograd's transforms round more than the direct sum does; F(4x4, 3x3) in the layers does the same.
        #expect(worst < 1e-5)
        // The case is not degenerate: the ReLU clips some outputs, and most are not clipped.
        #expect(zeros > 0 && zeros < count / 2)
        #expect(!(0..<outputCount).contains { outputFloats[$0].isNaN }, "every output is written")
    }

    @Test("the kernel refuses an output that is not 64-byte aligned instead of faulting",
          .enabled(if: resnet18_stem_winograd_supported() != 0, "needs AVX-512F"))
    func refusesMisalignedOutput() {
        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS) * 4)
        let scratch = AlignedBuffer(byteCount: resnet18_stem_winograd_scratch_bytes(1, 1))
        let output = AlignedBuffer(byteCount: 64 * 56 * 56 * 4 + 64)
        let input = [Float](repeating: 0, count: 3 * 224 * 224), bias = [Float](repeating: 0, count: 64)
        let status = input.withUnsafeBufferPointer { input in
            bias.withUnsafeBufferPointer { bias in
                var stem = resnet18_stem_winograd(batch: 1, src: input.baseAddress,
                                                  weights: UnsafePointer(packed.pointer.assumingMemoryBound(to: Float.self)),
                                                  bias: bias.baseAddress,
                                                  dst: (output.pointer + 4).assumingMemoryBound(to: Float.self),
                                                  scratch: scratch.pointer, threads: 1)
                return resnet18_stem_winograd_run(&stem)
            }
        }
        #expect(status == -1)
    }

    @Test("the fp32 plan runs the stem as one step on AVX-512 CPUs, with the logits of oneDNN's convolution and pooling",
          .enabled(if: CPUSupport.avx512, "needs AVX-512 (on AVX2-only CPUs the AVX2 stem runs)"))
    func planMatchesOneDNNStem() throws {
        try Avx2StemTests.checkPlanMatchesOneDNNStem(implementation: "resnet18_stem_pool_wino_3x4:avx512")
    }
}
