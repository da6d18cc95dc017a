import Foundation

/// Progress on stderr. In a terminal, a bar redrawn in place and erased around every other line written meanwhile
/// (`around`), so it never mixes with results. In a log (stderr not a terminal), never a line per item: a line at
/// each tenth of jobs of at least `stepLinesFrom` items, and one at the end.
final class ProgressBar {
    private let total: Int
    private let title: String
    private let unit: String
    private let interactive: Bool
    private let stepLines: Bool
    private var lastDecile = 0
    private var done = 0
    private var drawn = false
    private let start = ContinuousClock.now

    /// Jobs smaller than this print no tenth-lines in a log: each would stand for only a few items.
    static let stepLinesFrom = 100

    /// `stepLines: false` for commands whose results are themselves the progress (classify's lines).
    init(total: Int, title: String, unit: String = "images", stepLines: Bool = true,
         interactive: Bool = isatty(STDERR_FILENO) != 0) {
        self.total = max(total, 1)
        self.title = title
        self.unit = unit
        self.interactive = interactive
        self.stepLines = stepLines && total >= Self.stepLinesFrom
    }

    /// Runs `body`, which writes lines (results on stdout, failures on stderr), with the bar out of the way.
    func around(_ body: () -> Void) {
        if drawn { erase() }
        body()
        fflush(nil)  // stdout: a result printed in `body` is on the screen before the bar comes back
        if drawn { draw() }
    }

    func update(_ done: Int) {
        self.done = done
        if interactive {
            draw()
        } else if stepLines {
            let decile = done * 10 / total
            if decile > lastDecile && done < total {
                lastDecile = decile
                printError(line())
            }
        }
    }

    /// Ends the bar: in a terminal its last state stays on its own line; in a log, one summary line.
    func finish() {
        if interactive {
            if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
            drawn = false
        } else {
            let seconds = Self.seconds(since: start)
            printError("\(title): \(counted(done, String(unit.dropLast()), plural: unit)) in \(String(format: "%.1f", seconds)) s, "
                       + "\(String(format: "%.1f", seconds > 0 ? Double(done) / seconds : 0)) \(unit)/s")
        }
    }

    func line() -> String {
        let fraction = min(Double(done) / Double(total), 1)
        let seconds = Self.seconds(since: start)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        return "\(title) [\(bar)] \(done)/\(total) \(String(format: "%.1f", rate)) \(unit)/s"
    }

    private func draw() {
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line()).utf8))
        drawn = true
    }

    private func erase() {
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
