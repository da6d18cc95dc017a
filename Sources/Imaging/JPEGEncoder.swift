import CTurboJPEG

/// Encodes RGB pixels as a baseline JPEG with TurboJPEG (for history thumbnails).
public enum JPEGEncoder {
    /// The JPEG bytes of the image; `quality` from 1 to 100.
    public static func encode(_ image: RGBImage, quality: Int = 80) throws(ImagingError) -> [UInt8] {
        try TurboJPEGCompressor().compress(image, quality: min(max(quality, 1), 100))
    }
}

/// Owns a TurboJPEG compression handle for the duration of one encode.
final class TurboJPEGCompressor {
    private let handle: tjhandle

    init() {
        guard let handle = tjInitCompress() else {
            preconditionFailure("tjInitCompress failed: out of memory")
        }
        self.handle = handle
    }

    deinit {
        tjDestroy(handle)
    }

    func compress(_ image: RGBImage, quality: Int) throws(ImagingError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                        &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { if let output { tjFree(output) } }
        guard status == 0, let output else {
            let message = tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
            throw .corrupt("JPEG encoding failed: \(message)")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }
}
