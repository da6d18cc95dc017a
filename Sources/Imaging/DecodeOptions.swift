/// How `ImageDecoder.decode` treats a file.
public struct DecodeOptions: Sendable, Equatable {
    /// Turn the image upright as its EXIF orientation tag says (what photo viewers show).
    /// torchvision does not: set `false` to get exactly the pixels torchvision sees.
    public var applyEXIFOrientation = true
    /// Refuse images whose header claims more pixels than this, before allocating anything for them.
    public var maxPixels = 40_000_000

    public init(applyEXIFOrientation: Bool = true, maxPixels: Int = 40_000_000) {
        self.applyEXIFOrientation = applyEXIFOrientation
        self.maxPixels = maxPixels
    }
}
