/// Reads the zip container torch.save has written since PyTorch 1.6: `<prefix>/data.pkl` (the pickled
/// state_dict) and `<prefix>/data/<key>` (each storage's raw bytes), all stored uncompressed.
enum TorchZipFormat {
    static func read(_ bytes: [UInt8], file: String) throws(CheckpointError) -> [String: Tensor] {
        let archive = try ZipArchive(bytes: bytes, file: file)
        // The pickle sits in one top-level folder (named after the file when saved) or at the root.
        let pickles = archive.entries.keys.filter { name in
            name == "data.pkl" || (name.hasSuffix("/data.pkl") && name.filter { $0 == "/" }.count == 1)
        }
        guard pickles.count == 1, let pickleName = pickles.first, let pickleEntry = archive.entries[pickleName] else {
            if archive.entries.keys.contains(where: { $0.hasSuffix("constants.pkl") || $0.contains("/code/") }) {
                throw .unsupported(file: file, detail: "this is a TorchScript archive (torch.jit.save), not a state_dict; "
                    + "save the weights with torch.save(model.state_dict(), path) instead")
            }
            throw .malformed(file: file, detail: pickles.isEmpty
                ? "the zip archive has no data.pkl, so torch.save did not write it"
                : "the zip archive has \(pickles.count) data.pkl entries")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if let order = archive.entries[prefix + "byteorder"] {
            let text = String(decoding: try archive.storedData(order), as: UTF8.self)
            guard text == "little" else {
                throw .unsupported(file: file, detail: "its tensors are stored \(text)-endian; load and re-save it with torch.save on a little-endian machine")
            }
        }

        let pickle = try archive.storedData(pickleEntry)
        var reader = ByteReader(bytes: bytes, range: pickle.indices) { needed, at in
            .malformed(file: file, detail: "\(pickleName) ends in the middle of an opcode (needed \(needed) bytes at offset \(at - pickle.startIndex))")
        }
        var unpickler = Unpickler(file: file, source: pickleName)
        let root = try unpickler.load(&reader)
        let views = try unpickler.tensorViews(in: root)

        var storageBytes: [String: ArraySlice<UInt8>] = [:]
        for (key, storage) in unpickler.storages {
            let recordName = prefix + "data/" + key
            guard let entry = archive.entries[recordName] else {
                throw .malformed(file: file, detail: "the pickle names storage \(key), but the archive has no \(recordName)")
            }
            let data = try archive.storedData(entry)
            guard data.count / storage.dtype.byteCount >= storage.rootElementCount else {
                throw .malformed(file: file, detail: "\(recordName) holds \(data.count) bytes, "
                    + "fewer than its \(storage.rootElementCount) \(storage.dtype) elements need")
            }
            storageBytes[key] = data
        }
        var gatherBudget = bytes.count
        var tensors: [String: Tensor] = [:]
        for (name, view) in views {
            tensors[name] = try view.materialize(rootBytes: storageBytes[view.storage.key] ?? [], gatherBudget: &gatherBudget, file: file, name: name)
        }
        return tensors
    }
}
