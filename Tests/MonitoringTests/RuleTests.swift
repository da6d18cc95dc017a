import Imaging
@testable import Monitoring
import Recognition
import Testing

@Suite struct RuleTests {
    /// A rule without cooldown or settle time unless asked: an edge detector alone.
    func rule(_ k: Int, _ n: Int, threshold: Double = 0.5, classes: Set<Int> = [1], cooldown: Double = 0, settle: Double = 0) throws -> AlertRule {
        try AlertRule(classes: classes, names: ["x"], threshold: threshold, k: k, n: n, cooldownSeconds: cooldown, settleSeconds: settle)
    }

    /// Feeds frames one second apart (class 1 at each probability), from `start`; which ones alerted (`A`), were
    /// suppressed (`s`) or neither (`.`).
    func run(_ window: inout RuleWindow, _ probabilities: [Double], start: Double = 0) -> String {
        var marks = ""
        for (offset, p) in probabilities.enumerated() {
            switch window.observe(probabilities: frame(p), atSeconds: start + Double(offset)) {
            case .fire?: marks += "A"
            case .suppressed?: marks += "s"
            case nil: marks += "."
            }
        }
        return marks
    }

    /// Probabilities with class 1 at `p` (three classes).
    func frame(_ p: Double) -> [Double] { [1 - p, p, 0] }

    @Test("an alert fires once when k of the last n frames reach the threshold, not again while it holds")
    func risingEdgeOnly() throws {
        var window = RuleWindow(rule: try rule(2, 3))
        let fired = run(&window, [0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.8, 0.7])
        // Frame 3 makes 2 of 3; it holds through frame 7 (0.9, 0.9, 0.1) and stops at frame 8; frame 11 fires again.
        #expect(fired == "..A.......A")
    }

    @Test("the alert names the rule's class with the highest probability in the frame")
    func bestClassOfTheSet() throws {
        var window = RuleWindow(rule: try rule(1, 1, threshold: 0.3, classes: [0, 2]))
        guard case let .fire(alert)? = window.observe(probabilities: [0.35, 0.2, 0.45], atSeconds: 0) else {
            Issue.record("no alert")
            return
        }
        #expect(alert.index == 2)
        #expect(alert.probability == 0.45)
    }

    @Test("a restart forgets the frames but does not re-arm the rule: the same sight after a reconnect does not alert again")
    func resetDoesNotRearm() throws {
        var window = RuleWindow(rule: try rule(1, 2))
        #expect(run(&window, [0.9, 0.9]) == "A.")
        window.reset()
        // The first frame after the restart cannot tell that the condition stopped (1 frame of 2), so the label in
        // the next one is no new edge (a reset that re-armed would alert here).
        #expect(run(&window, [0.1, 0.9], start: 10) == "..")
        window.reset()
        // A full window without the label, then the label: a new edge.
        #expect(run(&window, [0.1, 0.1, 0.9], start: 20) == "..A")
    }

    @Test("after an alert, a new edge alerts only once the condition stopped holding for the settle time")
    func settleTime() throws {
        var window = RuleWindow(rule: try rule(1, 1, settle: 3))
        // Away for 2 s (frames 1-2: seen clear at 1 and 2, 1 s apart): not settled, the return is no new edge.
        #expect(run(&window, [0.9, 0.1, 0.1, 0.9, 0.9]) == "A....")
        // Away for 4 s: settled, the return alerts.
        #expect(run(&window, [0.1, 0.1, 0.1, 0.1, 0.9], start: 5) == "....A")
    }

    @Test("a settled edge within the cooldown of the last alert is suppressed and counted; after the cooldown one alerts again")
    func cooldownSuppresses() throws {
        var window = RuleWindow(rule: try rule(1, 1, cooldown: 10, settle: 1))
        // Alert at 0; edges at 3 and 6 come within 10 s: suppressed; the edge at 11 alerts.
        let marks = run(&window, [0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9])
        #expect(marks == "A..s..s....A.")
    }

    @Test("a rule carried on from an alert before a service restart: the sight still there does not alert; gone and back within the cooldown is suppressed; after it, one alert")
    func carriedOnAfterRestart() throws {
        // It alerted at 100; the service restarts and the rule starts at 103 with the label still in view.
        var still = RuleWindow(rule: try rule(1, 1, cooldown: 10, settle: 1), lastAlertSeconds: 100)
        #expect(run(&still, [0.9, 0.9, 0.1, 0.1, 0.9], start: 103) == "....s")
        #expect(run(&still, [0.1, 0.1, 0.9], start: 111) == "..A")
        // Without the carried-on alert the same frames alert at once: what a restart did before.
        var fresh = RuleWindow(rule: try rule(1, 1, cooldown: 10, settle: 1))
        #expect(run(&fresh, [0.9, 0.9], start: 103) == "A.")
    }

