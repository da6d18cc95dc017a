import Foundation
import Imaging

/// Videos made from the fixture photos with ffmpeg, and a local "camera" serving one over HTTP.
///
/// A frame is a photo after `Resize(256)`, cropped to 256×256 in the middle: the preprocessing of such a frame
/// skips the resize and crops the same 224×224 as for the photo, so a frame classifies exactly as its photo
/// does in reference.json. Videos are lossless (FFV1, RGB planes), so the frames ffmpeg gives back are these.
public enum TestVideo {
    /// The 256×256 frame that stands for a fixture photo.
    public static func frame(for photo: String) throws -> RGBImage {
        let bytes = [UInt8](try Data(contentsOf: Fixtures.images.appendingPathComponent(photo)))
        let resized = Preprocess.resized(try ImageDecoder.decode(bytes))
        let side = 256
        // CenterCrop's offsets: int(round((size - 256) / 2.0)), Python rounding halves to even.
        let top = Int((Double(resized.height - side) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(resized.width - side) / 2).rounded(.toNearestOrEven))
        var pixels: [UInt8] = []
        pixels.reserveCapacity(side * side * 3)
        for y in top..<(top + side) {
            let row = (y * resized.width + left) * 3
            pixels += resized.pixels[row..<(row + side * 3)]
        }
        return RGBImage(width: side, height: side, pixels: pixels)
    }

    /// A binary PPM file of an image (what ffmpeg reads as a still).
    public static func writePPM(_ image: RGBImage, to url: URL) throws {
        try (Data("P6\n\(image.width) \(image.height)\n255\n".utf8) + Data(image.pixels)).write(to: url)
    }

    /// A lossless Matroska video at 10 frames per second: each photo's frame for its seconds, in order.
    public static func make(_ segments: [(photo: String, seconds: Double)], in folder: URL, name: String = "video.mkv") async throws -> URL {
        var list = ""
        for (position, segment) in segments.enumerated() {
            let still = folder.appendingPathComponent("still-\(position).ppm")
            try writePPM(try frame(for: segment.photo), to: still)
            list += "file '\(still.path)'\nduration \(segment.seconds)\n"
        }
        // The concat demuxer ignores the last entry's duration unless the file is listed once more.
        list += "file '\(folder.appendingPathComponent("still-\(segments.count - 1).ppm").path)'\n"
        let listFile = folder.appendingPathComponent("stills.txt")
        try list.write(to: listFile, atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent(name)
        let total = segments.map(\.seconds).reduce(0, +)
        try await FFmpeg.run(["-f", "concat", "-safe", "0", "-i", listFile.path, "-vf", "fps=10", "-t", String(total),
                        "-c:v", "ffv1", "-pix_fmt", "gbrp", output.path])
        return output
    }
}

/// ffmpeg as the tests run it.
public enum FFmpeg {
    /// Runs ffmpeg to completion; throws with its stderr when it fails.
    /// Runs ffmpeg to completion off the shared thread pool; throws with its stderr when it fails.
    public static func run(_ arguments: [String]) async throws {
        try await offThePool { try runBlocking(arguments) }
    }

    private static func runBlocking(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { usleep(10_000) }
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "ffmpeg", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: String(decoding: message, as: UTF8.self)])
        }
    }

    /// A TCP port free on loopback right now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A camera on loopback: ffmpeg serving a video over HTTP in real time (`-re`, `-listen 1`), one client at a
/// time, started again after each client (as a camera comes back) up to `sessions` times.
public final class TestCamera: @unchecked Sendable {
    public let url: String
    private let video: URL
    private let port: Int
    private let lock = NSLock()
    private var process: Process?
    private var stopped = false
    private var served = 0
    private let sessions: Int

    public init(video: URL, sessions: Int = 1) {
        self.video = video
        self.sessions = sessions
        port = FFmpeg.freePort()
        url = "http://127.0.0.1:\(port)/camera.mkv"
        Thread.detachNewThread { [self] in loop() }
    }

    /// Sessions started so far.
    public var sessionsStarted: Int {
        lock.lock(); defer { lock.unlock() }
        return served
    }

    /// Kills the serving ffmpeg now (the camera drops); it comes back for the next session, if any is left.
    public func killCurrent() {
        lock.lock(); defer { lock.unlock() }
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Stops serving for good.
    public func stop() {
        lock.lock()
        stopped = true
        let process = self.process
        lock.unlock()
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func loop() {
        while true {
            lock.lock()
            if stopped || served >= sessions { lock.unlock(); return }
            served += 1
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-i", video.path,
                                 "-c", "copy", "-f", "matroska", "-listen", "1", url]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            self.process = process
            do { try process.run() } catch { lock.unlock(); return }
            lock.unlock()
            while process.isRunning { usleep(20_000) }
        }
    }
}

/// The video of the tests that kill an ffmpeg mid-stream: two appearances of astronaut.png (its label is the rule's),
/// then a long tail of chelsea.png. The tail keeps the first session's ffmpeg alive well after the first alert, so the
/// kill still finds it on a slow, loaded machine (without it, a late first alert could come after that ffmpeg had
/// already read the whole video and exited, and the stream restart for another reason).
public enum KilledStreamVideo {
    public static let segments: [(photo: String, seconds: Double)] = [
        ("chelsea.png", 1), ("astronaut.png", 3), ("chelsea.png", 2), ("astronaut.png", 3), ("chelsea.png", 12),
    ]
}
