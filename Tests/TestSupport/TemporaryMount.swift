import Foundation

/// A small tmpfs mounted for a test (root only): a disk that can be filled, or remounted read-only.
public final class TemporaryMount: @unchecked Sendable {
    public let directory: URL

    /// Mounts a tmpfs of `kilobytes` in a fresh directory; throws (with mount's message) where mounting is not allowed.
    public init(kilobytes: Int) throws {
        directory = try Fixtures.temporaryDirectory()
        do {
            try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", directory.path])
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Remounts read-only or read-write.
    public func remount(readOnly: Bool) throws {
        try Self.run("/bin/mount", ["-o", "remount,\(readOnly ? "ro" : "rw")", directory.path])
    }

    /// Fills the disk with a file (`filler`) until no space is left.
    public func fill() {
        let filler = directory.appendingPathComponent("filler")
        guard FileManager.default.createFile(atPath: filler.path, contents: nil),
              let handle = try? FileHandle(forWritingTo: filler) else { return }
        defer { try? handle.close() }
        let chunk = Data(count: 4096)
        while (try? handle.write(contentsOf: chunk)) != nil {}
    }

    /// Gives the space taken by `fill` back.
    public func makeRoom() {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("filler"))
    }

    public func unmount() {
        try? Self.run("/bin/umount", ["-l", directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { unmount() }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MountError(message: "\(tool) \(arguments.joined(separator: " ")): " + String(decoding: message, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

public struct MountError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Another process holding SQLite's write lock on a database file (the `sqlite3` shell in `BEGIN IMMEDIATE`).
public final class SQLiteLockHolder: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()

    public init(path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("BEGIN IMMEDIATE;\nINSERT INTO schema_migrations (id, applied_at_ms) VALUES ('lock holder', 0);\n".utf8))
        // Until the shell has taken the lock, nothing proves it; a row in its transaction is enough (it writes).
        Thread.sleep(forTimeInterval: 0.5)
    }

    /// Rolls back and ends the shell: the lock is gone.
    public func release() {
        input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
