import Foundation

/// `CredentialStore` in resnet18's database (the tables of `Migration.credentials`), on SQLite or PostgreSQL.
public struct DatabaseCredentialStore: CredentialStore {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func userCount() async throws -> Int {
        let rows = try await database.read(SQLStatement("SELECT COUNT(*) AS n FROM users"))
        return Int(try rows.first?.int64("n") ?? 0)
    }

    public func users() async throws -> [UserAccount] {
        try await database.read(SQLStatement("SELECT name, role, password_hash, created_at_ms FROM users ORDER BY name"))
            .map(Self.user)
    }

    public func user(named name: String) async throws -> UserAccount? {
        try await database.read(SQLStatement("SELECT name, role, password_hash, created_at_ms FROM users WHERE name = ?", [.text(name)]))
            .first.map(Self.user)
    }

    public func addUser(_ user: UserAccount) async throws {
        let rows = try await database.write(SQLStatement(
            "INSERT INTO users (name, role, password_hash, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING name",
            [.text(user.name), .text(user.role.rawValue), .text(user.passwordHash), .integer(Self.milliseconds(user.createdAt))]))
        if rows.isEmpty { throw CredentialStoreError.userExists(user.name) }
    }

    public func setPasswordHash(_ hash: String, forUser name: String) async throws -> Bool {
        let results = try await database.writeTransaction([
            SQLStatement("UPDATE users SET password_hash = ? WHERE name = ? RETURNING name", [.text(hash), .text(name)]),
            // A new password ends every session of the old one.
            SQLStatement("DELETE FROM sessions WHERE user_name = ?", [.text(name)]),
        ])
        return !results[0].isEmpty
    }

    public func removeUser(named name: String) async throws -> Bool {
        let results = try await database.writeTransaction([
            SQLStatement("DELETE FROM sessions WHERE user_name = ?", [.text(name)]),
            SQLStatement("DELETE FROM users WHERE name = ? RETURNING name", [.text(name)]),
        ])
        return !results[1].isEmpty
    }

    public func insertSession(_ session: SessionRecord) async throws {
        try await database.write(SQLStatement(
            "INSERT INTO sessions (id_hash, user_name, csrf_token, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
            [.text(session.idHash), .text(session.userName), .text(session.csrfToken),
             .integer(Self.milliseconds(session.createdAt)), .integer(Self.milliseconds(session.expiresAt))]))
    }

    public func session(idHash: String) async throws -> SessionRecord? {
        let rows = try await database.read(SQLStatement("""
            SELECT s.id_hash AS id_hash, s.user_name AS user_name, s.csrf_token AS csrf_token, s.created_at_ms AS created_at_ms,
                   s.expires_at_ms AS expires_at_ms, u.role AS role
            FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.id_hash = ?
            """, [.text(idHash)]))
        guard let row = rows.first else { return nil }
        return SessionRecord(idHash: try row.string("id_hash"), userName: try row.string("user_name"), role: try Self.role(row),
                             csrfToken: try row.string("csrf_token"), createdAt: Self.date(try row.int64("created_at_ms")),
                             expiresAt: Self.date(try row.int64("expires_at_ms")))
    }

    public func deleteSession(idHash: String) async throws {
        try await database.write(SQLStatement("DELETE FROM sessions WHERE id_hash = ?", [.text(idHash)]))
    }

    public func deleteSessions(ofUser name: String) async throws {
        try await database.write(SQLStatement("DELETE FROM sessions WHERE user_name = ?", [.text(name)]))
    }

    @discardableResult
    public func deleteExpiredSessions(now: Date) async throws -> Int {
        try await database.write(SQLStatement("DELETE FROM sessions WHERE expires_at_ms <= ? RETURNING id_hash",
                                              [.integer(Self.milliseconds(now))])).count
    }

    public func insertToken(_ token: APITokenRecord) async throws {
        try await database.write(SQLStatement("""
            INSERT INTO api_tokens (id, name, role, secret_hash, created_by, created_at_ms, expires_at_ms, revoked_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(token.id), .text(token.name), .text(token.role.rawValue), .text(token.secretHash), .text(token.createdBy),
                  .integer(Self.milliseconds(token.createdAt)), Self.optionalMilliseconds(token.expiresAt),
                  Self.optionalMilliseconds(token.revokedAt)]))
    }

    public func token(secretHash: String) async throws -> APITokenRecord? {
        try await database.read(SQLStatement("SELECT \(Self.tokenColumns) FROM api_tokens WHERE secret_hash = ?", [.text(secretHash)]))
            .first.map(Self.token)
    }

    public func tokens() async throws -> [APITokenRecord] {
        try await database.read(SQLStatement("SELECT \(Self.tokenColumns) FROM api_tokens ORDER BY created_at_ms, id")).map(Self.token)
    }

    public func revokeToken(id: String, now: Date) async throws -> Bool {
        !(try await database.write(SQLStatement(
            "UPDATE api_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL RETURNING id",
            [.integer(Self.milliseconds(now)), .text(id)])).isEmpty)
    }

    private static let tokenColumns = "id, name, role, secret_hash, created_by, created_at_ms, expires_at_ms, revoked_at_ms"

    private static func user(_ row: SQLRow) throws(StorageError) -> UserAccount {
        UserAccount(name: try row.string("name"), role: try role(row), passwordHash: try row.string("password_hash"),
                    createdAt: date(try row.int64("created_at_ms")))
    }

    private static func token(_ row: SQLRow) throws(StorageError) -> APITokenRecord {
        APITokenRecord(id: try row.string("id"), name: try row.string("name"), role: try role(row),
                       secretHash: try row.string("secret_hash"), createdBy: try row.string("created_by"),
                       createdAt: date(try row.int64("created_at_ms")),
                       expiresAt: row.optionalInt64("expires_at_ms").map(date), revokedAt: row.optionalInt64("revoked_at_ms").map(date))
    }

    private static func role(_ row: SQLRow) throws(StorageError) -> Role {
        let text = try row.string("role")
        guard let role = Role(rawValue: text) else { throw .unexpectedRow("role \(text) is neither admin nor viewer") }
        return role
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    private static func optionalMilliseconds(_ date: Date?) -> SQLValue { date.map { .integer(milliseconds($0)) } ?? .null }
    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
