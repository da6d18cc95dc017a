import CWebP

/// WebP through libwebp, alpha dropped (not composited) as Pillow's `convert("RGB")` does.
/// Animated files give their first frame on the canvas, which is what Pillow's `Image.open` shows.
enum WebPDecoder {
    static func info(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) -> ImageInfo {
        let features = try features(of: bytes)
        return ImageInfo(format: .webp, width: Int(features.width), height: Int(features.height))
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws(ImagingError) -> RGBImage {
        let features = try features(of: bytes)
        let (width, height) = (Int(features.width), Int(features.height))
        try ImageInfo(format: .webp, width: width, height: height).checkDimensions(maxPixels: maxPixels)
        if features.has_animation != 0 {
            return try WebPFirstFrameDecoder(bytes).decode(width: width, height: height)
        }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { preconditionFailure("libwebp version mismatch") }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let status = rgb.withUnsafeMutableBufferPointer { out in
            config.output.colorspace = MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA = WebPRGBABuffer(rgba: out.baseAddress, stride: Int32(width * 3), size: out.count)
            defer { WebPFreeDecBuffer(&config.output) }
            return WebPDecode(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &config)
        }
        try check(status)
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// The EXIF chunk of an extended-format (VP8X) file, read with WebPDemux, if there is one.
    static func exifPayload(in bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var data = WebPData(bytes: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), size: bytes.count)
        guard let demuxer = WebPDemux(&data) else { return nil }
        defer { WebPDemuxDelete(demuxer) }
        var iterator = WebPChunkIterator()
        guard WebPDemuxGetChunk(demuxer, "EXIF", 1, &iterator) != 0 else { return nil }
        defer { WebPDemuxReleaseChunkIterator(&iterator) }
        guard let start = iterator.chunk.bytes else { return nil }
        return Array(UnsafeBufferPointer(start: start, count: iterator.chunk.size))
    }

    private static func features(of bytes: UnsafeRawBufferPointer) throws(ImagingError) -> WebPBitstreamFeatures {
        var features = WebPBitstreamFeatures()
        try check(WebPGetFeatures(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &features))
        return features
    }

    static func check(_ status: VP8StatusCode) throws(ImagingError) {
        switch status {
        case VP8_STATUS_OK: return
        case VP8_STATUS_NOT_ENOUGH_DATA: throw .corrupt("WebP: premature end of data")
        case VP8_STATUS_UNSUPPORTED_FEATURE: throw .unsupportedFeature("WebP feature")
        case VP8_STATUS_OUT_OF_MEMORY: throw .corrupt("WebP: the decoder ran out of memory")
        default: throw .corrupt("WebP: invalid bitstream")
        }
    }
}

/// Owns a WebPAnimDecoder: the first frame of an animation, composited on its canvas as RGBA.
final class WebPFirstFrameDecoder {
    private let decoder: OpaquePointer

    init(_ bytes: UnsafeRawBufferPointer) throws(ImagingError) {
        var options = WebPAnimDecoderOptions()
        guard WebPAnimDecoderOptionsInit(&options) != 0 else { preconditionFailure("libwebp version mismatch") }
        options.color_mode = MODE_RGBA
        options.use_threads = 0
        // WebPAnimDecoderNew copies nothing: `bytes` outlives this object (both live inside one decode call).
        var data = WebPData(bytes: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), size: bytes.count)
        guard let decoder = WebPAnimDecoderNew(&data, &options) else { throw .corrupt("WebP: invalid animation") }
        self.decoder = decoder
    }

    deinit {
        WebPAnimDecoderDelete(decoder)
    }

    func decode(width: Int, height: Int) throws(ImagingError) -> RGBImage {
        var info = WebPAnimInfo()
        guard WebPAnimDecoderGetInfo(decoder, &info) != 0,
              Int(info.canvas_width) == width, Int(info.canvas_height) == height else {
            throw .corrupt("WebP: animation canvas does not match its header")
        }
        var frame: UnsafeMutablePointer<UInt8>?
        var timestampMilliseconds: Int32 = 0
        guard WebPAnimDecoderGetNext(decoder, &frame, &timestampMilliseconds) != 0, let frame else {
            throw .corrupt("WebP: cannot decode the first frame")
        }
        let pixelCount = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { out, initialized in
            for i in 0..<pixelCount {
                out[i * 3] = frame[i * 4]
                out[i * 3 + 1] = frame[i * 4 + 1]
                out[i * 3 + 2] = frame[i * 4 + 2]
            }
            initialized = pixelCount * 3
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}
