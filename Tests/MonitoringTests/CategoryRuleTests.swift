import Foundation
import Imaging
@testable import Monitoring
import Recognition
import Testing
import TestSupport

/// Rules on WordNet categories: a label's probability is the sum over its classes.
@Suite struct CategoryRuleTests {
    let labels = Labels.imageNet
    let breeds = Array(151...268)

    /// A frame where every dog breed has `perBreed` and the rest of the probability is spread over the other classes.
    func frame(perBreed: Double) -> [Double] {
        let rest = (1 - perBreed * Double(breeds.count)) / Double(1000 - breeds.count)
        return (0..<1000).map { breeds.contains($0) ? perBreed : rest }
    }

    @Test("a rule on \"dog\" holds on a frame whose breeds sum past the threshold while no single breed reaches it")
    func dogRuleSumsBreeds() throws {
        let probabilities = frame(perBreed: 0.005)  // 118 × 0.005 = 0.59
        var dog = RuleWindow(rule: try AlertRule(labels: ["dog"], in: labels, threshold: 0.5, window: "1/1"))
        let observed = dog.observe(probabilities: probabilities)
        let hit = try #require(observed)
        #expect(hit.group.wnid == "n02084071" && hit.group.kind == .category)
        #expect(abs(hit.probability - 0.59) < 1e-9)
        #expect(breeds.contains(hit.index))
        // The same frame against every breed as a label of its own: none reaches 0.5.
        var anyBreed = RuleWindow(rule: try AlertRule(labels: breeds.map(String.init), in: labels, threshold: 0.5, window: "1/1"))
        #expect(anyBreed.observe(probabilities: probabilities) == nil)
        // Below the threshold in sum, the dog rule does not hold either.
        var quiet = RuleWindow(rule: try AlertRule(labels: ["dog"], in: labels, threshold: 0.5, window: "1/1"))
        #expect(quiet.observe(probabilities: frame(perBreed: 0.004)) == nil)  // 0.472
    }

    @Test("each label of a rule is summed on its own: \"dog\" and \"domestic cat\" do not add up to each other")
    func labelsAreSummedSeparately() throws {
        var probabilities = [Double](repeating: 0, count: 1000)
        for index in 151...160 { probabilities[index] = 0.03 }  // dog 0.3
        for index in 281...285 { probabilities[index] = 0.07 }  // domestic cat 0.35
        probabilities[0] = 0.35
        var window = RuleWindow(rule: try AlertRule(labels: ["dog", "domestic cat"], in: labels, threshold: 0.5, window: "1/1"))
        #expect(window.observe(probabilities: probabilities) == nil)
        var lower = RuleWindow(rule: try AlertRule(labels: ["dog", "domestic cat"], in: labels, threshold: 0.34, window: "1/1"))
        let observed = lower.observe(probabilities: probabilities)
        let hit = try #require(observed)
        #expect(hit.group.name == "domestic cat" && abs(hit.probability - 0.35) < 1e-9)
        #expect(hit.index == 281)
    }

    @Test("a category rule keeps k of n: breeds summing past the threshold in 2 of 3 frames fire once")
    func categoryWindow() throws {
        var window = RuleWindow(rule: try AlertRule(labels: ["domestic_cat"], in: labels, threshold: 0.5, window: "2/3"))
        func cats(_ each: Double) -> [Double] { (0..<1000).map { (281...285).contains($0) ? each : (1 - 5 * each) / 995 } }
        let fired = [0.12, 0.05, 0.12, 0.12, 0.12].map { window.observe(probabilities: cats($0)) != nil }
        #expect(fired == [false, false, true, false, false])
    }

    @Test("an unknown label is refused with a suggestion; a rule keeps the names as typed and watches every member")
    func unknownAndSummary() throws {
        do {
            _ = try AlertRule(labels: ["doggo"], in: labels, threshold: 0.5, window: "1/1")
            Issue.record("doggo was accepted")
        } catch {
            guard case let .label(.unknown(_, suggestions, _)) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(suggestions.first == "dog")
            #expect(error.description.contains("did you mean \"dog\""), "\(error)")
        }
        let rule = try AlertRule(labels: ["dog", "tabby"], in: labels, threshold: 0.5, window: "2/3")
        #expect(rule.summary == "dog | tabby ≥ 0.5 in 2/3 frames")
        #expect(rule.classes == Set(breeds + [281]))
        #expect(rule.groups.map(\.kind) == [.category, .class])
    }
}

@Suite(.serialized) struct CategoryStreamTests {
    @Test("a stream's \"dog\" rule fires on real frames whose breeds sum past the threshold, naming the category; the breeds one by one do not")
    func dogAlertFromRealFrames() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let video = try await TestVideo.make([("chelsea.png", 2)], in: folder)
        // With the seeded weights, chelsea's probabilities are spread thin: the breeds sum to about 0.12, each
        // stays under 0.004. A threshold halfway lies far from both.
        let probabilities = softmaxProbabilities(try Fixtures.referenceLogits(for: "chelsea.png"))
        let breeds = 151...268
        let sum = breeds.reduce(0) { $0 + probabilities[$1] }
        let best = breeds.map { probabilities[$0] }.max()!
        let threshold = (sum + best) / 2
        var configuration = StreamConfiguration(source: try VideoSource(video.path))
        configuration.fps = 2
        configuration.rules = [
            try AlertRule(labels: ["dog"], in: Labels.imageNet, threshold: threshold, window: "1/1"),
            try AlertRule(labels: breeds.map(String.init), in: Labels.imageNet, threshold: threshold, window: "1/1"),
        ]
        let log = EventLog()
        let monitor = StreamMonitor(configuration: configuration, labels: Labels.imageNet) { try StreamFixture.classify($0) }
        await monitor.run { await log.add($0) }

        let alerts = await log.alerts
        #expect(await log.frames.count >= 3)
        // One alert: the dog rule starts to hold on the first frame and holds throughout; the breeds rule never does.
        #expect(alerts.count == 1, "\(alerts)")
        let alert = try #require(alerts.first)
        #expect(alert.rule == 0 && alert.frame == 1)
        #expect(alert.label == "dog" && alert.wnid == "n02084071")
        #expect(abs(alert.probability - sum) < 1e-4, "\(alert.probability) vs \(sum)")
        #expect(breeds.contains(alert.index))
    }
}

extension RuleWindow {
    /// The hit of a frame that alerts, all frames at one time (these tests fire each rule once at most, so its
    /// cooldown never matters).
    mutating func observe(probabilities: [Double]) -> RuleHit? {
        if case let .fire(hit)? = observe(probabilities: probabilities, atSeconds: 0) { return hit }
        return nil
    }
}
