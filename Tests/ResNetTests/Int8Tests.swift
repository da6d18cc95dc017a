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
        // Layer 3's three stride-1 3x3 convolutions run as int8 Winograd: a range per transform point for each.
        #expect(ResNet18Architecture.int8WinogradInputs.keys.sorted() == ["layer3.0.conv2", "layer3.1.conv1", "layer3.1.conv2"])
        for conv in ResNet18Architecture.int8WinogradInputs.keys {
            let points = Self.parameters.winogradPointMax(of: conv) ?? []
            #expect(points.count == 16 && points.allSatisfy { $0 > 0 }, "\(conv): \(points)")
        }
    }

    @Test("the transform-point ranges are those of the input's 4x4 tiles, edges padded with zeros")
    func pointRangesOfKnownTiles() {
        // One channel (of 16, the rest zero) of a 3x3 map holding 1...9: tiles at (0,0) and (2,2) of the padded map.
        var values = [Float](repeating: 0, count: 16 * 3 * 3)
        for index in 0..<9 { values[index * 16] = Float(index + 1) }
        var maxima = [Float](repeating: 0, count: 16)
        values.withUnsafeBufferPointer {
            QuantizationParameters.foldWinogradPointMax($0.baseAddress!, images: 1, channels: 16, side: 3, into: &maxima)
        }
        // By hand: for each tile d (4x4, zero outside the map), B^T d B with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].
        func transformed(_ d: [[Float]]) -> [Float] {
            let bt: [[Float]] = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
            var out = [Float](repeating: 0, count: 16)
            for i in 0..<4 { for j in 0..<4 { for a in 0..<4 { for b in 0..<4 { out[i * 4 + j] += bt[i][a] * d[a][b] * bt[j][b] } } } }
            return out
        }
        func tile(_ ty: Int, _ tx: Int) -> [[Float]] {
            (0..<4).map { a in (0..<4).map { b in
                let y = ty * 2 - 1 + a, x = tx * 2 - 1 + b
                return (0..<3).contains(y) && (0..<3).contains(x) ? Float(y * 3 + x + 1) : 0
            } }
        }
        var expected = [Float](repeating: 0, count: 16)
        for ty in 0..<2 { for tx in 0..<2 { for (p, v) in transformed(tile(ty, tx)).enumerated() { expected[p] = max(expected[p], abs(v)) } } }
        #expect(maxima == expected)
    }

    @Test("int8 logits stay within the stated bounds of the fp32 engine's on every photo")
    func int8MatchesFP32WithinBounds() throws {
        let fp32 = try ResNet18Engine(weights: Self.weights, options: EngineOptions(threads: 2))
        let int8 = try ResNet18Engine(weights: Self.weights,
                                      options: EngineOptions(threads: 2, precision: .int8, quantization: Self.parameters))
        // Where the plan runs (the project's kernels with AVX-512 VNNI, oneDNN's otherwise: `PlanTests`).
        print("int8 plan (oneDNN \(CPUSupport.oneDNN)): \(try int8.prepare(batch: 1))")
        for (photo, input) in zip(Fixtures.photoNames, Self.inputs) {
            let reference = try fp32.logits(nchw: input, batch: 1)
            let logits = try int8.logits(nchw: input, batch: 1)
            let difference = FidelityTests.maxAbsDifference(logits[...], reference)
            let similarity = BFloat16Tests.cosine(logits[...], reference)
            let overlap = Self.topK(logits[...], 5).intersection(Self.topK(reference[...], 5)).count
            print("int8 \(photo): max abs \(difference), cosine \(similarity), top-5 overlap \(overlap)/5")
            #expect(similarity >= 0.999, "\(photo): cosine \(similarity)")
            // Measured on the seeded weights (layers 1-2 as 16-bit F(4x4), layer 3 as int8 F(2x2)): cosine ≥ 0.9994,
            // max abs ≤ 0.087, top-5 overlap ≥ 4.
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

    @Test("a parameters file without transform-point ranges (made before the int8 Winograd) still builds an int8 plan")
    func parametersWithoutPointRangesLoad() throws {
        var older = Self.parameters
        older.winogradPointMax = nil
        let encoded = try JSONEncoder().encode(older)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("winogradPointMax"))
        let decoded = try JSONDecoder().decode(QuantizationParameters.self, from: encoded)
        #expect(decoded == older)
        let engine = try ResNet18Engine(weights: Self.weights,
                                        options: EngineOptions(threads: 2, precision: .int8, quantization: decoded))
        // Layer 3 then runs direct: `PlanTests.parametersWithoutPointRangesRunDirect`.
        #expect(!(try engine.prepare(batch: 1)).contains { $0.contains("wino_int8") })
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