    @Test("defaults: cooldown 60 s, settle 10 s; out-of-range values are refused")
    func cooldownDefaults() throws {
        let rule = try AlertRule(classes: [1], names: ["x"], threshold: 0.5, k: 1, n: 1)
        #expect(rule.cooldownSeconds == 60 && rule.settleSeconds == 10)
        #expect(throws: MonitoringError.self) { try self.rule(1, 1, cooldown: -1) }
        #expect(throws: MonitoringError.self) { try self.rule(1, 1, settle: .infinity) }
        #expect(throws: MonitoringError.self) { try self.rule(1, 1, cooldown: 90_000) }
    }

    @Test("labels resolve from torchvision's names (any case), indices and WordNet ids")
    func labelsResolve() throws {
        let labels = Labels.imageNet
        #expect(try AlertRule.resolve("tabby", in: labels) == [281])
        #expect(try AlertRule.resolve("Tabby", in: labels) == [281])
        #expect(try AlertRule.resolve("281", in: labels) == [281])
        #expect(try AlertRule.resolve("n02123045", in: labels) == [281])
        #expect(try AlertRule.resolve("crane", in: labels) == [517])
        #expect(try AlertRule.resolve("Crane Bird", in: labels) == [134])
        #expect(try AlertRule.resolve("Crane Bird", in: labels) == [134])
        #expect(throws: MonitoringError.self) { try AlertRule.resolve("1000", in: labels) }
        let refusal = Result { () throws(MonitoringError) in try AlertRule.resolve("retriev", in: labels) }
        guard case let .failure(error) = refusal else {
            Issue.record("a partial name resolved")
            return
        }
        #expect(error.description.contains("\"golden retriever\""), "\(error)")
    }

    @Test("bad thresholds and windows are refused with the form to use")
    func badRulesRefused() throws {
        #expect(throws: MonitoringError.self) { try rule(1, 1, threshold: 0) }
        #expect(throws: MonitoringError.self) { try rule(1, 1, threshold: 1.5) }
        #expect(throws: MonitoringError.self) { try rule(3, 2) }
        #expect(throws: MonitoringError.self) { try AlertRule.parseWindow("2 of 3") }
        #expect(try AlertRule.parseWindow("2/3") == (2, 3))
    }
}

@Suite struct PPMStreamParserTests {
    @Test("frames split across reads and carrying their own sizes are reassembled")
    func framesAcrossReads() throws {
        let first = RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        let second = RGBImage(width: 1, height: 2, pixels: [7, 8, 9, 10, 11, 12])
        let bytes = Array("P6\n2 1\n255\n".utf8) + first.pixels + Array("P6 # comment\n1 2 255\n".utf8) + second.pixels
        var parser = PPMStreamParser(maxPixels: 100)
        var frames: [RGBImage] = []
        for byte in bytes {
            frames += try [byte].withUnsafeBytes { try parser.append($0) }
        }
        #expect(frames == [first, second])
        #expect(parser.pendingBytes == 0)
    }

    @Test("a frame over the pixel limit or not in PPM is refused")
    func refusesBadFrames() throws {
        var parser = PPMStreamParser(maxPixels: 100)
        #expect(throws: MonitoringError.self) { try Array("P6\n100 100\n255\n".utf8).withUnsafeBytes { try parser.append($0) } }
        var other = PPMStreamParser(maxPixels: 100)
        #expect(throws: MonitoringError.self) { try Array("\u{89}PNG....".utf8).withUnsafeBytes { try other.append($0) } }
    }
}

@Suite struct VideoSourceTests {
    @Test("sources are URLs of known schemes, existing files or /dev/videoN; the service refuses files")
    func sourcesChecked() throws {
        #expect(try VideoSource("rtsp://camera.local:554/stream").kind == .url)
        #expect(try VideoSource("http://127.0.0.1:8000/x.mkv").isLive)
        #expect(throws: MonitoringError.self) { try VideoSource("file:///etc/passwd") }
        #expect(throws: MonitoringError.self) { try VideoSource("http://") }
        #expect(throws: MonitoringError.self) { try VideoSource("/no/such/video.mkv") }
        #expect(throws: MonitoringError.self) { try VideoSource("/dev/sda") }
        #expect(try VideoSource("/etc/hostname").kind == .file)
        #expect(throws: MonitoringError.self) { try VideoSource("/etc/hostname", allowFiles: false) }
    }
}
