import Checkpoint
import Crypto
import Foundation
import Imaging
import ResNet

/// How a recognizer is built: one struct fed by flags and environment variables.
public struct RecognizerConfiguration: Sendable {
    public var weightsPath: String?
    public var labelsPath: String?
    public var threads: Int?
    /// Engine calls that can run at once (see `EngineOptions.calls`).
    public var calls = 1
    public var precision: Precision = .fp32
    public var winograd = true
    /// No Winograd weights of their own for batches of 1 and 2: see `EngineOptions.leanWinograd`.
    public var leanWinograd = false
    /// The stem on the project's kernel where the CPU has one: see `EngineOptions.ownStem`.
    public var ownStem = true
    /// int8 calibration parameters; default: `NAME.int8.json` beside the weights file.
    public var quantizationPath: String?
    public var applyEXIFOrientation = true
    public var maxPixels = 40_000_000
    /// Without a label file, a head of other than ImageNet's classes gets numbered names instead of being refused
    /// (for `bench`, whose results name no class).
    public var numberedLabelsForOtherHeads = false
    public var environment: [String: String] = ProcessInfo.processInfo.environment

    public init() {}
}

/// Image bytes in, top classes out: decoding, torchvision preprocessing, the engine, softmax and top-k.
public final class Recognizer: Sendable {
    public let engine: ResNet18Engine
    public let labels: Labels
    public let weights: WeightsIdentity
    /// Where the weights were found (`--weights`, `RESNET18_WEIGHTS`, `user cache`, or `none`).
    public let weightsOrigin: String
    /// Said once at start-up (untrained weights, custom labels...).
    public let warnings: [String]
    public let decodeOptions: DecodeOptions

    public init(engine: ResNet18Engine, labels: Labels, weightsOrigin: String, warnings: [String], decodeOptions: DecodeOptions) {
        self.engine = engine
        self.labels = labels
        self.weights = engine.identity
        self.weightsOrigin = weightsOrigin
        self.warnings = warnings
        self.decodeOptions = decodeOptions
    }

    /// Finds the weights (flag, environment, cache, else untrained), loads labels, builds the engine.
    public static func load(_ configuration: RecognizerConfiguration) throws(RecognitionError) -> Recognizer {
        let location = WeightsLocation(explicitPath: configuration.weightsPath, environment: configuration.environment)
        var warnings: [String] = []
        var labels: Labels
        if let path = configuration.labelsPath {
            labels = try Labels(contentsOf: URL(fileURLWithPath: path))
        } else {
            labels = .imageNet
        }
        let weights: ResNet18Weights
        let origin: String
        if let (url, found) = location.resolve() {
            weights = try loadWeights(url)
            origin = found
            if !weights.identity.official {
                warnings.append("note: \(url.lastPathComponent) is not torchvision's official ImageNet checkpoint (\(WeightsLocation.officialFileName)); its labels are only as good as its training.")
            }
        } else {
            weights = .untrained(classCount: labels.count)
            origin = "none"
            warnings.append(location.untrainedWarning)
        }
        if weights.classCount != labels.count, configuration.labelsPath == nil, configuration.numberedLabelsForOtherHeads {
            labels = Labels(classes: (0..<weights.classCount).map { ClassLabel(index: $0, wnid: nil, name: "class \($0)") },
                            source: "numbered (no label file)")
        }
        guard weights.classCount == labels.count else {
            throw .engine(.classCountMismatch(file: weights.identity.name, classes: weights.classCount, labels: labels.count))
        }
        var quantization: QuantizationParameters?
        if configuration.precision == .int8 {
            quantization = try quantizationParameters(configuration, weights: weights, weightsURL: location.resolve()?.url,
                                                      warnings: &warnings)
        }
        let engine: ResNet18Engine
        do {
            engine = try ResNet18Engine(weights: weights, options: EngineOptions(
                threads: configuration.threads, calls: configuration.calls, precision: configuration.precision,
                winograd: configuration.winograd, leanWinograd: configuration.leanWinograd, quantization: quantization,
                ownStem: configuration.ownStem))
        } catch {
            throw .engine(error)
        }
        let decode = DecodeOptions(applyEXIFOrientation: configuration.applyEXIFOrientation, maxPixels: configuration.maxPixels)
        return Recognizer(engine: engine, labels: labels, weightsOrigin: origin, warnings: warnings, decodeOptions: decode)
    }

