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
        try withTwoPhotos { stem, input, weights, bias in
            let outputCount = 2 * 64 * 56 * 56
            let output = AlignedBuffer(byteCount: outputCount * 4)
            let outputFloats = output.pointer.bindMemory(to: Float.self, capacity: outputCount)
            outputFloats.initialize(repeating: .nan, count: outputCount)
            stem.dst = outputFloats
            #expect(run(&stem) == 0)

            let blocks = 64 / lanes
            let (worst, zeros, count) = Avx2StemTests.compareWithReference(input: input, weights: weights, bias: bias,
                                                                           first: 1) { n, o, pixel in
                outputFloats[((n * blocks + o / lanes) * 56 * 56 + pixel) * lanes + o % lanes]
            }
            print("Winograd stem kernel, \(form): worst relative difference \(worst) over \(count) outputs (\(zeros) zero)")
            // Winograd's transforms round more than the direct sum does; F(4x4, 3x3) in the layers does the same.
            #expect(worst < 1e-5)
            // The case is not degenerate: the ReLU clips some outputs, and most are not clipped.
            #expect(zeros > 0 && zeros < count / 2)
            #expect(!(0..<outputCount).contains { outputFloats[$0].isNaN }, "every output is written")
        }
    }

    /// Two photos and a random stem (`Avx2StemTests.twoPhotosAndRandomStem`), packed and pinned for the kernel: `body`
    /// gets the kernel's arguments for batch 2 on two threads, `dst` still to set, and the stem's plain values.
    static func withTwoPhotos(
        _ body: (inout resnet18_stem_winograd, _ input: [Float], _ weights: [Float], _ bias: [Float]) throws -> Void
    ) throws {
        let (input, weights, bias) = try Avx2StemTests.twoPhotosAndRandomStem()
        let packed = AlignedBuffer(byteCount: Int(RESNET18_STEM_WINOGRAD_WEIGHT_FLOATS) * 4)
        resnet18_stem_winograd_pack_weights(weights, packed.pointer.assumingMemoryBound(to: Float.self))
        let scratch = AlignedBuffer(byteCount: resnet18_stem_winograd_scratch_bytes(2, 2))
        let pinned = Int8WinogradKernelTests.self
        let (source, b) = (pinned.pinned(input), pinned.pinned(bias))
        defer { source.deallocate(); b.deallocate() }
        var stem = resnet18_stem_winograd(batch: 2, src: source.baseAddress,
                                          weights: UnsafePointer(packed.pointer.assumingMemoryBound(to: Float.self)),
                                          bias: b.baseAddress, dst: nil, scratch: scratch.pointer, threads: 2)
        try body(&stem, input, weights, bias)
    }

    @Test("the AVX2 form's u8 output (the int8 plan's stem) is its float output rounded at the scale, in nhwc, saturated at 255",
          .enabled(if: resnet18_stem_winograd_avx2_supported() != 0, "needs AVX2 and FMA"))
    func avx2FormWritesRoundedLevels() throws {
        let outputCount = 2 * 64 * 56 * 56
        let floats = AlignedBuffer(byteCount: outputCount * 4), levels = AlignedBuffer(byteCount: outputCount)
        let floatOutput = floats.pointer.bindMemory(to: Float.self, capacity: outputCount)
        let levelOutput = levels.pointer.bindMemory(to: UInt8.self, capacity: outputCount)
        levelOutput.initialize(repeating: 0xA5, count: outputCount)
        var scale: Float = 0
        try Self.withTwoPhotos { stem, _, _, _ in
            stem.dst = floatOutput
            #expect(resnet18_stem_winograd_avx2_run(&stem) == 0)
            let largest = (0..<outputCount).reduce(Float(0)) { max($0, floatOutput[$1]) }
            // A scale at which the top fifth of the range saturates, as a calibrated scale may let rare values do.
            scale = 255 / (0.8 * largest)
            stem.dst = nil
            #expect(resnet18_stem_winograd_avx2_run_u8(&stem, levelOutput, scale) == 0)
        }

        var mismatches = 0, saturated = 0, zeros = 0
        for n in 0..<2 {
            for pixel in 0..<(56 * 56) {
                for o in 0..<64 {
                    let value = floatOutput[((n * 8 + o / 8) * 56 * 56 + pixel) * 8 + o % 8]
                    let expected = UInt8(min(255, (value * scale).rounded(.toNearestOrEven)))
                    let level = levelOutput[(n * 56 * 56 + pixel) * 64 + o]
                    if level != expected { mismatches += 1 }
                    if expected == 255 { saturated += 1 }
                    if expected == 0 { zeros += 1 }
                }
            }
        }
        print("Winograd stem kernel, AVX2, u8 out: \(mismatches) mismatches in \(outputCount) (\(saturated) saturated, \(zeros) zero)")
        #expect(mismatches == 0)
        #expect(saturated > 0 && zeros > 0 && saturated + zeros < outputCount / 2, "the case exercises rounding, not only the ends")
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

    @Test("the int8 plan without VNNI runs the stem on the AVX2 form with u8 output, a step a chunk, within int8's bounds of fp32",
          .enabled(if: CPUSupport.avx2Only && resnet18_stem_winograd_avx2_supported() != 0, "needs AVX2 without AVX-512"))
    func int8PlanRunsAVX2Form() throws {
        let options = EngineOptions(threads: 2, precision: .int8, quantization: Int8Tests.parameters)
        var oneDNNOptions = options
        oneDNNOptions.ownStem = false
        let own = try ResNet18Engine(weights: Int8Tests.weights, options: options)
        let oneDNN = try ResNet18Engine(weights: Int8Tests.weights, options: oneDNNOptions)
        let fp32 = try ResNet18Engine(weights: Int8Tests.weights, options: EngineOptions(threads: 2))
        let ownSteps = try own.prepare(batch: 3), oneDNNSteps = try oneDNN.prepare(batch: 3)
        // Batch 3 runs the stem in chunks of two images and one, each into its slice of the u8 output.
        #expect(ownSteps.filter { $0 == "resnet18_stem_pool_wino_3x4_u8:avx2" }.count == 2, "\(ownSteps)")
        // oneDNN's: the quantising reorder, the convolution and the pooling of each chunk.
        #expect(oneDNNSteps.count == ownSteps.count + 2 * 2, "\(oneDNNSteps)")
        let input = Int8Tests.inputs.prefix(3).flatMap { $0 }
        let logits = try own.logits(nchw: input, batch: 3)
        let withOneDNN = try oneDNN.logits(nchw: input, batch: 3)
        let reference = try fp32.logits(nchw: input, batch: 3)
        for image in 0..<3 {
            let range = (image * 1000)..<((image + 1) * 1000)
            let difference = FidelityTests.maxAbsDifference(logits[range], Array(reference[range]))
            let similarity = BFloat16Tests.cosine(logits[range], Array(reference[range]))
            let oneDNNDifference = FidelityTests.maxAbsDifference(withOneDNN[range], Array(reference[range]))
            print("int8, stem on the AVX2 Winograd form, image \(image): max abs \(difference) from fp32 (oneDNN's int8 stem: \(oneDNNDifference)), cosine \(similarity)")
            // Int8Tests' bounds: the stem's rounding is now only its output's.
            #expect(similarity >= 0.999, "image \(image): cosine \(similarity)")
            #expect(difference < 0.15, "image \(image): max abs \(difference)")
        }
    }
}
