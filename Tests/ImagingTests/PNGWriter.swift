/// Writes small PNG files for tests: any colour type and bit depth, optionally Adam7-interlaced, with extra
/// chunks before the image data. Deflate uses stored (uncompressed) blocks, so no zlib is involved.
struct PNGWriter {
    var width: Int
    var height: Int
    var bitDepth: Int
    /// 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.
    var colorType: Int
    var interlaced = false
    /// PLTE contents: RGB triples.
    var palette: [UInt8]? = nil
    /// Chunks written between IHDR (and PLTE) and IDAT: (type, data).
    var extraChunks: [(String, [UInt8])] = []

    var channels: Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }

    /// `samples[y][x * channels + c]`, each below `1 << bitDepth`.
    func encode(_ samples: [[Int]]) -> [UInt8] {
        var ihdr = Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        ihdr += [UInt8(bitDepth), UInt8(colorType), 0, 0, interlaced ? 1 : 0]
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += Self.chunk("IHDR", ihdr)
        if let palette { file += Self.chunk("PLTE", palette) }
        for (type, data) in extraChunks { file += Self.chunk(type, data) }
        file += Self.chunk("IDAT", Self.zlibStored(scanlines(samples)))
        file += Self.chunk("IEND", [])
        return file
    }

    /// Filter type 0 scanlines, pass by pass when interlaced.
    private func scanlines(_ samples: [[Int]]) -> [UInt8] {
        let passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        var out = [UInt8]()
        for (x0, y0, dx, dy) in passes {
            let xs = Array(stride(from: x0, to: width, by: dx))
            guard !xs.isEmpty else { continue }
            for y in stride(from: y0, to: height, by: dy) {
                out.append(0)
                out += pack(xs.flatMap { x in samples[y][(x * channels)..<((x + 1) * channels)] })
            }
        }
        return out
    }

    private func pack(_ row: [Int]) -> [UInt8] {
        switch bitDepth {
        case 16: return row.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case 8: return row.map { UInt8($0) }
        default:
            var bytes = [UInt8](repeating: 0, count: (row.count * bitDepth + 7) / 8)
            for (i, sample) in row.enumerated() {
                let bit = i * bitDepth
                bytes[bit / 8] |= UInt8(sample << (8 - bitDepth - bit % 8))
            }
            return bytes
        }
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            out += [final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian(b << 16 | a)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
