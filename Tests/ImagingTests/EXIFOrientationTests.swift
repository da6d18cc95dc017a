import Imaging
import Testing

/// The EXIF orientation tag turns the image upright (as Pillow's `ImageOps.exif_transpose` does) from JPEG
/// APP1, PNG eXIf and WebP EXIF; `applyEXIFOrientation: false` leaves the stored pixels alone; broken EXIF
/// is ignored, never fatal.
@Suite struct EXIFOrientationTests {
    static let asStored = DecodeOptions(applyEXIFOrientation: false)

    /// A TIFF block whose IFD0 holds a resolution tag and then the orientation tag.
    static func exif(orientation: Int, bigEndian: Bool = false) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        var tiff: [UInt8] = bigEndian ? Array("MM".utf8) : Array("II".utf8)
        tiff += u16(42) + u32(8) + u16(2)
        tiff += u16(0x011A) + u16(5) + u32(1) + u32(38)  // XResolution, RATIONAL at offset 38
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
        tiff += u32(0) + u32(72) + u32(1)  // no IFD1; the rational 72/1
        return tiff
    }

    /// `jpeg` with an APP1 Exif segment carrying `tiff` right after SOI.
    static func jpeg(_ jpeg: [UInt8], withEXIF tiff: [UInt8]) -> [UInt8] {
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return Array(jpeg[..<2]) + [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg[2...]
    }

    /// Where stored pixel (x, y) of a w×h image is shown, per orientation (Pillow's exif_transpose).
    static func shownAt(_ orientation: Int, x: Int, y: Int, width w: Int, height h: Int) -> (x: Int, y: Int) {
        switch orientation {
        case 2: (w - 1 - x, y)  // mirrored
        case 3: (w - 1 - x, h - 1 - y)  // upside down
        case 4: (x, h - 1 - y)  // upside down, mirrored
        case 5: (y, x)  // transposed
        case 6: (h - 1 - y, x)  // turned 90° clockwise to show
        case 7: (h - 1 - y, w - 1 - x)  // transversed
        case 8: (y, w - 1 - x)  // turned 90° counter-clockwise to show
        default: (x, y)
        }
    }

    static func expectShown(_ shown: RGBImage, is stored: RGBImage, orientation: Int) {
        let swaps = orientation >= 5
        #expect(shown.width == (swaps ? stored.height : stored.width))
        #expect(shown.height == (swaps ? stored.width : stored.height))
        var misplaced = 0
        for y in 0..<stored.height {
            for x in 0..<stored.width {
                let target = shownAt(orientation, x: x, y: y, width: stored.width, height: stored.height)
                if shown.pixel(target.x, target.y) != stored.pixel(x, y) { misplaced += 1 }
            }
        }
        #expect(misplaced == 0, "\(misplaced) pixels not where orientation \(orientation) puts them")
    }

    @Test(arguments: 1...8)
    func jpegAPP1OrientationTurnsTheImageUpright(orientation: Int) throws {
        let original = try TestFiles.fixture("chelsea-q90.jpg")
        let stored = try ImageDecoder.decode(original, options: Self.asStored)
        let tagged = Self.jpeg(original, withEXIF: Self.exif(orientation: orientation))
        Self.expectShown(try ImageDecoder.decode(tagged), is: stored, orientation: orientation)
        #expect(try ImageDecoder.decode(tagged, options: Self.asStored) == stored)
    }

    @Test func bigEndianEXIFIsRead() throws {
        let original = try TestFiles.fixture("chelsea-q90.jpg")
        let stored = try ImageDecoder.decode(original, options: Self.asStored)
        let tagged = Self.jpeg(original, withEXIF: Self.exif(orientation: 6, bigEndian: true))
        Self.expectShown(try ImageDecoder.decode(tagged), is: stored, orientation: 6)
    }

    @Test func infoReportsStoredDimensions() throws {
        let tagged = Self.jpeg(try TestFiles.fixture("chelsea-q90.jpg"), withEXIF: Self.exif(orientation: 6))
        let info = try ImageDecoder.info(of: tagged)
        #expect(info.width == 451 && info.height == 300)
    }

    @Test func pngEXIfChunkOrientationTurnsTheImageUpright() throws {
        var writer = PNGWriter(width: 3, height: 2, bitDepth: 8, colorType: 0)
        let samples = [[1, 2, 3], [4, 5, 6]]
        let stored = try ImageDecoder.decode(writer.encode(samples))
        writer.extraChunks = [("eXIf", Self.exif(orientation: 8))]
        let shown = try ImageDecoder.decode(writer.encode(samples))
        // Turned 90° counter-clockwise: the right column becomes the top row.
        #expect(shown.width == 2 && shown.height == 3)
        #expect(shown.pixels == [3, 6, 2, 5, 1, 4].flatMap { [UInt8](repeating: $0, count: 3) })
        Self.expectShown(shown, is: stored, orientation: 8)
        #expect(try ImageDecoder.decode(writer.encode(samples), options: Self.asStored) == stored)
    }

    @Test func webPEXIFChunkOrientationTurnsTheImageUpright() throws {
        let simple = try TestFiles.resource("chelsea-crop-lossless.webp")
        let stored = try ImageDecoder.decode(simple)
        let tagged = try Self.webP(simple, withEXIF: Self.exif(orientation: 6), width: stored.width, height: stored.height)
        Self.expectShown(try ImageDecoder.decode(tagged), is: stored, orientation: 6)
        #expect(try ImageDecoder.decode(tagged, options: Self.asStored) == stored)
    }

    /// A simple-format (VP8L) WebP rewritten as extended format (VP8X) with an EXIF chunk after the image.
    static func webP(_ simple: [UInt8], withEXIF tiff: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try #require(Array(simple[12..<16]) == Array("VP8L".utf8), "expected a simple lossless WebP")
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le24(_ v: Int) -> [UInt8] { Array(le32(v)[..<3]) }
        let vp8x = Array("VP8X".utf8) + le32(10) + [0x08, 0, 0, 0] + le24(width - 1) + le24(height - 1)
        var exifChunk = Array("EXIF".utf8) + le32(tiff.count) + tiff
        if tiff.count % 2 == 1 { exifChunk.append(0) }
        let body = Array("WEBP".utf8) + vp8x + simple[12...] + exifChunk
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    /// Broken EXIF blocks, by what is wrong with them.
    static let brokenEXIF: [(String, [UInt8])] = [
        ("IFD0 offset past the end", [0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F]),
        ("entry count past the end", [0x49, 0x49, 42, 0, 8, 0, 0, 0, 0xFF, 0xFF, 0x12, 0x01, 3, 0]),
        ("unknown byte order", [0x58, 0x58, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]),
        ("orientation 9", exif(orientation: 9)),
        ("orientation 0", exif(orientation: 0)),
        ("empty", []),
        ("byte order only", [0x4D, 0x4D]),
    ]

    /// Broken EXIF blocks: the image still decodes, as stored.
    @Test(arguments: brokenEXIF)
    func brokenEXIFIsIgnored(_ label: String, tiff: [UInt8]) throws {
        let original = try TestFiles.fixture("chelsea-q90.jpg")
        let stored = try ImageDecoder.decode(original, options: Self.asStored)
        let jpegShown = try ImageDecoder.decode(Self.jpeg(original, withEXIF: tiff))
        #expect(jpegShown == stored)

        // libspng itself refuses a zero-length eXIf chunk (a PNG spec violation) as corrupt; Pillow would not.
        guard !tiff.isEmpty else { return }
        var writer = PNGWriter(width: 3, height: 2, bitDepth: 8, colorType: 0)
        let samples = [[1, 2, 3], [4, 5, 6]]
        let plain = try ImageDecoder.decode(writer.encode(samples))
        writer.extraChunks = [("eXIf", tiff)]
        let pngShown = try ImageDecoder.decode(writer.encode(samples))
        #expect(pngShown == plain)
    }

    /// An APP1 segment whose length runs past the end of the file must not be read past the end.
    @Test func app1LengthPastTheEndIsNotFollowed() throws {
        let original = try TestFiles.fixture("chelsea-q90.jpg")
        var bytes = Self.jpeg(original, withEXIF: Self.exif(orientation: 6))
        bytes[4] = 0xFF
        bytes[5] = 0xFF
        bytes = Array(bytes[..<min(bytes.count, 2000)])
        #expect(throws: ImagingError.self) { try ImageDecoder.decode(bytes) }
    }
}
