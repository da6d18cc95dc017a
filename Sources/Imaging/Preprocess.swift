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
        normalize(crop(image), into: output)
    }

    /// `Resize(256)` then `CenterCrop(224)`: the 224×224 RGB pixels `ToTensor` reads. A quarter of the tensor's
    /// bytes, so a request waiting for the engine holds this and is normalised only into the engine's input.
    public static func crop(_ image: RGBImage) -> RGBImage {
        let (width, height) = resizedSize(width: image.width, height: image.height)
        // CenterCrop: int(round((size - 224) / 2.0)); Python rounds halves to even.
        let top = Int((Double(height - side) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(width - side) / 2).rounded(.toNearestOrEven))
        let pixels = PillowResize.resize(image, width: width, height: height,
                                         columns: left..<(left + side), rows: top..<(top + side))
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// `ToTensor()` and `Normalize(mean, std)` of a 224×224 crop, written CHW into `output` (at least `floatCount` floats).
    public static func normalize(_ crop: RGBImage, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(crop.width == side && crop.height == side, "a crop is \(side)×\(side), got \(crop.width)×\(crop.height)")
        precondition(output.count >= floatCount, "a preprocessed image needs \(floatCount) floats, got \(output.count)")
        let plane = side * side
        crop.pixels.withUnsafeBufferPointer { rgb in
            normalization.withUnsafeBufferPointer { table in
                for i in 0..<plane {
                    output[i] = table[Int(rgb[i * 3])]
                    output[plane + i] = table[256 + Int(rgb[i * 3 + 1])]
                    output[2 * plane + i] = table[512 + Int(rgb[i * 3 + 2])]
                }
            }
        }
    }

    /// ToTensor divides by 255 in float32; Normalize subtracts the mean, then divides by the std
    /// (a true division, not a multiplication by 1/std). 256 values per channel: a table.
    static let normalization: [Float] = (0..<3).flatMap { channel in
        (0..<256).map { value in (Float(value) / 255 - mean[channel]) / std[channel] }
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
