import Crypto
import ResNet
import Foundation

/// A classifier of the user's own categories on the network's 512 pooled features: multinomial logistic
/// regression (one weight row and bias per category), trained by `HeadTrainer` and kept in a JSON file with the
/// backbone it was made for, the preprocessing, the training report and a checksum.
public struct LinearHead: Sendable, Equatable {
    public static let format = "resnet18-head"
    public static let version = 1
    public static let featureCount = 512
    /// What the features are made of, written into the file so that a reader knows.
    public static let preprocessing = "torchvision Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std); features: avgpool, flattened (512)"

    /// The head's name (the file's name without extension unless given): what answers and rules call it.
    public let name: String
    public let categories: [String]
    /// [categories][513]: each category's 512 weights, then its bias.
    public let parameters: [Double]
    /// The backbone weights the features came from: a head is meaningless on other weights.
    public let backbone: WeightsIdentity
    /// The regularisation it was trained with (scikit-learn's C).
    public let c: Double
    /// The training report, as JSON text (per-category precision and recall, confusion matrix, ...).
    public let reportJSON: String

    public init(name: String, categories: [String], parameters: [Double], backbone: WeightsIdentity, c: Double,
                reportJSON: String) {
        self.name = name
        self.categories = categories
        self.parameters = parameters
        self.backbone = backbone
        self.c = c
        self.reportJSON = reportJSON
    }

    /// Each category's probability for one image's features; empty when `features` are not 512 numbers.
    public func probabilities(features: [Float]) -> [Double] {
        guard features.count == Self.featureCount else { return [] }
        let row = features.map(Double.init)
        let stride = Self.featureCount + 1
        var logits = [Double](repeating: 0, count: categories.count)
        for category in categories.indices {
            var sum = parameters[category * stride + Self.featureCount]
            for feature in 0..<Self.featureCount { sum += parameters[category * stride + feature] * row[feature] }
            logits[category] = sum
        }
        let largest = logits.max() ?? 0
        let exponentials = logits.map { exp($0 - largest) }
        let total = exponentials.reduce(0, +)
        return exponentials.map { $0 / total }
    }

    /// Categories by probability, best first.
    public func top(features: [Float]) -> [(label: String, probability: Double)] {
        zip(categories, probabilities(features: features)).sorted { $0.1 > $1.1 }.map { ($0.0, $0.1) }
    }

    // MARK: The file

