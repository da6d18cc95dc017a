import Imaging
import Testing

/// Bad input is refused with the right `ImagingError` and a message that says what to do.
@Suite struct DecodeErrorTests {
    static func error(decoding bytes: [UInt8], options: DecodeOptions = .init()) -> ImagingError? {
        do {
            _ = try ImageDecoder.decode(bytes, options: options)
            return nil
        } catch {
            return error
        }
    }

    @Test func zeroBytesAreEmpty() {
        let error = Self.error(decoding: [])
        #expect(error == .empty)
        #expect(error?.description.contains("0 bytes") == true)
        #expect(throws: ImagingError.empty) { try ImageDecoder.info(of: [UInt8]()) }
    }

    @Test func gifIsAnUnsupportedFormatNamedByItsFirstBytes() {
        let gif = Array("GIF89a".utf8) + [0x10, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00]
        let error = Self.error(decoding: gif)
        #expect(error == .unsupportedFormat("GIF89a"))
        #expect(error?.description == "not a JPEG, PNG or WebP image (starts with GIF89a): convert it to one of those")
    }

    @Test func randomBytesAreAnUnsupportedFormatShownInHex() {
        var state: UInt32 = 12345
        let noise: [UInt8] = (0..<4096).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8((state >> 16) & 0xFF)
        }
        let bytes = [0x00, 0x07] + noise
        guard case .unsupportedFormat(let start)? = Self.error(decoding: bytes) else {
            Issue.record("random bytes were not refused as an unsupported format")
            return
        }
        #expect(start.hasPrefix("00 07 "))
    }

    @Test func otherRIFFFilesAreNotWebP() {
        let wave = Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WAVEfmt ".utf8)
        guard case .unsupportedFormat? = Self.error(decoding: wave) else {
            Issue.record("a WAVE file was not refused as an unsupported format")
            return
        }
    }

    @Test func truncatedJPEGIsCorruptWithPrematureEnd() throws {
        let jpeg = try TestFiles.fixture("rocket.jpg")
        let error = Self.error(decoding: Array(jpeg.prefix(jpeg.count / 2)))
        guard case .corrupt(let detail)? = error else {
            Issue.record("a JPEG cut in half was not refused as corrupt: \(String(describing: error))")
            return
        }
        #expect(detail.hasPrefix("JPEG: premature end of data"))
        #expect(error?.description.hasPrefix("corrupt JPEG: premature end of data") == true)
    }

    @Test func jpegCutInsideItsHeaderIsCorrupt() throws {
        let jpeg = try TestFiles.fixture("rocket.jpg")
        #expect(Self.error(decoding: Array(jpeg.prefix(100))) == .corrupt("JPEG: premature end of data"))
    }

    @Test func jpegMarkerFollowedByGarbageIsCorrupt() {
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array(repeating: 0x5A, count: 300)
        guard case .corrupt? = Self.error(decoding: bytes) else {
            Issue.record("garbage after a JPEG signature was not refused as corrupt")
            return
        }
    }

    @Test func truncatedPNGIsCorrupt() throws {
        let png = try TestFiles.fixture("chelsea.png")
        let error = Self.error(decoding: Array(png.prefix(png.count / 2)))
        #expect(error == .corrupt("PNG: premature end of data"))
    }

    @Test func truncatedWebPIsCorrupt() throws {
        let webp = try TestFiles.resource("chelsea-crop-lossless.webp")
        guard case .corrupt? = Self.error(decoding: Array(webp.prefix(webp.count / 2))) else {
            Issue.record("a truncated WebP was not refused as corrupt")
            return
        }
    }

    /// A PNG that is only a header claiming 65535×65535: refused from the header, nothing allocated or inflated.
    @Test func pngClaimingFourGigapixelsIsRefusedBeforeDecoding() throws {
        let bomb = PNGWriter(width: 65535, height: 65535, bitDepth: 8, colorType: 2).header()
        let error = Self.error(decoding: bomb)
        #expect(error == .tooManyPixels(width: 65535, height: 65535, limit: 40_000_000))
        #expect(error?.description == "image is 65535×65535 = 4294 megapixels, over the 40 megapixel limit (--max-pixels)")
        let info = try ImageDecoder.info(of: bomb)
        #expect(info.format == .png && info.width == 65535 && info.height == 65535)
    }

    @Test func jpegClaimingFourGigapixelsIsRefusedBeforeDecoding() throws {
        // SOI, then a baseline SOF0: 8-bit, 65535 rows, 65535 columns, 3 components.
        let bomb: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0xFF, 0xFF, 0xFF, 0xFF, 3,
                             1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
        #expect(Self.error(decoding: bomb) == .tooManyPixels(width: 65535, height: 65535, limit: 40_000_000))
        let info = try ImageDecoder.info(of: bomb)
        #expect(info.format == .jpeg && info.width == 65535 && info.height == 65535)
    }

    @Test func maxPixelsOptionIsHonoured() throws {
        let png = try TestFiles.fixture("chelsea.png")  // 451×300
        let error = Self.error(decoding: png, options: DecodeOptions(maxPixels: 100_000))
        #expect(error == .tooManyPixels(width: 451, height: 300, limit: 100_000))
        #expect(error?.description == "image is 451×300 = 135300 pixels, over the 100000 pixel limit (--max-pixels)")
        #expect(throws: Never.self) { try ImageDecoder.decode(png, options: DecodeOptions(maxPixels: 451 * 300)) }
    }

    @Test func pngWithZeroWidthIsCorrupt() {
        let png = PNGWriter(width: 0, height: 4, bitDepth: 8, colorType: 0).header()
        guard case .corrupt? = Self.error(decoding: png) else {
            Issue.record("a 0-pixel-wide PNG was not refused as corrupt")
            return
        }
    }
}

extension PNGWriter {
    /// Signature and IHDR only: what a server reads before deciding to decode.
    func header() -> [UInt8] {
        var ihdr = Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        ihdr += [UInt8(bitDepth), UInt8(colorType), 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Self.chunk("IHDR", ihdr)
    }
}
