import Foundation
import Storage
import Synchronization
import Testing
import TestSupport

@Suite struct HistoryWriterTests {
    @Test(arguments: TestDatabases.backends)
    func concurrentSubmitsAreCommittedWithDistinctIds(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let commits = Atomic<Int>(0)
            // Ids come back however long a loaded machine takes to commit (the wait is not what is tested here).
            let writer = HistoryWriter(store: store, commitWait: .seconds(120),
                                       events: .init(committed: { rows, _ in commits.add(rows, ordering: .relaxed) }))
            let runner = Task { await writer.run() }
            let ids = await withTaskGroup(of: Int64?.self) { group in
                for index in 0..<40 { group.addTask { await writer.submit(sampleRecord(probability: Double(index) / 40)) } }
                return await group.reduce(into: [Int64?]()) { $0.append($1) }
            }
            await writer.stop()
            await runner.value
            #expect(ids.allSatisfy { $0 != nil })
            #expect(Set(ids.compactMap { $0 }).count == 40)
            #expect(commits.load(ordering: .relaxed) == 40)
            let stored = try await store.query(HistoryFilter(), page: HistoryPageRequest(limit: 100)).entries.map(\.id)
            #expect(Set(stored) == Set(ids.compactMap { $0 }))
        }
    }

    @Test(arguments: TestDatabases.backends)
    func rowsQueuedWhileTheDatabaseFailsAreWrittenWhenItRecovers(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let failures = Atomic<Int>(0)
            let writer = HistoryWriter(store: store, commitWait: .milliseconds(300),
                                       events: .init(failed: { _, _ in failures.add(1, ordering: .relaxed) }))
            let runner = Task { await writer.run() }
            // The first row is waited for as long as it takes (a loaded machine's first commit can exceed commitWait).
            _ = await writer.enqueue(sampleRecord(label: "before"))
            for _ in 0..<200 where try await store.count() < 1 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(try await store.count() == 1)

            // Break writes: the table is gone.
            try await store.database.write(SQLStatement("ALTER TABLE recognitions RENAME TO recognitions_away"))
            #expect(await writer.submit(sampleRecord(label: "during 1")) == nil)
            #expect(await writer.submit(sampleRecord(label: "during 2")) == nil)
            #expect(failures.load(ordering: .relaxed) >= 1)
            #expect(await writer.queuedRows == 2)

            // Repair: the queued rows are written, in order, before a new one (the writer may be in its retry backoff:
            // the rows are waited for, not the id of a single submit).
            try await store.database.write(SQLStatement("ALTER TABLE recognitions_away RENAME TO recognitions"))
            _ = await writer.enqueue(sampleRecord(label: "after"))
            for _ in 0..<200 where try await store.count() < 4 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(await writer.queuedRows == 0)
            await writer.stop()
            await runner.value
            #expect(try await store.query(HistoryFilter()).entries.map(\.record.top.label) == ["after", "during 2", "during 1", "before"])
        }
    }

    @Test func aKnownThumbnailIsReusedForTheSameImage() async throws {
        try await withStore(.sqlite) { store in
            let writer = HistoryWriter(store: store, commitWait: .seconds(120))
            let runner = Task { await writer.run() }
            let first = try #require(await writer.submit(sampleRecord(thumbnail: [1, 2, 3])))
            let made = Atomic<Int>(0)
            let second = try #require(await writer.submit(sampleRecord(), makeThumbnail: { made.add(1, ordering: .relaxed); return [9] }))
            await writer.stop()
            await runner.value
            #expect(try await store.thumbnail(id: first) == [1, 2, 3])
            #expect(try await store.thumbnail(id: second) == [1, 2, 3])
            #expect(made.load(ordering: .relaxed) == 0)
        }
    }

    @Test func retentionTrimsAsRowsAreWritten() async throws {
        try await withStore(.sqlite) { store in
            let trimmed = Atomic<Int>(0)
            let writer = HistoryWriter(store: store, retention: HistoryRetention(maxAgeDays: nil, maxRows: 50),
                                       events: .init(trimmed: { trimmed.add($0, ordering: .relaxed) }))
            let runner = Task { await writer.run() }
            for _ in 0..<260 { _ = await writer.enqueue(sampleRecord()) }
            _ = await writer.submit(sampleRecord())
            try await writer.trimNow()
            await writer.stop()
            await runner.value
            #expect(try await store.count() == 50)
            #expect(trimmed.load(ordering: .relaxed) == 211)
        }
    }
}
