import Imaging

/// Splits ffmpeg's `image2pipe` output of binary PPM frames (`P6 width height 255`, then RGB bytes) into images.
/// Each frame carries its own size in its header, so nothing has to be agreed with ffmpeg beforehand.
struct PPMStreamParser {
    /// Refuses headers beyond this many pixels (a corrupt stream must not make it allocate gigabytes).
    let maxPixels: Int
    private var buffer: [UInt8] = []
    private var start = 0

    init(maxPixels: Int) {
        self.maxPixels = maxPixels
    }

    /// Appends bytes read from the pipe and returns the frames they complete.
    mutating func append(_ bytes: UnsafeRawBufferPointer) throws(MonitoringError) -> [RGBImage] {
        buffer.append(contentsOf: bytes)
        var frames: [RGBImage] = []
        while let (header, width, height) = try header() {
            let size = width * height * 3
            guard buffer.count - start - header >= size else { break }
            let first = start + header
            frames.append(RGBImage(width: width, height: height, pixels: Array(buffer[first..<(first + size)])))
            start = first + size
        }
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }

    /// Bytes left that do not make a whole frame (a stream cut short).
    var pendingBytes: Int { buffer.count - start }

    /// The header at `start`: its length in bytes, width and height; nil while incomplete.
    private func header() throws(MonitoringError) -> (Int, Int, Int)? {
        var fields: [Int] = []
        var position = start
        guard buffer.count - start >= 2 else { return nil }
        guard buffer[start] == UInt8(ascii: "P"), buffer[start + 1] == UInt8(ascii: "6") else {
            throw .badFrame("expected a binary PPM frame (P6) from ffmpeg, got bytes \(buffer[start]) \(buffer[start + 1])")
        }
        position += 2
        while fields.count < 3 {
            // Whitespace, and comments from '#' to the end of the line, separate the fields.
            while position < buffer.count, buffer[position] == UInt8(ascii: "#") || Self.isSpace(buffer[position]) {
                if buffer[position] == UInt8(ascii: "#") {
                    while position < buffer.count, buffer[position] != 10 { position += 1 }
                } else {
                    position += 1
                }
            }
            var value = 0, digits = 0
            while position < buffer.count, (48...57).contains(buffer[position]) {
                value = value * 10 + Int(buffer[position] - 48)
                digits += 1
                position += 1
                guard digits <= 9 else { throw .badFrame("PPM header field too long") }
            }
            guard position < buffer.count else { return nil }
            guard digits > 0 else { throw .badFrame("PPM header has a non-digit where a number belongs") }
            fields.append(value)
        }
        // Exactly one whitespace byte ends the header.
        guard position < buffer.count else { return nil }
        guard Self.isSpace(buffer[position]) else { throw .badFrame("PPM header does not end with whitespace") }
        let (width, height, maxValue) = (fields[0], fields[1], fields[2])
        guard maxValue == 255 else { throw .badFrame("PPM with max value \(maxValue): ffmpeg should send 8-bit rgb24") }
        guard width > 0, height > 0, width * height <= maxPixels else {
            throw .badFrame("frame of \(width)×\(height) pixels is over the \(maxPixels)-pixel limit (--max-pixels)")
        }
        return (position + 1 - start, width, height)
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || (9...13).contains(byte) }
}
