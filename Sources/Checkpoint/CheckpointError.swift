/// Why a checkpoint could not be loaded; every message names the file and says what to do.
public enum CheckpointError: Error, CustomStringConvertible, Sendable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The bytes are none of the formats this module reads.
    case notACheckpoint(file: String)
    /// The file ends before its own structure says it should.
    case truncated(file: String, detail: String)
    /// The container or pickle is inconsistent: damaged, hand-made, or lying about its contents.
    case malformed(file: String, detail: String)
    /// A zip entry is compressed; torch.save never compresses.
    case compressedEntry(file: String, entry: String, method: Int)
    /// The pickle names a Python callable outside the state_dict allow-list.
    case forbiddenGlobal(file: String, global: String)
    /// Well-formed, but uses a feature this loader does not read (a dtype, big-endian data, TorchScript).
    case unsupported(file: String, detail: String)
    /// The checkpoint holds no tensors.
    case noTensors(file: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file) could not be read (\(reason)); check the path and its permissions"
        case .notACheckpoint(let file):
            "\(file) is not a PyTorch checkpoint (expected a zip from torch.save, a legacy pickle, or a .safetensors file)"
        case .truncated(let file, let detail):
            "\(file) is truncated: \(detail); the download or copy was cut short, fetch the file again"
        case .malformed(let file, let detail):
            "\(file) is damaged or not a state_dict: \(detail); re-save the weights with torch.save(model.state_dict(), path)"
        case .compressedEntry(let file, let entry, let method):
            "\(file): zip entry \(entry) is compressed (\(method == 8 ? "deflate" : "method \(method)")), "
                + "but torch.save writes uncompressed zips; the archive was repacked by another tool: "
                + "re-save it with torch.save, or re-zip it without compression (zip -0)"
        case .forbiddenGlobal(let file, let global):
            "\(file): the pickle calls \(global), which a state_dict never needs; refusing to load it (nothing was executed)"
        case .unsupported(let file, let detail):
            "\(file): \(detail)"
        case .noTensors(let file):
            "\(file) holds no tensors; save a model's weights with torch.save(model.state_dict(), path)"
        }
    }
}
