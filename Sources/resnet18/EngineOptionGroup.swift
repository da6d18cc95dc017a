import ArgumentParser
import Foundation
import Monitoring
import Recognition
import ResNet

extension Precision: ExpressibleByArgument {}

/// The weights and the threads: what every command that runs the network takes (all that `quantize` takes).
struct ModelOptions: ParsableArguments {
    @Option(help: "Weights file (.pth or .safetensors). Default: $RESNET18_WEIGHTS, then the official file in the user cache.")
    var weights: String?

    @Option(help: "Threads one engine call uses (default: all cores; serve shares them out among its --engine-calls).")
    var threads: Int?

    /// The most threads a call may ask for: Linux's CPU sets hold 1,024 CPUs.
    static let maxThreads = 1024

    func validate() throws {
        if let threads, !(1...Self.maxThreads).contains(threads) {
            throw ValidationError("--threads must be from 1 to \(Self.maxThreads), not \(threads)")
        }
    }
}

/// How the engine runs: what `bench` takes (its input is synthetic: no labels, no decoding).
struct ExecutionOptions: ParsableArguments {
    @OptionGroup var model: ModelOptions

    @Option(help: "Arithmetic: fp32, bf16 or int8.")
    var precision: Precision = .fp32

    @Option(help: "int8 calibration parameters (default: NAME.int8.json beside the weights, made by `resnet18 quantize`).")
    var quantization: String?

    @Flag(help: "Direct convolutions only (no Winograd; the fp32 stem keeps its own kernel unless --onednn-stem): slower runs, faster start.")
    var noWinograd = false

    @Flag(inversion: .prefixedNo,
          help: "Layer 4 without Winograd weights of its own at batches of 1 and 2 (the project's kernel, which transforms the plain weights as it runs, instead of oneDNN's 2x3): 50 MB less, a lone image about 0.5 ms slower (default: on for serve, off elsewhere).")
    var leanWinograd: Bool?

    @Flag(help: "oneDNN's stem convolution and max pooling instead of the project's one-pass kernel (to compare them).")
    var onednnStem = false

    var configuration: RecognizerConfiguration {
        var configuration = RecognizerConfiguration()
        configuration.weightsPath = model.weights
        configuration.threads = model.threads
        configuration.precision = precision
        configuration.winograd = !noWinograd
        configuration.ownStem = !onednnStem
        configuration.quantizationPath = quantization
        // Commands that take no --labels (bench) run any head; those that do set a label path or use ImageNet's.
        configuration.numberedLabelsForOtherHeads = true
        return configuration
    }

    /// Loads the recognizer and prints its warnings (untrained weights...) on stderr.
    /// `winograd: false` turns Winograd off for this run even when the flag allows it.
    /// `leanWinogradByDefault`: the command's default for `--lean-winograd` (serve's is on: memory under load).
    func loadRecognizer(_ base: RecognizerConfiguration? = nil, winograd: Bool = true,
                        leanWinogradByDefault: Bool = false) throws -> Recognizer {
        var configuration = base ?? self.configuration
        configuration.winograd = configuration.winograd && winograd
        configuration.leanWinograd = leanWinograd ?? leanWinogradByDefault
        let recognizer = try Recognizer.load(configuration)
        for warning in recognizer.warnings { printError(warning) }
        return recognizer
    }
}

/// The options every command that classifies real images takes: the engine's, and the labels and decoding.
struct EngineOptionGroup: ParsableArguments {
    @OptionGroup var execution: ExecutionOptions

    @Option(help: ArgumentHelp(
        "Label file for a custom classifier head.",
        discussion: "A JSON list of names, a JSON object keyed by index ({\"0\": \"tench\", ...} or PyTorch's imagenet_class_index.json), or one name a line."))
    var labels: String?

    @Flag(help: "Ignore EXIF orientation, as torchvision does.")
    var noExifOrientation = false

    @Option(help: "Refuse images with more pixels than this (decompression bombs).")
    var maxPixels = 40_000_000

    var weights: String? { execution.model.weights }
    var threads: Int? { execution.model.threads }

    /// The largest `--max-pixels`: a 2-gigapixel image is 6 GB of RGB before it is scaled down.
    static let largestMaxPixels = 2_000_000_000

    func validate() throws {
        guard (1...Self.largestMaxPixels).contains(maxPixels) else {
            throw ValidationError("--max-pixels must be between 1 and \(Self.largestMaxPixels), not \(maxPixels)")
        }
    }

    var configuration: RecognizerConfiguration {
        var configuration = execution.configuration
        configuration.labelsPath = labels
        configuration.numberedLabelsForOtherHeads = false
        configuration.applyEXIFOrientation = !noExifOrientation
        configuration.maxPixels = maxPixels
        return configuration
    }

    /// Loads the recognizer and prints its warnings (see `ExecutionOptions.loadRecognizer`).
    func loadRecognizer(winograd: Bool = true, leanWinogradByDefault: Bool = false) throws -> Recognizer {
        try execution.loadRecognizer(configuration, winograd: winograd, leanWinogradByDefault: leanWinogradByDefault)
    }
}

/// `--head FILE` (repeatable): heads trained with `resnet18 train` on the user's own categories.
struct HeadOptions: ParsableArguments {
    @Option(name: .customLong("head"), help: ArgumentHelp(
        "A head made by `resnet18 train`: its categories' probabilities beside the ImageNet top-k (repeatable).", valueName: "file"))
    var paths: [String] = []

    /// The heads, checked against the weights running (a head made for other weights is refused, saying so).
    func load(for recognizer: Recognizer) throws -> [LinearHead] {
        var heads: [LinearHead] = []
        for path in paths {
            do { heads.append(try LinearHead.load(path: path, backbone: recognizer.weights)) } catch {
                throw CommandFailure("--head \(error.description)")
            }
        }
        if let duplicate = Dictionary(grouping: heads, by: { $0.name }).first(where: { $0.value.count > 1 })?.key {
            throw CommandFailure("--head: two heads are called \(duplicate): give each a name of its own (resnet18 train --name)")
        }
        return heads
    }
}

/// `--mqtt` and its companions, as `serve` and `watch` take them.
struct MQTTOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Publish alerts, state and availability of each camera to this MQTT broker (QoS 1; queued while it is away). Also RESNET18_MQTT.",
        valueName: "mqtt[s]://[user:password@]host[:port]"))
    var mqtt: String?

    @Option(name: .customLong("mqtt-prefix"), help: "First level of the MQTT topics: PREFIX/CAMERA/alert, PREFIX/CAMERA/state (CAMERA: the stream's or --name's name).")
    var mqttPrefix = "resnet18"

    @Option(name: .customLong("mqtt-ca"), help: ArgumentHelp("PEM certificates to trust for an mqtts:// broker besides the system's (its own CA).", valueName: "file"))
    var mqttCertificateAuthority: String?

    @Flag(name: .customLong("mqtt-discovery"), help: "Also publish a Home Assistant discovery message per camera (its last alert as a sensor).")
    var mqttDiscovery = false

    /// `--mqtt`, else RESNET18_MQTT (which keeps a password off the command line), checked with the prefix; nil
    /// when neither is given.
    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MQTTSettings? {
        guard let url = mqtt ?? environment["RESNET18_MQTT"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        do {
            return try MQTTSettings(url: url, prefix: mqttPrefix, discovery: mqttDiscovery, certificateAuthorityFile: mqttCertificateAuthority)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
