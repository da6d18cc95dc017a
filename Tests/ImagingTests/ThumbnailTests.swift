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

    @Test("the thumbnail of a tensor is the picture the network saw, box-averaged: every pixel within 1 of the mean",
          arguments: [112, 56, 32, 100])
    func thumbnailAveragesTheCrop(side: Int) {
        let image = Self.checkerboard()
        let thumbnail = Thumbnail.image(fromTensor: Self.tensor(of: image), side: side)
        #expect(thumbnail.width == side && thumbnail.height == side)
        var worst = 0
        for y in 0..<side {
            for x in 0..<side {
                // The box of source pixels this thumbnail pixel covers (uneven when side does not divide 224).
                let rows = (y * 224 / side)..<((y + 1) * 224 / side), columns = (x * 224 / side)..<((x + 1) * 224 / side)
                for channel in 0..<3 {
                    var sum = 0
                    for sy in rows { for sx in columns { sum += Int(image.pixels[(sy * 224 + sx) * 3 + channel]) } }
                    let expected = Double(sum) / Double(rows.count * columns.count)
                    worst = max(worst, Int((abs(Double(thumbnail.pixels[(y * side + x) * 3 + channel]) - expected)).rounded(.up)))
                }
            }
        }
        #expect(worst <= 1, "a thumbnail pixel is \(worst) away from its box's mean")
        if side == 112 {
            #expect(thumbnail.pixels[0] == 100)
            #expect(thumbnail.pixels[2] == 255)
        }
    }

    @Test("the thumbnail of a crop is the rounded mean of each box, and matches the tensor's within 1",
          arguments: [112, 56, 32, 100])
    func thumbnailOfACrop(side: Int) {
        let image = Self.checkerboard()
        let thumbnail = Thumbnail.image(fromCrop: image, side: side)
        let fromTensor = Thumbnail.image(fromTensor: Self.tensor(of: image), side: side)
        #expect(thumbnail.width == side && thumbnail.height == side)
        var worst = 0
        for y in 0..<side {
            for x in 0..<side {
                let rows = (y * 224 / side)..<((y + 1) * 224 / side), columns = (x * 224 / side)..<((x + 1) * 224 / side)
                for channel in 0..<3 {
                    var sum = 0
                    for sy in rows { for sx in columns { sum += Int(image.pixels[(sy * 224 + sx) * 3 + channel]) } }
                    let count = rows.count * columns.count
                    #expect(Int(thumbnail.pixels[(y * side + x) * 3 + channel]) == (sum + count / 2) / count)
                }
            }
        }
        for (a, b) in zip(thumbnail.pixels, fromTensor.pixels) { worst = max(worst, abs(Int(a) - Int(b))) }
        #expect(worst <= 1, "the crop's and the tensor's thumbnails differ by \(worst)")
    }

    @Test("a thumbnail is a JPEG of the requested side")
    func thumbnailJPEG() throws {
        let jpeg = try Thumbnail.jpeg(fromTensor: Self.tensor(of: Self.checkerboard()), side: 56)
        #expect(jpeg.starts(with: [0xFF, 0xD8, 0xFF]))
        let decoded = try ImageDecoder.decode(jpeg)
        #expect(decoded.width == 56 && decoded.height == 56)
        let fromCrop = try ImageDecoder.decode(try Thumbnail.jpeg(fromCrop: Self.checkerboard(), side: 56))
        #expect(fromCrop.width == 56 && fromCrop.height == 56)
    }
}
