import Testing
import TestSupport
@testable import ResNet

/// Which kernels the plan picks and what they keep in memory, on the CPUs that have those kernels' instructions.
/// The logits of the same plans are checked everywhere, on whatever the CPU falls back to (`FidelityTests`,
/// `BFloat16Tests`, `Int8Tests`).
@Suite struct PlanTests {
    @Test("Winograd in batches: the project's kernel on all 13 stride-1 3x3 convolutions, no transformed weights kept",
          .enabled(if: CPUSupport.avx512, "needs AVX-512 (oneDNN's Winograd and the project's kernel)"), arguments: [8, 5])
    func winogradBatch(batch: Int) throws {
        let weights = try FidelityTests.weights(Fixtures.seededPth)
        var bytes: [Bool: Int] = [:]
        for winograd in [false, true] {
            let engine = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 2, winograd: winograd))
            let implementations = try engine.prepare(batch: batch)
            #expect(implementations.filter { $0.hasPrefix("resnet18_wino_4x3") }.count == (winograd ? 13 : 0), "\(implementations)")
            #expect(!implementations.contains { $0.contains("jit_wino") || $0.contains("jit_fp32_wino") }, "\(implementations)")
            bytes[winograd] = engine.memory.weights
        }
        // The kernel transforms the plain weights as it runs: oneDNN's Winograd would keep a transformed copy (its 4x3
        // on layer 3 alone held 20 MB), so the plan's weights are the direct convolutions' own.
        #expect(bytes[true] == bytes[false], "\(bytes)")
    }

    @Test("AVX2 alone: the project's 8-lane Winograd on all 13 stride-1 3x3 convolutions at every batch size, layers 1 and 2 on weights transformed once, 3 and 4 on the direct ones'",
          .enabled(if: CPUSupport.avx2Only, "needs AVX2 without AVX-512 (with AVX-512 the 16-lane kernel and oneDNN's Winograd run)"),
          arguments: [1, 2, 5])
    func avx2Winograd(batch: Int) throws {
        let weights = try FidelityTests.weights(Fixtures.seededPth)
        var bytes: [Bool: Int] = [:]
        for winograd in [false, true] {
            let engine = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 2, winograd: winograd))
            let implementations = try engine.prepare(batch: batch)
            let streamed = implementations.filter { $0 == "resnet18_wino_4x3_streamed:avx2" }.count
            let once = implementations.filter { $0 == "resnet18_wino_4x3_transformed:avx2" }.count
            // Layers 1-3 hold 10 of them (4 + 3 + 3), layer 4 the other 3; layers 1 and 2 read weights transformed once.
            #expect(streamed + once == (winograd ? 13 : 0), "\(implementations)")
            #expect(once == (winograd ? 7 : 0), "\(implementations)")
            // No oneDNN Winograd (the project's stem is Winograd either way).
            #expect(!implementations.contains { $0.contains("wino") && !$0.hasPrefix("resnet18_") }, "\(implementations)")
            bytes[winograd] = engine.memory.weights
        }
        // Layers 3 and 4 read the direct convolutions' ABcd8b8a weights: no second copy. Layers 1 and 2 keep 36 floats
        // a kernel in place of their 9.
        let transformedExtra = 27 * 4 * (4 * 64 * 64 + 3 * 128 * 128)
        #expect(bytes[true]! - bytes[false]! == transformedExtra, "\(bytes)")
    }

    @Test("lean: a plan for batch 1 or 2 adds no weights to batch 4's, every stride-1 3x3 on the project's kernel; not lean, layer 4 on oneDNN's 2x3 with its own copy",
          .enabled(if: CPUSupport.avx512, "needs AVX-512 (oneDNN's Winograd)"), arguments: [true, false])
    func smallBatchWinogradWeights(lean: Bool) throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, leanWinograd: lean))
        // Batch 4 (planned whenever 8 is: powers of two) has the project's kernel, which reads the plain weights, on
        // every stride-1 3x3.
        _ = try engine.prepare(batch: 4)
        let before = engine.memory.weights
        let implementations = try engine.prepare(batch: 1)
        let added = engine.memory.weights - before
        #expect(!implementations.contains { $0.contains("jit_wino_4x3") }, "\(implementations)")
        // At most the classifier's 2 MB in the layout oneDNN's inner product takes at batch 1.
        let classifier = 1000 * 512 * 4 + 1_000_000
        if lean {
            #expect(implementations.filter { $0.hasPrefix("resnet18_wino_4x3") }.count == 13, "\(implementations)")
            #expect(!implementations.contains { $0.contains("wino_2x3") }, "\(implementations)")
            #expect(added <= classifier, "batch 1 added \(added) bytes of weights")
            let batch2 = try engine.prepare(batch: 2)
            #expect(batch2.filter { $0.hasPrefix("resnet18_wino_4x3") }.count == 13, "\(batch2)")
            #expect(engine.memory.weights - before <= classifier, "batch 2 added weights")
        } else {
            // Layers 1-3 on the kernel; layer 4's three on the 2x3, whose copy is 512 x 512 kernels of 4x4 points each.
            #expect(implementations.filter { $0.hasPrefix("resnet18_wino_4x3") }.count == 10, "\(implementations)")
            #expect(implementations.filter { $0.contains("wino_2x3") }.count == 3, "\(implementations)")
            #expect(added >= 3 * 512 * 512 * 16 * 4, "batch 1 added only \(added) bytes of weights")
        }
    }

    @Test("the fused plan uses Winograd on 3x3 stride-1 convolutions and no activation reorders",
          .enabled(if: CPUSupport.avx512, "needs AVX-512 (oneDNN's Winograd, and its kernels for nChw16c)"))
    func planShape() throws {
        let engine = try ResNet18Engine(weights: .untrained(), options: EngineOptions(threads: 2))
        let implementations = try engine.prepare(batch: 1)
        // The stem with its max pooling (one step, the project's kernel), 16 block convs + 3 downsample convs,
        // avg-pool, fc: every activation stays nChw16c.
        #expect(implementations.count == 1 + 16 + 3 + 1 + 1, "\(implementations)")
        #expect(implementations.first == "resnet18_stem_pool_wino_3x4:avx512", "\(implementations)")
        #expect(implementations.filter { $0.contains("wino") }.count >= 10, "\(implementations)")
        #expect(!implementations.contains { $0.contains("reorder") || $0 == "jit:uni" }, "\(implementations)")
    }

    @Test("bf16 runs on oneDNN's bf16 kernels", .enabled(if: CPUSupport.avx512, "needs AVX-512 (oneDNN's bf16)"))
    func bf16Plan() throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, precision: .bf16))
        let implementations = try engine.prepare(batch: 1)
        #expect(implementations.contains { $0.contains("bf16") }, "\(implementations)")
    }

    @Test("every int8 convolution runs on VNNI: the project's stem, 16-bit F(4x4) on layers 1-2, 8-bit F(2x2) on layer 3, oneDNN's brgconv the rest",
          .enabled(if: CPUSupport.avx512VNNI, "needs AVX-512 VNNI (the project's int8 kernels and oneDNN's)"))
    func int8Plan() throws {
        let int8 = try ResNet18Engine(weights: Int8Tests.weights,
                                      options: EngineOptions(threads: 2, precision: .int8, quantization: Int8Tests.parameters))
        let implementations = try int8.prepare(batch: 1)
        // On the project's kernels the stem (with the input's quantising and the max pooling), layers 1-2's 3x3
        // stride-1 ones (F(4x4) in 16 bits) and layer 3's (F(2x2) in 8 bits); in oneDNN the 3 stride-2 ones, the 3
        // downsamples and layer 4's 3; fc runs on int8; nothing falls back to a reference kernel.
        #expect(implementations.first == "resnet18_stem_pool_int8:avx512_vnni", "\(implementations)")
        #expect(implementations.filter { $0 == "resnet18_wino_s16_4x3:avx512_vnni" }.count == 4 + 3, "\(implementations)")
        #expect(implementations.filter { $0 == "resnet18_wino_int8_2x3:avx512_vnni" }.count == 3, "\(implementations)")
        #expect(implementations.filter { $0.contains("avx512_core_vnni") }.count == 3 + 3 + 3, "\(implementations)")
        #expect(!implementations.contains { $0.hasPrefix("ref") }, "\(implementations)")
        #expect(implementations.last?.contains("s8") == true, "\(implementations)")
    }

    @Test("without AVX-512, int8 layers 1-3's 3x3 stride-1 convolutions run the 16-bit Winograd's AVX2 form, the stem the Winograd stem's, the rest oneDNN's AVX2 code",
          .enabled(if: CPUSupport.avx2Only && CPUSupport.int16WinogradAVX2, "needs AVX2 without AVX-512"))
    func int8PlanAVX2() throws {
        let int8 = try ResNet18Engine(weights: Int8Tests.weights,
                                      options: EngineOptions(threads: 2, precision: .int8, quantization: Int8Tests.parameters))
        for batch in [1, 8] {
            let implementations = try int8.prepare(batch: batch)
            // Layers 1-2's 4 + 3 and layer 3's 3 on the kernel; the stem on the fp32 Winograd stem's AVX2 form with u8
            // output (one step a chunk of images); layer 4's 3, the 3 stride-2 ones and the downsamples stay oneDNN's;
            // nothing falls back to a reference kernel.
            #expect(implementations.filter { $0 == "resnet18_wino_s16_4x3:avx2" }.count == 4 + 3 + 3, "\(implementations)")
            #expect(implementations.first == "resnet18_stem_pool_wino_3x4_u8:avx2", "\(implementations)")
            #expect(!implementations.contains { $0.contains("avx512") || $0.hasPrefix("ref") }, "\(implementations)")
        }
    }

    @Test("a parameters file without transform-point ranges (made before the int8 Winograd) runs layer 3 direct",
          .enabled(if: CPUSupport.avx512VNNI, "needs AVX-512 VNNI (the project's int8 kernels and oneDNN's)"))
    func parametersWithoutPointRangesRunDirect() throws {
        var older = Int8Tests.parameters
        older.winogradPointMax = nil
        let engine = try ResNet18Engine(weights: Int8Tests.weights,
                                        options: EngineOptions(threads: 2, precision: .int8, quantization: older))
        let implementations = try engine.prepare(batch: 1)
        #expect(implementations.filter { $0.contains("avx512_core_vnni") }.count == 3 + 3 + 3 + 3, "\(implementations)")
        #expect(!implementations.contains { $0.contains("wino_int8") }, "\(implementations)")
    }
}
