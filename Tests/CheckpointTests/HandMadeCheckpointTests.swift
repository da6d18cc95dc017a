import Checkpoint
import Testing

/// Small valid files written in the test, for what the fixtures do not exercise.
@Suite struct HandMadeCheckpointTests {
    @Test func contiguousAndTransposedViewsOfOneStorage() throws {
        let pickle = PickleWriter.stateDict { writer in
            writer.string("plain")
            writer.float32Tensor(storageKey: "0", storageCount: 6, size: [2, 3], stride: [3, 1])
            writer.string("transposed")
            writer.float32Tensor(storageKey: "0", storageCount: 6, size: [3, 2], stride: [1, 3])
            writer.string("tail")
            writer.float32Tensor(storageKey: "0", storageCount: 6, offset: 4, size: [2], stride: [1])
        }
        let file = HandMadeFiles.torchZip(pickle: pickle, storages: ["0": HandMadeFiles.float32Bytes([1, 2, 3, 4, 5, 6])])
        let dict = try StateDict(bytes: file, name: "views.pth")
        #expect(dict.format == .torchZip)
        #expect(dict.tensors["plain"]?.shape == [2, 3])
        #expect(dict.tensors["plain"]?.floats == [1, 2, 3, 4, 5, 6])
        #expect(dict.tensors["transposed"]?.shape == [3, 2])
        #expect(dict.tensors["transposed"]?.floats == [1, 4, 2, 5, 3, 6])
        #expect(dict.tensors["tail"]?.floats == [5, 6])
    }

    @Test func safetensorsDtypesConvertToFloat() throws {
        let header = """
            {"__metadata__":{"format":"pt"},
             "half":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},
             "brain":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},
             "long":{"dtype":"I64","shape":[1],"data_offsets":[12,20]},
             "byte":{"dtype":"I8","shape":[2],"data_offsets":[20,22]},
             "flag":{"dtype":"BOOL","shape":[2],"data_offsets":[22,24]}}
            """
        var data: [UInt8] = []
        for half: UInt64 in [0x3c00, 0xc000, 0x3800, 0x0001] { data += HandMadeFiles.le(half, 2) }  // 1, -2, 0.5, 2^-24
        for bfloat: UInt64 in [0x3f80, 0xc040] { data += HandMadeFiles.le(bfloat, 2) }  // 1, -3
        data += HandMadeFiles.le(UInt64(bitPattern: -7), 8)
        data += [0xff, 0x05, 1, 0]
        let dict = try StateDict(bytes: HandMadeFiles.safetensors(header: header, data: data), name: "dtypes.safetensors")
        #expect(dict.tensors["half"]?.dtype == .float16)
        #expect(dict.tensors["half"]?.floats == [1, -2, 0.5, 0x1p-24])
        #expect(dict.tensors["brain"]?.floats == [1, -3])
        #expect(dict.tensors["long"]?.floats == [-7])
        #expect(dict.tensors["byte"]?.floats == [-1, 5])
        #expect(dict.tensors["flag"]?.dtype == .bool)
        #expect(dict.tensors["flag"]?.floats == [])
    }

    @Test func legacyStorageViewsSelectPartOfTheirRoot() throws {
        // torch.save(_use_new_zipfile_serialization=False) of two tensors sharing one 6-element root storage,
        // the second through view metadata ('view', 2, 4): magic, version, sys_info, state_dict, keys, data.
        var file: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]
        file += [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]  // BININT2 1001
        var info = PickleWriter()
        info.raw([0x7d]); info.mark(); info.string("little_endian"); info.raw([0x88, 0x75]); info.stop()
        file += info.bytes
        func legacyTensor(_ writer: inout PickleWriter, view: (offset: UInt8, count: UInt8)?, size: UInt8) {
            writer.global("torch._utils", "_rebuild_tensor_v2")
            writer.mark()
            writer.mark(); writer.string("storage"); writer.global("torch", "FloatStorage"); writer.string("140")
            writer.string("cpu"); writer.int(6)
            if let view {
                writer.mark(); writer.string("141"); writer.int(view.offset); writer.int(view.count); writer.tuple()
            } else {
                writer.raw([0x4e])  // NONE
            }
            writer.tuple(); writer.raw([0x51])
            writer.int(0); writer.mark(); writer.int(size); writer.tuple(); writer.mark(); writer.int(1); writer.tuple()
            writer.raw([0x89]); writer.orderedDict(); writer.tuple(); writer.reduce()
        }
        file += PickleWriter.stateDict { writer in
            writer.string("whole"); legacyTensor(&writer, view: nil, size: 6)
            writer.string("middle"); legacyTensor(&writer, view: (offset: 2, count: 4), size: 3)
        }
        var keys = PickleWriter()
        keys.raw([0x5d]); keys.mark(); keys.string("140"); keys.raw([0x65]); keys.stop()
        file += keys.bytes
        file += HandMadeFiles.le(6, 8) + HandMadeFiles.float32Bytes([10, 11, 12, 13, 14, 15])

        let dict = try StateDict(bytes: file, name: "views-legacy.pth")
        #expect(dict.format == .legacyPickle)
        #expect(dict.tensors["whole"]?.floats == [10, 11, 12, 13, 14, 15])
        #expect(dict.tensors["middle"]?.shape == [3])
        #expect(dict.tensors["middle"]?.floats == [12, 13, 14])
    }

    @Test func emptyStateDictIsReportedAsHoldingNoTensors() throws {
        let file = HandMadeFiles.torchZip(pickle: PickleWriter.stateDict { _ in })
        let error = #expect(throws: CheckpointError.self) { try StateDict(bytes: file, name: "empty.pth") }
        #expect(error?.description.contains("empty.pth holds no tensors") == true)
    }
}
