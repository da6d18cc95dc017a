/// The EXIF orientation tag (0x0112): how the stored pixels must be flipped or turned to show upright.
/// Cases follow the tag's values and Pillow's `ImageOps.exif_transpose`.
enum EXIFOrientation: Int, Sendable {
    case upright = 1
    case mirrored = 2  // FLIP_LEFT_RIGHT
    case upsideDown = 3  // ROTATE_180
    case upsideDownMirrored = 4  // FLIP_TOP_BOTTOM
    case transposed = 5  // TRANSPOSE: mirrored along the main diagonal
    case rotatedClockwise = 6  // ROTATE_270 (Pillow rotates counter-clockwise): turn 90° clockwise
    case transversed = 7  // TRANSVERSE: mirrored along the anti-diagonal
    case rotatedCounterClockwise = 8  // ROTATE_90: turn 90° counter-clockwise

    /// Reads the tag from IFD0 of an EXIF block (a TIFF structure, optionally behind "Exif\0\0").
    /// Anything missing, out of bounds or out of range gives `.upright`; this never traps.
    init(exif: UnsafeRawBufferPointer) {
        self = Self.parse(exif) ?? .upright
    }

    private static func parse(_ block: UnsafeRawBufferPointer) -> EXIFOrientation? {
        var tiff = block[...]
        if tiff.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) { tiff = tiff.dropFirst(6) }  // "Exif\0\0"
        let base = tiff.startIndex
        guard tiff.count >= 8 else { return nil }
        let littleEndian: Bool
        switch (tiff[base], tiff[base + 1]) {
        case (0x49, 0x49): littleEndian = true  // "II"
        case (0x4D, 0x4D): littleEndian = false  // "MM"
        default: return nil
        }
        func read(_ offset: Int, bytes: Int) -> Int? {
            guard offset >= 0, offset <= tiff.count - bytes else { return nil }
            var value = 0
            for i in 0..<bytes {
                let byte = Int(tiff[base + offset + (littleEndian ? bytes - 1 - i : i)])
                value = value << 8 | byte
            }
            return value
        }
        guard read(2, bytes: 2) == 42, let ifd0 = read(4, bytes: 4), let entryCount = read(ifd0, bytes: 2) else {
            return nil
        }
        for index in 0..<entryCount {
            let entry = ifd0 + 2 + index * 12
            guard let tag = read(entry, bytes: 2), let type = read(entry + 2, bytes: 2) else { return nil }
            guard tag == 0x0112 else { continue }
            // SHORT as the standard says; LONG from a few sloppy writers. The value sits in the entry itself.
            let value = switch type {
            case 3: read(entry + 8, bytes: 2)
            case 4: read(entry + 8, bytes: 4)
            default: Int?.none
            }
            return value.flatMap(EXIFOrientation.init(rawValue:))
        }
        return nil
    }

    /// Whether width and height trade places.
    var swapsDimensions: Bool { rawValue >= 5 }

    /// The upright image.
    func apply(to image: RGBImage) -> RGBImage {
        if self == .upright { return image }
        let (w, h) = (image.width, image.height)
        // Where output pixel (0, 0) comes from, and how far the source moves (in pixels) for one step
        // right and one step down in the output.
        let (origin, columnStep, rowStep): (Int, Int, Int) = switch self {
        case .upright: (0, 1, w)
        case .mirrored: (w - 1, -1, w)
        case .upsideDown: ((h - 1) * w + w - 1, -1, -w)
        case .upsideDownMirrored: ((h - 1) * w, 1, -w)
        case .transposed: (0, w, 1)
        case .rotatedClockwise: ((h - 1) * w, -w, 1)
        case .transversed: ((h - 1) * w + w - 1, -w, -1)
        case .rotatedCounterClockwise: (w - 1, w, -1)
        }
        let (outWidth, outHeight) = swapsDimensions ? (h, w) : (w, h)
        let pixels = [UInt8](unsafeUninitializedCapacity: w * h * 3) { out, initialized in
            image.pixels.withUnsafeBufferPointer { source in
                var o = 0
                for y in 0..<outHeight {
                    var s = origin + y * rowStep
                    for _ in 0..<outWidth {
                        out[o] = source[s * 3]
                        out[o + 1] = source[s * 3 + 1]
                        out[o + 2] = source[s * 3 + 2]
                        o += 3
                        s += columnStep
                    }
                }
            }
            initialized = w * h * 3
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: pixels)
    }
}
