/// Delays between restarts of a live source: doubling from `initial` up to `maximum`, back to `initial`
/// once a run has delivered frames (a source that works again should not wait for an old failure).
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    private var next: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.next = initial
    }

    /// The delay before the coming restart; the one after it doubles.
    public mutating func nextDelay() -> Duration {
        let delay = next
        next = min(next * 2, maximum)
        return delay
    }

    public mutating func reset() { next = initial }
}
