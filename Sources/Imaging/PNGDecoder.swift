import CSPNG

/// PNG through libspng, converted to RGB the way Pillow's `convert("RGB")` does: alpha dropped (not
/// composited), gray replicated, palette expanded, transparency (tRNS) and gamma (gAMA) ignored.
enum PNGDecoder {
    static func info(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageInfo {
        let header = try SPNGDecoder(bytes).header()
        return ImageInfo(format: .png, width: Int(header.width), height: Int(header.height))
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImagingError) -> RGBImage {
        let decoder = try SPNGDecoder(bytes)
        let header = try decoder.header()
        let (width, height) = (Int(header.width), Int(header.height))
        try ImageInfo(format: .png, width: width, height: height).checkDimensions(maxPixels: maxPixels)
        let colorType = Int(header.color_type), bitDepth = Int(header.bit_depth)

        if colorType == 2 && bitDepth == 8 {  // the common case, already in the layout we want
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            try rgb.withMutableBytes { (out) throws(ImagingError) in try decoder.decodeRaw(into: out) }
            return RGBImage(width: width, height: height, pixels: rgb)
        }
        var raw = [UInt8](repeating: 0, count: try decoder.rawSize())
        try raw.withMutableBytes { (out) throws(ImagingError) in try decoder.decodeRaw(into: out) }
        let palette = colorType == 3 ? try decoder.palette() : []
        let rgb = raw.withUnsafeBytes { raw in
            toRGB(raw: raw, width: width, height: height, colorType: colorType, bitDepth: bitDepth, palette: palette)
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Rows as stored (filtering and interlacing undone, samples big-endian) → 8-bit RGB.
    ///
    /// 16-bit samples keep their high byte, which is what Pillow does for RGB, RGBA and gray+alpha
    /// ("RGB;16B", "RGBA;16B", "LA;16B" unpackers). 16-bit grayscale differs in Pillow: it opens as mode
    /// "I;16" and `convert("RGB")` clamps instead of scaling (I16_RGB: any value ≥ 256 becomes 255), so a
    /// typical 16-bit gray photo turns almost entirely white. We take the high byte there too, on purpose:
    /// it is the image, and Pillow's result is not a picture anyone would want classified.
    /// Low bit depths scale to 0...255 (1-bit × 255, 2-bit × 85, 4-bit × 17) as Pillow's "1", "L;2", "L;4" do;
    /// palette indices past the PLTE entries map to black, as in Pillow's zero-filled palette.
    static func toRGB(raw: UnsafeRawBufferPointer, width: Int, height: Int, colorType: Int, bitDepth: Int,
                      palette: [UInt8]) -> [UInt8] {
        let rowBytes = raw.count / height
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType] ?? 1
        let isPacked = colorType == 3 || bitDepth < 8  // palette indices or gray levels, maybe several per byte
        let mask = (1 << min(bitDepth, 8)) - 1
        let grayScale = 255 / mask
        // For 8- and 16-bit samples: where R, G and B start within a pixel (gray: the same byte three times).
        let sampleBytes = max(bitDepth / 8, 1)
        let pixelBytes = channels * sampleBytes
        let isColor = colorType == 2 || colorType == 6
        let (greenOffset, blueOffset) = isColor ? (sampleBytes, 2 * sampleBytes) : (0, 0)
        return [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, initialized in
            for y in 0..<height {
                let row = raw.baseAddress! + y * rowBytes
                let outRow = out.baseAddress! + y * width * 3
                if isPacked {
                    for x in 0..<width {
                        let bit = x * bitDepth
                        let sample = (Int(row.load(fromByteOffset: bit >> 3, as: UInt8.self))
                            >> (8 - bitDepth - (bit & 7))) & mask
                        if colorType == 3 {
                            outRow[x * 3] = palette[sample * 3]
                            outRow[x * 3 + 1] = palette[sample * 3 + 1]
                            outRow[x * 3 + 2] = palette[sample * 3 + 2]
                        } else {
                            let gray = UInt8(sample * grayScale)
                            outRow[x * 3] = gray
                            outRow[x * 3 + 1] = gray
                            outRow[x * 3 + 2] = gray
                        }
                    }
                } else {
                    for x in 0..<width {
                        let pixel = x * pixelBytes  // big-endian: the first byte of a 16-bit sample is the high one
                        outRow[x * 3] = row.load(fromByteOffset: pixel, as: UInt8.self)
                        outRow[x * 3 + 1] = row.load(fromByteOffset: pixel + greenOffset, as: UInt8.self)
                        outRow[x * 3 + 2] = row.load(fromByteOffset: pixel + blueOffset, as: UInt8.self)
                    }
                }
            }
            initialized = width * height * 3
        }
    }

    /// The data of the eXIf chunk, if there is one. A bounded walk over the chunk list (not libspng,
    /// which is strict about EXIF contents, while a broken EXIF block must never cost us the image).
    static func exifPayload(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var offset = 8  // after the signature
        while offset + 12 <= bytes.count {
            let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16
                | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            let type = bytes[(offset + 4)..<(offset + 8)]
            let dataStart = offset + 8
            guard length <= bytes.count - dataStart - 4 else { return nil }
            if type.elementsEqual("eXIf".utf8) {
                return UnsafeRawBufferPointer(rebasing: bytes[dataStart..<(dataStart + length)])
            }
            if type.elementsEqual("IEND".utf8) { return nil }
            offset = dataStart + length + 4  // data and CRC
        }
        return nil
    }
}

/// Owns a libspng decoding context reading from a caller-owned buffer; the buffer must outlive it.
final class SPNGDecoder {
    private let context: OpaquePointer

    init(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) {
        guard let context = spng_ctx_new(0) else { preconditionFailure("spng_ctx_new failed: out of memory") }
        self.context = context
        // Ancillary chunks libspng keeps in memory (text, ICC profile, ...): a few MB is plenty for real files.
        var chunkSizeLimit = 0, cacheLimit = 0
        spng_get_chunk_limits(context, &chunkSizeLimit, &cacheLimit)
        spng_set_chunk_limits(context, chunkSizeLimit, 64 << 20)
        // A CRC error in any chunk is an error, as in Pillow (libspng's default skips damaged ancillary chunks).
        spng_set_crc_action(context, Int32(SPNG_CRC_ERROR.rawValue), Int32(SPNG_CRC_ERROR.rawValue))
        try check(spng_set_png_buffer(context, bytes.baseAddress, bytes.count))
    }

    deinit {
        spng_ctx_free(context)
    }

    func header() throws(ImagingError) -> spng_ihdr {
        var header = spng_ihdr()
        try check(spng_get_ihdr(context, &header))
        return header
    }

    /// Bytes `decodeRaw` writes: rows as stored, samples big-endian, sub-byte samples still packed.
    func rawSize() throws(ImagingError) -> Int {
        var length = 0
        try check(spng_decoded_image_size(context, Int32(SPNG_FMT_RAW.rawValue), &length))
        return length
    }

    func decodeRaw(into output: UnsafeMutableRawBufferPointer) throws(ImagingError) {
        try check(spng_decode_image(context, output.baseAddress, output.count, Int32(SPNG_FMT_RAW.rawValue), 0))
    }

    /// The PLTE entries as 256 RGB triples, zero past the entries the file defines.
    func palette() throws(ImagingError) -> [UInt8] {
        var plte = spng_plte()
        try check(spng_get_plte(context, &plte))
        let count = min(Int(plte.n_entries), 256)
        var rgb = [UInt8](repeating: 0, count: 256 * 3)
        withUnsafeBytes(of: &plte.entries) { entries in  // spng_plte_entry: red, green, blue, alpha
            for i in 0..<count {
                rgb[i * 3] = entries[i * 4]
                rgb[i * 3 + 1] = entries[i * 4 + 1]
                rgb[i * 3 + 2] = entries[i * 4 + 2]
            }
        }
        return rgb
    }

    private func check(_ status: Int32) throws(ImagingError) {
        guard status != 0 else { return }
        switch status {
        case Int32(SPNG_EOF.rawValue), Int32(SPNG_IO_EOF.rawValue), Int32(SPNG_EIDAT_TOO_SHORT.rawValue):
            throw .corrupt("PNG: premature end of data")
        case Int32(SPNG_ESIGNATURE.rawValue):
            throw .corrupt("PNG: bad signature")
        default:
            let message = spng_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            throw .corrupt("PNG: \(message)")
        }
    }
}
