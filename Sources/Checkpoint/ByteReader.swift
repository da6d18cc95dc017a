/// A bounds-checked cursor over one region of an untrusted byte buffer; reading past the region throws.
struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    private(set) var position: Int
    /// Builds the error thrown when a read would pass `end`.
    let pastEnd: (_ needed: Int, _ at: Int) -> CheckpointError

    init(bytes: [UInt8], range: Range<Int>, pastEnd: @escaping (_ needed: Int, _ at: Int) -> CheckpointError) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.pastEnd = pastEnd
    }

    var remaining: Int { end - position }

    /// The next `count` bytes' range, consumed.
    mutating func take(_ count: Int) throws(CheckpointError) -> Range<Int> {
        guard count >= 0, count <= remaining else { throw pastEnd(count, position) }
        defer { position += count }
        return position..<(position + count)
    }

    mutating func byte() throws(CheckpointError) -> UInt8 {
        guard position < end else { throw pastEnd(1, position) }
        defer { position += 1 }
        return bytes[position]
    }

    /// An unsigned little-endian integer of `byteCount` (at most 8) bytes.
    mutating func unsigned(_ byteCount: Int) throws(CheckpointError) -> UInt64 {
        let range = try take(byteCount)
        return bytes.littleEndian(at: range.lowerBound, byteCount: byteCount)
    }

    /// The bytes up to the next newline, which is consumed but not returned.
    mutating func line() throws(CheckpointError) -> ArraySlice<UInt8> {
        guard let newline = bytes[position..<end].firstIndex(of: 0x0a) else { throw pastEnd(remaining + 1, position) }
        defer { position = newline + 1 }
        return bytes[position..<newline]
    }
}

extension Array where Element == UInt8 {
    /// An unsigned little-endian integer; the caller has checked the bounds.
    func littleEndian(at offset: Int, byteCount: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in stride(from: byteCount - 1, through: 0, by: -1) {
            value = value << 8 | UInt64(self[offset + i])
        }
        return value
    }

    /// An unsigned little-endian integer, or nil if it does not lie inside the buffer.
    func littleEndianIfPresent(at offset: Int, byteCount: Int) -> UInt64? {
        guard offset >= 0, byteCount <= count, offset <= count - byteCount else { return nil }
        return littleEndian(at: offset, byteCount: byteCount)
    }
}
