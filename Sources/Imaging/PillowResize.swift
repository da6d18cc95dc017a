import CKernels

/// Pillow's bilinear `Image.resize(size, BILINEAR)` (`ImagingResample` in src/libImaging/Resample.c, Pillow 13),
/// bit for bit: double-precision filter weights rounded to 22-bit fixed point, one pass per axis, each
/// rounding to 8 bits, in the order Pillow chooses.
///
/// It computes only a window of the output. Every output pixel depends on its own filter taps alone, so a
/// window of the full resize equals the resize of just that window, and preprocessing never pays for the
/// pixels CenterCrop throws away.
enum PillowResize {
    /// `32 - 8 - 2` in Resample.c: 8 bits for the result, 2 for overflow headroom.
    static let precisionBits: Int32 = 22

    /// RGB bytes of the window `rows` × `columns` (output coordinates) of `image` resized to `width`×`height`.
    /// `vector: false` runs the passes' plain C form even where the CPU has AVX2 (for the tests).
    static func resize(_ image: RGBImage, width: Int, height: Int,
                       columns: Range<Int>, rows: Range<Int>, vector: Bool = true) -> [UInt8] {
        // An axis whose size does not change is not resampled at all (need_horizontal, need_vertical).
        let horizontal = width == image.width ? nil : FilterTaps(inputSize: image.width, outputSize: width, window: columns)
        let vertical = height == image.height ? nil : FilterTaps(inputSize: image.height, outputSize: height, window: rows)
        let imageRowBytes = image.width * 3
        return image.pixels.withUnsafeBufferPointer { source in
            switch (horizontal, vertical) {
            case (nil, nil):
                return verticalPass(source, rowBytes: imageRowBytes, firstRow: 0,
                                    bytes: (columns.lowerBound * 3)..<(columns.upperBound * 3), taps: .identity(rows),
                                    vector: vector)
            case (let horizontal?, nil):
                return horizontalPass(source, rowBytes: imageRowBytes, firstColumn: 0, rows: rows, taps: horizontal,
                                      vector: vector)
            case (nil, let vertical?):
                return verticalPass(source, rowBytes: imageRowBytes, firstRow: 0,
                                    bytes: (columns.lowerBound * 3)..<(columns.upperBound * 3), taps: vertical, vector: vector)
            case (let horizontal?, let vertical?):
                // Pillow 13 (not earlier versions): "If height is being scaled down more than twice the amount
                // the width is, run the vertical pass first". The order changes the 8-bit rounding in between;
                // with Resize(256) it happens for portrait photos taller than twice their width.
                let heightLoss = image.height - height, widthLoss = image.width - width
                if heightLoss > 0 && heightLoss > widthLoss * 2 {
                    let span = horizontal.inputSpan
                    let verticallyResampled = verticalPass(source, rowBytes: imageRowBytes, firstRow: 0,
                                                           bytes: (span.lowerBound * 3)..<(span.upperBound * 3),
                                                           taps: vertical, vector: vector)
                    return verticallyResampled.withUnsafeBufferPointer { resampled in
                        horizontalPass(resampled, rowBytes: span.count * 3, firstColumn: span.lowerBound,
                                       rows: 0..<rows.count, taps: horizontal, vector: vector)
                    }
                }
                let span = vertical.inputSpan
                let horizontallyResampled = horizontalPass(source, rowBytes: imageRowBytes, firstColumn: 0,
                                                           rows: span, taps: horizontal, vector: vector)
                return horizontallyResampled.withUnsafeBufferPointer { resampled in
                    verticalPass(resampled, rowBytes: columns.count * 3, firstRow: span.lowerBound,
                                 bytes: 0..<(columns.count * 3), taps: vertical, vector: vector)
                }
            }
        }
    }

