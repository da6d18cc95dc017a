/// The directory of a zip archive held in memory, validated against the buffer: every entry's
/// header and data lie inside the file, before the central directory, and apart from each other.
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let headerOffset: Int
        /// Where the entry's (possibly compressed) bytes lie in the buffer.
        let dataRange: Range<Int>
    }

    let entries: [String: Entry]
    private let bytes: [UInt8]
    private let file: String

    /// Bytes 0x50 0x4b ("PK") and a local-header or end-of-directory signature.
    static func looksLikeZip(_ bytes: [UInt8]) -> Bool {
        guard let signature = bytes.littleEndianIfPresent(at: 0, byteCount: 4) else { return false }
        return signature == localHeaderSignature || signature == endOfDirectorySignature
    }

    private static let localHeaderSignature: UInt64 = 0x0403_4b50
    private static let centralHeaderSignature: UInt64 = 0x0201_4b50
    private static let endOfDirectorySignature: UInt64 = 0x0605_4b50
    private static let zip64LocatorSignature: UInt64 = 0x0706_4b50
    private static let zip64EndOfDirectorySignature: UInt64 = 0x0606_4b50

    init(bytes: [UInt8], file: String) throws(CheckpointError) {
        self.bytes = bytes
        self.file = file
        let directory = try Self.findCentralDirectory(bytes, file: file)
        var entries: [String: Entry] = [:]
        var cursor = directory.offset
        let directoryEnd = directory.offset + directory.size
        for index in 0..<directory.entryCount {
            let entry = try Self.readEntry(bytes, at: &cursor, directoryRange: directory.offset..<directoryEnd, file: file, index: index)
            guard entries[entry.name] == nil else {
                throw .malformed(file: file, detail: "the zip archive lists \(entry.name) twice")
            }
            entries[entry.name] = entry
        }
        // Entries must not share bytes: a lying directory could otherwise point two entries at one
        // region, or an entry's data over another's header.
        let ordered = entries.values.sorted { $0.headerOffset < $1.headerOffset }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.dataRange.upperBound > later.headerOffset {
            throw .malformed(file: file, detail: "zip entries \(earlier.name) and \(later.name) overlap")
        }
        self.entries = entries
    }

    /// The bytes of an uncompressed entry, as a view of the buffer.
    func storedData(_ entry: Entry) throws(CheckpointError) -> ArraySlice<UInt8> {
        guard entry.method == 0 else { throw .compressedEntry(file: file, entry: entry.name, method: Int(entry.method)) }
        return bytes[entry.dataRange]
    }

    private struct CentralDirectory {
        let offset: Int
        let size: Int
        let entryCount: Int
    }

    private static func findCentralDirectory(_ bytes: [UInt8], file: String) throws(CheckpointError) -> CentralDirectory {
        // The end record is 22 bytes plus a comment of at most 65535 bytes, so it lies in the last 64 KiB.
        let minimumRecord = 22
        guard bytes.count >= minimumRecord else {
            throw .truncated(file: file, detail: "it starts like a zip archive but is only \(bytes.count) bytes long")
        }
        var endRecord: Int?
        var candidate = bytes.count - minimumRecord
        let lowest = max(0, bytes.count - minimumRecord - 0xffff)
        while candidate >= lowest {
            if bytes.littleEndian(at: candidate, byteCount: 4) == endOfDirectorySignature,
               candidate + minimumRecord + Int(bytes.littleEndian(at: candidate + 20, byteCount: 2)) <= bytes.count {
                endRecord = candidate
                break
            }
            candidate -= 1
        }
        guard let endRecord else {
            throw .truncated(file: file, detail: "it starts like a zip archive but has no end-of-archive directory")
        }
        var entryCount = bytes.littleEndian(at: endRecord + 10, byteCount: 2)
        var size = bytes.littleEndian(at: endRecord + 12, byteCount: 4)
        var offset = bytes.littleEndian(at: endRecord + 16, byteCount: 4)
        var directoryLimit = endRecord

        // PyTorch's writer always adds the zip64 records; archives over 4 GiB need them.
        let locator = endRecord - 20
        if locator >= 0, bytes.littleEndian(at: locator, byteCount: 4) == zip64LocatorSignature {
            let record64 = bytes.littleEndian(at: locator + 8, byteCount: 8)
            guard record64 <= UInt64(locator), locator - Int(record64) >= 56,
                  bytes.littleEndian(at: Int(record64), byteCount: 4) == zip64EndOfDirectorySignature
            else {
                throw .malformed(file: file, detail: "the zip64 end-of-archive locator points outside the file")
            }
            let record = Int(record64)
            entryCount = bytes.littleEndian(at: record + 32, byteCount: 8)
            size = bytes.littleEndian(at: record + 40, byteCount: 8)
            offset = bytes.littleEndian(at: record + 48, byteCount: 8)
            directoryLimit = record
        } else if entryCount == 0xffff || size == 0xffff_ffff || offset == 0xffff_ffff {
            throw .malformed(file: file, detail: "the zip archive needs zip64 records but has none")
        }
        guard offset <= UInt64(directoryLimit), size <= UInt64(directoryLimit) - offset else {
            throw .malformed(file: file, detail: "the zip directory lies outside the file (offset \(offset), \(size) bytes)")
        }
        // Each directory entry takes at least 46 bytes: a lying count cannot make us allocate or loop beyond that.
        guard entryCount <= size / 46 else {
            throw .malformed(file: file, detail: "the zip directory claims \(entryCount) entries in \(size) bytes")
        }
        return CentralDirectory(offset: Int(offset), size: Int(size), entryCount: Int(entryCount))
    }

    private static func readEntry(
        _ bytes: [UInt8], at cursor: inout Int, directoryRange: Range<Int>, file: String, index: Int
    ) throws(CheckpointError) -> Entry {
        func damaged(_ detail: String) -> CheckpointError { .malformed(file: file, detail: "zip directory entry \(index) \(detail)") }
        guard directoryRange.upperBound - cursor >= 46,
              bytes.littleEndian(at: cursor, byteCount: 4) == centralHeaderSignature
        else { throw damaged("is not where the directory says") }
        let flags = bytes.littleEndian(at: cursor + 8, byteCount: 2)
        let method = UInt16(bytes.littleEndian(at: cursor + 10, byteCount: 2))
        var compressedSize = bytes.littleEndian(at: cursor + 20, byteCount: 4)
        var uncompressedSize = bytes.littleEndian(at: cursor + 24, byteCount: 4)
        let nameLength = Int(bytes.littleEndian(at: cursor + 28, byteCount: 2))
        let extraLength = Int(bytes.littleEndian(at: cursor + 30, byteCount: 2))
        let commentLength = Int(bytes.littleEndian(at: cursor + 32, byteCount: 2))
        var headerOffset = bytes.littleEndian(at: cursor + 42, byteCount: 4)
        let nameStart = cursor + 46
        let extraStart = nameStart + nameLength
        let next = extraStart + extraLength + commentLength
        guard next <= directoryRange.upperBound else { throw damaged("runs past the end of the directory") }
        let nameBytes = bytes[nameStart..<extraStart]
        let name = String(decoding: nameBytes, as: UTF8.self)

        // Zip64 extra field (id 1): 8-byte values for exactly the fields saturated above, in this order.
        var extra = extraStart
        while extra + 4 <= extraStart + extraLength {
            let id = bytes.littleEndian(at: extra, byteCount: 2)
            let length = Int(bytes.littleEndian(at: extra + 2, byteCount: 2))
            guard extra + 4 + length <= extraStart + extraLength else { throw damaged("(\(name)) has a damaged extra field") }
            if id == 1 {
                var field = extra + 4
                func wide(_ value: inout UInt64, saturated: UInt64) throws(CheckpointError) {
                    guard value == saturated else { return }
                    guard field + 8 <= extra + 4 + length else { throw damaged("(\(name)) has a short zip64 field") }
                    value = bytes.littleEndian(at: field, byteCount: 8)
                    field += 8
                }
                try wide(&uncompressedSize, saturated: 0xffff_ffff)
                try wide(&compressedSize, saturated: 0xffff_ffff)
                try wide(&headerOffset, saturated: 0xffff_ffff)
            }
            extra += 4 + length
        }
        cursor = next

        guard flags & 1 == 0 else {
            throw .unsupported(file: file, detail: "zip entry \(name) is encrypted; torch.save never encrypts, re-save the weights with torch.save")
        }
        if method == 0, compressedSize != uncompressedSize {
            throw damaged("(\(name)) is stored uncompressed but lists two different sizes")
        }
        // The local header repeats the name and has its own extra field (PyTorch pads data to 64 bytes with it).
        let directoryStart = UInt64(directoryRange.lowerBound)
        guard headerOffset <= directoryStart, directoryStart - headerOffset >= 30,
              bytes.littleEndian(at: Int(headerOffset), byteCount: 4) == localHeaderSignature
        else { throw damaged("(\(name)) points at no local header") }
        let local = Int(headerOffset)
        let localNameLength = Int(bytes.littleEndian(at: local + 26, byteCount: 2))
        let localExtraLength = Int(bytes.littleEndian(at: local + 28, byteCount: 2))
        let dataStart = local + 30 + localNameLength + localExtraLength
        guard dataStart <= directoryRange.lowerBound,
              compressedSize <= UInt64(directoryRange.lowerBound - dataStart)
        else {
            throw .malformed(file: file, detail: "zip entry \(name) runs past the end of the archive's data (\(compressedSize) bytes at offset \(dataStart))")
        }
        guard bytes[(local + 30)..<(local + 30 + localNameLength)].elementsEqual(nameBytes) else {
            throw damaged("(\(name)) disagrees with its local header about its name")
        }
        return Entry(name: name, method: method, headerOffset: local, dataRange: dataStart..<(dataStart + Int(compressedSize)))
    }
}
