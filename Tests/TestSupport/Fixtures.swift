import Foundation

/// Locates `../shared` (fixtures, class list) beside the project root, or `$RESNET18_SHARED`.
public enum Fixtures {
    /// The project root, found from this file's path.
    public static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared folder: ground truth written by PyTorch, never edited by the project.
    public static let shared: URL = {
        if let path = ProcessInfo.processInfo.environment["RESNET18_SHARED"] {
            return URL(fileURLWithPath: path)
        }
        return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    public static let fixtures = shared.appendingPathComponent("fixtures")
    public static let images = fixtures.appendingPathComponent("images")
    public static let seededPth = fixtures.appendingPathComponent("resnet18-seeded.pth")
    public static let seededSafetensors = fixtures.appendingPathComponent("resnet18-seeded.safetensors")
    public static let stemLegacyPth = fixtures.appendingPathComponent("resnet18-stem-legacy.pth")
    public static let reference = fixtures.appendingPathComponent("reference.json")
    public static let classes = shared.appendingPathComponent("data/imagenet-classes.json")

    /// The fixture photos, by file name (`chelsea.png`, `rocket.jpg`, ...).
    public static let photoNames: [String] = [
        "astronaut.png", "chelsea.png", "chelsea-q90.jpg", "coffee.png", "motorcycle_left.png", "rocket.jpg",
    ]

    /// torchvision's preprocessed tensor for a photo: 3x224x224 float32, CHW.
    public static func inputTensor(for photo: String) throws -> [Float] {
        let stem = (photo as NSString).deletingPathExtension
        let data = try Data(contentsOf: images.appendingPathComponent("\(stem).input.f32"))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// PyTorch's 1000 logits for a photo, from reference.json.
    public static func referenceLogits(for photo: String) throws -> [Float] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: reference)) as! [String: Any]
        let refs = json["references"] as! [[String: Any]]
        guard let entry = refs.first(where: { ($0["image"] as? String) == photo }) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return (entry["logits"] as! [Double]).map(Float.init)
    }

    /// PyTorch's top-5 for a photo, from reference.json: class index and softmax probability, best first.
    public static func referenceTop5(for photo: String) throws -> [(index: Int, probability: Double)] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: reference)) as! [String: Any]
        let refs = json["references"] as! [[String: Any]]
        guard let entry = refs.first(where: { ($0["image"] as? String) == photo }) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return (entry["top5"] as! [[String: Any]]).map { ($0["index"] as! Int, $0["probability"] as! Double) }
    }

    /// PyTorch's 512 pooled features (`avgpool`, flattened) for a photo, from tests/reference/features.json (made by
    /// tests/reference/make_features.py).
    public static func referenceFeatures(for photo: String) throws -> [Float] {
        let file = projectRoot.appendingPathComponent("tests/reference/features.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        let refs = json["references"] as! [[String: Any]]
        guard let entry = refs.first(where: { ($0["image"] as? String) == photo }) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return (entry["features"] as! [Double]).map(Float.init)
    }

    /// A fresh temporary directory, removed by the caller when done.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
