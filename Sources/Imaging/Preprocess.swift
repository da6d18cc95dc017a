/// torchvision's ImageNet evaluation transform, bit for bit:
/// `Resize(256)` (Pillow bilinear, antialiased) → `CenterCrop(224)` → `ToTensor()` → `Normalize(mean, std)`.
public enum Preprocess {
    /// Height and width of the tensor.
    public static let side = 224
    /// Floats in one tensor: 3 × 224 × 224, channels first (CHW).
    public static let floatCount = 3 * side * side
    static let resizeShortSide = 256
    /// ImageNet statistics as torchvision writes them (Python floats, rounded once to float32 by torch).
    static let mean: [Float] = [0.485, 0.456, 0.406].map { (value: Double) in Float(value) }
    static let std: [Float] = [0.229, 0.224, 0.225].map { (value: Double) in Float(value) }

    /// torchvision's preprocessed tensor for an image: 3×224×224 float32, CHW.
    public static func tensor(from image: RGBImage) -> [Float] {
        [Float](unsafeUninitializedCapacity: floatCount) { buffer, initialized in
            write(image, into: buffer)
            initialized = floatCount
        }
    }

    /// The same tensor written into a slot of a batch (at least `floatCount` floats).
    public static func write(_ image: RGBImage, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count >= floatCount, "a preprocessed image needs \(floatCount) floats, got \(output.count)")
        let (width, height) = resizedSize(width: image.width, height: image.height)
        // CenterCrop: int(round((size - 224) / 2.0)); Python rounds halves to even.
        let top = Int((Double(height - side) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - side) / 2).rounded(.toNearestOrEven))
        let cropped = PillowResize.resize(image, width: width, height: height,
                                          columns: left..<(left + side), rows: top..<(top + side))

        // ToTensor divides by 255 in float32; Normalize subtracts the mean, then divides by the std
        // (a true division, not a multiplication by 1/std). 256 values per channel: a table.
        var table = [Float](repeating: 0, count: 3 * 256)
        for channel in 0..<3 {
            for value in 0..<256 {
                table[channel * 256 + value] = (Float(value) / 255 - mean[channel]) / std[channel]
            }
        }
        let plane = side * side
        cropped.withUnsafeBufferPointer { rgb in
            table.withUnsafeBufferPointer { table in
                for i in 0..<plane {
                    output[i] = table[Int(rgb[i * 3])]
                    output[plane + i] = table[256 + Int(rgb[i * 3 + 1])]
                    output[2 * plane + i] = table[512 + Int(rgb[i * 3 + 2])]
                }
            }
        }
    }

    /// `Resize(256)` alone, the whole image: the short side becomes 256. An image whose short side is already 256
    /// goes through `tensor(from:)` without resampling, so a 256×256 centre crop of this classifies as the original.
    public static func resized(_ image: RGBImage) -> RGBImage {
        let (width, height) = resizedSize(width: image.width, height: image.height)
        let pixels = PillowResize.resize(image, width: width, height: height, columns: 0..<width, rows: 0..<height)
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// torchvision's `_compute_resized_output_size` for an int size: the short side becomes 256 and the
    /// long side `int(256 * long / short)` (true division, then truncation).
    static func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(resizeShortSide * long) / Double(short))
        return width <= height ? (resizeShortSide, newLong) : (newLong, resizeShortSide)
    }
}
