/// An image decoded and preprocessed, ready for the engine: 3×224×224 float32, CHW, normalised.
public struct PreparedImage: Sendable {
    public let tensor: [Float]
    public let width: Int
    public let height: Int
    public let decodeMilliseconds: Double
    public let preprocessMilliseconds: Double
}
