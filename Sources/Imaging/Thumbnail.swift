/// A small picture of what the network saw, for history rows: the 224×224 centre crop (kept as pixels, or
/// un-normalised from a tensor) averaged down (2×2 boxes for the default 112 side).
public enum Thumbnail {
    /// The RGB picture of a 3×224×224 CHW normalised tensor, `side` pixels square (a divisor of 224 up to 224).
    public static func image(fromTensor tensor: [Float], side: Int = 112) -> RGBImage {
        precondition(tensor.count == Preprocess.floatCount, "a preprocessed tensor has \(Preprocess.floatCount) floats, got \(tensor.count)")
        let full = Preprocess.side
        let side = min(max(side, 1), full)
        let plane = full * full
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        // Per channel: x · std · 255 + mean · 255, with the box average folded in (one multiply-add per pixel).
        let scale = Preprocess.std.map { $0 * 255 }, offset = Preprocess.mean.map { $0 * 255 }
        tensor.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                if full % side == 0 {
                    boxes(of: input.baseAddress!, side: side, scale: scale, offset: offset, into: output.baseAddress!)
                    return
                }
                for channel in 0..<3 {
                    let source = input.baseAddress! + channel * plane
                    let channelScale = scale[channel], channelOffset = offset[channel]
                    for y in 0..<side {
                        let y0 = y * full / side, y1 = max((y + 1) * full / side, y0 + 1)
                        for x in 0..<side {
                            let x0 = x * full / side, x1 = max((x + 1) * full / side, x0 + 1)
                            var sum: Float = 0
                            for sy in y0..<y1 {
                                let row = source + sy * full
                                for sx in x0..<x1 { sum += row[sx] }
                            }
                            let value = sum / Float((y1 - y0) * (x1 - x0)) * channelScale + channelOffset
                            // Round half away from zero on [0, 255], as `rounded()` does, without a libm call.
                            output[(y * side + x) * 3 + channel] = UInt8(min(max(value, 0), 255) + 0.5)
                        }
                    }
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// `full / side` square boxes (the default 2×2 among them): each row of boxes summed a source row at a time
    /// into one line of sums, so the inner loop has fixed bounds and no division (about a fifth of the general
    /// loop's time in the fp32 server's profile under load: 1.57 % of its CPU before, 0.28 % after).
    private static func boxes(of input: UnsafePointer<Float>, side: Int, scale: [Float], offset: [Float],
                              into output: UnsafeMutablePointer<UInt8>) {
        let full = Preprocess.side, plane = full * full, factor = full / side
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: side)
        defer { sums.deallocate() }
        for channel in 0..<3 {
            let source = input + channel * plane
            let channelScale = scale[channel] / Float(factor * factor), channelOffset = offset[channel]
            for y in 0..<side {
                sums.initialize(repeating: 0, count: side)
                for sy in 0..<factor {
                    let row = source + (y * factor + sy) * full
                    if factor == 2 {
                        for x in 0..<side { sums[x] += row[2 * x] + row[2 * x + 1] }
                    } else {
                        for x in 0..<side {
                            var sum: Float = 0
                            for sx in 0..<factor { sum += row[x * factor + sx] }
                            sums[x] += sum
                        }
                    }
                }
                let line = output + y * side * 3 + channel
                for x in 0..<side {
                    let value = sums[x] * channelScale + channelOffset
                    line[x * 3] = UInt8(min(max(value, 0), 255) + 0.5)
                }
            }
        }
    }

    /// The picture of a 224×224 crop (`Preprocess.crop`, the pixels the tensor is made of), `side` pixels
    /// square (1 to 224): each pixel the rounded mean of the box of crop pixels it covers.
    public static func image(fromCrop crop: RGBImage, side: Int = 112) -> RGBImage {
        let full = Preprocess.side
        precondition(crop.width == full && crop.height == full, "a crop is \(full)×\(full), got \(crop.width)×\(crop.height)")
        let side = min(max(side, 1), full)
        var pixels = [UInt8](repeating: 0, count: side * side * 3)
        crop.pixels.withUnsafeBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                if full % side == 0 {
                    boxes(of: input.baseAddress!, side: side, into: output.baseAddress!)
                    return
                }
                for y in 0..<side {
                    let y0 = y * full / side, y1 = max((y + 1) * full / side, y0 + 1)
                    for x in 0..<side {
                        let x0 = x * full / side, x1 = max((x + 1) * full / side, x0 + 1)
                        var sums: (Int, Int, Int) = (0, 0, 0)
                        for sy in y0..<y1 {
                            for sx in x0..<x1 {
                                let at = (sy * full + sx) * 3
                                sums.0 += Int(input[at])
                                sums.1 += Int(input[at + 1])
                                sums.2 += Int(input[at + 2])
                            }
                        }
                        let count = (y1 - y0) * (x1 - x0), at = (y * side + x) * 3
                        output[at] = UInt8((sums.0 + count / 2) / count)
                        output[at + 1] = UInt8((sums.1 + count / 2) / count)
                        output[at + 2] = UInt8((sums.2 + count / 2) / count)
                    }
                }
            }
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// `full / side` square boxes of crop pixels (2×2 for the default side): a row of boxes summed a source row at
    /// a time into one line of sums, interleaved RGB kept, so the inner loop has fixed bounds and no division. The
    /// general loop above took 0.94 % of the fp32 server's CPU under 16 wrk clients (`perf record`).
    private static func boxes(of input: UnsafePointer<UInt8>, side: Int, into output: UnsafeMutablePointer<UInt8>) {
        let full = Preprocess.side, factor = full / side, count = UInt32(factor * factor)
        let sums = UnsafeMutablePointer<UInt32>.allocate(capacity: side * 3)
        defer { sums.deallocate() }
        for y in 0..<side {
            sums.initialize(repeating: 0, count: side * 3)
            for sy in 0..<factor {
                let row = input + (y * factor + sy) * full * 3
                if factor == 2 {
                    // Wrapping adds: at most 4 × 255 per sum, and no overflow check in the way of vectorising.
                    for x in 0..<side {
                        let a = row + x * 6
                        sums[x * 3] &+= UInt32(a[0]) &+ UInt32(a[3])
                        sums[x * 3 + 1] &+= UInt32(a[1]) &+ UInt32(a[4])
                        sums[x * 3 + 2] &+= UInt32(a[2]) &+ UInt32(a[5])
                    }
                } else {
                    for x in 0..<side {
                        for sx in 0..<factor {
                            let a = row + (x * factor + sx) * 3
                            sums[x * 3] += UInt32(a[0])
                            sums[x * 3 + 1] += UInt32(a[1])
                            sums[x * 3 + 2] += UInt32(a[2])
                        }
                    }
                }
            }
            let line = output + y * side * 3
            if factor == 2 {
                for index in 0..<(side * 3) { line[index] = UInt8(truncatingIfNeeded: (sums[index] &+ 2) >> 2) }
            } else {
                for index in 0..<(side * 3) { line[index] = UInt8((sums[index] + count / 2) / count) }
            }
        }
    }

    /// The JPEG thumbnail of a crop.
    public static func jpeg(fromCrop crop: RGBImage, side: Int = 112, quality: Int = 75) throws(ImagingError) -> [UInt8] {
        try JPEGEncoder.encode(image(fromCrop: crop, side: side), quality: quality)
    }

    /// The JPEG thumbnail of a preprocessed tensor.
    public static func jpeg(fromTensor tensor: [Float], side: Int = 112, quality: Int = 75) throws(ImagingError) -> [UInt8] {
        try JPEGEncoder.encode(image(fromTensor: tensor, side: side), quality: quality)
    }
}
