/// Decoding, budgeted in pixels across the whole server: an image's decode cost grows with its pixel count, not
/// with its file size (a 1.7 kB lossless WebP can be 40 million pixels), so a request of many large images must
/// not hold the decode path while small requests wait.
///
/// Each image takes its pixel count from the budget before it is decoded and gives it back after; waiters are
/// served first come, first served, and a request takes one image at a time, so a small request that arrives
/// behind a large one waits for at most the decodes already running, not for the large request's remaining
/// images. The budget also bounds the decoded pixel memory held at once.
actor DecodeBudget {
    /// Pixels that may be decoding at once; an image larger than this takes all of it.
    let capacityPixels: Int
    private var availablePixels: Int
    private var waiters: [(pixels: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(capacityPixels: Int) {
        precondition(capacityPixels > 0, "the decode budget must hold at least one pixel")
        self.capacityPixels = capacityPixels
        self.availablePixels = capacityPixels
    }

    /// Runs `decode` once `pixels` (at most the whole budget) are free, in arrival order.
    nonisolated func withPixels<T: Sendable, E: Error>(_ pixels: Int, _ decode: () throws(E) -> T) async throws(E) -> T {
        let taken = await acquire(pixels)
        let result: Result<T, E>
        do {
            result = .success(try decode())
        } catch {
            result = .failure(error)
        }
        await release(taken)
        return try result.get()
    }

    private func acquire(_ pixels: Int) async -> Int {
        let taken = min(max(pixels, 1), capacityPixels)
        if waiters.isEmpty && availablePixels >= taken {
            availablePixels -= taken
            return taken
        }
        await withCheckedContinuation { waiters.append((taken, $0)) }
        return taken
    }

    private func release(_ pixels: Int) {
        availablePixels += pixels
        while let first = waiters.first, availablePixels >= first.pixels {
            availablePixels -= first.pixels
            waiters.removeFirst()
            first.continuation.resume()
        }
    }
}
