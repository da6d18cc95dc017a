import Foundation

/// A camera's name in topics and in Home Assistant: lower-case letters, digits, `_` and `-`.
public enum CameraName {
    /// Checks a `--name`.
    public static func validate(_ name: String) throws(MQTTError) {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy(allowed.contains) else {
            throw .badSetting("--name must be 1 to 64 of a-z, 0-9, _ and - (it is part of MQTT topics), got \"\(name.prefix(80))\"")
        }
    }

    /// The default name of a source: its host and path (a file's path), lower-cased, every other character a `-`:
    /// `rtsp://user:pw@Camera.local:554/stream1` → `camera-local-stream1`.
    public static func derived(from source: VideoSource) -> String {
        var text = source.location
        if source.kind == .url, let components = URLComponents(string: source.location) {
            text = (components.host ?? "") + components.path
        }
        var name = ""
        for character in text.lowercased() {
            let kept = allowed.contains(character) ? character : "-"
            if kept == "-" && (name.isEmpty || name.hasSuffix("-")) { continue }
            name.append(kept)
        }
        while name.hasSuffix("-") { name.removeLast() }
        name = String(name.suffix(64))
        while name.hasPrefix("-") { name.removeFirst() }
        return name.isEmpty ? "camera" : name
    }

    static let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-")
}
