import Foundation
import Storage

/// Passwords, sessions and API tokens over the credential store: what the login routes and the middleware ask.
struct CredentialService: Sendable {
    let store: any CredentialStore
    let hasher: PasswordHasher
    let sessionLifetimeSeconds: Int
    /// Checked when the user name is unknown, so that an unknown name takes as long as a wrong password.
    private let decoyHash: String

    init(store: any CredentialStore, hasher: PasswordHasher, sessionLifetimeSeconds: Int) {
        self.store = store
        self.hasher = hasher
        self.sessionLifetimeSeconds = sessionLifetimeSeconds
        self.decoyHash = hasher.hashNow("decoy-password-\(SecretToken.identifier())")
    }

    /// The user whose password this is, or nil.
    func user(named name: String, password: String) async throws -> UserAccount? {
        guard let user = try await store.user(named: name) else {
            _ = try await hasher.verify(password, hash: decoyHash)
            return nil
        }
        return try await hasher.verify(password, hash: user.passwordHash) ? user : nil
    }

    /// A new server-side session; answers the cookie's secret (never stored) and the record.
    func startSession(for user: UserAccount, now: Date = Date()) async throws -> (secret: String, session: SessionRecord) {
        try await store.deleteExpiredSessions(now: now)
        let secret = SecretToken.make()
        let session = SessionRecord(idHash: SecretToken.hash(secret), userName: user.name, role: user.role,
                                    csrfToken: SecretToken.make(), createdAt: now,
                                    expiresAt: now.addingTimeInterval(TimeInterval(sessionLifetimeSeconds)))
        try await store.insertSession(session)
        return (secret, session)
    }

    /// The live session for a cookie's secret, or nil when unknown or expired.
    func session(secret: String, now: Date = Date()) async throws -> SessionRecord? {
        guard let session = try await store.session(idHash: SecretToken.hash(secret)), session.expiresAt > now else { return nil }
        return session
    }

    func endSession(secret: String) async throws {
        try await store.deleteSession(idHash: SecretToken.hash(secret))
    }

    /// The active token for a bearer secret, or nil when unknown, revoked or expired.
    func token(secret: String, now: Date = Date()) async throws -> APITokenRecord? {
        guard let token = try await store.token(secretHash: SecretToken.hash(secret)), token.isActive(at: now) else { return nil }
        return token
    }

    /// A new API token; the secret is answered once and only its hash is stored.
    func makeToken(name: String, role: Role, createdBy: String, expiresInDays: Int?, now: Date = Date()) async throws
        -> (secret: String, token: APITokenRecord)
    {
        let secret = SecretToken.make(prefix: "r18_")
        let token = APITokenRecord(id: SecretToken.identifier(), name: name, role: role, secretHash: SecretToken.hash(secret),
                                   createdBy: createdBy, createdAt: now,
                                   expiresAt: expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86_400) })
        try await store.insertToken(token)
        return (secret, token)
    }
}