    /// The int8 parameters for these weights: `--quantization`, else the file beside the weights; for the
    /// untrained weights (no file to keep them beside) they are measured now on the built-in photos.
    static func quantizationParameters(_ configuration: RecognizerConfiguration, weights: ResNet18Weights, weightsURL: URL?,
                                       warnings: inout [String]) throws(RecognitionError) -> QuantizationParameters {
        let file = configuration.quantizationPath.map { URL(fileURLWithPath: $0) }
            ?? weightsURL.map { QuantizationParameters.url(besideWeights: $0) }
        guard let file else {
            warnings.append("note: int8 on untrained weights: calibrated now on the \(CalibrationPhotos.jpegBase64.count) built-in photos")
            return try calibrate(weights: weights, images: builtInCalibrationImages(), threads: configuration.threads)
        }
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw .quantization("int8 needs calibration parameters and \(file.path) does not exist: run "
                                + "`resnet18 quantize\(weightsURL.map { " --weights \($0.path)" } ?? "")` "
                                + "(add --calibration DIR to use your own photos), or use --precision fp32 or bf16")
        }
        do {
            return try QuantizationParameters.load(from: file, expectedWeights: weights.identity)
        } catch {
            throw .engine(error)
        }
    }

    /// The built-in calibration photos, decoded and preprocessed as any upload.
    public static func builtInCalibrationImages() throws(RecognitionError) -> [[Float]] {
        var images: [[Float]] = []
        for (name, base64) in CalibrationPhotos.jpegBase64 {
            guard let data = Data(base64Encoded: base64) else { throw .unreadable(path: name, problem: "bad built-in photo") }
            images.append(try tensor([UInt8](data)))
        }
        return images
    }

    /// Decodes and preprocesses image bytes without an engine (calibration photos).
    public static func tensor(_ bytes: [UInt8], options: DecodeOptions = .init()) throws(RecognitionError) -> [Float] {
        do {
            return Preprocess.tensor(from: try ImageDecoder.decode(bytes, options: options))
        } catch {
            throw .image(error)
        }
    }

    /// Measures each activation's range over `images` (preprocessed tensors) with the fp32 network.
    public static func calibrate(weights: ResNet18Weights, images: [[Float]], threads: Int?) throws(RecognitionError) -> QuantizationParameters {
        do {
            return try QuantizationParameters.calibrate(weights: weights, images: images, threads: threads)
        } catch {
            throw .engine(error)
        }
    }

    /// Reads, hashes and checks a weights file (any format `Checkpoint` reads).
    public static func loadWeights(_ url: URL) throws(RecognitionError) -> ResNet18Weights {
        // Hashed in chunks, so that no second copy of the file is held while Checkpoint reads it.
        let digest: String
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
            }
            digest = hasher.finalize().prefix(4).map { String(format: "%02x", $0) }.joined()
        } catch {
            throw .weights(path: url.path, problem: "cannot be read (\(error.localizedDescription)); check the path given with --weights or RESNET18_WEIGHTS")
        }
        let stateDict: StateDict
        do {
            stateDict = try StateDict(contentsOf: url)
        } catch {
            throw .weights(path: url.path, problem: "\(error)")
        }
        do {
            return try ResNet18Weights(stateDict: stateDict, file: url.lastPathComponent,
                                       identity: WeightsIdentity(name: url.lastPathComponent, sha256Prefix: digest, trained: true))
        } catch {
            throw .weights(path: url.path, problem: error.description)
        }
    }

    /// Decodes and preprocesses one image.
    public func prepare(_ bytes: [UInt8]) throws(RecognitionError) -> PreparedImage {
        let start = ContinuousClock.now
        let image: RGBImage
        do {
            image = try ImageDecoder.decode(bytes, options: decodeOptions)
        } catch {
            throw .image(error)
        }
        let decoded = ContinuousClock.now
        let crop = Preprocess.crop(image)
        let done = ContinuousClock.now
        return PreparedImage(crop: crop, width: image.width, height: image.height,
                             decodeMilliseconds: (decoded - start).milliseconds,
                             preprocessMilliseconds: (done - decoded).milliseconds)
    }

    /// Preprocesses pixels that are already decoded (a video frame), exactly as a decoded photo.
    public func prepare(_ image: RGBImage) -> PreparedImage {
        let start = ContinuousClock.now
        let crop = Preprocess.crop(image)
        return PreparedImage(crop: crop, width: image.width, height: image.height, decodeMilliseconds: 0,
                             preprocessMilliseconds: (ContinuousClock.now - start).milliseconds)
    }

    /// Runs prepared images through the engine in one call and returns each one's top-k.
    /// With `includeFeatures`, each answer carries its 512 pooled features (`embed`).
    /// `lane`: the engine's lane to run on, `wide`: on all lanes' threads (see `ResNet18Engine`).
    public func classify(_ images: [PreparedImage], topK: Int, includeLogits: Bool = false,
                         includeFeatures: Bool = false, lane: Int = 0, wide: Bool = false) throws(RecognitionError) -> [Classification] {
        guard !images.isEmpty else { return [] }
        let batch = images.count
        var logits = [Float](repeating: 0, count: batch * engine.classCount)
        let featureCount = ResNet18Engine.featureCount
        var features = [Float](repeating: 0, count: includeFeatures ? batch * featureCount : 0)
        let start = ContinuousClock.now
        do {
            // Images are normalised straight into the engine's own input buffer as it reaches them (the inference
            // time includes that, about 0.1 ms an image): no batch-sized copy anywhere.
            try logits.withUnsafeMutableBufferPointer { (output) throws(ResNetError) in
                try features.withUnsafeMutableBufferPointer { (featureOutput) throws(ResNetError) in
                    try engine.logits(batch: batch, into: output, features: includeFeatures ? featureOutput : nil, lane: lane, wide: wide) { slots, input in
                        let count = ResNet18Engine.inputCount
                        for (index, slot) in slots.enumerated() {
                            images[slot].write(into: UnsafeMutableBufferPointer(rebasing: input[(index * count)..<((index + 1) * count)]))
                        }
                    }
                }
            }
        } catch {
            throw .engine(error)
        }
        let inference = (ContinuousClock.now - start).milliseconds
        let classes = engine.classCount
        return images.enumerated().map { slot, image in
            logits.withUnsafeBufferPointer { all in
                let mine = UnsafeBufferPointer(rebasing: all[(slot * classes)..<((slot + 1) * classes)])
                let timings = Timings(decode: image.decodeMilliseconds, preprocess: image.preprocessMilliseconds,
                                      inference: inference,
                                      total: image.decodeMilliseconds + image.preprocessMilliseconds + inference)
                return Classification(top: topPredictions(logits: mine, labels: labels, k: topK),
                                      logits: includeLogits ? Array(mine) : nil,
                                      weights: weights, timings: timings, batchSize: batch,
                                      features: includeFeatures ? Array(features[(slot * featureCount)..<((slot + 1) * featureCount)]) : nil)
            }
        }
    }

    /// Decode, preprocess and classify one image.
    public func classify(_ bytes: [UInt8], topK: Int = 5, includeLogits: Bool = false) throws(RecognitionError) -> Classification {
        let prepared = try prepare(bytes)
        return try classify([prepared], topK: topK, includeLogits: includeLogits)[0]
    }
}

extension Duration {
    /// This duration in (fractional) milliseconds.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