    /// For each of `rows` of `source` (whose first column is input column `firstColumn`), the output
    /// columns of `taps`: 3 channels interleaved (`pillow_resample.c`).
    private static func horizontalPass(_ source: UnsafeBufferPointer<UInt8>, rowBytes: Int, firstColumn: Int,
                                       rows: Range<Int>, taps: FilterTaps, vector: Bool) -> [UInt8] {
        let outputWidth = taps.first.count
        let count = rows.count * outputWidth * 3
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            guard count > 0 else { initialized = 0; return }
            taps.weights.withUnsafeBufferPointer { weights in
                taps.first.withUnsafeBufferPointer { first in
                    taps.count.withUnsafeBufferPointer { tapCount in
                        let firstRow = rows.lowerBound * rowBytes
                        resnet18_resample_horizontal(source.baseAddress! + firstRow, source.count - firstRow, rowBytes,
                                                     Int32(rows.count), firstColumn, first.baseAddress!, tapCount.baseAddress!,
                                                     weights.baseAddress!, taps.stride, Int32(outputWidth), out.baseAddress!,
                                                     vector ? 1 : 0)
                    }
                }
            }
            initialized = count
        }
    }

    /// The output rows of `taps` from `source` (whose first row is input row `firstRow`), over the byte
    /// range `bytes` of each row: the same weights for every byte of a row, whatever its channel.
    private static func verticalPass(_ source: UnsafeBufferPointer<UInt8>, rowBytes: Int, firstRow: Int,
                                     bytes: Range<Int>, taps: FilterTaps, vector: Bool) -> [UInt8] {
        let outputHeight = taps.first.count, outRowBytes = bytes.count
        return [UInt8](unsafeUninitializedCapacity: outputHeight * outRowBytes) { out, initialized in
            guard outputHeight * outRowBytes > 0 else { initialized = 0; return }
            taps.weights.withUnsafeBufferPointer { weights in
                taps.first.withUnsafeBufferPointer { first in
                    taps.count.withUnsafeBufferPointer { tapCount in
                        resnet18_resample_vertical(source.baseAddress!, rowBytes, firstRow, bytes.lowerBound, outRowBytes,
                                                   first.baseAddress!, tapCount.baseAddress!, weights.baseAddress!,
                                                   taps.stride, Int32(outputHeight), out.baseAddress!, vector ? 1 : 0)
                    }
                }
            }
            initialized = outputHeight * outRowBytes
        }
    }
}

/// `precompute_coeffs` + `normalize_coeffs_8bpc` from Resample.c with the bilinear filter, for a window of
/// output positions along one axis.
struct FilterTaps {
    /// First input index each output position reads (`xmin`).
    let first: [Int]
    /// How many input positions it reads (`xmax`).
    let count: [Int]
    /// Fixed-point weights, `stride` per output position (`ksize` in Resample.c).
    let weights: [Int32]
    let stride: Int

    init(inputSize: Int, outputSize: Int, window: Range<Int>) {
        // Pillow passes the source box as C floats; the scale is computed from their difference.
        let scale = Double(Float(inputSize) - Float(0)) / Double(outputSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // the bilinear filter's support is 1
        let stride = Int(support.rounded(.up)) * 2 + 1
        let inverseFilterScale = 1.0 / filterScale
        let fixedPointOne = Double(Int32(1) << PillowResize.precisionBits)

        var first = [Int](), count = [Int]()
        first.reserveCapacity(window.count)
        count.reserveCapacity(window.count)
        var weights = [Int32](repeating: 0, count: window.count * stride)
        var raw = [Double](repeating: 0, count: stride)
        for (i, position) in window.enumerated() {
            let center = (Double(position) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)  // Int() truncates toward zero, like C's (int)
            let xmax = min(min(Int(center + support + 0.5), inputSize) - xmin, stride)
            var total = 0.0
            for x in 0..<xmax {
                let w = Self.bilinear((Double(x + xmin) - center + 0.5) * inverseFilterScale)
                raw[x] = w
                total += w
            }
            for x in 0..<xmax {
                let k = total != 0 ? raw[x] / total : raw[x]
                weights[i * stride + x] = k < 0 ? Int32(-0.5 + k * fixedPointOne) : Int32(0.5 + k * fixedPointOne)
            }
            first.append(xmin)
            count.append(max(xmax, 0))
        }
        self.first = first
        self.count = count
        self.weights = weights
        self.stride = stride
    }

    /// Weight 1.0 on input position `p` for every output position `p` of `window`: a plain copy.
    static func identity(_ window: Range<Int>) -> FilterTaps {
        FilterTaps(first: Array(window), count: Array(repeating: 1, count: window.count),
                   weights: Array(repeating: 1 << PillowResize.precisionBits, count: window.count), stride: 1)
    }

    private init(first: [Int], count: [Int], weights: [Int32], stride: Int) {
        self.first = first
        self.count = count
        self.weights = weights
        self.stride = stride
    }

    /// The input positions any output position of the window reads (Resample.c's `ybox_first..<ybox_last`).
    var inputSpan: Range<Int> {
        let lower = first.min() ?? 0
        let upper = zip(first, count).map { $0 + $1 }.max() ?? lower
        return lower..<max(upper, lower)
    }

    private static func bilinear(_ x: Double) -> Double {
        let x = abs(x)
        return x < 1.0 ? 1.0 - x : 0.0
    }
}
