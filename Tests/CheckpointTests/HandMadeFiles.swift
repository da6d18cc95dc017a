/// Writes checkpoint files byte by byte, so tests can build the small, broken and hostile ones they need.
enum HandMadeFiles {
    struct ZipEntry {
        var name: String
        var data: [UInt8]
        /// 0 is stored (what torch.save writes), 8 is deflate; the bytes are written as given either way.
        var method: UInt16 = 0
    }

    /// A zip archive laid out like torch.save's: local headers and data, central directory, end record.
    /// CRCs are left 0: the reader does not check them.
    static func zip(_ entries: [ZipEntry]) -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for entry in entries {
            let offset = out.count
            let name = Array(entry.name.utf8)
            out += le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(UInt64(entry.method), 2) + le(0, 4) + le(0, 4)
            out += le(UInt64(entry.data.count), 4) + le(UInt64(entry.data.count), 4) + le(UInt64(name.count), 2) + le(0, 2)
            out += name + entry.data
            directory += le(0x0201_4b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(UInt64(entry.method), 2) + le(0, 4) + le(0, 4)
            directory += le(UInt64(entry.data.count), 4) + le(UInt64(entry.data.count), 4) + le(UInt64(name.count), 2)
            directory += le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(UInt64(offset), 4) + name
        }
        let directoryOffset = out.count
        out += directory
        out += le(0x0605_4b50, 4) + le(0, 2) + le(0, 2) + le(UInt64(entries.count), 2) + le(UInt64(entries.count), 2)
        out += le(UInt64(directory.count), 4) + le(UInt64(directoryOffset), 4) + le(0, 2)
        return out
    }

    /// A torch.save-style zip of one pickle and its storages (`archive/data.pkl`, `archive/data/<key>`).
    static func torchZip(pickle: [UInt8], storages: [String: [UInt8]] = [:], pickleMethod: UInt16 = 0) -> [UInt8] {
        var entries = [ZipEntry(name: "archive/data.pkl", data: pickle, method: pickleMethod)]
        entries.append(ZipEntry(name: "archive/byteorder", data: Array("little".utf8)))
        for key in storages.keys.sorted() {
            entries.append(ZipEntry(name: "archive/data/\(key)", data: storages[key]!))
        }
        entries.append(ZipEntry(name: "archive/version", data: Array("3\n".utf8)))
        return zip(entries)
    }

    /// A safetensors file from a header written as JSON text and the data section.
    static func safetensors(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return le(UInt64(json.count), 8) + json + data
    }

    /// Little-endian bytes of `value`.
    static func le(_ value: UInt64, _ byteCount: Int) -> [UInt8] {
        (0..<byteCount).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func float32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { le(UInt64($0.bitPattern), 4) }
    }
}

/// Writes protocol-2 pickles opcode by opcode, the way torch.save's pickler does.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 0x02]

    mutating func raw(_ more: [UInt8]) { bytes += more }
    mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
    mutating func stackGlobal(_ module: String, _ name: String) { string(module); string(name); bytes.append(0x93) }
    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes += [0x58] + HandMadeFiles.le(UInt64(utf8.count), 4) + utf8
    }
    mutating func int(_ value: UInt8) { bytes += [0x4b, value] }
    mutating func mark() { bytes.append(0x28) }
    mutating func tuple() { bytes.append(0x74) }
    mutating func emptyTuple() { bytes.append(0x29) }
    mutating func reduce() { bytes.append(0x52) }
    mutating func stop() { bytes.append(0x2e) }

    /// `OrderedDict()`, as torch.save writes an empty state_dict or a tensor's backward hooks.
    mutating func orderedDict() { global("collections", "OrderedDict"); emptyTuple(); reduce() }

    /// `_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', count), offset, size, stride, False, OrderedDict())`.
    mutating func float32Tensor(storageKey: String, storageCount: UInt8, offset: UInt8 = 0, size: [UInt8], stride: [UInt8]) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark(); string("storage"); global("torch", "FloatStorage"); string(storageKey); string("cpu"); int(storageCount); tuple()
        bytes.append(0x51)  // BINPERSID
        int(offset)
        mark(); size.forEach { int($0) }; tuple()
        mark(); stride.forEach { int($0) }; tuple()
        bytes.append(0x89)  // NEWFALSE
        orderedDict()
        tuple()
        reduce()
    }

    /// A state_dict pickle: `OrderedDict` then `(key, value)` pairs written by `items`, set with SETITEMS.
    static func stateDict(_ items: (inout PickleWriter) -> Void) -> [UInt8] {
        var writer = PickleWriter()
        writer.orderedDict()
        writer.mark()
        items(&writer)
        writer.raw([0x75])  // SETITEMS
        writer.stop()
        return writer.bytes
    }
}
