import Recognition
import Testing

extension ServerTests {
    @Suite("ResultCache: least recently used, keyed by SHA-256")
    struct ResultCacheTests {
        /// A real classification, told apart from the others by its `batchSize`.
        private func result(_ marker: Int) throws -> Classification {
            var result = try TestServer.recognizer.classify(try Photos.bytes("coffee.png"), topK: 1)
            result.batchSize = marker
            return result
        }

        @Test("keys are the SHA-256 of the bytes, in hex")
        func keys() {
            #expect(ResultCache.key(for: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(ResultCache.key(for: [1, 2]) != ResultCache.key(for: [2, 1]))
        }

        @Test("when full, the least recently used entry goes")
        func evictsLeastRecentlyUsed() async throws {
            let cache = ResultCache(capacity: 2)
            try await cache.insert(result(1), for: "a")
            try await cache.insert(result(2), for: "b")
            #expect(await cache.value(for: "a")?.batchSize == 1)  // a is now the most recent
            try await cache.insert(result(3), for: "c")  // so b goes
            #expect(await cache.value(for: "b") == nil)
            #expect(await cache.value(for: "a")?.batchSize == 1)
            #expect(await cache.value(for: "c")?.batchSize == 3)
            #expect(await cache.count == 2)
            try await cache.insert(result(4), for: "c")
            #expect(await cache.value(for: "c")?.batchSize == 4)
            #expect(await cache.count == 2)
        }

        @Test("capacity 0 keeps nothing")
        func disabled() async throws {
            let cache = ResultCache(capacity: 0)
            try await cache.insert(result(1), for: "a")
            #expect(await cache.value(for: "a") == nil)
        }
    }
}
