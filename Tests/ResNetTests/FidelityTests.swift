import Checkpoint
import Foundation
import Testing
import TestSupport
@testable import ResNet

/// The engine against PyTorch's own logits on torchvision's own preprocessed tensors.
@Suite struct FidelityTests {
    static func weights(_ url: URL) throws -> ResNet18Weights {
        let stateDict = try StateDict(contentsOf: url)
        return try ResNet18Weights(stateDict: stateDict, file: url.lastPathComponent,
                                   identity: WeightsIdentity(name: url.lastPathComponent, sha256Prefix: "test", trained: true))
    }

    static func maxAbsDifference(_ a: ArraySlice<Float>, _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test("logits within 1e-3 of PyTorch's on every fixture photo",
          arguments: [(Fixtures.seededPth, true), (Fixtures.seededSafetensors, true), (Fixtures.seededPth, false)])
    func logitsMatchPyTorch(file: URL, winograd: Bool) throws {
        let engine = try ResNet18Engine(weights: Self.weights(file), options: EngineOptions(threads: 2, winograd: winograd))
        for photo in Fixtures.photoNames {
            let logits = try engine.logits(nchw: Fixtures.inputTensor(for: photo), batch: 1)
            let reference = try Fixtures.referenceLogits(for: photo)
            #expect(logits.count == 1000)
            let difference = Self.maxAbsDifference(logits[...], reference)
            #expect(difference < 1e-3, "\(photo) via \(file.lastPathComponent), winograd \(winograd): max abs \(difference)")
        }
    }

    @Test("Winograd in batches: the project's kernel (layer 4; layers 1-2 from batch 8), PyTorch's logits, weights under 1.7x direct",
          arguments: [8, 5])
    func winogradBatch(batch: Int) throws {
        let weights = try Self.weights(Fixtures.seededPth)
        // Batch 8 is the server's default: 32 tiles of layer 4, whole blocks of 8 rows; layers 1 and 2 go by blocks
        // of tiles, layer 1's last one 14 tiles (rows of 8, 4 and 1). Batch 5: layer 4 ends on a block of 4 and
        // layers 1 and 2 stay on oneDNN.
        let photos = Array((Fixtures.photoNames + Fixtures.photoNames).prefix(batch))
        let input = try photos.flatMap { try Fixtures.inputTensor(for: $0) }
        var bytes: [Bool: (weights: Int, arena: Int, scratchpad: Int)] = [:]
        for winograd in [false, true] {
            let engine = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 2, winograd: winograd))
            let implementations = try engine.prepare(batch: photos.count)
            // Of the 13 stride-1 3x3 convolutions, the own kernel takes layer 4's three, and from batch 8 layers 1 and
            // 2's seven; oneDNN's 4x3 the rest.
            let own = batch >= 8 ? 10 : 3
            #expect(implementations.filter { $0.contains("jit_wino_4x3") }.count == (winograd ? 13 - own : 0), "\(implementations)")
            #expect(implementations.filter { $0.hasPrefix("resnet18_wino_4x3") }.count == (winograd ? own : 0), "\(implementations)")
            let logits = try engine.logits(nchw: input, batch: photos.count)
            for (slot, photo) in photos.enumerated() {
                let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], try Fixtures.referenceLogits(for: photo))
                #expect(difference < 1e-3, "\(photo) in slot \(slot), winograd \(winograd): max abs \(difference)")
            }
            bytes[winograd] = engine.memory
        }
        // oneDNN's Winograd everywhere held 4.5x (215 MB against 46.5 for ImageNet ResNet-18); layer 4's own kernel
        // keeps the plain weights, so only layers 1-3 add their transformed copies.
        #expect(bytes[true]!.weights * 10 < bytes[false]!.weights * 17, "\(bytes)")
        // One buffer per activation would take 128 MB at batch 8; by lifetime, and with the stem in pairs, 12.3 MB.
        #expect(bytes[true]!.arena < 16 * 1_048_576, "\(bytes)")
    }

    @Test("lean: a plan for batch 1 shares oneDNN's 4x3 Winograd weights with batch 4; not lean, it adds its own 2x3 ones",
          arguments: [true, false])
    func smallBatchWinogradWeights(lean: Bool) throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, leanWinograd: lean))
        // Batch 4 (planned whenever 8 is: powers of two) has oneDNN's 4x3 on layers 1-3; from batch 8 layers 1-2
        // run on the project's kernel.
        _ = try engine.prepare(batch: 4)
        let before = engine.memory.weights
        let implementations = try engine.prepare(batch: 1)
        let added = engine.memory.weights - before
        if lean {
            #expect(implementations.filter { $0.contains("jit_wino_4x3") }.count == 10, "\(implementations)")
            #expect(!implementations.contains { $0.contains("2x3") }, "\(implementations)")
            // At most the classifier's 2 MB in the layout oneDNN's inner product takes at batch 1.
            #expect(added <= 1000 * 512 * 4, "batch 1 added \(added) bytes of weights")
        } else {
            // 2x3 on the 13 stride-1 3x3 convolutions but layer 2's (oneDNN keeps its 4x3 there), layer 4's included.
            #expect(implementations.filter { $0.contains("wino_2x3") }.count >= 10, "\(implementations)")
            #expect(added > 50 * 1_000_000, "batch 1 added only \(added) bytes of weights")
        }
        let logits = try engine.logits(nchw: Fixtures.inputTensor(for: "chelsea.png"), batch: 1)
        #expect(Self.maxAbsDifference(logits[...], try Fixtures.referenceLogits(for: "chelsea.png")) < 1e-3)
    }

    @Test("a batch of all photos gives each photo's own logits")
    func batchMatchesSingles() throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth), options: EngineOptions(threads: 2))
        let photos = Fixtures.photoNames
        let input = try photos.flatMap { try Fixtures.inputTensor(for: $0) }
        let logits = try engine.logits(nchw: input, batch: photos.count)
        for (slot, photo) in photos.enumerated() {
            let reference = try Fixtures.referenceLogits(for: photo)
            let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], reference)
            #expect(difference < 1e-3, "\(photo) in slot \(slot) of \(photos.count): max abs \(difference)")
        }
        // And batch 1 still works after a larger plan was built (shared arena).
        let single = try engine.logits(nchw: Fixtures.inputTensor(for: photos[0]), batch: 1)
        #expect(Self.maxAbsDifference(single[...], try Fixtures.referenceLogits(for: photos[0])) < 1e-3)
    }

    @Test("after the source weights are released, other batch sizes run as several planned calls with the same logits")
    func releasedSourceRunsInChunks() throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth), options: EngineOptions(threads: 2))
        try engine.finishPreparing(batches: [4])
        let photos = Fixtures.photoNames  // 6 images: one call of 4, then two of 1
        let logits = try engine.logits(nchw: try photos.flatMap { try Fixtures.inputTensor(for: $0) }, batch: photos.count)
        for (slot, photo) in photos.enumerated() {
            let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], try Fixtures.referenceLogits(for: photo))
            #expect(difference < 1e-3, "\(photo) in slot \(slot): max abs \(difference)")
        }
    }

    @Test("the planned sizes are the powers of two below the largest batch, and the largest")
    func plannedBatchSizes() {
        #expect(ResNet18Engine.plannedBatches(upTo: 1) == [1])
        #expect(ResNet18Engine.plannedBatches(upTo: 2) == [1, 2])
        #expect(ResNet18Engine.plannedBatches(upTo: 6) == [1, 2, 4, 6])
        #expect(ResNet18Engine.plannedBatches(upTo: 8) == [1, 2, 4, 8])
        #expect(ResNet18Engine.plannedBatches(upTo: 9) == [1, 2, 4, 8, 9])
    }

    @Test("images written into the engine's input buffer two at a time give PyTorch's logits, a batch of 6 as planned calls of 4 and 2")
    func fillingTheEngineInput() throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth), options: EngineOptions(threads: 2))
        try engine.finishPreparing(batches: ResNet18Engine.plannedBatches(upTo: 4))
        let photos = Fixtures.photoNames
        let tensors = try photos.map { try Fixtures.inputTensor(for: $0) }
        var logits = [Float](repeating: .nan, count: photos.count * 1000)
        var filled: [Int] = []
        try logits.withUnsafeMutableBufferPointer { output in
            try engine.logits(batch: photos.count, into: output) { slots, input in
                // Two images at a time, each slot once, in order.
                #expect(slots.count <= 2 && input.count == slots.count * ResNet18Engine.inputCount)
                for (index, slot) in slots.enumerated() {
                    filled.append(slot)
                    _ = UnsafeMutableBufferPointer(rebasing: input[(index * ResNet18Engine.inputCount)...]).update(fromContentsOf: tensors[slot])
                }
            }
        }
        for (slot, photo) in photos.enumerated() {
            let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], try Fixtures.referenceLogits(for: photo))
            #expect(difference < 1e-3, "\(photo) in slot \(slot): max abs \(difference)")
        }
        #expect(filled == Array(0..<photos.count))
    }

    @Test("the fused plan uses Winograd on 3x3 stride-1 convolutions and no activation reorders")
    func planShape() throws {
        let engine = try ResNet18Engine(weights: .untrained(), options: EngineOptions(threads: 2))
        let implementations = try engine.prepare(batch: 1)
        // stem conv, max-pool, 16 block convs + 3 downsample convs, avg-pool, fc: every activation stays nChw16c.
        #expect(implementations.count == 1 + 1 + 16 + 3 + 1 + 1, "\(implementations)")
        #expect(implementations.filter { $0.contains("wino") }.count >= 10, "\(implementations)")
        #expect(!implementations.contains { $0.contains("reorder") || $0 == "jit:uni" }, "\(implementations)")
    }

    @Test("wrong input sizes are refused with a message, not a crash")
    func badInputRefused() throws {
        let engine = try ResNet18Engine(weights: .untrained(), options: EngineOptions(threads: 1))
        #expect(throws: ResNetError.self) { try engine.logits(nchw: [Float](repeating: 0, count: 10), batch: 1) }
        #expect(throws: ResNetError.self) { try engine.logits(nchw: [], batch: 0) }
    }

    @Test("untrained weights are deterministic and produce finite, varied logits")
    func untrainedWeights() throws {
        let a = try ResNet18Engine(weights: .untrained()).logits(nchw: Fixtures.inputTensor(for: "chelsea.png"), batch: 1)
        let b = try ResNet18Engine(weights: .untrained()).logits(nchw: Fixtures.inputTensor(for: "chelsea.png"), batch: 1)
        #expect(a == b)
        #expect(a.allSatisfy { $0.isFinite })
        #expect(Set(a).count > 900)
        #expect(ResNet18Weights.untrained().identity.trained == false)
    }
}

/// bf16: same network, bfloat16 activations and weights with float32 accumulation.
@Suite struct BFloat16Tests {
    static func cosine(_ a: ArraySlice<Float>, _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    @Test("bf16 logits stay within the stated bounds of PyTorch's fp32 logits on every photo")
    func bf16MatchesWithinBounds() throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, precision: .bf16))
        let implementations = try engine.prepare(batch: 1)
        #expect(implementations.contains { $0.contains("bf16") }, "\(implementations)")
        for photo in Fixtures.photoNames {
            let logits = try engine.logits(nchw: Fixtures.inputTensor(for: photo), batch: 1)
            let reference = try Fixtures.referenceLogits(for: photo)
            let difference = FidelityTests.maxAbsDifference(logits[...], reference)
            let similarity = Self.cosine(logits[...], reference)
            print("bf16 \(photo): max abs \(difference), cosine \(similarity)")
            #expect(similarity >= 0.999, "\(photo): cosine \(similarity)")
            #expect(difference < 0.05, "\(photo): max abs \(difference)")
        }
    }
}
