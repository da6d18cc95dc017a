import Foundation
import Logging

/// Records history off the request path: callers `submit` and get the row's id once it is committed (several
/// callers' rows share one transaction: one disk sync for all). When the database fails (read-only, locked, full,
/// unreachable) the rows stay queued and are retried with backoff; the caller gets nil after `commitWait` and its
/// answer goes out without an id. Old rows are trimmed by the retention policy as rows are written.
///
/// What `kill -9` may lose: rows not yet committed — those whose callers have not received an id (at most the
/// few submitted in the last milliseconds, or everything queued while the database was failing). A row whose id
/// was answered is committed (SQLite `synchronous = FULL` in WAL mode; PostgreSQL's commit) and survives.
public actor HistoryWriter {
    /// Reports for logs and metrics; each is called on the writer's task, keep them quick.
    public struct Events: Sendable {
        public var committed: @Sendable (_ rows: Int, _ milliseconds: Double) -> Void
        public var failed: @Sendable (_ error: StorageError, _ queuedRows: Int) -> Void
        public var dropped: @Sendable (_ rows: Int) -> Void
        public var trimmed: @Sendable (_ rows: Int) -> Void

        public init(committed: @escaping @Sendable (Int, Double) -> Void = { _, _ in },
                    failed: @escaping @Sendable (StorageError, Int) -> Void = { _, _ in },
                    dropped: @escaping @Sendable (Int) -> Void = { _ in },
                    trimmed: @escaping @Sendable (Int) -> Void = { _ in }) {
            self.committed = committed
            self.failed = failed
            self.dropped = dropped
            self.trimmed = trimmed
        }
    }

    public let store: HistoryStore
    public let retention: HistoryRetention
    /// How long `submit` waits for the commit before answering nil (the row stays queued).
    public let commitWait: Duration
    /// Rows kept queued while the database fails; beyond this the oldest are dropped (and counted).
    public let maximumQueuedRows: Int
    /// Rows per transaction, at most.
    public let maximumBatch: Int
    private let events: Events
    private let logger: Logger

    private struct Pending {
        let ticket: UInt64
        var record: RecognitionRecord
        var makeThumbnail: (@Sendable () -> [UInt8]?)?
    }

    private var queue: [Pending] = []
    /// Callers waiting for their rows, each with the timer that answers nil after `commitWait` (cancelled once the
    /// row is answered, so that a busy writer does not keep a sleeping task for every row of the last two seconds).
    private var waiters: [UInt64: (continuation: CheckedContinuation<Int64?, Never>, timer: Task<Void, Never>)] = [:]
    private var nextTicket: UInt64 = 0
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var stopping = false
    private var failing = false
    private var rowsSinceRetention = 0
    private var lastRetention = ContinuousClock.now
    /// Recent thumbnails by image SHA-256, so a photo seen again (a result-cache hit) gets its picture without decoding.
    private var recentThumbnails: [String: [UInt8]] = [:]
    private var recentOrder: [String] = []
    private let recentCapacity: Int

    public init(store: HistoryStore, retention: HistoryRetention = HistoryRetention(), commitWait: Duration = .seconds(2),
                maximumQueuedRows: Int = 10_000, maximumBatch: Int = 256, recentThumbnails: Int = 1024,
                events: Events = Events(), logger: Logger = Logger(label: "resnet18.history")) {
        self.store = store
        self.retention = retention
        self.commitWait = commitWait
        self.maximumQueuedRows = max(1, maximumQueuedRows)
        self.maximumBatch = max(1, maximumBatch)
        self.recentCapacity = max(0, recentThumbnails)
        self.events = events
        self.logger = logger
    }

    /// Queues a record and waits (up to `commitWait`) for its commit: the row's id, or nil when not committed yet.
    /// `makeThumbnail` is run by the writer when the record has no thumbnail and none is known for its image.
    public func submit(_ record: RecognitionRecord, makeThumbnail: (@Sendable () -> [UInt8]?)? = nil) async -> Int64? {
        let ticket = enqueue(record, makeThumbnail: makeThumbnail)
        let wait = commitWait
        return await withCheckedContinuation { continuation in
            let timer = Task { [weak self] in
                guard (try? await Task.sleep(for: wait)) != nil else { return }
                await self?.giveUp(ticket)
            }
            waiters[ticket] = (continuation, timer)
        }
    }

    /// Queues a record without waiting for it.
    public func enqueue(_ record: RecognitionRecord, makeThumbnail: (@Sendable () -> [UInt8]?)? = nil) -> UInt64 {
        nextTicket += 1
        var record = record
        if let thumbnail = record.thumbnailJPEG {
            remember(thumbnail, for: record.imageSHA256)
        } else if makeThumbnail != nil, let known = recentThumbnails[record.imageSHA256] {
            record.thumbnailJPEG = known
        }
        queue.append(Pending(ticket: nextTicket, record: record, makeThumbnail: record.thumbnailJPEG == nil ? makeThumbnail : nil))
        if queue.count > maximumQueuedRows {
            let excess = queue.count - maximumQueuedRows
            for pending in queue.prefix(excess) { answer(pending.ticket, with: nil) }
            queue.removeFirst(excess)
            events.dropped(excess)
            logger.error("history: \(excess) queued rows dropped: the database has been failing and \(maximumQueuedRows) rows are queued")
        }
        signal()
        return nextTicket
    }

    /// Rows queued and not yet committed.
    public var queuedRows: Int { queue.count }

    /// Writes queued rows until `stop`; then writes what is left once and returns.
    public func run() async {
        var backoff: Duration = .milliseconds(100)
        while true {
            if queue.isEmpty {
                if stopping { return }
                await withCheckedContinuation { wakeUp = $0 }
                continue
            }
            let batchCount = min(queue.count, maximumBatch)
            for index in 0..<batchCount {
                if let make = queue[index].makeThumbnail, queue[index].record.thumbnailJPEG == nil {
                    let key = queue[index].record.imageSHA256
                    let thumbnail = recentThumbnails[key] ?? make()
                    queue[index].record.thumbnailJPEG = thumbnail
                    queue[index].makeThumbnail = nil
                    if let thumbnail { remember(thumbnail, for: key) }
                }
            }
            let batch = Array(queue.prefix(batchCount))
            let started = ContinuousClock.now
            do {
                let ids = try await store.record(all: batch.map(\.record))
                // Other submits may have appended (or dropped the oldest) meanwhile: remove by ticket.
                let written = Set(batch.map(\.ticket))
                queue.removeAll { written.contains($0.ticket) }
                for (pending, id) in zip(batch, ids) { answer(pending.ticket, with: id) }
                events.committed(batch.count, (ContinuousClock.now - started).historyMilliseconds)
                if failing {
                    failing = false
                    logger.notice("history: writing again (\(batch.count) queued rows committed)")
                }
                backoff = .milliseconds(100)
                rowsSinceRetention += batch.count
                await applyRetentionIfDue()
            } catch {
                failing = true
                events.failed(error, queue.count)
                logger.error("history: \(batch.count) rows not written, kept queued (\(queue.count) in all) and retried: \(error)")
                if stopping { return }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Asks `run` to write what is queued and return.
    public func stop() {
        stopping = true
        signal()
    }

    private func applyRetentionIfDue() async {
        guard !retention.keepsEverything else { return }
        // Often enough that --history-max-rows holds within a tenth of itself (at most 200 rows over), rarely enough
        // to cost nothing; the age limit is checked at least once a minute.
        let everyRows = min(200, max(1, (retention.maxRows ?? 2000) / 10))
        guard rowsSinceRetention >= everyRows || ContinuousClock.now - lastRetention > .seconds(60) else { return }
        rowsSinceRetention = 0
        lastRetention = ContinuousClock.now
        do {
            let deleted = try await store.applyRetention(retention)
            if deleted > 0 { events.trimmed(deleted) }
        } catch {
            logger.warning("history: retention failed, retried later: \(error)")
        }
    }

    /// Applies the retention policy now; the rows deleted.
    @discardableResult
    public func trimNow() async throws(StorageError) -> Int {
        let deleted = try await store.applyRetention(retention)
        lastRetention = ContinuousClock.now
        rowsSinceRetention = 0
        if deleted > 0 { events.trimmed(deleted) }
        return deleted
    }

    private func giveUp(_ ticket: UInt64) {
        answer(ticket, with: nil)
    }

    private func answer(_ ticket: UInt64, with id: Int64?) {
        guard let waiter = waiters.removeValue(forKey: ticket) else { return }
        waiter.timer.cancel()
        waiter.continuation.resume(returning: id)
    }

    private func signal() {
        wakeUp?.resume()
        wakeUp = nil
    }

    private func remember(_ thumbnail: [UInt8], for key: String) {
        guard recentCapacity > 0, recentThumbnails[key] == nil else { return }
        recentThumbnails[key] = thumbnail
        recentOrder.append(key)
        if recentOrder.count > recentCapacity {
            recentThumbnails.removeValue(forKey: recentOrder.removeFirst())
        }
    }
}

extension Duration {
    var historyMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
