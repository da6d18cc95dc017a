import Foundation

/// The container a checkpoint came in.
public enum CheckpointFormat: String, Sendable {
    case torchZip = "torch.save zip"
    case legacyPickle = "legacy pickle"
    case safetensors
}

/// The named tensors of a PyTorch state_dict, read without executing anything in the file.
public struct StateDict: Sendable {
    public let tensors: [String: Tensor]
    public let format: CheckpointFormat

    /// Reads a checkpoint file; the format is recognised from the content, not the extension.
    public init(contentsOf url: URL) throws(CheckpointError) {
        let bytes: [UInt8]
        do {
            // Mapped, then copied once: the tensors become views of this one buffer.
            let data = try Data(contentsOf: url, options: .alwaysMapped)
            bytes = [UInt8](unsafeUninitializedCapacity: data.count) { buffer, initialized in
                initialized = data.copyBytes(to: buffer)
            }
        } catch {
            throw .unreadable(file: url.path, reason: (error as NSError).localizedDescription)
        }
        try self.init(bytes: bytes, name: url.lastPathComponent)
    }

    /// Reads a checkpoint held in memory; `name` identifies it in error messages.
    public init(bytes: [UInt8], name: String) throws(CheckpointError) {
        if ZipArchive.looksLikeZip(bytes) {
            tensors = try TorchZipFormat.read(bytes, file: name)
            format = .torchZip
        } else if SafetensorsFormat.looksLikeSafetensors(bytes) {
            tensors = try SafetensorsFormat.read(bytes, file: name)
            format = .safetensors
        } else if LegacyPickleFormat.looksLikePickle(bytes) {
            tensors = try LegacyPickleFormat.read(bytes, file: name)
            format = .legacyPickle
        } else {
            throw .notACheckpoint(file: name)
        }
    }
}
