import Imaging
import Testing

/// Every PNG colour type and bit depth becomes RGB the way Pillow's `convert("RGB")` makes it
/// (values checked against Pillow 13 when these tests were written).
@Suite struct PNGVariantTests {
    static func decode(_ writer: PNGWriter, _ samples: [[Int]]) throws -> RGBImage {
        let image = try ImageDecoder.decode(writer.encode(samples))
        #expect(image.width == writer.width && image.height == writer.height)
        return image
    }

    @Test func gray8IsReplicated() throws {
        let image = try Self.decode(PNGWriter(width: 3, height: 1, bitDepth: 8, colorType: 0), [[0, 7, 255]])
        #expect(image.pixels == [0, 0, 0, 7, 7, 7, 255, 255, 255])
    }

    @Test func lowBitDepthGrayIsScaledToFullRange() throws {
        let one = try Self.decode(PNGWriter(width: 8, height: 1, bitDepth: 1, colorType: 0), [[1, 0, 1, 0, 0, 0, 0, 1]])
        #expect(one.pixels == [1, 0, 1, 0, 0, 0, 0, 1].flatMap { [UInt8](repeating: UInt8($0 * 255), count: 3) })
        let two = try Self.decode(PNGWriter(width: 4, height: 1, bitDepth: 2, colorType: 0), [[0, 1, 2, 3]])
        #expect(two.pixels == [0, 85, 170, 255].flatMap { [UInt8](repeating: $0, count: 3) })
        let four = try Self.decode(PNGWriter(width: 2, height: 1, bitDepth: 4, colorType: 0), [[3, 12]])
        #expect(four.pixels == [51, 51, 51, 204, 204, 204])
    }

    /// Pillow would give 255 for both pixels here (mode "I;16" clamps to 255 on convert("RGB")); we keep the high byte.
    @Test func gray16KeepsTheHighByte() throws {
        let image = try Self.decode(PNGWriter(width: 2, height: 1, bitDepth: 16, colorType: 0), [[0x12FF, 0xAB01]])
        #expect(image.pixels == [0x12, 0x12, 0x12, 0xAB, 0xAB, 0xAB])
    }

    @Test func grayAlphaDropsAlphaWithoutCompositing() throws {
        let eight = try Self.decode(PNGWriter(width: 2, height: 1, bitDepth: 8, colorType: 4), [[200, 0, 90, 128]])
        #expect(eight.pixels == [200, 200, 200, 90, 90, 90])
        let sixteen = try Self.decode(PNGWriter(width: 1, height: 1, bitDepth: 16, colorType: 4), [[0x12FF, 0x0001]])
        #expect(sixteen.pixels == [0x12, 0x12, 0x12])
    }

    @Test func rgb16KeepsTheHighByte() throws {
        let image = try Self.decode(PNGWriter(width: 1, height: 1, bitDepth: 16, colorType: 2), [[0x12FF, 0xAB80, 0x0001]])
        #expect(image.pixels == [0x12, 0xAB, 0x00])
    }

    @Test func rgbaDropsAlphaWithoutCompositing() throws {
        let eight = try Self.decode(PNGWriter(width: 2, height: 1, bitDepth: 8, colorType: 6),
                                    [[200, 100, 50, 0, 1, 2, 3, 255]])
        #expect(eight.pixels == [200, 100, 50, 1, 2, 3])
        let sixteen = try Self.decode(PNGWriter(width: 1, height: 1, bitDepth: 16, colorType: 6),
                                      [[0x12FF, 0xAB80, 0x0001, 0x8000]])
        #expect(sixteen.pixels == [0x12, 0xAB, 0x00])
    }

    @Test(arguments: [1, 2, 4, 8])
    func paletteIsExpandedIgnoringTransparency(bitDepth: Int) throws {
        var writer = PNGWriter(width: 2, height: 2, bitDepth: bitDepth, colorType: 3)
        writer.palette = [10, 20, 30, 40, 50, 60]
        writer.extraChunks = [("tRNS", [0, 128])]
        let image = try Self.decode(writer, [[0, 1], [1, 0]])
        #expect(image.pixels == [10, 20, 30, 40, 50, 60, 40, 50, 60, 10, 20, 30])
    }

    /// Pillow's palette starts zero-filled: an index the PLTE chunk does not define is black.
    @Test func paletteIndexPastTheEntriesIsBlack() throws {
        var writer = PNGWriter(width: 2, height: 1, bitDepth: 4, colorType: 3)
        writer.palette = [10, 20, 30, 40, 50, 60]
        let image = try Self.decode(writer, [[1, 2]])
        #expect(image.pixels == [40, 50, 60, 0, 0, 0])
    }

    @Test func grayWithTransparentColourIgnoresTheTransparency() throws {
        var writer = PNGWriter(width: 2, height: 1, bitDepth: 8, colorType: 0)
        writer.extraChunks = [("tRNS", [0, 7])]
        let image = try Self.decode(writer, [[7, 200]])
        #expect(image.pixels == [7, 7, 7, 200, 200, 200])
    }

    /// Adam7 with a size that leaves some passes partly empty: same pixels as the plain encoding.
    @Test(arguments: [(8, 2), (16, 6), (2, 0)])
    func interlacedEqualsNonInterlaced(bitDepth: Int, colorType: Int) throws {
        let (width, height) = (13, 11)
        var writer = PNGWriter(width: width, height: height, bitDepth: bitDepth, colorType: colorType)
        let limit = 1 << bitDepth
        let samples = (0..<height).map { y in
            (0..<(width * writer.channels)).map { i in (y * 977 + i * 131 + 7) % limit }
        }
        let plain = try Self.decode(writer, samples)
        writer.interlaced = true
        let interlaced = try Self.decode(writer, samples)
        #expect(interlaced == plain)
        #expect(Set(plain.pixels).count > 3)
    }

    @Test func fixturePNGInfoReadsTheHeader() throws {
        let info = try ImageDecoder.info(of: TestFiles.fixture("chelsea.png"))
        #expect(info.format == .png && info.width == 451 && info.height == 300)
    }
}
