import Checkpoint
import Foundation
import Testing
import TestSupport

/// Hostile, damaged and foreign inputs are refused with a message naming the file and the problem.
@Suite struct RefusalTests {
    static let dangerousGlobals = [("os", "system"), ("builtins", "eval"), ("posix", "system"), ("subprocess", "Popen")]

    /// `module.name('echo pwned')` — REDUCE right after the global, as a malicious pickle does.
    static func callingPickle(_ module: String, _ name: String, stackGlobal: Bool = false) -> [UInt8] {
        var writer = PickleWriter()
        if stackGlobal { writer.stackGlobal(module, name) } else { writer.global(module, name) }
        writer.mark(); writer.string("echo pwned"); writer.tuple()
        writer.reduce()
        writer.stop()
        return writer.bytes
    }

    @Test(arguments: dangerousGlobals)
    func zipPickleCallingDangerousGlobalIsRefused(module: String, name: String) {
        let file = HandMadeFiles.torchZip(pickle: Self.callingPickle(module, name))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "evil.pth") }
        #expect(error?.description == "evil.pth: the pickle calls \(module).\(name), which a state_dict never needs; refusing to load it (nothing was executed)")
    }

    @Test(arguments: dangerousGlobals)
    func rawPickleCallingDangerousGlobalIsRefused(module: String, name: String) {
        let error = #expect(throws: CheckpointError.self) {
            try StateDict(bytes: Self.callingPickle(module, name, stackGlobal: true), name: "evil.pkl")
        }
        #expect(error?.description.contains("the pickle calls \(module).\(name)") == true)
        #expect(error?.description.contains("nothing was executed") == true)
    }

    @Test func dangerousGlobalInsideTensorEntryIsRefused() {
        // The global hides among legitimate tensor entries, after the storage is already named.
        let pickle = PickleWriter.stateDict { writer in
            writer.string("conv.weight")
            writer.float32Tensor(storageKey: "0", storageCount: 1, size: [1], stride: [1])
            writer.string("conv.bias")
            writer.global("builtins", "eval"); writer.mark(); writer.string("1"); writer.tuple(); writer.reduce()
        }
        let file = HandMadeFiles.torchZip(pickle: pickle, storages: ["0": HandMadeFiles.float32Bytes([1])])
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "mixed.pth") }
        #expect(error?.description.contains("builtins.eval") == true)
    }

    @Test func wholeModelPickleIsRefusedByItsClass() {
        var writer = PickleWriter()
        writer.global("torchvision.models.resnet", "ResNet")
        writer.emptyTuple(); writer.raw([0x81]); writer.stop()  // NEWOBJ
        let error = #expect(throws: CheckpointError.self) {
            try StateDict(bytes: HandMadeFiles.torchZip(pickle: writer.bytes), name: "model.pth")
        }
        #expect(error?.description.contains("torchvision.models.resnet.ResNet") == true)
    }

    @Test(arguments: [10, 4096, 1_000_000, -1])
    func truncatedZipCheckpointIsReportedAsTruncated(length: Int) throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.seededPth))
        let prefix = Array(bytes.prefix(length > 0 ? length : bytes.count + length))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: prefix, name: "resnet18.pth") }
        #expect(error?.description.hasPrefix("resnet18.pth is truncated") == true)
        #expect(error?.description.contains("fetch the file again") == true)
    }

    @Test func truncatedLegacyCheckpointIsReportedAsTruncated() throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.stemLegacyPth))
        for length in [100, 600, 2000, bytes.count - 1] {
            let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: Array(bytes.prefix(length)), name: "stem.pth") }
            #expect(error?.description.hasPrefix("stem.pth is truncated") == true, "\(length) bytes")
        }
    }

    @Test func truncatedSafetensorsIsRefused() throws {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.seededSafetensors))
        let headerCut = #expect(throws: CheckpointError.self) { try StateDict(bytes: Array(bytes.prefix(1000)), name: "r.safetensors") }
        #expect(headerCut?.description.hasPrefix("r.safetensors is truncated") == true)
        let dataCut = #expect(throws: CheckpointError.self) { try StateDict(bytes: Array(bytes.prefix(bytes.count - 1)), name: "r.safetensors") }
        #expect(dataCut?.description.contains("past the end") == true)
    }

    @Test func deflateCompressedEntryIsRefused() {
        let pickle = PickleWriter.stateDict { _ in }
        let file = HandMadeFiles.torchZip(pickle: pickle, pickleMethod: 8)
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "repacked.pth") }
        #expect(error?.description.contains("zip entry archive/data.pkl is compressed (deflate)") == true)
        #expect(error?.description.contains("torch.save writes uncompressed zips") == true)
    }

    @Test func zipEntryWhoseDataCoversTheNextHeaderIsRefused() {
        var file = HandMadeFiles.zip([.init(name: "a/data.pkl", data: [0x80, 0x02, 0x2e]), .init(name: "a/byteorder", data: Array("little".utf8))])
        // Grow the first directory entry's sizes so that its data runs over the second entry's local header.
        let directory = file.count - 22 - 46 * 2 - "a/data.pkl".utf8.count - "a/byteorder".utf8.count
        file.replaceSubrange((directory + 20)..<(directory + 28), with: HandMadeFiles.le(23, 4) + HandMadeFiles.le(23, 4))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "overlap.pth") }
        #expect(error?.description.contains("zip entries a/data.pkl and a/byteorder overlap") == true)
    }

    @Test func zipEntryRunningPastTheDataIsRefused() {
        var file = HandMadeFiles.zip([.init(name: "a/data.pkl", data: [0x80, 0x02, 0x2e])])
        let directory = file.count - 22 - 46 - "a/data.pkl".utf8.count
        // Claim 4 GiB - 1 bytes in both size fields of the directory entry.
        file.replaceSubrange((directory + 20)..<(directory + 28), with: [UInt8](repeating: 0xfe, count: 8))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.pth") }
        #expect(error?.description.contains("runs past the end") == true)
    }

    @Test func zipDirectoryClaimingMillionsOfEntriesIsRefused() {
        var file = HandMadeFiles.zip([.init(name: "a/data.pkl", data: [0x80, 0x02, 0x2e])])
        file.replaceSubrange((file.count - 12)..<(file.count - 10), with: [0xfe, 0xff])  // total entries
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.pth") }
        #expect(error?.description.contains("claims 65534 entries") == true)
    }

    @Test func safetensorsOffsetsPastTheEndAreRefused() {
        let file = HandMadeFiles.safetensors(
            header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: HandMadeFiles.float32Bytes([1, 2]))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.safetensors") }
        #expect(error?.description.contains("tensor w lies at bytes 0..<16, past the end of the 8-byte data section") == true)
    }

    @Test func safetensorsOverlappingTensorsAreRefused() {
        let file = HandMadeFiles.safetensors(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: HandMadeFiles.float32Bytes([1, 2, 3]))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.safetensors") }
        #expect(error?.description.contains("overlapping bytes") == true)
    }

    @Test func safetensorsShapeDisagreeingWithOffsetsIsRefused() {
        let file = HandMadeFiles.safetensors(
            header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: HandMadeFiles.float32Bytes([1, 2]))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.safetensors") }
        #expect(error?.description.contains("has shape [3] of F32 in 8 bytes") == true)
    }

    @Test func safetensorsHeaderLengthPastTheFileIsRefused() {
        var file = HandMadeFiles.safetensors(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}"#, data: [])
        file.replaceSubrange(0..<8, with: HandMadeFiles.le(5000, 8))
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.safetensors") }
        #expect(error?.description.contains("header claims 5000 bytes") == true)
    }

    @Test func safetensorsHeaderNestedMillionsDeepIsRefused() {
        let depth = 1_000_000
        let header = #"{"a":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        let error = #expect(throws: CheckpointError.self) {
            try StateDict(bytes: HandMadeFiles.safetensors(header: header, data: []), name: "deep.safetensors")
        }
        #expect(error?.description.contains("the safetensors header is not the JSON it should be") == true)
    }

    @Test func tensorReachingPastItsStorageIsRefused() {
        let pickle = PickleWriter.stateDict { writer in
            writer.string("w")
            writer.float32Tensor(storageKey: "0", storageCount: 4, offset: 2, size: [4], stride: [1])
        }
        let file = HandMadeFiles.torchZip(pickle: pickle, storages: ["0": HandMadeFiles.float32Bytes([1, 2, 3, 4])])
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.pth") }
        #expect(error?.description.contains("tensor w reaches element 5 of a storage holding 4") == true)
    }

    @Test func storageRecordShorterThanDeclaredIsRefused() {
        let pickle = PickleWriter.stateDict { writer in
            writer.string("w")
            writer.float32Tensor(storageKey: "0", storageCount: 200, size: [200], stride: [1])
        }
        let file = HandMadeFiles.torchZip(pickle: pickle, storages: ["0": HandMadeFiles.float32Bytes([1, 2])])
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "liar.pth") }
        #expect(error?.description.contains("archive/data/0 holds 8 bytes") == true)
    }

    @Test func deeplyNestedTuplesAreRefusedWithoutCrashing() {
        var writer = PickleWriter()
        writer.emptyTuple()
        writer.raw([UInt8](repeating: 0x85, count: 200_000))  // TUPLE1, wrapping the last value each time
        writer.stop()
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: writer.bytes, name: "deep.pkl") }
        #expect(error?.description.contains("nested more than") == true)
    }

    @Test func selfReferencingListDoesNotHang() {
        var writer = PickleWriter()
        writer.raw([0x5d, 0x71, 0x00])  // EMPTY_LIST, BINPUT 0
        for _ in 0..<1000 { writer.raw([0x68, 0x00, 0x61]) }  // BINGET 0, APPEND: the list contains itself
        writer.stop()
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: writer.bytes, name: "loop.pkl") }
        #expect(error?.description.contains("loop.pkl is not a PyTorch checkpoint") == true)
    }

    @Test func randomAndEmptyInputIsNotACheckpoint() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        let random = (0..<4096).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        for (bytes, name) in [(random, "x.bin"), ([UInt8](repeating: 0, count: 4096), "zeros.bin"), ([], "empty.bin"), (Array("PK".utf8), "pk.bin")] {
            let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: bytes, name: name) }
            #expect(error?.description == "\(name) is not a PyTorch checkpoint (expected a zip from torch.save, a legacy pickle, or a .safetensors file)")
        }
    }

    @Test func mutatedCheckpointsThrowOrLoadButNeverCrash() throws {
        // A small fuzz pass over the fuzz entry point: flip bytes in the legacy stem file and a hand-made zip.
        let legacy = [UInt8](try Data(contentsOf: Fixtures.stemLegacyPth))
        let pickle = PickleWriter.stateDict { writer in
            writer.string("w")
            writer.float32Tensor(storageKey: "0", storageCount: 4, size: [2, 2], stride: [1, 2])
        }
        let zip = HandMadeFiles.torchZip(pickle: pickle, storages: ["0": HandMadeFiles.float32Bytes([1, 2, 3, 4])])
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var outcomes = (loaded: 0, refused: 0)
        for (original, span) in [(legacy, 1200), (zip, zip.count)] {
            for _ in 0..<1500 {
                var bytes = original
                for _ in 0..<(1 + next() % 4) { bytes[next() % span] = UInt8(truncatingIfNeeded: next()) }
                do {
                    let dict = try StateDict(bytes: bytes, name: "fuzz")
                    for tensor in dict.tensors.values { _ = tensor.floats }
                    outcomes.loaded += 1
                } catch {
                    #expect(!error.description.isEmpty)
                    outcomes.refused += 1
                }
            }
        }
        #expect(outcomes.refused > 0)
        #expect(outcomes.loaded > 0)
    }
}
