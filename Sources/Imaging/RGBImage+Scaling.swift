extension RGBImage {
    /// The image shrunk (box filter) so that its longer side is at most `maxSide`; unchanged when it fits.
    /// For thumbnails and snapshots, not for recognition (which uses `Preprocess`).
    public func scaledDown(toFit maxSide: Int) -> RGBImage {
        let longer = Swift.max(width, height)
        guard maxSide >= 1, longer > maxSide else { return self }
        let newWidth = Swift.max(1, width * maxSide / longer), newHeight = Swift.max(1, height * maxSide / longer)
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        for y in 0..<newHeight {
            let y0 = y * height / newHeight, y1 = Swift.max(y0 + 1, (y + 1) * height / newHeight)
            for x in 0..<newWidth {
                let x0 = x * width / newWidth, x1 = Swift.max(x0 + 1, (x + 1) * width / newWidth)
                var sum = (0, 0, 0)
                for sy in y0..<y1 {
                    for sx in x0..<x1 {
                        let p = (sy * width + sx) * 3
                        sum.0 += Int(pixels[p]); sum.1 += Int(pixels[p + 1]); sum.2 += Int(pixels[p + 2])
                    }
                }
                let count = (y1 - y0) * (x1 - x0), o = (y * newWidth + x) * 3
                out[o] = UInt8(sum.0 / count); out[o + 1] = UInt8(sum.1 / count); out[o + 2] = UInt8(sum.2 / count)
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: out)
    }
}
