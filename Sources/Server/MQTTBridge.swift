import Monitoring

/// Every stream's alerts and state on the MQTT broker of `--mqtt`: one connection per stream, named by the
/// stream's name, so each has its own `online`/`offline` availability and last will. A stream that ends, fails or
/// is stopped says `offline` and disconnects.
actor MQTTBridge {
    let settings: MQTTSettings
    private let log: @Sendable (String) -> Void
    private var publishers: [String: MQTTPublisher] = [:]

    init(settings: MQTTSettings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.log = log
    }

    /// Each publishing stream's connection, for /metrics.
    func samples() async -> [String: MQTTSample] {
        var samples: [String: MQTTSample] = [:]
        for (name, publisher) in publishers {
            let client = publisher.client
            samples[name] = MQTTSample(connected: await client.state == .connected, pending: await client.pending,
                                       delivered: await client.delivered, dropped: await client.dropped)
        }
        return samples
    }

    /// Publishes a stream's alert or change of state (frames are not published).
    func publish(_ event: StreamEvent, stream name: String, extra: [String: String] = [:]) async {
        if case .frame = event { return }
        if case .suppressed = event { return }
        let publisher: MQTTPublisher
        if let known = publishers[name] {
            publisher = known
        } else {
            let log = self.log
            do {
                publisher = try MQTTPublisher(settings: settings, camera: name, log: { log("stream \(name): \($0)") })
            } catch {
                log("stream \(name): not published over MQTT: \(error)")
                return
            }
            publishers[name] = publisher
            await publisher.start()
        }
        await publisher.publish(event, extra: extra.merging(["stream": name]) { $1 })
        if case let .status(status) = event, !status.isActive {
            publishers[name] = nil
            await publisher.stop(within: .seconds(2))
        }
    }
}
