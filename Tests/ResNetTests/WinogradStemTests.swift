import CKernels
import Testing
import TestSupport
@testable import ResNet

/// The fp32 AVX-512 stem kernel: the 7x7 stride-2 convolution as Winograd F(3x3, 4x4) over the input's phases, bias,
/// ReLU and the 3x3 stride-2 max pooling in one pass, nChw16c out.
@Suite struct WinogradStemTests {
    @Test("the Winograd stem kernel gives the plain arithmetic's pooled output, in nChw16c, on two photos",
          .enabled(if: resnet18_stem_winograd_supported() != 0, "needs AVX-512F"))
    func kernelMatchesPlainArithmetic() throws {
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
        #expect(resnet18_stem_winograd_run(&stem) == 0)

        let (worst, zeros, count) = Avx2StemTests.compareWithReference(input: input, weights: weights, bias: bias, first: 1) { n, o, pixel in
            outputFloats[((n * 4 + o / 16) * 56 * 56 + pixel) * 16 + o % 16]
        }
        print("Winograd stem kernel: worst relative difference \(worst) over \(count) outputs (\(zeros) zero)")
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
