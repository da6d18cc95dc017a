import Checkpoint
import Foundation
import Testing
import TestSupport
@testable import ResNet

/// The engine against PyTorch's own logits on torchvision's own preprocessed tensors, on any CPU: where the plan's
/// kernels are not available it falls back to oneDNN's, and the logits must not change. Which kernels it picks is
/// checked where they run (`PlanTests`).
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
          arguments: [(Fixtures.seededPth, true, false), (Fixtures.seededSafetensors, true, false), (Fixtures.seededPth, false, false),
                      (Fixtures.seededPth, true, true)])
    func logitsMatchPyTorch(file: URL, winograd: Bool, lean: Bool) throws {
        let engine = try ResNet18Engine(weights: Self.weights(file),
                                        options: EngineOptions(threads: 2, winograd: winograd, leanWinograd: lean))
        for photo in Fixtures.photoNames {
            let logits = try engine.logits(nchw: Fixtures.inputTensor(for: photo), batch: 1)
            let reference = try Fixtures.referenceLogits(for: photo)
            #expect(logits.count == 1000)
            let difference = Self.maxAbsDifference(logits[...], reference)
            #expect(difference < 1e-3, "\(photo) via \(file.lastPathComponent), winograd \(winograd), lean \(lean): max abs \(difference)")
        }
    }

    @Test("batches of 8 and 5, with and without Winograd, give PyTorch's logits in a small arena", arguments: [8, 5])
    func winogradBatch(batch: Int) throws {
        let weights = try Self.weights(Fixtures.seededPth)
        // Batch 8 is the server's default: 32 tiles of layer 4, whole blocks of 8 rows; layers 1 and 2 go by blocks
        // of tiles, layer 1's last one 14 tiles (rows of 8, 4 and 1). Batch 5: layer 4 ends on a block of 4 and
        // layers 1 and 2 stay on oneDNN.
        let photos = Array((Fixtures.photoNames + Fixtures.photoNames).prefix(batch))
        let input = try photos.flatMap { try Fixtures.inputTensor(for: $0) }
        for winograd in [false, true] {
            let engine = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 2, winograd: winograd))
            let logits = try engine.logits(nchw: input, batch: photos.count)
            for (slot, photo) in photos.enumerated() {
                let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], try Fixtures.referenceLogits(for: photo))
                #expect(difference < 1e-3, "\(photo) in slot \(slot), winograd \(winograd): max abs \(difference)")
            }
            // One buffer per activation would take 128 MB at batch 8; by lifetime, and with the stem in pairs, far less.
            #expect(engine.memory.arena < 16 * 1_048_576, "winograd \(winograd): \(engine.memory)")
        }
    }

    @Test("a lean plan of batch 2 (layer 4 on the project's kernel, 8 tiles) gives PyTorch's logits")
    func leanBatchOfTwo() throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, leanWinograd: true))
        let photos = Array(Fixtures.photoNames.prefix(2))
        let logits = try engine.logits(nchw: try photos.flatMap { try Fixtures.inputTensor(for: $0) }, batch: 2)
        for (slot, photo) in photos.enumerated() {
            let difference = Self.maxAbsDifference(logits[(slot * 1000)..<((slot + 1) * 1000)], try Fixtures.referenceLogits(for: photo))
            #expect(difference < 1e-3, "\(photo) in slot \(slot): max abs \(difference)")
        }
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

    @Test("after the source weights are released, other batch sizes run as several planned calls with the same logits, and preparing them again changes nothing")
    func releasedSourceRunsInChunks() throws {
        let engine = try ResNet18Engine(weights: Self.weights(Fixtures.seededPth), options: EngineOptions(threads: 2))
        try engine.finishPreparing(batches: [4])
        // A second server on the same engine (the tests' shared one) prepares its own sizes: the planned ones stand in.
        try engine.finishPreparing(batches: [1, 2, 4, 8])
        #expect(try engine.prepare(batch: 8) == engine.prepare(batch: 4))
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

    @Test("bf16 logits stay within the stated bounds of PyTorch's fp32 logits on every photo",
          .enabled(if: DNNLInstructionSet.avx512, "needs AVX-512: oneDNN computes bf16 only with avx512_core"))
    func bf16MatchesWithinBounds() throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth),
                                        options: EngineOptions(threads: 2, precision: .bf16))
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
    @Test("bf16 on a CPU without AVX-512 is refused with what to use instead",
          .enabled(if: !DNNLInstructionSet.avx512, "this CPU has AVX-512: bf16 runs"))
    func bf16RefusedWithoutAVX512() throws {
        do {
            _ = try ResNet18Engine(weights: .untrained(), options: EngineOptions(threads: 1, precision: .bf16))
            Issue.record("a bf16 engine was built without AVX-512")
        } catch {
            #expect(error.description.contains("needs a CPU with AVX-512") && error.description.contains("use fp32"), "\(error)")
        }
    }
}
