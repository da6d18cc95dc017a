import Foundation
import Synchronization
import Testing
import TestSupport
@testable import ResNet

/// Several engine calls at once (`EngineOptions.calls`): each lane has its own plans and buffers over one copy of
/// the weights, and calls on different lanes overlap without changing a logit.
@Suite struct EngineLaneTests {
    @Test("two lanes: calls run at the same time from two threads, every answer PyTorch's, the weights held once")
    func twoLanesAtOnce() throws {
        let weights = try FidelityTests.weights(Fixtures.seededPth)
        let engine = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 1, calls: 2, leanWinograd: true))
        #expect(engine.calls == 2 && engine.threads == 1)
        try engine.finishPreparing(batches: ResNet18Engine.plannedBatches(upTo: 2))
        let single = try ResNet18Engine(weights: weights, options: EngineOptions(threads: 1, leanWinograd: true))
        try single.finishPreparing(batches: ResNet18Engine.plannedBatches(upTo: 2))
        // One copy of the weights for both lanes; the arenas and scratchpads are each lane's own.
        #expect(engine.memory.weights == single.memory.weights)
        #expect(engine.memory.arena == 2 * single.memory.arena)

        let photos = Fixtures.photoNames
        let tensors = try photos.map { try Fixtures.inputTensor(for: $0) }
        let references = try photos.map { try Fixtures.referenceLogits(for: $0) }
        let rounds = 3
        let spans = Mutex<[(lane: Int, start: ContinuousClock.Instant, end: ContinuousClock.Instant)]>([])
        let failures = Mutex<[String]>([])
        let finished = DispatchSemaphore(value: 0)
        for lane in 0..<2 {
            Thread {
                defer { finished.signal() }
                for _ in 0..<rounds {
                    for first in stride(from: 0, to: photos.count, by: 2) {
                        let slots = [first, (first + 1) % photos.count]
                        var logits = [Float](repeating: .nan, count: slots.count * 1000)
                        let start = ContinuousClock.now
                        do {
                            try logits.withUnsafeMutableBufferPointer { output in
                                try engine.logits(batch: slots.count, into: output, lane: lane) { images, input in
                                    for (index, image) in images.enumerated() {
                                        _ = UnsafeMutableBufferPointer(rebasing: input[(index * ResNet18Engine.inputCount)...])
                                            .update(fromContentsOf: tensors[slots[image]])
                                    }
                                }
                            }
                        } catch {
                            failures.withLock { $0.append("lane \(lane): \(error)") }
                            return
                        }
                        spans.withLock { $0.append((lane, start, ContinuousClock.now)) }
                        for (index, slot) in slots.enumerated() {
                            let difference = FidelityTests.maxAbsDifference(logits[(index * 1000)..<((index + 1) * 1000)], references[slot])
                            if !(difference < 1e-3) {
                                failures.withLock { $0.append("lane \(lane), \(photos[slot]): max abs \(difference)") }
                            }
                        }
                    }
                }
            }.start()
        }
        finished.wait()
        finished.wait()
        #expect(failures.withLock { $0 } == [])
        // A lane's calls serialised behind the other's (one lock for both) would never overlap.
        let all = spans.withLock { $0 }
        let overlapping = all.filter { $0.lane == 0 }.contains { zero in
            all.contains { $0.lane == 1 && $0.start < zero.end && zero.start < $0.end }
        }
        #expect(all.count == 2 * rounds * ((photos.count + 1) / 2))
        #expect(overlapping, "no call on lane 0 ran while one on lane 1 did: \(all.map { ($0.lane, $0.start, $0.end) })")
    }

    @Test("a wide call runs on every lane's threads and gives PyTorch's logits, on either lane")
    func wideCall() throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth), options: EngineOptions(threads: 1, calls: 2))
        #expect(engine.wideThreads == 2)
        try engine.finishPreparing(batches: [1])
        for (lane, photo) in [(0, Fixtures.photoNames[0]), (1, Fixtures.photoNames[1])] {
            let tensor = try Fixtures.inputTensor(for: photo)
            var logits = [Float](repeating: .nan, count: 1000)
            try logits.withUnsafeMutableBufferPointer { output in
                try engine.logits(batch: 1, into: output, lane: lane, wide: true) { _, input in
                    _ = input.update(fromContentsOf: tensor)
                }
            }
            let difference = FidelityTests.maxAbsDifference(logits[...], try Fixtures.referenceLogits(for: photo))
            #expect(difference < 1e-3, "lane \(lane), \(photo): max abs \(difference)")
        }
    }

    @Test("a lane that does not exist is refused with a message")
    func missingLane() throws {
        let engine = try ResNet18Engine(weights: FidelityTests.weights(Fixtures.seededPth), options: EngineOptions(threads: 1, calls: 2))
        var logits = [Float](repeating: 0, count: 1000)
        #expect {
            try logits.withUnsafeMutableBufferPointer { output in
                try engine.logits(batch: 1, into: output, lane: 2) { _, _ in }
            }
        } throws: { error in
            "\(error)".contains("lane 2 does not exist") && "\(error)".contains("2 call(s) at once")
        }
    }

    @Test("the default calls follow the core count: one per 8 cores, at least one")
    func defaultCalls() {
        #expect([1, 2, 7, 8, 15, 16, 24, 64].map { EngineOptions.defaultCalls(cores: $0) } == [1, 1, 1, 1, 1, 2, 3, 8])
    }
}
