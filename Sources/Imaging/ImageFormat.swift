/// The encodings the service accepts.
public enum ImageFormat: String, Sendable {
    case jpeg, png, webp
}

/// What a file's header says, before any pixel is decoded.
public struct ImageInfo: Sendable, Equatable {
    public let format: ImageFormat
    /// Stored width in pixels, before any EXIF orientation is applied.
    public let width: Int
    /// Stored height in pixels, before any EXIF orientation is applied.
    public let height: Int

    /// Refuses empty and over-limit dimensions; decoders call it before allocating pixel memory.
    public func checkDimensions(maxPixels: Int) throws(ImagingError) {
        guard width > 0, height > 0 else {
            throw .corrupt("\(format.displayName): the header says the image is \(width)×\(height) pixels")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        // Decoders size buffers of up to 4 bytes a pixel: a limit set past Int.max / 4 must not let that overflow.
        if overflow || pixels > maxPixels || pixels > Int.max / 4 {
            throw .tooManyPixels(width: width, height: height, limit: maxPixels)
        }
    }
}

extension ImageFormat {
    /// "JPEG", "PNG", "WebP", as error messages name them.
    var displayName: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .webp: "WebP"
        }
    }

    /// Recognises the format from the magic numbers at the start of the file (never from a file name).
    static func sniff(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageFormat {
        if bytes.isEmpty { throw .empty }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)),
           bytes[8..<12].elementsEqual("WEBP".utf8) {
            return .webp
        }
        throw .unsupportedFormat(describeStart(of: bytes))
    }

    /// The first bytes as text when they are printable ("GIF89a"), otherwise in hex ("00 00 00 18 66 74 79 70").
    private static func describeStart(of bytes: UnsafeRawBufferPointer) -> String {
        let head = bytes.prefix(8)
        let printable = head.prefix { $0 >= 0x20 && $0 < 0x7F }
        if printable.count >= 3 {
            return String(decoding: printable, as: UTF8.self)
        }
        return head.map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 0x10 ? "0" + hex : hex
        }.joined(separator: " ")
    }
}
