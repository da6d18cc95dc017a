import Foundation

/// Where weights are looked for, in order: `--weights PATH`, `$RESNET18_WEIGHTS`, the official file in the user cache.
public struct WeightsLocation: Sendable {
    /// torchvision's ImageNet-1k ResNet-18 checkpoint.
    public static let officialURL = URL(string: "https://download.pytorch.org/models/resnet18-f37072fd.pth")!
    public static let officialFileName = "resnet18-f37072fd.pth"
    /// torchvision names its files by the first hex digits of their SHA-256 and checks them after download.
    public static let officialSHA256Prefix = "f37072fd"

    public let explicitPath: String?
    public let environment: [String: String]

    public init(explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.explicitPath = explicitPath
        self.environment = environment
    }

    /// `$XDG_CACHE_HOME/resnet18`, else `~/.cache/resnet18`.
    public var cacheDirectory: URL {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("resnet18")
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/resnet18")
    }

    public var cachedOfficialFile: URL { cacheDirectory.appendingPathComponent(Self.officialFileName) }

    /// The weights file to use and why, or nil when there is none anywhere (then the engine runs untrained).
    public func resolve() -> (url: URL, origin: String)? {
        if let path = explicitPath { return (URL(fileURLWithPath: path), "--weights") }
        if let path = environment["RESNET18_WEIGHTS"], !path.isEmpty { return (URL(fileURLWithPath: path), "RESNET18_WEIGHTS") }
        if FileManager.default.fileExists(atPath: cachedOfficialFile.path) { return (cachedOfficialFile, "user cache") }
        return nil
    }

    /// The warning printed whenever no weights file is found.
    public var untrainedWarning: String {
        "warning: no ResNet-18 weights found, running on untrained weights: the labels are meaningless. "
            + "Run `resnet18 weights fetch` (needs the network), or put \(Self.officialFileName) at \(cachedOfficialFile.path), "
            + "or pass --weights PATH / set RESNET18_WEIGHTS."
    }
}
