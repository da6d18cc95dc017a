/// Why an image could not be read. Each message says what happened and what to do about it.
public enum ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// There were no bytes at all.
    case empty
    /// The bytes are not a JPEG, PNG or WebP file; the payload shows how they start.
    case unsupportedFormat(String)
    /// A JPEG, PNG or WebP file that uses something this decoder does not handle ("JPEG with 12-bit samples").
    case unsupportedFeature(String)
    /// The file is damaged or cut short; the payload names the format and the problem ("JPEG: premature end of data").
    case corrupt(String)
    /// The header's dimensions are over the pixel limit: refused before any pixel memory is allocated.
    case tooManyPixels(width: Int, height: Int, limit: Int)

    public var description: String {
        switch self {
        case .empty:
            "empty input (0 bytes): send the contents of a JPEG, PNG or WebP file"
        case .unsupportedFormat(let start):
            "not a JPEG, PNG or WebP image (starts with \(start)): convert it to one of those"
        case .unsupportedFeature(let what):
            "unsupported \(what): convert it to an ordinary 8-bit JPEG or PNG"
        case .corrupt(let what):
            "corrupt \(what): the file is damaged or truncated, upload it again or re-save it"
        case .tooManyPixels(let width, let height, let limit) where limit < 1_000_000:
            "image is \(width)×\(height) = \(width * height) pixels, over the \(limit) pixel limit (--max-pixels)"
        case .tooManyPixels(let width, let height, let limit):
            "image is \(width)×\(height) = \(Self.megapixels(width * height)) megapixels, "
                + "over the \(Self.megapixels(limit)) megapixel limit (--max-pixels)"
        }
    }

    /// `4294836225` → "4294", `12_345_678` → "12.3", `40_000_000` → "40".
    private static func megapixels(_ pixels: Int) -> String {
        if pixels % 1_000_000 == 0 || pixels >= 100_000_000 {
            return "\(pixels / 1_000_000)"
        }
        let tenths = pixels / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
