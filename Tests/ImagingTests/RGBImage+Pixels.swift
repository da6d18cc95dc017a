import Imaging

extension RGBImage {
    /// The (r, g, b) at column `x`, row `y`.
    func pixel(_ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * width + x) * 3
        return Array(pixels[i..<(i + 3)])
    }

    /// A rectangle of this image as a new image.
    func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
        var out = [UInt8]()
        for row in y..<(y + height) {
            let start = (row * self.width + x) * 3
            out += pixels[start..<(start + width * 3)]
        }
        return RGBImage(width: width, height: height, pixels: out)
    }
}
