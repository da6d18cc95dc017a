@testable import Imaging
import Testing

/// `pillow_resample.c` runs AVX2 where the CPU has it and plain C elsewhere. The synthetic cases of
/// `TorchvisionTensorTests` hold the form this machine runs to Pillow's bytes; this holds the plain form to the
/// same bytes, so a CPU without AVX2 computes what torchvision does too.
@Suite struct PillowResizeFormTests {
    @Test("the plain C passes give the AVX2 passes' bytes, in the crop's window and the whole resize",
          arguments: [(100, 60), (385, 256), (256, 300), (257, 1000), (1, 500), (500, 3), (640, 427), (500, 2400),
                      (1920, 1080)])
    func plainFormMatchesVectorForm(width: Int, height: Int) {
        let image = RGBImage(width: width, height: height,
                             pixels: TorchvisionTensorTests.pattern(width: width, height: height))
        let (resizedWidth, resizedHeight) = Preprocess.resizedSize(width: width, height: height)
        let left = max(0, (resizedWidth - Preprocess.side) / 2), top = max(0, (resizedHeight - Preprocess.side) / 2)
        var windows = [(left..<min(resizedWidth, left + Preprocess.side), top..<min(resizedHeight, top + Preprocess.side))]
        // The whole resize too, but for the thin images, which Resize(256) makes tens of millions of bytes.
        if resizedWidth * resizedHeight <= 1 << 20 { windows.append((0..<resizedWidth, 0..<resizedHeight)) }
        for (columns, rows) in windows {
            let vector = PillowResize.resize(image, width: resizedWidth, height: resizedHeight, columns: columns, rows: rows)
            let plain = PillowResize.resize(image, width: resizedWidth, height: resizedHeight, columns: columns, rows: rows,
                                            vector: false)
            #expect(plain.count == columns.count * rows.count * 3)
            // The first byte that differs, not the arrays: a failure prints its operands.
            let firstDifference = plain.count != vector.count ? 0 : plain.indices.first { plain[$0] != vector[$0] }
            #expect(firstDifference == nil, "window \(columns) × \(rows)")
        }
    }
}
