/// Bytes of a JPEG, PNG or WebP file → RGB pixels, as Pillow's `Image.open(f).convert("RGB")` gives them.
public enum ImageDecoder {
    /// Reads format and dimensions from the header only (cheap; used to refuse decompression bombs before decoding).
    /// Dimensions are as stored, before EXIF orientation.
    public static func info(of bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageInfo {
        switch try ImageFormat.sniff(bytes) {
        case .jpeg: try JPEGDecoder.info(bytes)
        case .png: try PNGDecoder.info(bytes)
        case .webp: try WebPDecoder.info(bytes)
        }
    }

    /// Reads format and dimensions from the header only.
    public static func info(of bytes: [UInt8]) throws(ImagingError) -> ImageInfo {
        try bytes.withBytes { (raw) throws(ImagingError) in try info(of: raw) }
    }

    /// Decodes a whole file. Refuses it before allocating pixels when its header claims more than
    /// `options.maxPixels`; turns it upright per its EXIF orientation unless told not to.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = .init()) throws(ImagingError) -> RGBImage {
        try bytes.withBytes { (raw) throws(ImagingError) in try decode(raw, options: options) }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> RGBImage {
        let format = try ImageFormat.sniff(bytes)
        let image: RGBImage
        switch format {
        case .jpeg: image = try JPEGDecoder.decode(bytes, maxPixels: options.maxPixels)
        case .png: image = try PNGDecoder.decode(bytes, maxPixels: options.maxPixels)
        case .webp: image = try WebPDecoder.decode(bytes, maxPixels: options.maxPixels)
        }
        guard options.applyEXIFOrientation else { return image }
        return orientation(of: bytes, format: format).apply(to: image)
    }

    static func orientation(of bytes: UnsafeRawBufferPointer, format: ImageFormat) -> EXIFOrientation {
        switch format {
        case .jpeg:
            JPEGDecoder.exifPayload(in: bytes).map(EXIFOrientation.init(exif:)) ?? .upright
        case .png:
            PNGDecoder.exifPayload(in: bytes).map(EXIFOrientation.init(exif:)) ?? .upright
        case .webp:
            WebPDecoder.exifPayload(in: bytes).map { $0.withUnsafeBytes(EXIFOrientation.init(exif:)) } ?? .upright
        }
    }
}
