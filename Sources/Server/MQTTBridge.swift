import Monitoring

/// Every stream's alerts and state on the MQTT broker of `--mqtt`: one connection per stream, named by the
/// stream's id, so each has its own `online`/`offline` availability and last will. A stream that ends, fails or
/// is stopped says `offline` and disconnects.
actor MQTTBridge {
    let settings: MQTTSettings
    private let log: @Sendable (String) -> Void
    private var publishers: [String: MQTTPublisher] = [:]

    init(settings: MQTTSettings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.log = log
    }

    /// Publishes a stream's alert or change of state (frames are not published).
    func publish(_ event: StreamEvent, stream id: String) async {
        if case .frame = event { return }
        let publisher: MQTTPublisher
        if let known = publishers[id] {
            publisher = known
        } else {
            let log = self.log
            do {
                publisher = try MQTTPublisher(settings: settings, camera: id.lowercased(), log: { log("stream \(id): \($0)") })
            } catch {
                log("stream \(id): not published over MQTT: \(error)")
                return
            }
            publishers[id] = publisher
            await publisher.start()
        }
        await publisher.publish(event, extra: ["stream": id])
        if case let .status(status) = event, !status.isActive {
            publishers[id] = nil
            await publisher.stop(within: .seconds(2))
        }
    }
}
