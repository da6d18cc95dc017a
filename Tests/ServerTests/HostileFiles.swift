import Foundation
import TestSupport

/// The hostile and unusual uploads of the bad-input suites: the small files committed in tests/hostile, files cut
/// or damaged from the fixtures, headers patched to absurd sizes, and the decompression bombs made at test time.
enum HostileFiles {
    static let folder = Fixtures.projectRoot.appendingPathComponent("tests/hostile")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// A WebP photo.
    static func webp() throws -> [UInt8] { try bytes("photo.webp") }

    /// The first `fraction` of the file.
    static func truncated(_ bytes: [UInt8], fraction: Double = 0.5) -> [UInt8] {
        Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
    }

    /// `count` bytes from `offset` overwritten with `value`.
    static func damaged(_ bytes: [UInt8], at offset: Int, count: Int, with value: UInt8 = 0xFF) -> [UInt8] {
        var copy = bytes
        for index in offset..<min(offset + count, copy.count) { copy[index] = value }
        return copy
    }

    /// A real JPEG whose frame header (SOF) says `width`×`height`.
    static func jpegClaiming(width: UInt16, height: UInt16, from jpeg: [UInt8]) -> [UInt8] {
        var copy = jpeg
        var offset = 2
        while offset + 9 < copy.count, copy[offset] == 0xFF {
            let marker = copy[offset + 1]
            let length = Int(copy[offset + 2]) << 8 | Int(copy[offset + 3])
            if (0xC0...0xC2).contains(marker) {
                copy[offset + 5] = UInt8(height >> 8); copy[offset + 6] = UInt8(height & 0xFF)
                copy[offset + 7] = UInt8(width >> 8); copy[offset + 8] = UInt8(width & 0xFF)
                return copy
            }
            offset += 2 + length
        }
        return copy
    }

    /// A lossless WebP header (VP8L) claiming 16384×16384, the format's largest, and nothing after it.
    static func webpClaimingLargest() -> [UInt8] {
        let size: UInt32 = (16383) | (16383 << 14)  // width-1, height-1 in 14 bits each; no alpha, version 0
        var vp8l: [UInt8] = [0x2F] + le32(size) + [UInt8](repeating: 0, count: 16)
        if vp8l.count % 2 == 1 { vp8l.append(0) }
        let chunk = Array("VP8L".utf8) + le32(UInt32(vp8l.count)) + vp8l
        return Array("RIFF".utf8) + le32(UInt32(4 + chunk.count)) + Array("WEBP".utf8) + chunk
    }

    /// A real JPEG with `segments` APP1 segments of 65,533 payload bytes each after SOI: the first an EXIF
    /// block whose IFD claims 65,535 entries, the rest filler. Decoders must skip them, EXIF parsing must not
    /// run away on the claims.
    static func jpegWithHugeEXIF(segments: Int, from jpeg: [UInt8]) -> [UInt8] {
        let payloadBytes = 65_533
        var exif = Array("Exif\0\0".utf8) + Array("II*\0".utf8) + [8, 0, 0, 0] + [0xFF, 0xFF]
        // Orientation entries with absurd counts and offsets, over and over.
        while exif.count + 12 <= payloadBytes {
            exif += [0x12, 0x01, 0x03, 0x00] + [0xFF, 0xFF, 0xFF, 0x7F] + [0xF0, 0xFF, 0xFF, 0xFF]
        }
        exif += [UInt8](repeating: 0xAB, count: payloadBytes - exif.count)
        var out: [UInt8] = [0xFF, 0xD8]
        for index in 0..<segments {
            let payload = index == 0 ? exif : [UInt8](repeating: UInt8(index & 0xFF), count: payloadBytes)
            out += [0xFF, 0xE1, UInt8((payloadBytes + 2) >> 8), UInt8((payloadBytes + 2) & 0xFF)] + payload
        }
        return out + jpeg.dropFirst(2)
    }

    /// The decompression bombs of tests/hostile/make_files.py, made once per test process (a second or two of
    /// CPU; 1 MB each): `bomb-65535.png` and `bomb-overlong.png`.
    static let bombs: Result<URL, any Error> = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("resnet18-bombs-\(getpid())")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", HostileFiles.folder.appendingPathComponent("make_files.py").path, "--bombs", folder.path]
        do {
            try process.run()
            while process.isRunning { usleep(20_000) }
            guard process.terminationStatus == 0 else {
                return .failure(CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "make_files.py --bombs failed"]))
            }
            return .success(folder)
        } catch {
            return .failure(error)
        }
    }()

    static func bomb(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try bombs.get().appendingPathComponent(name)))
    }

    private static func le32(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
    }
}

/// Names of entries in the working directory and the temporary directory, to show an upload wrote nothing.
struct DirectorySnapshot {
    let names: Set<String>

    init() {
        let manager = FileManager.default
        let folders = [manager.currentDirectoryPath, NSTemporaryDirectory(), "/tmp"]
        names = Set(folders.flatMap { (try? manager.contentsOfDirectory(atPath: $0)) ?? [] })
    }

    /// Entries that appeared since `earlier` whose name contains `token`.
    func new(since earlier: DirectorySnapshot, containing token: String) -> [String] {
        names.subtracting(earlier.names).filter { $0.contains(token) }.sorted()
    }
}
