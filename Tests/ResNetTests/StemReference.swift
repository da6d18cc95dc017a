/// The parts the stem kernels' plain references share: the 7×7 stride-2 pad-3 taps of a stem output and the 3×3
/// stride-2 pad-1 max pooling of a 112×112 stem map.
enum StemReference {
    static let side = 224, out = 112, pooled = 56

    /// Calls `body(inputOffset, weightOffset)` for each tap of stem output (oy, ox) that lands inside the image:
    /// the offsets within one image's CHW input and one output channel's [3][7][7] weights.
    static func forEachTap(oy: Int, ox: Int, _ body: (Int, Int) -> Void) {
        for c in 0..<3 {
            for kh in 0..<7 {
                let y = 2 * oy - 3 + kh
                guard y >= 0 && y < side else { continue }
                for kw in 0..<7 {
                    let x = 2 * ox - 3 + kw
                    guard x >= 0 && x < side else { continue }
                    body((c * side + y) * side + x, (c * 7 + kh) * 7 + kw)
                }
            }
        }
    }

    /// The max pooling of one stem map [112 × 112] into `result[offset..<offset + 56 × 56]` (stem outputs outside
    /// the map never win after a ReLU, so `floor`, the ReLU's zero, stands for them).
    static func maxPool<T: Comparable>(_ stem: [T], floor: T, into result: inout [T], at offset: Int) {
        for py in 0..<pooled {
            for px in 0..<pooled {
                var largest = floor
                for y in max(0, 2 * py - 1)...min(out - 1, 2 * py + 1) {
                    for x in max(0, 2 * px - 1)...min(out - 1, 2 * px + 1) { largest = max(largest, stem[y * out + x]) }
                }
                result[offset + py * pooled + px] = largest
            }
        }
    }
}
