import Imaging

/// libFuzzer entry point: any bytes through the whole image path of a request (sniff, header, decode,
/// EXIF orientation, Pillow resize, centre crop, normalisation). A thrown `ImagingError` is a correct answer;
/// a trap, a sanitizer report, a leak, a hang or a broken invariant below is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImaging(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    // A lower pixel limit than the service's 40 M keeps each run fast; the header check is the same code.
    let options = DecodeOptions(applyEXIFOrientation: true, maxPixels: 1 << 22)
    let info = try? ImageDecoder.info(of: bytes)
    guard let image = try? ImageDecoder.decode(bytes, options: options) else { return 0 }
    guard let info else { fatalError("decoded an image whose header could not be read") }
    // EXIF orientation may swap the sides, never change the pixel count.
    precondition(image.width * image.height == info.width * info.height, "decoded size differs from the header's")
    precondition(image.pixels.count == image.width * image.height * 3, "pixel buffer of the wrong size")
    let tensor = Preprocess.tensor(from: image)
    precondition(tensor.count == Preprocess.floatCount, "tensor of the wrong size")
    precondition(tensor.allSatisfy { $0.isFinite && abs($0) < 3 }, "tensor value out of the normalised range")
    return 0
}
