import Foundation

/// Users, sessions and API tokens, in the service's database (SQLite or PostgreSQL, the same tables).
public protocol CredentialStore: Sendable {
    func userCount() async throws -> Int
    func users() async throws -> [UserAccount]
    func user(named name: String) async throws -> UserAccount?
    /// Adds a user; throws `CredentialStoreError.userExists` when the name is taken.
    func addUser(_ user: UserAccount) async throws
    /// Replaces a user's password hash; false when there is no such user.
    func setPasswordHash(_ hash: String, forUser name: String) async throws -> Bool
    /// Removes a user with their sessions; false when there is no such user.
    func removeUser(named name: String) async throws -> Bool

    func insertSession(_ session: SessionRecord) async throws
    /// The session with this id hash, with its user's current role; nil when unknown or its user is gone.
    func session(idHash: String) async throws -> SessionRecord?
    func deleteSession(idHash: String) async throws
    func deleteSessions(ofUser name: String) async throws
    /// Forgets sessions that expired before `now`; answers how many.
    @discardableResult func deleteExpiredSessions(now: Date) async throws -> Int

    func insertToken(_ token: APITokenRecord) async throws
    func token(secretHash: String) async throws -> APITokenRecord?
    func tokens() async throws -> [APITokenRecord]
    /// Marks a token revoked at `now`; false when there is no such token (or it was already revoked).
    func revokeToken(id: String, now: Date) async throws -> Bool
}

/// Why a credential change was refused.
public enum CredentialStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    case userExists(String)

    public var description: String {
        switch self {
        case let .userExists(name): "a user named \(name) already exists: pick another name, or change the password with `resnet18 user passwd \(name)`"
        }
    }
}
