import Foundation

/// An API token an admin made for a program (`Authorization: Bearer ...`). Only the SHA-256 of the secret is
/// stored; the secret is shown once, when the token is made. Revoked tokens stay listed, marked, for the record.
public struct APITokenRecord: Sendable, Equatable {
    /// Public identifier, used to list and revoke the token (not a secret).
    public var id: String
    /// What the token is for, as its maker named it.
    public var name: String
    public var role: Role
    /// Hex SHA-256 of the secret.
    public var secretHash: String
    public var createdBy: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, name: String, role: Role, secretHash: String, createdBy: String, createdAt: Date,
                expiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.secretHash = secretHash
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Whether the token may be used at `now`.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}
