import Foundation
import Storage

/// Slows down password guessing: after `freeFailures` failed logins for one user name, or from one client
/// address, further attempts for it are refused with 429 for a lockout that doubles with every new failure
/// (1 s, 2 s, 4 s, ... up to `maximumLockoutSeconds`). A success clears the user's record, not the address's;
/// records are forgotten `forgetAfterSeconds` after their last failure. With a database (`shared`), failures and
/// lockouts are counted there too, so replicas on one database throttle together; the records in memory keep
/// throttling this replica while the database is unreachable.
actor LoginThrottle {
    typealias Policy = LoginThrottlePolicy

    private struct Record {
        var failures = 0
        var lastFailure = Date.distantPast
        var lockedUntil = Date.distantPast
    }

    let policy: Policy
    private var records: [String: Record] = [:]
    private let shared: LoginFailureStore?
    private var sharedFailures = 0

    init(policy: Policy, shared: LoginFailureStore? = nil) {
        self.policy = policy
        self.shared = shared
    }

    /// Seconds to wait before trying again (rounded up), or nil when an attempt may be made now.
    func retryAfterSeconds(user: String, client: String?, now: Date = Date()) async -> Int? {
        let keys = keys(user: user, client: client)
        var until = keys.compactMap { records[$0]?.lockedUntil }.max() ?? .distantPast
        if let shared, let sharedUntil = try? await shared.lockedUntil(keys: keys) { until = max(until, sharedUntil) }
        guard until > now else { return nil }
        return max(1, Int(until.timeIntervalSince(now).rounded(.up)))
    }

    func recordFailure(user: String, client: String?, now: Date = Date()) async {
        if records.count > 10_000 { forgetOld(now: now) }
        for key in keys(user: user, client: client) {
            var record = records[key] ?? Record()
            if now.timeIntervalSince(record.lastFailure) > policy.forgetAfterSeconds { record = Record() }
            record.failures += 1
            record.lastFailure = now
            if let lockout = lockout(failures: record.failures) { record.lockedUntil = now.addingTimeInterval(lockout) }
            records[key] = record
            // Every replica's failures, counted in one statement each.
            let forgetBefore = now.addingTimeInterval(-policy.forgetAfterSeconds)
            if let shared, let failures = try? await shared.recordFailure(key: key, now: now, forgetBefore: forgetBefore),
               let lockout = lockout(failures: failures) {
                try? await shared.lock(key: key, until: now.addingTimeInterval(lockout))
            }
        }
        sharedFailures += 1
        if let shared, sharedFailures % 1000 == 0 { try? await shared.forget(before: now.addingTimeInterval(-policy.forgetAfterSeconds)) }
    }

    /// The lockout after this many failures in a row, nil while they are free.
    private func lockout(failures: Int) -> TimeInterval? {
        let over = failures - policy.freeFailures
        guard over >= 0 else { return nil }
        return min(policy.maximumLockoutSeconds, policy.firstLockoutSeconds * pow(2, Double(min(over, 30))))
    }

    /// Clears the user's record only. The address keeps its count: otherwise one valid account would let an
    /// attacker reset it between guesses and try one password across many user names without limit.
    func recordSuccess(user: String, client: String?) async {
        records["user:" + user.lowercased()] = nil
        try? await shared?.clear(key: "user:" + user.lowercased())
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
