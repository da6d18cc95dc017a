import Imaging
import Testing

/// WebP through libwebp: lossless files give back exactly the pixels they were made from.
@Suite struct WebPTests {
    /// Resources/chelsea-crop-lossless.webp is chelsea.png cropped to x 160..<288, y 60..<156, saved lossless.
    @Test func losslessWebPEqualsTheSourcePNGPixels() throws {
        let webp = try ImageDecoder.decode(TestFiles.resource("chelsea-crop-lossless.webp"))
        let png = try ImageDecoder.decode(TestFiles.fixture("chelsea.png"))
        #expect(webp == png.cropped(x: 160, y: 60, width: 128, height: 96))
    }

    @Test func webPInfoReadsTheHeader() throws {
        let info = try ImageDecoder.info(of: TestFiles.resource("chelsea-crop-lossless.webp"))
        #expect(info.format == .webp && info.width == 128 && info.height == 96)
    }

    /// Resources/two-frames.webp: a 16×12 gradient (R = 16x, G = 20y, B = 77), then a solid blue frame.
    @Test func animatedWebPGivesItsFirstFrame() throws {
        let image = try ImageDecoder.decode(TestFiles.resource("two-frames.webp"))
        #expect(image.width == 16 && image.height == 12)
        var expected = [UInt8]()
        for y in 0..<12 {
            for x in 0..<16 { expected += [UInt8(16 * x), UInt8(20 * y), 77] }
        }
        #expect(image.pixels == expected)
    }
}
