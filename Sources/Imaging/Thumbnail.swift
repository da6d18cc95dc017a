/// A small picture of what the network saw: the 224×224 centre crop of a preprocessed tensor, un-normalised and
/// averaged down (2×2 boxes for the default 112 side), for history rows.
public enum Thumbnail {
    /// The RGB picture of a 3×224×224 CHW normalised tensor, `side` pixels square (a divisor of 224 up to 224).
    public static func image(fromTensor tensor: [Float], side: Int = 112) -> RGBImage {
        precondition(tensor.count == Preprocess.floatCount, "a preprocessed tensor has \(Preprocess.floatCount) floats, got \(tensor.count)")
        let full = Preprocess.side
        let side = min(max(side, 1), full)
        let plane = full * full
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        tensor.withUnsafeBufferPointer { input in
            for y in 0..<side {
                let y0 = y * full / side, y1 = max((y + 1) * full / side, y0 + 1)
                for x in 0..<side {
                    let x0 = x * full / side, x1 = max((x + 1) * full / side, x0 + 1)
                    for channel in 0..<3 {
                        var sum: Float = 0
                        for sy in y0..<y1 {
                            for sx in x0..<x1 { sum += input[channel * plane + sy * full + sx] }
                        }
                        let normalised = sum / Float((y1 - y0) * (x1 - x0))
                        let value = (normalised * Preprocess.std[channel] + Preprocess.mean[channel]) * 255
                        pixels[(y * side + x) * 3 + channel] = UInt8(min(max(value.rounded(), 0), 255))
                    }
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// The JPEG thumbnail of a preprocessed tensor.
    public static func jpeg(fromTensor tensor: [Float], side: Int = 112, quality: Int = 75) throws(ImagingError) -> [UInt8] {
        try JPEGEncoder.encode(image(fromTensor: tensor, side: side), quality: quality)
    }
}
