import Foundation
import Testing
import TestSupport
@testable import ResNet

/// int8: calibrated on the fixture photos, checked against the fp32 engine on the same photos.
@Suite struct Int8Tests {
    static let weights: ResNet18Weights = try! FidelityTests.weights(Fixtures.seededPth)
    static let inputs: [[Float]] = Fixtures.photoNames.map { try! Fixtures.inputTensor(for: $0) }
    static let parameters: QuantizationParameters = try! QuantizationParameters.calibrate(weights: weights, images: inputs, threads: 2)

    static func topK(_ logits: ArraySlice<Float>, _ k: Int) -> Set<Int> {
        Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(k).map { $0 - logits.startIndex })
    }

    @Test("calibration records a positive range for every convolution's output")
    func calibrationCoversEveryConvolution() {
        #expect(Self.parameters.calibrationImages == Fixtures.photoNames.count)
        #expect(Self.parameters.weightsSHA256Prefix == Self.weights.identity.sha256Prefix)
        for conv in ResNet18Architecture.convolutions.map(\.conv) {
            let value = Self.parameters.activationMax[conv] ?? -1
            #expect(value > 0 && value.isFinite, "\(conv): \(value)")
        }
    }

    @Test("int8 logits stay within the stated bounds of the fp32 engine's on every photo")
    func int8MatchesFP32WithinBounds() throws {
        let fp32 = try ResNet18Engine(weights: Self.weights, options: EngineOptions(threads: 2))
        let int8 = try ResNet18Engine(weights: Self.weights,
                                      options: EngineOptions(threads: 2, precision: .int8, quantization: Self.parameters))
        let implementations = try int8.prepare(batch: 1)
        print("int8 plan: \(implementations)")
        // Every convolution, the stem included, runs on VNNI; fc runs on int8; nothing falls back to a reference kernel.
        #expect(implementations.filter { $0.contains("avx512_core_vnni") }.count == 1 + 16 + 3, "\(implementations)")
        #expect(!implementations.contains { $0.hasPrefix("ref") }, "\(implementations)")
        #expect(implementations.last?.contains("s8") == true, "\(implementations)")
        for (photo, input) in zip(Fixtures.photoNames, Self.inputs) {
            let reference = try fp32.logits(nchw: input, batch: 1)
            let logits = try int8.logits(nchw: input, batch: 1)
            let difference = FidelityTests.maxAbsDifference(logits[...], reference)
            let similarity = BFloat16Tests.cosine(logits[...], reference)
            let overlap = Self.topK(logits[...], 5).intersection(Self.topK(reference[...], 5)).count
            print("int8 \(photo): max abs \(difference), cosine \(similarity), top-5 overlap \(overlap)/5")
            #expect(similarity >= 0.999, "\(photo): cosine \(similarity)")
            // Measured on the seeded weights: cosine ≥ 0.9994, max abs ≤ 0.086, top-5 overlap ≥ 4.
            #expect(difference < 0.15, "\(photo): max abs \(difference)")
            #expect(overlap >= 4, "\(photo): top-5 overlap \(overlap)")
        }
    }

    @Test("an int8 batch gives each photo its own logits, from one input array or filled two images at a time")
    func int8BatchMatchesSingles() throws {
        let int8 = try ResNet18Engine(weights: Self.weights,
                                      options: EngineOptions(threads: 2, precision: .int8, quantization: Self.parameters))
        let batch = try int8.logits(nchw: Self.inputs.flatMap { $0 }, batch: Self.inputs.count)
        var filled = [Float](repeating: .nan, count: Self.inputs.count * 1000)
        try filled.withUnsafeMutableBufferPointer { output in
            try int8.logits(batch: Self.inputs.count, into: output) { slots, input in
                for (index, slot) in slots.enumerated() {
                    _ = UnsafeMutableBufferPointer(rebasing: input[(index * ResNet18Engine.inputCount)...]).update(fromContentsOf: Self.inputs[slot])
                }
            }
        }
        for (slot, input) in Self.inputs.enumerated() {
            let single = try int8.logits(nchw: input, batch: 1)
            let difference = FidelityTests.maxAbsDifference(batch[(slot * 1000)..<((slot + 1) * 1000)], single)
            #expect(difference < 1e-3, "slot \(slot): max abs \(difference)")
            #expect(filled[(slot * 1000)..<((slot + 1) * 1000)] == batch[(slot * 1000)..<((slot + 1) * 1000)], "slot \(slot)")
        }
    }

    @Test("int8 without calibration parameters is refused with what to run")
    func int8WithoutParametersRefused() {
        do {
            _ = try ResNet18Engine(weights: Self.weights, options: EngineOptions(precision: .int8))
            Issue.record("an int8 engine was built without parameters")
        } catch {
            #expect(error.description.contains("resnet18 quantize"), "\(error)")
        }
    }

    @Test("parameters save and load back unchanged")
    func parametersRoundTrip() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = QuantizationParameters.url(besideWeights: folder.appendingPathComponent("resnet18-seeded.pth"))
        #expect(url.lastPathComponent == "resnet18-seeded.int8.json")
        try Self.parameters.save(to: url)
        let loaded = try QuantizationParameters.load(from: url, expectedWeights: Self.weights.identity)
        #expect(loaded == Self.parameters)
    }

    @Test("a parameters file calibrated for other weights is refused, by file and by engine")
    func staleParametersRefused() throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var stale = Self.parameters
        stale.weightsSHA256Prefix = "deadbeef"
        let url = folder.appendingPathComponent("stale.int8.json")
        try stale.save(to: url)
        let expected = "was calibrated for weights sha256:deadbeef, these are sha256:\(Self.weights.identity.sha256Prefix): run `resnet18 quantize` again"
        do {
            _ = try QuantizationParameters.load(from: url, expectedWeights: Self.weights.identity)
            Issue.record("a stale parameters file was loaded")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains(url.path), "\(error)")
        }
        do {
            _ = try ResNet18Engine(weights: Self.weights, options: EngineOptions(precision: .int8, quantization: stale))
            Issue.record("an int8 engine was built with stale parameters")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }
}
