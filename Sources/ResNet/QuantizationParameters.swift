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

    /// The key of the network input's range (the normalised image, quantised to s8 for the stem).
    public static let input = "input"

    public init(weightsSHA256Prefix: String, calibrationImages: Int, activationMax: [String: Float]) {
        self.weightsSHA256Prefix = weightsSHA256Prefix
        self.calibrationImages = calibrationImages
        self.activationMax = activationMax
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
}
