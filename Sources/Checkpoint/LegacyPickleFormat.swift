/// Reads torch.save's pre-1.6 container (`_use_new_zipfile_serialization=False`): a run of pickles
/// (magic number, protocol version, sys_info, the state_dict, the storage keys) followed by each
/// storage in key order as an 8-byte little-endian element count and the raw elements.
enum LegacyPickleFormat {
    /// 0x1950a86a20f9469cfc6c, as LONG1 writes it.
    private static let magicNumber: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    private static let protocolVersion = 1001

    /// A pickle's PROTO opcode (0x80) and a version Python 2 and 3 write.
    static func looksLikePickle(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x80 && (2...5).contains(bytes[1])
    }

    static func read(_ bytes: [UInt8], file: String) throws(CheckpointError) -> [String: Tensor] {
        var reader = ByteReader(bytes: bytes, range: bytes.indices) { needed, at in
            .truncated(file: file, detail: "it ends at byte \(bytes.count), but the legacy pickle needs \(needed) more bytes at offset \(at)")
        }
        var unpickler = Unpickler(file: file, source: "the legacy pickle")

        // The first pickle goes through the same allow-list as the rest: a hostile plain pickle is refused by name.
        guard case .bigInt(let magic) = try unpickler.load(&reader), magic == magicNumber else {
            throw .notACheckpoint(file: file)
        }
        guard case .int(let version) = try unpickler.load(&reader), version == protocolVersion else {
            throw .unsupported(file: file, detail: "it is a legacy torch.save file of an unknown protocol version; re-save it with a current torch.save")
        }
        let systemInfo = try unpickler.load(&reader)
        for (key, value) in unpickler.items(ofDict: systemInfo) ?? [] where key.text == "little_endian" {
            if case .bool(false) = value {
                throw .unsupported(file: file, detail: "it was saved on a big-endian machine; load and re-save it with torch.save on a little-endian one")
            }
        }
        let root = try unpickler.load(&reader)
        let views = try unpickler.tensorViews(in: root)
        let keyList = try unpickler.load(&reader)
        guard let keys = unpickler.items(ofList: keyList) else {
            throw .malformed(file: file, detail: "the storage key list is \(keyList.kind), not a list")
        }

        var storageBytes: [String: ArraySlice<UInt8>] = [:]
        for keyValue in keys {
            guard let key = keyValue.text ?? { if case .int(let n) = keyValue { String(n) } else { nil } }(),
                  let storage = unpickler.storages[key]
            else {
                throw .malformed(file: file, detail: "the storage key list names \(keyValue.kind) \(keyValue.text ?? ""), which no tensor uses")
            }
            guard storageBytes[key] == nil else {
                throw .malformed(file: file, detail: "the storage key list names \(key) twice")
            }
            let count = try reader.unsigned(8)
            guard count == UInt64(storage.rootElementCount) else {
                throw .malformed(file: file, detail: "storage \(key) holds \(count) elements, but the pickle declared \(storage.rootElementCount)")
            }
            storageBytes[key] = bytes[try reader.take(storage.rootElementCount * storage.dtype.byteCount)]
        }
        var gatherBudget = bytes.count
        var tensors: [String: Tensor] = [:]
        for (name, view) in views {
            guard let data = storageBytes[view.storage.key] else {
                throw .malformed(file: file, detail: "tensor \(name) uses storage \(view.storage.key), which the file does not contain")
            }
            tensors[name] = try view.materialize(rootBytes: data, gatherBudget: &gatherBudget, file: file, name: name)
        }
        return tensors
    }
}
