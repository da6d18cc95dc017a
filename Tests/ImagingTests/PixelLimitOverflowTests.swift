import Imaging
import Testing

/// A header's dimensions multiplied into buffer sizes cannot overflow, whatever `--max-pixels` allows.
@Suite struct PixelLimitOverflowTests {
    /// PNG allows sides up to 2^31-1: 2^62 pixels. libspng itself refuses such RGB and RGBA headers (its own size
    /// arithmetic overflows), not palette ones: with the limit at its largest, the header was accepted and the decoder
    /// went on to size buffers of 4.6e18 bytes (raw rows), then ×3 (RGB, past Int.max). Now it is too many pixels.
    @Test("a palette PNG header of 2147483647×2147483647 is refused even with --max-pixels at Int.max")
    func largestPNGHeaderWithLargestLimit() {
        let side = 2_147_483_647
        let bomb = PNGWriter(width: side, height: side, bitDepth: 8, colorType: 3).header()
        #expect(throws: ImagingError.tooManyPixels(width: side, height: side, limit: .max)) {
            try ImageDecoder.decode(bomb, options: DecodeOptions(maxPixels: .max))
        }
    }
}
