import Foundation
import Storage
import Testing
import TestSupport

/// The same cases on SQLite and on the real PostgreSQL server `scripts/test.sh` starts.
@Suite struct HistoryStoreTests {
    @Test(arguments: TestDatabases.backends)
    func aRecordReadsBackAsWritten(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let time = Date(timeIntervalSince1970: 1_764_000_000.123)
            var record = sampleRecord(time: time, thumbnail: [0xFF, 0xD8, 0xFF, 0xD9])
            let id = try await store.record(record)
            let entry = try #require(try await store.entry(id: id))
            #expect(entry.id == id)
            #expect(entry.hasThumbnail)
            record.thumbnailJPEG = nil
            #expect(entry.record == record)
            #expect(try await store.thumbnail(id: id) == [0xFF, 0xD8, 0xFF, 0xD9])
        }
    }

    @Test(arguments: TestDatabases.backends)
    func idsIncreaseAndARecordWithoutThumbnailHasNone(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let first = try await store.record(sampleRecord())
            let second = try await store.record(sampleRecord(alert: "tabby ≥ 0.5 in 2/3 frames", streamID: "door"))
            #expect(second > first)
            #expect(try await store.thumbnail(id: second) == nil)
            #expect(try await store.entry(id: second)?.record.alert == "tabby ≥ 0.5 in 2/3 frames")
            #expect(try await store.entry(id: 9_999_999) == nil)
        }
    }

    @Test(arguments: TestDatabases.backends)
    func severalRecordsCommitTogether(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await store.record(all: (0..<5).map { sampleRecord(probability: Double($0) / 10) })
            #expect(ids.count == 5)
            #expect(ids == ids.sorted())
            #expect(try await store.count() == 5)
        }
    }

    @Test(arguments: TestDatabases.backends)
    func filtersSelectByLabelTimeProbabilityAndSource(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let base = Date(timeIntervalSince1970: 1_764_000_000)
            _ = try await store.record(sampleRecord(label: "golden retriever", probability: 0.9, time: base))
            _ = try await store.record(sampleRecord(label: "tabby", probability: 0.4, time: base.addingTimeInterval(60), source: "page"))
            _ = try await store.record(sampleRecord(label: "100%_sure", probability: 0.7, time: base.addingTimeInterval(120), source: "stream:door", alert: "rule"))
            _ = try await store.record(sampleRecord(label: "Tabby", probability: 0.95, time: base.addingTimeInterval(180), source: "stream:yard"))

            func labels(_ filter: HistoryFilter) async throws -> [String] {
                try await store.query(filter).entries.map(\.record.top.label)
            }
            #expect(try await labels(HistoryFilter()) == ["Tabby", "100%_sure", "tabby", "golden retriever"])
            #expect(try await labels(HistoryFilter(label: "TABBY")) == ["Tabby", "tabby"])
            #expect(try await labels(HistoryFilter(label: "retriever")) == ["golden retriever"])
            // LIKE wildcards in the filter are matched literally.
            #expect(try await labels(HistoryFilter(label: "%_")) == ["100%_sure"])
            #expect(try await labels(HistoryFilter(label: "_")) == ["100%_sure"])
            #expect(try await labels(HistoryFilter(from: base.addingTimeInterval(60), to: base.addingTimeInterval(180))) == ["100%_sure", "tabby"])
            #expect(try await labels(HistoryFilter(minProbability: 0.7)) == ["Tabby", "100%_sure", "golden retriever"])
            #expect(try await labels(HistoryFilter(source: "page")) == ["tabby"])
            #expect(try await labels(HistoryFilter(source: "stream:*")) == ["Tabby", "100%_sure"])
            #expect(try await labels(HistoryFilter(alertsOnly: true)) == ["100%_sure"])
            #expect(try await labels(HistoryFilter(label: "tabby", minProbability: 0.5, source: "stream:*")) == ["Tabby"])
            #expect(try await store.count(HistoryFilter(label: "tabby")) == 2)
        }
    }

    @Test(arguments: TestDatabases.backends)
    func cursorPagesWalkEveryRowOnceNewestFirst(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await store.record(all: (0..<23).map { _ in sampleRecord() })
            var seen: [Int64] = []
            var cursor: Int64?
            var pages = 0
            repeat {
                let page = try await store.query(HistoryFilter(), page: HistoryPageRequest(limit: 10, cursor: cursor))
                #expect(page.total == (pages == 0 ? 23 : 24))
                seen += page.entries.map(\.id)
                cursor = page.nextCursor
                pages += 1
                // A row added meanwhile does not shift the pages that follow.
                if pages == 1 { _ = try await store.record(sampleRecord()) }
            } while cursor != nil
            #expect(pages == 3)
            #expect(seen == ids.reversed())
        }
    }

    @Test(arguments: TestDatabases.backends)
    func offsetPagesSkipRows(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await store.record(all: (0..<7).map { _ in sampleRecord() })
            let page = try await store.query(HistoryFilter(), page: HistoryPageRequest(limit: 3, offset: 5))
            #expect(page.entries.map(\.id) == [ids[1], ids[0]])
            #expect(page.nextCursor == nil)
            #expect(page.total == 7)
        }
    }

    @Test(arguments: TestDatabases.backends)
    func labelCountsAreBucketedByTime(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let hour = Date(timeIntervalSince1970: Double(1_764_000_000 / 3600 * 3600))
            _ = try await store.record(all: [
                sampleRecord(label: "tabby", time: hour.addingTimeInterval(10)),
                sampleRecord(label: "tabby", time: hour.addingTimeInterval(20)),
                sampleRecord(label: "rocket", time: hour.addingTimeInterval(30)),
                sampleRecord(label: "tabby", time: hour.addingTimeInterval(3600 + 5)),
            ])
            let counts = try await store.labelCounts(bucketSeconds: 3600)
            #expect(counts == [
                LabelCount(bucketStart: hour, label: "rocket", count: 1),
                LabelCount(bucketStart: hour, label: "tabby", count: 2),
                LabelCount(bucketStart: hour.addingTimeInterval(3600), label: "tabby", count: 1),
            ])
        }
    }

    @Test(arguments: TestDatabases.backends)
    func csvHasAHeaderAndOneQuotedLinePerRow(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let time = Date(timeIntervalSince1970: 1_764_000_000.5)
            _ = try await store.record(sampleRecord(label: "hen, \"speckled\"", time: time))
            _ = try await store.record(sampleRecord(label: "=cmd()", time: time, source: "page"))
            let csv = try await store.csv()
            let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 3)
            #expect(lines[0].hasPrefix("id,time,source,stream_id,user,image_sha256,top1_index,top1_wnid,top1_label,top1_probability"))
            #expect(lines[1].contains(",'=cmd(),"))
            #expect(lines[2].contains(",\"hen, \"\"speckled\"\"\","))
            #expect(lines[2].contains("2025-11-24T16:00:00.500Z"))
            #expect(lines[2].contains("resnet18-f37072fd.pth,f37072fd,true,1.5,2.25,0.5,9.75,14,,false"))
            #expect(try await store.csv(HistoryFilter(source: "page")).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2)
        }
    }

    @Test(arguments: TestDatabases.backends)
    func retentionDeletesRowsBeyondAgeAndCountOldestFirst(backend: TestDatabases.Backend) async throws {
        try await withStore(backend) { store in
            let now = Date(timeIntervalSince1970: 1_764_000_000)
            let ids = try await store.record(all: [
                sampleRecord(label: "ancient", time: now.addingTimeInterval(-10 * 86_400)),
                sampleRecord(label: "old", time: now.addingTimeInterval(-3 * 86_400)),
                sampleRecord(label: "a", time: now.addingTimeInterval(-3600)),
                sampleRecord(label: "b", time: now.addingTimeInterval(-60)),
                sampleRecord(label: "c", time: now),
            ])
            #expect(try await store.applyRetention(HistoryRetention(maxAgeDays: 7, maxRows: nil), now: now) == 1)
            #expect(try await store.entry(id: ids[0]) == nil)
            #expect(try await store.applyRetention(HistoryRetention(maxAgeDays: nil, maxRows: 2), now: now) == 2)
            #expect(try await store.query(HistoryFilter()).entries.map(\.record.top.label) == ["c", "b"])
            #expect(try await store.applyRetention(HistoryRetention(maxAgeDays: 30, maxRows: 10), now: now) == 0)
            #expect(try await store.applyRetention(HistoryRetention(), now: now) == 0)
        }
    }
}
