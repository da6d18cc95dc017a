import CTurboJPEG
#if canImport(Glibc)
import Glibc
#endif

/// JPEG through libjpeg-turbo, configured as Pillow configures it: accurate integer DCT (islow),
/// fancy upsampling, libjpeg's own YCbCr → RGB conversion.
enum JPEGDecoder {
    static func info(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageInfo {
        try frameHeader(in: bytes).info
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImagingError) -> RGBImage {
        let frame = try frameHeader(in: bytes)
        try frame.info.checkDimensions(maxPixels: maxPixels)
        // libjpeg reports data running out only as a warning, and TurboJPEG keeps only the first warning's text,
        // so a file cut in its headers or scan came out as a grey or half picture. Pillow refuses such files.
        guard endsAfterScan(bytes) else { throw .corrupt("JPEG: premature end of data (the file ends before its image data is complete)") }
        let (width, height) = (frame.info.width, frame.info.height)
        let decompressor = TurboJPEGDecompressor()

        if frame.components == 4 {
            // Pillow opens 4-component JPEGs as "CMYK" with raw mode "CMYK;I" (it assumes Adobe's inverted
            // storage, marker or not) and convert("RGB") then applies cmyk2rgb from Convert.c. Same here.
            var cmyk = [UInt8](repeating: 0, count: width * height * 4)
            try cmyk.withMutableBytes { (out) throws(ImagingError) in
                try decompressor.decompress(bytes, into: out, width: width, height: height, pixelFormat: TJPF_CMYK)
            }
            return RGBImage(width: width, height: height, pixels: pillowCMYKToRGB(cmyk))
        }
        // Grayscale JPEGs come out replicated into R, G and B, as Pillow's "L" → "RGB" does.
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        try rgb.withMutableBytes { (out) throws(ImagingError) in
            try decompressor.decompress(bytes, into: out, width: width, height: height, pixelFormat: TJPF_RGB)
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// Pillow's "CMYK;I" unpacking (every channel inverted) followed by Convert.c's cmyk2rgb:
    /// `nk = 255 - k; out = nk - MULDIV255(c, nk)` with `MULDIV255(a, b) = ((a*b + 128) >> 8 + a*b + 128) >> 8`.
    static func pillowCMYKToRGB(_ stored: [UInt8]) -> [UInt8] {
        let pixelCount = stored.count / 4
        return [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { out, initialized in
            stored.withUnsafeBufferPointer { cmyk in
                for i in 0..<pixelCount {
                    let nk = Int(cmyk[i * 4 + 3])  // 255 - (255 - stored k)
                    for channel in 0..<3 {
                        let ink = 255 - Int(cmyk[i * 4 + channel])
                        let product = ink * nk + 128
                        let scaled = ((product >> 8) + product) >> 8
                        out[i * 3 + channel] = UInt8(clamping: nk - scaled)
                    }
                }
            }
            initialized = pixelCount * 3
        }
    }

    /// The TIFF payload of the first APP1 "Exif" segment before the image data, if there is one.
    static func exifPayload(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        var walker = JPEGSegmentWalker(bytes)
        while case .segment(let marker, let payload)? = walker.next() {
            if marker == 0xE1, payload.count >= 6, payload.prefix(6).elementsEqual([0x45, 0x78, 0x69, 0x66, 0, 0]) {
                return UnsafeRawBufferPointer(rebasing: payload.dropFirst(6))
            }
        }
        return nil
    }

    /// Whether an end-of-image marker (FF D9) follows the first scan. Inside entropy-coded data an FF byte is
    /// always followed by 00 or a restart marker, so FF D9 there is the end; the headers before the scan are
    /// skipped segment by segment (an EXIF thumbnail carries a scan and an end of its own).
    /// Each FF is found by `memchr`: a large photo's scan runs to megabytes, which a loop over single bytes walks
    /// several times slower than memory delivers them.
    static func endsAfterScan(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var walker = JPEGSegmentWalker(bytes)
        while walker.next() != nil {}
        guard var offset = walker.scanOffset, let base = bytes.baseAddress else { return false }
        while offset + 1 < bytes.count {
            guard let found = memchr(base + offset, 0xFF, bytes.count - offset) else { return false }
            let at = base.distance(to: UnsafeRawPointer(found))
            if at + 1 < bytes.count && bytes[at + 1] == 0xD9 { return true }
            offset = at + 1
        }
        return false
    }

    /// The first SOFn segment: what Pillow's JpegImagePlugin reads size and mode from.
    /// Parsed here rather than by tjDecompressHeader3, which in libjpeg-turbo 2.1 rejects
    /// unusual chroma subsampling that libjpeg (and so Pillow) decodes fine.
    static func frameHeader(in bytes: UnsafeRawBufferPointer) throws(ImagingError) -> JPEGFrameHeader {
        var walker = JPEGSegmentWalker(bytes)
        while let item = walker.next() {
            guard case .segment(let marker, let payload) = item else {
                if case .truncated = item { throw .corrupt("JPEG: premature end of data") }
                break
            }
            // SOF0...SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            guard (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC else { continue }
            guard payload.count >= 6 else { throw .corrupt("JPEG: frame header too short") }
            let base = payload.startIndex
            let precision = Int(bytes[base])
            let height = Int(bytes[base + 1]) << 8 | Int(bytes[base + 2])
            let width = Int(bytes[base + 3]) << 8 | Int(bytes[base + 4])
            let components = Int(bytes[base + 5])
            if precision != 8 { throw .unsupportedFeature("JPEG with \(precision)-bit samples") }
            if ![1, 3, 4].contains(components) { throw .unsupportedFeature("JPEG with \(components) colour components") }
            if marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF {
                throw .unsupportedFeature("lossless JPEG")
            }
            return JPEGFrameHeader(info: ImageInfo(format: .jpeg, width: width, height: height), components: components)
        }
        throw .corrupt("JPEG: no frame header before the image data")
    }
}

/// Size and component count from a JPEG's SOFn segment.
struct JPEGFrameHeader {
    let info: ImageInfo
    let components: Int
}

/// Walks the marker segments of a JPEG from SOI up to the first scan; bounded by the buffer, never traps.
struct JPEGSegmentWalker {
    enum Item {
        case segment(marker: UInt8, payload: Slice<UnsafeRawBufferPointer>)
        /// The data ended inside or before a segment.
        case truncated
    }

    private let bytes: UnsafeRawBufferPointer
    private var offset = 2  // after SOI
    private var finished = false
    /// Where the first start-of-scan marker's segment begins, once the walk has reached it.
    private(set) var scanOffset: Int?

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> Item? {
        while !finished {
            // libjpeg skips junk before a marker (with a warning) and any number of 0xFF fill bytes.
            while offset < bytes.count, bytes[offset] != 0xFF { offset += 1 }
            while offset < bytes.count, bytes[offset] == 0xFF { offset += 1 }
            guard offset + 2 < bytes.count else { break }
            let marker = bytes[offset]
            // Start of scan or end of image: no header segments after this point.
            if marker == 0xDA || marker == 0xD9 {
                if marker == 0xDA { scanOffset = offset + 1 }
                finished = true
                return nil
            }
            // Standalone markers (RSTn, SOI, TEM) carry no length.
            if (0xD0...0xD8).contains(marker) || marker == 0x01 || marker == 0x00 { offset += 1; continue }
            let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let end = offset + 1 + length
            guard length >= 2, end <= bytes.count else { break }
            let payload = bytes[(offset + 3)..<end]
            offset = end
            return .segment(marker: marker, payload: payload)
        }
        guard !finished else { return nil }
        finished = true
        return .truncated
    }
}

/// Owns a TurboJPEG decompression handle for the duration of one decode.
final class TurboJPEGDecompressor {
    private let handle: tjhandle

    init() {
        guard let handle = tjInitDecompress() else {
            preconditionFailure("tjInitDecompress failed: out of memory")
        }
        self.handle = handle
    }

    deinit {
        tjDestroy(handle)
    }

    func decompress(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                    width: Int, height: Int, pixelFormat: TJPF) throws(ImagingError) {
        // Pillow never asks for the fast DCT or fast upsampling (it only does in draft mode).
        // LIMITSCANS refuses progressive files with over 500 scans, which only exist to burn CPU.
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
        let status = tjDecompress2(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                   output.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                   Int32(width), 0, Int32(height), Int32(pixelFormat.rawValue), flags)
        guard status != 0 else { return }
        let message = message()
        // libjpeg's warnings leave a complete image behind and Pillow ignores them ("Corrupt JPEG data:
        // N extraneous bytes before marker"), except running out of data, which Pillow reports as truncation.
        if message.contains("Premature end of JPEG file") { throw .corrupt("JPEG: premature end of data") }
        if tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) { return }
        if message.contains("Unsupported") { throw .unsupportedFeature("JPEG (\(message))") }
        throw .corrupt("JPEG: \(message)")
    }

    private func message() -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        let message = String(cString: text)
        // TurboJPEG prefixes its own errors with the function name: "tjDecompress2(): ...".
        if let range = message.firstRange(of: "(): ") { return String(message[range.upperBound...]) }
        return message
    }
}
