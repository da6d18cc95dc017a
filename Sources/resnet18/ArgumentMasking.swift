#if canImport(Glibc)
import Glibc
#endif

/// Hides the passwords of URLs given as arguments (`--mqtt mqtt://user:password@host`) from other users' `ps`:
/// Linux shows a process's arguments from its own memory, so each password's bytes are overwritten there with
/// `*` once the arguments are parsed. (For the instants before that they are visible: RESNET18_MQTT and
/// RESNET18_DB keep them off the command line entirely.)
enum ArgumentMasking {
    static func maskURLPasswords() {
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let length = strlen(argument)
            let bytes = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(argument).assumingMemoryBound(to: UInt8.self),
                                                   count: length)
            for range in passwordRanges(in: Array(bytes)) {
                for position in range { bytes[position] = UInt8(ascii: "*") }
            }
        }
    }

    /// Where `scheme://user:PASSWORD@` puts its passwords in an argument, as byte offsets.
    static func passwordRanges(in bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var searchFrom = 0
        while let separator = find([UInt8]("://".utf8), in: bytes, from: searchFrom) {
            let authorityStart = separator + 3
            var end = authorityStart
            while end < bytes.count, !"/?#".utf8.contains(bytes[end]) { end += 1 }
            // The last @ of the authority ends the user information; its first : starts the password.
            if let at = bytes[authorityStart..<end].lastIndex(of: UInt8(ascii: "@")),
               let colon = bytes[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at {
                ranges.append((colon + 1)..<at)
            }
            searchFrom = max(end, authorityStart)
        }
        return ranges
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        for position in start...(bytes.count - needle.count) where Array(bytes[position..<(position + needle.count)]) == needle {
            return position
        }
        return nil
    }
}
