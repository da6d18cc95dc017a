import Foundation

/// A signed-in browser, kept server-side so it survives restarts and is seen by every replica. The cookie holds a
/// random secret; only its SHA-256 is stored (`idHash`), so a copy of the database does not give live sessions.
public struct SessionRecord: Sendable, Equatable {
    /// Hex SHA-256 of the cookie's secret.
    public var idHash: String
    public var userName: String
    /// The user's role, read with the session (a role change or a removal applies to live sessions at once).
    public var role: Role
    /// The token forms and the page's script must echo on every state-changing request.
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(idHash: String, userName: String, role: Role, csrfToken: String, createdAt: Date, expiresAt: Date) {
        self.idHash = idHash
        self.userName = userName
        self.role = role
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
