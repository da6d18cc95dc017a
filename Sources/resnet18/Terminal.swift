import Foundation

/// A line on stderr.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// A progress bar on stderr, redrawn in place when stderr is a terminal and every 10 % otherwise.
final class ProgressBar {
    private let total: Int
    private let title: String
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastDecile = -1
    private let start = ContinuousClock.now

    init(total: Int, title: String) {
        self.total = max(total, 1)
        self.title = title
    }

    func update(_ done: Int) {
        let fraction = Double(done) / Double(total)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\(title) [\(bar)] \(done)/\(total) \(String(format: "%.1f", rate))/s"
        if interactive {
            FileHandle.standardError.write(Data(("\r" + line + (done == total ? "\n" : "")).utf8))
        } else {
            let decile = Int(fraction * 10)
            if decile != lastDecile || done == total {
                lastDecile = decile
                printError(line)
            }
        }
    }
}

/// Megabytes of resident memory of this process, from /proc.
func residentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first
        return kilobytes.map { $0 / 1024 }
    }
    return nil
}
