import Imaging
import Testing

/// JPEG colour spaces other than YCbCr, against the pixels Pillow 13 gives for the same files
/// (`Image.open(f).convert("RGB")`, saved beside them as `NAME.pillow.rgb`).
@Suite struct JPEGVariantTests {
    static func expectPillowPixels(_ name: String, width: Int, height: Int) throws {
        let image = try ImageDecoder.decode(TestFiles.resource("\(name).jpg"))
        #expect(image.width == width && image.height == height)
        #expect(image.pixels == (try TestFiles.resource("\(name).pillow.rgb")))
    }

    /// Adobe CMYK (inverted storage): Pillow's "CMYK;I" unpacking and cmyk2rgb.
    @Test func cmykMatchesPillow() throws {
        try Self.expectPillowPixels("cmyk", width: 32, height: 32)
    }

    @Test func grayscaleIsReplicatedLikePillow() throws {
        try Self.expectPillowPixels("gray", width: 40, height: 24)
        let image = try ImageDecoder.decode(TestFiles.resource("gray.jpg"))
        let pixels = image.pixels
        let colourful = stride(from: 0, to: pixels.count, by: 3).filter { (i: Int) -> Bool in
            pixels[i] != pixels[i + 1] || pixels[i] != pixels[i + 2]
        }
        #expect(colourful.isEmpty)
    }

    @Test func jpegInfoReadsTheFrameHeader() throws {
        let info = try ImageDecoder.info(of: TestFiles.fixture("rocket.jpg"))
        #expect(info.format == .jpeg && info.width == 640 && info.height == 427)
    }
}