    /// The file's JSON object; `checksum` covers every other field.
    func fileObject() throws(HeadError) -> [String: Any] {
        var object: [String: Any] = [
            "format": Self.format, "version": Self.version, "name": name, "categories": categories,
            "backbone": ["weights": backbone.name, "sha256": backbone.sha256Prefix],
            "preprocessing": Self.preprocessing, "features": Self.featureCount, "c": c,
            "weights": stride(from: 0, to: parameters.count, by: Self.featureCount + 1).map {
                Array(parameters[$0..<($0 + Self.featureCount)])
            },
            "bias": stride(from: Self.featureCount, to: parameters.count, by: Self.featureCount + 1).map { parameters[$0] },
        ]
        guard let report = try? JSONSerialization.jsonObject(with: Data(reportJSON.utf8)) else {
            throw .invalid("the training report is not JSON")
        }
        object["report"] = report
        // Over the numbers as a reader gets them back from the JSON text (the text may not hold every bit).
        guard let text = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let reread = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any],
              let rows = reread["weights"] as? [[Double]], let bias = reread["bias"] as? [Double], let c = reread["c"] as? Double else {
            throw .invalid("the head could not be written as JSON")
        }
        var written: [Double] = []
        for (row, value) in zip(rows, bias) { written += row + [value] }
        object["checksum"] = Self.checksum(categories: categories, parameters: written, backbone: backbone, c: c)
        return object
    }

    /// Writes the head to `path` atomically (a temporary file beside it, then renamed): a crash leaves the old
    /// file or the new one, never half of one.
    public func write(to path: String) throws(HeadError) {
        let data: Data
        do {
            data = try encoded()
        } catch {
            throw .unwritable(path: path, reason: "\(error)")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).partial")
        do {
            try data.write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(path: path, reason: error.localizedDescription)
        }
        // rename(2) replaces an existing head in one step.
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(path: path, reason: reason)
        }
    }

    /// The head file's contents (JSON).
    public func encoded() throws -> Data {
        try JSONSerialization.data(withJSONObject: try fileObject(), options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Reads and checks a head file; with `backbone`, refuses a head made for other weights.
    public static func load(path: String, backbone: WeightsIdentity? = nil) throws(HeadError) -> LinearHead {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try decode(data, source: path, backbone: backbone)
    }

    /// Checks and reads a head file's contents; `source` names it in errors (a path, or where it was kept).
    public static func decode(_ data: Data, source path: String, backbone: WeightsIdentity? = nil) throws(HeadError) -> LinearHead {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw .corrupt(path: path, reason: "not a JSON object (truncated?)")
        }
        guard object["format"] as? String == format else {
            throw .corrupt(path: path, reason: "not a resnet18 head (\"format\" is not \"\(format)\"): make one with `resnet18 train`")
        }
        guard object["version"] as? Int == version else {
            throw .corrupt(path: path, reason: "version \(object["version"] ?? "?") is not one this build reads (\(version))")
        }
        guard let categories = object["categories"] as? [String], categories.count >= 2,
              let rows = object["weights"] as? [[Double]], let bias = object["bias"] as? [Double],
              rows.count == categories.count, bias.count == categories.count,
              rows.allSatisfy({ $0.count == featureCount }),
              let backboneObject = object["backbone"] as? [String: Any],
              let backboneName = backboneObject["weights"] as? String, let backboneSHA = backboneObject["sha256"] as? String,
              let c = object["c"] as? Double else {
            throw .corrupt(path: path, reason: "its categories, weights (\(featureCount) per category), bias, backbone or c are missing or malformed")
        }
        var parameters: [Double] = []
        for (row, value) in zip(rows, bias) { parameters += row + [value] }
        guard parameters.allSatisfy(\.isFinite) else { throw .corrupt(path: path, reason: "a weight is not a finite number") }
        let identity = WeightsIdentity(name: backboneName, sha256Prefix: backboneSHA, trained: true)
        guard object["checksum"] as? String == checksum(categories: categories, parameters: parameters, backbone: identity, c: c) else {
            throw .corrupt(path: path, reason: "its checksum does not match its contents (edited by hand, or damaged): train it again")
        }
        if let backbone, backbone.sha256Prefix != backboneSHA {
            throw .otherBackbone(path: path, madeFor: "\(backboneName) sha256:\(backboneSHA)", running: backbone.resultLabel)
        }
        let name = (object["name"] as? String) ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let report = (object["report"]).flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        return LinearHead(name: name, categories: categories, parameters: parameters, backbone: identity, c: c,
                          reportJSON: report.map { String(decoding: $0, as: UTF8.self) } ?? "{}")
    }

    /// SHA-256 over the categories, the backbone, c and every parameter's bits.
    static func checksum(categories: [String], parameters: [Double], backbone: WeightsIdentity, c: Double) -> String {
        var hasher = SHA256()
        hasher.update(data: Data((categories.joined(separator: "\u{1F}") + "\u{1E}" + backbone.sha256Prefix).utf8))
        for value in [c] + parameters {
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { hasher.update(bufferPointer: $0) }
        }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Whether a category name can be one: not empty, at most 100 characters, no `/` (rules say HEAD/CATEGORY) and
    /// no control characters. nil: it can; else why not.
    public static func problem(withCategory name: String) -> String? {
        if name.isEmpty { return "a category needs a name" }
        if name.count > 100 { return "category \"\(name.prefix(40))…\" is longer than 100 characters" }
        if name.contains("/") { return "category \"\(name)\" contains \"/\" (rules name HEAD/CATEGORY)" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "category \"\(name.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined())\" contains control characters"
        }
        return nil
    }
}

public enum HeadError: Error, CustomStringConvertible, Sendable, Equatable {
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case otherBackbone(path: String, madeFor: String, running: String)
    case unwritable(path: String, reason: String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "\(path): cannot be read (\(reason))"
        case let .corrupt(path, reason): "\(path): \(reason)"
        case let .otherBackbone(path, madeFor, running):
            "\(path) was trained on the features of \(madeFor), not of the weights running (\(running)): train it again on these weights"
        case let .unwritable(path, reason): "\(path): cannot be written (\(reason))"
        case let .invalid(message): message
        }
    }
}
