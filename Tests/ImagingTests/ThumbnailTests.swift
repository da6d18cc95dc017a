import Imaging
import Testing

@Suite struct ThumbnailTests {
    /// A 224×224 image whose 2×2 boxes hold four known values: each thumbnail pixel is their mean.
    static func checkerboard() -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: 224 * 224 * 3)
        for y in 0..<224 {
            for x in 0..<224 {
                let base = (y * 224 + x) * 3
                pixels[base] = UInt8((x % 2 == 0 ? 40 : 60) + (y % 2 == 0 ? 0 : 100))  // 2×2 mean 100
                pixels[base + 1] = UInt8(x * 255 / 223)                               // a ramp along x
                pixels[base + 2] = 255
            }
        }
        return RGBImage(width: 224, height: 224, pixels: pixels)
    }

    /// ToTensor and Normalize of a 224×224 image, as torchvision does (no resize: what the crop would hold).
    static func tensor(of image: RGBImage) -> [Float] {
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        var tensor = [Float](repeating: 0, count: Preprocess.floatCount)
        for channel in 0..<3 {
            for index in 0..<(224 * 224) {
                tensor[channel * 224 * 224 + index] = (Float(image.pixels[index * 3 + channel]) / 255 - mean[channel]) / std[channel]
            }
        }
        return tensor
    }

    @Test("the thumbnail of a tensor is the picture the network saw, box-averaged: every pixel within 1 of the mean")
    func thumbnailAveragesTheCrop() {
        let image = Self.checkerboard()
        let thumbnail = Thumbnail.image(fromTensor: Self.tensor(of: image))
        #expect(thumbnail.width == 112 && thumbnail.height == 112)
        var worst = 0
        for y in 0..<112 {
            for x in 0..<112 {
                for channel in 0..<3 {
                    var sum = 0
                    for (sy, sx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        sum += Int(image.pixels[((2 * y + sy) * 224 + 2 * x + sx) * 3 + channel])
                    }
                    let expected = Double(sum) / 4
                    worst = max(worst, Int((abs(Double(thumbnail.pixels[(y * 112 + x) * 3 + channel]) - expected)).rounded(.up)))
                }
            }
        }
        #expect(worst <= 1, "a thumbnail pixel is \(worst) away from its box's mean")
        #expect(thumbnail.pixels[0] == 100)
        #expect(thumbnail.pixels[2] == 255)
    }

    @Test("a thumbnail is a JPEG of the requested side")
    func thumbnailJPEG() throws {
        let jpeg = try Thumbnail.jpeg(fromTensor: Self.tensor(of: Self.checkerboard()), side: 56)
        #expect(jpeg.starts(with: [0xFF, 0xD8, 0xFF]))
        let decoded = try ImageDecoder.decode(jpeg)
        #expect(decoded.width == 56 && decoded.height == 56)
    }
}
