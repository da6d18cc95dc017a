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
        let bytes = try Self.readFile(url)
        try self.init(bytes: bytes, name: url.lastPathComponent)
    }

    /// The whole file in one buffer, read with read(2): no mapping (a file truncated meanwhile cannot fault),
    /// and no second copy, so the peak memory of a load is one file size.
    static func readFile(_ url: URL) throws(CheckpointError) -> [UInt8] {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else {
            throw .unreadable(file: url.path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .unreadable(file: url.path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(file: url.path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            while initialized < size {
                let count = read(descriptor, buffer.baseAddress! + initialized, size - initialized)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    failure = count == 0 ? "the file shrank while it was read" : String(cString: strerror(errno))
                    break
                }
                initialized += count
            }
        }
        if let failure { throw .unreadable(file: url.path, reason: failure) }
        return bytes
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
