import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// A small MQTT 3.1.1 publisher on SwiftNIO: one connection to one broker, kept up with reconnects, and an
/// outbox so that nothing published while the broker is away is lost (up to `capacity` messages; past it the
/// oldest are dropped and counted).
///
/// QoS 1 messages stay in flight until the broker's PUBACK and are sent again, marked DUP, after a reconnect:
/// at least once, so a subscriber may rarely see one twice (alerts carry an `event_id` for that). The session is
/// clean: the broker keeps nothing of ours between connections but the retained messages and the last will.
public actor MQTTClient {
    public enum State: Sendable, Equatable {
        case connecting
        case connected
        /// Not connected, and why: the next attempt comes after a backoff delay.
        case waiting(String)
        case stopped
    }

    public nonisolated let settings: MQTTSettings
    let clientID: String
    /// Published by the broker for us when the connection drops without a DISCONNECT.
    let will: MQTTMessage?
    /// Published first on every connection (`online`, discovery), before anything queued.
    let greeting: [MQTTMessage]
    /// Messages queued or in flight, at most.
    public nonisolated let capacity: Int
    let keepAliveSeconds: UInt16
    private var backoff: Backoff
    private let log: @Sendable (String) -> Void

    private var queue: [MQTTMessage] = []
    private var inflight: [(packetID: UInt16, message: MQTTMessage)] = []
    private var lastPacketID: UInt16 = 0
    private var channel: (any Channel)?
    public private(set) var state = State.connecting
    /// Messages the broker took (PUBACK for QoS 1), and dropped because the outbox was full.
    public private(set) var delivered = 0
    public private(set) var dropped = 0
    private var droppedSinceReport = 0
    private var runner: Task<Void, Never>?
    private var stopping = false

    /// QoS 1 messages sent and not yet acknowledged, at most (mosquitto's own default is 20).
    static let maximumInflight = 20
    static let connectTimeoutSeconds: Int64 = 5
    static let connackTimeoutSeconds: Int64 = 10

    public init(settings: MQTTSettings, clientID: String, will: MQTTMessage?, greeting: [MQTTMessage] = [],
                capacity: Int = 1000, keepAliveSeconds: UInt16 = 30, maximumBackoff: Duration = .seconds(15),
                log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.clientID = clientID
        self.will = will
        self.greeting = greeting
        self.capacity = max(1, capacity)
        self.keepAliveSeconds = max(2, keepAliveSeconds)
        self.backoff = Backoff(initial: .seconds(1), maximum: maximumBackoff)
        self.log = log
    }

    /// Starts connecting (and reconnecting) in the background; messages may be published before it connects.
    public func start() {
        guard runner == nil, !stopping else { return }
        runner = Task { await run() }
    }

    /// Queues a message; it goes out at once when connected, else when the broker is back.
    public func publish(_ message: MQTTMessage) {
        guard !stopping else { return }
        // Only the newest retained message of a topic matters (a state): an older one still queued is replaced.
        if message.retain, let index = queue.firstIndex(where: { $0.retain && $0.topic == message.topic }) {
            queue.remove(at: index)
        }
        queue.append(message)
        if pending > capacity, !queue.isEmpty {
            queue.removeFirst()
            dropped += 1
            droppedSinceReport += 1
            if droppedSinceReport == 1 {
                say("the outbox is full (\(capacity) messages wait for the broker): dropping the oldest; how many is said when the broker is back")
            }
        }
        sendQueued()
    }

    /// Messages queued or in flight.
    public var pending: Int { queue.count + inflight.count }

    /// Publishes `final` (the `offline` availability), waits up to `timeout` for the broker to take everything
    /// queued, disconnects cleanly (no last will), and returns how many messages were not delivered.
    public func stop(publishing final: [MQTTMessage] = [], within timeout: Duration) async -> Int {
        for message in final { publish(message) }
        let deadline = ContinuousClock.now + timeout
        while pending > 0, ContinuousClock.now < deadline, runner != nil {
            try? await Task.sleep(for: .milliseconds(20))
        }
        stopping = true
        if let channel, state == .connected {
            try? await channel.writeAndFlush(MQTTPacket.disconnect).get()
            try? await channel.close().get()
        }
        runner?.cancel()
        await runner?.value
        state = .stopped
        if pending > 0 { say("\(Self.messages(pending)) not delivered (\(lastProblem ?? "the broker did not take them in time"))") }
        return pending
    }

    private var lastProblem: String?

    private func run() async {
        while !stopping, !Task.isCancelled {
            state = .connecting
            var problem = "the connection ended"
            do {
                try await session()
            } catch {
                problem = Self.words(for: error)
            }
            channel = nil
            if stopping || Task.isCancelled { break }
            let delay = backoff.nextDelay()
            state = .waiting(problem)
            lastProblem = problem
            say("\(problem); retrying in \(StreamMonitor.format(delay.seconds)) s" + (pending > 0 ? " (\(Self.messages(pending)) waiting)" : ""))
            try? await Task.sleep(for: delay)
        }
    }

    /// One connection: CONNECT, then packets until it ends.
    private func session() async throws {
        let (packets, continuation) = AsyncThrowingStream<MQTTPacket, any Error>.makeStream()
        let channel = try await connect(packets: continuation)
        defer { channel.close(promise: nil) }
        self.channel = channel
        let connect = MQTTPacket.Connect(clientID: clientID, keepAliveSeconds: keepAliveSeconds,
                                         username: settings.username, password: settings.password, will: will)
        channel.writeAndFlush(MQTTPacket.connect(connect), promise: nil)
        let (host, port) = (settings.host, settings.port)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(Self.connackTimeoutSeconds)) {
            continuation.finish(throwing: MQTTError.connectionLost(
                "no answer to CONNECT within \(Self.connackTimeoutSeconds) s: is \(host):\(port) an MQTT broker\(port == 8883 ? "" : " (mqtts:// for TLS)")?"))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        for try await packet in packets {
            switch packet {
            case let .connectionAcknowledged(_, returnCode):
                timeout.cancel()
                guard returnCode == 0 else { throw MQTTError.refused(returnCode: returnCode) }
                guard state != .connected else { throw MQTTError.protocolViolation("a second CONNACK") }
                connected(channel)
            case let .publishAcknowledged(packetID):
                acknowledge(packetID)
            case .pingResponse, .other:
                break
            }
        }
    }

    private func connect(packets: AsyncThrowingStream<MQTTPacket, any Error>.Continuation) async throws -> any Channel {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = settings.certificateAuthorityFile { configuration.additionalTrustRoots = [.file(path)] }
        let tls = settings.useTLS ? try NIOSSLContext(configuration: configuration) : nil
        // SNI and certificate checks by name; an IP address is checked against the certificate's addresses.
        let serverName = (try? SocketAddress(ipAddress: settings.host, port: 0)) == nil ? settings.host : nil
        let milliseconds = Int64(keepAliveSeconds) * 1000
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(Self.connectTimeoutSeconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    // A PINGREQ when nothing was sent for half the keep-alive; given up when nothing came for 1.5 times it.
                    try pipeline.addHandler(IdleStateHandler(readTimeout: .milliseconds(milliseconds * 3 / 2),
                                                             writeTimeout: .milliseconds(milliseconds / 2)))
                    try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoder()))
                    try pipeline.addHandler(MQTTChannelHandler(packets: packets))
                }
            }
        return try await bootstrap.connect(host: settings.host, port: settings.port).get()
    }

    private func connected(_ channel: any Channel) {
        state = .connected
        backoff.reset()
        lastProblem = nil
        var report = "connected"
        if droppedSinceReport > 0 {
            report += "; \(Self.messages(droppedSinceReport)) dropped while it was away (the outbox holds \(capacity))"
            droppedSinceReport = 0
        }
        if pending > 0 { report += "; sending \(Self.messages(pending)) queued" }
        say(report)
        // What was in flight goes again, marked DUP, in its order; then the greeting, then the queue.
        inflight.removeAll { greeting.contains($0.message) }
        for (packetID, message) in inflight {
            channel.write(MQTTPacket.publish(message, packetID: packetID, duplicate: true), promise: nil)
        }
        queue.removeAll { greeting.contains($0) }
        queue.insert(contentsOf: greeting, at: 0)
        channel.flush()
        sendQueued()
    }

    private func acknowledge(_ packetID: UInt16) {
        guard let index = inflight.firstIndex(where: { $0.packetID == packetID }) else { return }
        inflight.remove(at: index)
        delivered += 1
        sendQueued()
    }

    private func sendQueued() {
        guard state == .connected, let channel else { return }
        var wrote = false
        while !queue.isEmpty, inflight.count < Self.maximumInflight {
            let message = queue.removeFirst()
            if message.qos > 0 {
                let packetID = nextPacketID()
                inflight.append((packetID, message))
                channel.write(MQTTPacket.publish(message, packetID: packetID), promise: nil)
            } else {
                channel.write(MQTTPacket.publish(message, packetID: nil), promise: nil)
                delivered += 1
            }
            wrote = true
        }
        if wrote { channel.flush() }
    }

    /// 1 to 65535, never one still in flight.
    private func nextPacketID() -> UInt16 {
        repeat {
            lastPacketID = lastPacketID == .max ? 1 : lastPacketID + 1
        } while inflight.contains { $0.packetID == lastPacketID }
        return lastPacketID
    }

    /// A log line naming the broker, its password masked. (The password itself goes only into CONNECT: no error
    /// quotes it back.)
    private func say(_ text: String) {
        log(Redaction.masked(in: "mqtt \(settings.redacted): \(text)"))
    }

    static func messages(_ count: Int) -> String { count == 1 ? "1 message" : "\(count) messages" }

    /// What went wrong, in words rather than NIO's structures.
    static func words(for error: any Error) -> String {
        switch error {
        case let error as MQTTError:
            return error.description
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first {
                return "cannot connect to \(error.host):\(error.port): \(words(for: failure.error))"
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve the host name \(error.host)" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as ChannelError:
            if case .connectTimeout = error { return "no answer within \(connectTimeoutSeconds) s (a firewall, or the wrong host or port?)" }
            return "\(error)"
        case let error as NIOSSLError:
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS failed: the broker's certificate is not trusted here (self-signed? give its CA with --mqtt-ca FILE)"
            }
            return "TLS failed: \(error)"
        default:
            return "\(error)"
        }
    }
}
