import ArgumentParser
import Recognition
import ResNet

extension Precision: ExpressibleByArgument {}

/// The options every command that builds an engine takes.
struct EngineOptionGroup: ParsableArguments {
    @Option(help: "Weights file (.pth or .safetensors). Default: $RESNET18_WEIGHTS, then the official file in the user cache.")
    var weights: String?

    @Option(help: "Label file for a custom classifier head (JSON list or one name a line).")
    var labels: String?

    @Option(help: "Threads oneDNN uses (default: all cores).")
    var threads: Int?

    @Option(help: "Arithmetic: fp32, bf16 or int8.")
    var precision: Precision = .fp32

    @Option(help: "int8 calibration parameters (default: NAME.int8.json beside the weights, made by `resnet18 quantize`).")
    var quantization: String?

    @Flag(help: "Direct convolutions only (no Winograd): slower runs, faster start.")
    var noWinograd = false

    @Flag(inversion: .prefixedNo,
          help: "No Winograd weights of their own for batches of 1 and 2: 63 MB less, a lone image about 1.5 ms slower (default: on for serve, off elsewhere).")
    var leanWinograd: Bool?

    @Flag(help: "Ignore EXIF orientation, as torchvision does.")
    var noExifOrientation = false

    @Option(help: "Refuse images with more pixels than this (decompression bombs).")
    var maxPixels = 40_000_000

    var configuration: RecognizerConfiguration {
        var configuration = RecognizerConfiguration()
        configuration.weightsPath = weights
        configuration.labelsPath = labels
        configuration.threads = threads
        configuration.precision = precision
        configuration.winograd = !noWinograd
        configuration.quantizationPath = quantization
        configuration.applyEXIFOrientation = !noExifOrientation
        configuration.maxPixels = maxPixels
        return configuration
    }

    /// Loads the recognizer and prints its warnings (untrained weights...) on stderr.
    /// `winograd: false` turns Winograd off for this run even when the flag allows it.
    /// `leanWinogradByDefault`: the command's default for `--lean-winograd` (serve's is on: memory under load).
    func loadRecognizer(winograd: Bool = true, leanWinogradByDefault: Bool = false) throws -> Recognizer {
        var configuration = configuration
        configuration.winograd = configuration.winograd && winograd
        configuration.leanWinograd = leanWinograd ?? leanWinogradByDefault
        let recognizer = try Recognizer.load(configuration)
        for warning in recognizer.warnings { printError(warning) }
        return recognizer
    }
}
