import Foundation

/// Slows down password guessing: after `freeFailures` failed logins for one user name, or from one client
/// address, further attempts for it are refused with 429 for a lockout that doubles with every new failure
/// (1 s, 2 s, 4 s, ... up to `maximumLockoutSeconds`). A success clears the user's record, not the address's;
/// records are forgotten `forgetAfterSeconds` after their last failure. Kept in memory, per replica.
actor LoginThrottle {
    typealias Policy = LoginThrottlePolicy

    private struct Record {
        var failures = 0
        var lastFailure = Date.distantPast
        var lockedUntil = Date.distantPast
    }

    let policy: Policy
    private var records: [String: Record] = [:]

    init(policy: Policy) {
        self.policy = policy
    }

    /// Seconds to wait before trying again (rounded up), or nil when an attempt may be made now.
    func retryAfterSeconds(user: String, client: String?, now: Date = Date()) -> Int? {
        let waits = keys(user: user, client: client).compactMap { key -> TimeInterval? in
            guard let record = records[key], record.lockedUntil > now else { return nil }
            return record.lockedUntil.timeIntervalSince(now)
        }
        return waits.max().map { max(1, Int($0.rounded(.up))) }
    }

    func recordFailure(user: String, client: String?, now: Date = Date()) {
        if records.count > 10_000 { forgetOld(now: now) }
        for key in keys(user: user, client: client) {
            var record = records[key] ?? Record()
            if now.timeIntervalSince(record.lastFailure) > policy.forgetAfterSeconds { record = Record() }
            record.failures += 1
            record.lastFailure = now
            let over = record.failures - policy.freeFailures
            if over >= 0 {
                let seconds = min(policy.maximumLockoutSeconds, policy.firstLockoutSeconds * pow(2, Double(min(over, 30))))
                record.lockedUntil = now.addingTimeInterval(seconds)
            }
            records[key] = record
        }
    }

    /// Clears the user's record only. The address keeps its count: otherwise one valid account would let an
    /// attacker reset it between guesses and try one password across many user names without limit.
    func recordSuccess(user: String, client: String?) {
        records["user:" + user.lowercased()] = nil
    }

    private func keys(user: String, client: String?) -> [String] {
        ["user:" + user.lowercased()] + (client.map { ["client:" + $0] } ?? [])
    }

    private func forgetOld(now: Date) {
        records = records.filter { now.timeIntervalSince($0.value.lastFailure) <= policy.forgetAfterSeconds }
    }
}

/// When failed logins start to be refused, and for how long.
public struct LoginThrottlePolicy: Sendable, Equatable {
    /// Failures allowed before the first lockout.
    public var freeFailures = 5
    /// The first lockout; each further failure doubles it.
    public var firstLockoutSeconds = 1.0
    public var maximumLockoutSeconds = 900.0
    /// A record is forgotten this long after its last failure.
    public var forgetAfterSeconds = 900.0

    public init() {}
}
