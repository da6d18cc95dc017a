import Imaging

/// An image decoded and preprocessed, ready for the engine.
public struct PreparedImage: Sendable {
    /// What the engine's input is made from.
    public enum Pixels: Sendable {
        /// The 224×224 centre crop after `Resize(256)` (`Preprocess.crop`): 150 kB where the tensor is 602 kB.
        /// Normalised straight into the engine's input when its batch runs, bit for bit the tensor torchvision makes.
        case crop(RGBImage)
        /// A ready 3×224×224 float32 CHW normalised tensor (KServe FP32 input).
        case tensor([Float])
    }

    public let pixels: Pixels
    /// The decoded image's size, before preprocessing.
    public let width: Int
    public let height: Int
    public let decodeMilliseconds: Double
    public let preprocessMilliseconds: Double

    public init(crop: RGBImage, width: Int, height: Int, decodeMilliseconds: Double, preprocessMilliseconds: Double) {
        precondition(crop.width == Preprocess.side && crop.height == Preprocess.side, "a crop is 224×224")
        pixels = .crop(crop)
        self.width = width
        self.height = height
        self.decodeMilliseconds = decodeMilliseconds
        self.preprocessMilliseconds = preprocessMilliseconds
    }

    public init(tensor: [Float], width: Int, height: Int, decodeMilliseconds: Double, preprocessMilliseconds: Double) {
        precondition(tensor.count == Preprocess.floatCount, "a tensor has \(Preprocess.floatCount) floats, got \(tensor.count)")
        pixels = .tensor(tensor)
        self.width = width
        self.height = height
        self.decodeMilliseconds = decodeMilliseconds
        self.preprocessMilliseconds = preprocessMilliseconds
    }

    /// Writes the normalised tensor (3×224×224 floats, CHW) into `output`.
    public func write(into output: UnsafeMutableBufferPointer<Float>) {
        switch pixels {
        case let .crop(crop):
            Preprocess.normalize(crop, into: output)
        case let .tensor(tensor):
            precondition(output.count >= tensor.count, "room for \(tensor.count) floats needed, got \(output.count)")
            _ = output.update(fromContentsOf: tensor)
        }
    }

    /// The normalised tensor, 3×224×224 float32 CHW.
    public var tensor: [Float] {
        if case let .tensor(tensor) = pixels { return tensor }
        return [Float](unsafeUninitializedCapacity: Preprocess.floatCount) { buffer, initialized in
            write(into: buffer)
            initialized = Preprocess.floatCount
        }
    }

    /// The JPEG thumbnail of what the network saw (`Thumbnail`), for history rows.
    public func thumbnailJPEG(side: Int = 112) throws(ImagingError) -> [UInt8] {
        switch pixels {
        case let .crop(crop): try Thumbnail.jpeg(fromCrop: crop, side: side)
        case let .tensor(tensor): try Thumbnail.jpeg(fromTensor: tensor, side: side)
        }
    }
}
