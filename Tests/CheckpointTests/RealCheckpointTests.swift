import Checkpoint
import Foundation
import Testing
import TestSupport

/// The fixture checkpoints PyTorch wrote, in all three containers.
@Suite struct RealCheckpointTests {
    /// torchvision's ResNet-18 state_dict names and shapes, BatchNorm buffers included.
    static let resnet18Shapes: [String: [Int]] = {
        var shapes: [String: [Int]] = ["conv1.weight": [64, 3, 7, 7], "fc.weight": [1000, 512], "fc.bias": [1000]]
        func batchNorm(_ prefix: String, _ channels: Int) {
            for buffer in ["weight", "bias", "running_mean", "running_var"] { shapes["\(prefix).\(buffer)"] = [channels] }
            shapes["\(prefix).num_batches_tracked"] = []
        }
        batchNorm("bn1", 64)
        let widths = [64, 128, 256, 512]
        for layer in 1...4 {
            let width = widths[layer - 1]
            let input = layer == 1 ? 64 : widths[layer - 2]
            for block in 0...1 {
                let prefix = "layer\(layer).\(block)"
                shapes["\(prefix).conv1.weight"] = [width, block == 0 ? input : width, 3, 3]
                shapes["\(prefix).conv2.weight"] = [width, width, 3, 3]
                batchNorm("\(prefix).bn1", width)
                batchNorm("\(prefix).bn2", width)
            }
            if layer > 1 {
                shapes["layer\(layer).0.downsample.0.weight"] = [width, input, 1, 1]
                batchNorm("layer\(layer).0.downsample.1", width)
            }
        }
        return shapes
    }()

    @Test func zipCheckpointHasTorchvisionNamesAndShapes() throws {
        let dict = try StateDict(contentsOf: Fixtures.seededPth)
        #expect(dict.format == .torchZip)
        #expect(dict.tensors.count == Self.resnet18Shapes.count)
        for (name, shape) in Self.resnet18Shapes {
            #expect(dict.tensors[name]?.shape == shape, "\(name)")
        }
        #expect(dict.tensors["conv1.weight"]?.dtype == .float32)
        #expect(dict.tensors["layer4.1.bn2.running_var"]?.shape == [512])
        let tracked = try #require(dict.tensors["bn1.num_batches_tracked"])
        #expect(tracked.dtype == .int64)
        #expect(tracked.shape == [])
        #expect(tracked.floats.count == 1)
        // Running variances are positive and weights are not all zero: the bytes are the right ones.
        #expect(dict.tensors["layer4.1.bn2.running_var"]!.floats.allSatisfy { $0 > 0 })
        #expect(dict.tensors["conv1.weight"]!.floats.contains { $0 != 0 })
        #expect(dict.tensors["fc.weight"]!.floats.count == 512_000)
    }

    @Test func safetensorsMatchesZipCheckpoint() throws {
        let zip = try StateDict(contentsOf: Fixtures.seededPth)
        let safetensors = try StateDict(contentsOf: Fixtures.seededSafetensors)
        #expect(safetensors.format == .safetensors)
        let expected = zip.tensors.filter { !$0.key.hasSuffix("num_batches_tracked") }
        #expect(Set(safetensors.tensors.keys) == Set(expected.keys))
        for (name, tensor) in expected {
            let other = try #require(safetensors.tensors[name])
            #expect(other.shape == tensor.shape, "\(name)")
            #expect(other.dtype == tensor.dtype, "\(name)")
            #expect(other.floats == tensor.floats, "\(name)")
        }
    }

    @Test func legacyStemMatchesZipCheckpoint() throws {
        let zip = try StateDict(contentsOf: Fixtures.seededPth)
        let legacy = try StateDict(contentsOf: Fixtures.stemLegacyPth)
        #expect(legacy.format == .legacyPickle)
        let stem = ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]
        #expect(Set(legacy.tensors.keys) == Set(stem))
        for name in stem {
            let tensor = try #require(legacy.tensors[name])
            let reference = try #require(zip.tensors[name])
            #expect(tensor.shape == reference.shape, "\(name)")
            #expect(tensor.dtype == reference.dtype, "\(name)")
            #expect(tensor.floats == reference.floats, "\(name)")
        }
    }

    @Test func formatIsSniffedFromContentNotExtension() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let renamed = directory.appendingPathComponent("weights.bin")
        try FileManager.default.copyItem(at: Fixtures.stemLegacyPth, to: renamed)
        #expect(try StateDict(contentsOf: renamed).format == .legacyPickle)
    }

    @Test func missingFileIsReportedWithItsPath() throws {
        let missing = Fixtures.fixtures.appendingPathComponent("no-such-weights.pth")
        let error = #expect(throws: CheckpointError.self) { try StateDict(contentsOf: missing) }
        #expect(error?.description.contains(missing.path) == true)
    }
}
