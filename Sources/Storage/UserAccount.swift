import Foundation

/// A person who may sign in: a unique name, a role and a bcrypt hash of the password (never the password).
public struct UserAccount: Sendable, Equatable {
    public var name: String
    public var role: Role
    public var passwordHash: String
    public var createdAt: Date

    public init(name: String, role: Role, passwordHash: String, createdAt: Date = Date()) {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
    }
}
