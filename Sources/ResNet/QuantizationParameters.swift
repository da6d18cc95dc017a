import Foundation

/// What int8 needs beyond the weights: the largest value each activation reached on a calibration set.
///
/// Keyed by the convolution producing the tensor (`conv1`, `layer1.0.conv1`, `layer2.0.downsample.0`); a
/// block's `conv2` entry is the block output after the residual add and ReLU; `input` is the normalised image
/// itself (the stem runs in int8 too). Maxima are of absolute values.
/// The file is tied to the weights it was measured on by their SHA-256 prefix.
public struct QuantizationParameters: Codable, Sendable, Equatable {
    /// `WeightsIdentity.sha256Prefix` of the weights calibrated.
    public var weightsSHA256Prefix: String
    /// How many images the maxima were taken over.
    public var calibrationImages: Int
    /// max |x| of each activation tensor, by the name of the convolution that writes it.
    public var activationMax: [String: Float]
    /// For each convolution the int8 plan runs as Winograd F(2×2, 3×3) (`ResNet18Architecture.int8WinogradInputs`):
    /// max |B^T d B| of its input's 4×4 tiles at each of the 16 transform points. Absent in files made before
    /// the int8 Winograd: those convolutions then run direct.
    public var winogradPointMax: [String: [Float]]?

    /// The key of the network input's range (the normalised image, quantised to s8 for the stem).
    public static let input = "input"

    public init(weightsSHA256Prefix: String, calibrationImages: Int, activationMax: [String: Float],
                winogradPointMax: [String: [Float]]? = nil) {
        self.weightsSHA256Prefix = weightsSHA256Prefix
        self.calibrationImages = calibrationImages
        self.activationMax = activationMax
        self.winogradPointMax = winogradPointMax
    }

    /// Where the parameters of a weights file live by default: beside it, `resnet18-f37072fd.int8.json`.
    public static func url(besideWeights weightsURL: URL) -> URL {
        weightsURL.deletingPathExtension().appendingPathExtension("int8.json")
    }

    /// Writes the parameters as JSON.
    public func save(to url: URL) throws(ResNetError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw .quantization("cannot write int8 parameters to \(url.path): \(error.localizedDescription)")
        }
    }

    /// Reads parameters and refuses them unless they were calibrated on `expectedWeights`.
    public static func load(from url: URL, expectedWeights: WeightsIdentity) throws(ResNetError) -> QuantizationParameters {
        let parameters: QuantizationParameters
        do {
            parameters = try JSONDecoder().decode(QuantizationParameters.self, from: Data(contentsOf: url))
        } catch {
            throw .quantization("cannot read int8 parameters \(url.path): \(error.localizedDescription): run `resnet18 quantize` to make them")
        }
        try parameters.check(against: expectedWeights, source: url.path)
        return parameters
    }

    /// Refuses parameters measured on other weights or missing an activation the int8 plan needs.
    func check(against weights: WeightsIdentity, source: String = "the int8 parameters") throws(ResNetError) {
        guard weightsSHA256Prefix == weights.sha256Prefix else {
            throw .quantization("\(source) was calibrated for weights sha256:\(weightsSHA256Prefix), these are sha256:\(weights.sha256Prefix): run `resnet18 quantize` again")
        }
        for conv in [Self.input] + ResNet18Architecture.convolutions.map(\.conv) {
            guard let value = activationMax[conv], value.isFinite, value >= 0 else {
                throw .quantization("\(source) has no range for \(conv): run `resnet18 quantize` again")
            }
        }
    }

    /// The int8 scale of the activation written by `conv`: stored integer = scale × value.
    func scale(of conv: String, unsigned: Bool) -> Float {
        let limit: Float = unsigned ? 255 : 127
        return limit / max(activationMax[conv] ?? 0, 1e-6)
    }

    /// The range per transform point of `conv`'s input, when the file has one (16 finite values).
    func winogradPointMax(of conv: String) -> [Float]? {
        guard let values = winogradPointMax?[conv], values.count == 16, values.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            return nil
        }
        return values
    }

    /// max |B^T d B| at each transform point over the 4×4 tiles (stride 2, zero padding 1, odd sides padded one
    /// more) of an activation in nChw16c (`channels` a multiple of 16), folded into `maxima`.
    static func foldWinogradPointMax(_ values: UnsafePointer<Float>, images: Int, channels: Int, side: Int,
                                     into maxima: inout [Float]) {
        let tilesAlong = (side + 1) / 2
        var d = [Float](repeating: 0, count: 16), t = [Float](repeating: 0, count: 16)
        for image in 0..<images {
            for channel in 0..<channels {
                let plane = values + ((image * channels / 16 + channel / 16) * side * side) * 16 + channel % 16
                for ty in 0..<tilesAlong {
                    for tx in 0..<tilesAlong {
                        for a in 0..<4 {
                            for b in 0..<4 {
                                let y = ty * 2 - 1 + a, x = tx * 2 - 1 + b
                                d[a * 4 + b] = (y < 0 || y >= side || x < 0 || x >= side) ? 0 : plane[(y * side + x) * 16]
                            }
                        }
                        for b in 0..<4 {   // B^T d, column by column
                            t[b] = d[b] - d[8 + b]
                            t[4 + b] = d[4 + b] + d[8 + b]
                            t[8 + b] = d[8 + b] - d[4 + b]
                            t[12 + b] = d[4 + b] - d[12 + b]
                        }
                        for a in 0..<4 {   // (B^T d) B, row by row
                            let t0 = t[a * 4], t1 = t[a * 4 + 1], t2 = t[a * 4 + 2], t3 = t[a * 4 + 3]
                            maxima[a * 4] = max(maxima[a * 4], abs(t0 - t2))
                            maxima[a * 4 + 1] = max(maxima[a * 4 + 1], abs(t1 + t2))
                            maxima[a * 4 + 2] = max(maxima[a * 4 + 2], abs(t2 - t1))
                            maxima[a * 4 + 3] = max(maxima[a * 4 + 3], abs(t1 - t3))
                        }
                    }
                }
            }
        }
    }
}
