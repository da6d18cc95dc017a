import Testing
@testable import Monitoring

/// The outbox while no broker answers: bounded, the oldest dropped and counted, one state per topic.
@Suite struct MQTTOutboxTests {
    @Test("past its capacity the outbox drops the oldest messages and counts them; a newer retained state replaces a queued one")
    func boundedOutbox() async throws {
        let client = MQTTClient(settings: try MQTTSettings(url: "mqtt://127.0.0.1:1"), clientID: "test", will: nil,
                                capacity: 3, log: { _ in })
        for number in 1...5 { await client.publish(MQTTMessage(topic: "p/c/alert", payload: "\(number)")) }
        #expect(await client.pending == 3)
        #expect(await client.dropped == 2)
        let state = MQTTClient.State.connecting
        #expect(await client.state == state)
        await client.publish(MQTTMessage(topic: "p/c/state", payload: "starting", retain: true))
        await client.publish(MQTTMessage(topic: "p/c/state", payload: "running", retain: true))
        #expect(await client.pending == 3)
        #expect(await client.dropped == 3)
        #expect(await client.stop(within: .zero) == 3)
    }
}
