import HummingbirdBcrypt
import NIOPosix

/// bcrypt (hummingbird-auth) with a chosen cost, plus the rules a new password must meet. Hashing and checking
/// run on NIO's thread pool: a cost-12 hash takes a quarter of a second and must not hold a request thread.
public struct PasswordHasher: Sendable {
    /// log2 of bcrypt's rounds; 12 by default, as OWASP suggests. Tests use the minimum, 4.
    public let cost: UInt8

    public static let defaultCost: UInt8 = 12
    /// bcrypt reads at most 72 bytes: longer passwords are refused rather than silently cut.
    public static let maximumBytes = 72
    public static let minimumCharacters = 8

    public init(cost: UInt8 = PasswordHasher.defaultCost) throws(PasswordError) {
        guard (4...31).contains(cost) else { throw .badCost(Int(cost)) }
        self.cost = cost
    }

    /// For a cost `ServerConfiguration.validate` has checked already.
    init(validatedCost cost: UInt8) {
        self.cost = min(31, max(4, cost))
    }

    /// Checks the rules for a new password.
    public static func validate(_ password: String) throws(PasswordError) {
        guard password.count >= minimumCharacters else { throw .tooShort }
        guard password.utf8.count <= maximumBytes else { throw .tooLong }
    }

    /// The bcrypt hash (`$2b$...`) of a password that passed `validate`.
    public func hash(_ password: String) async throws -> String {
        try Self.validate(password)
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// The hash, computed on this thread (for start-up, not for requests).
    func hashNow(_ password: String) -> String {
        Bcrypt.hash(password, cost: cost)
    }

    /// Whether `password` matches `hash` (any cost). A malformed hash never matches.
    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}

/// Why a password cannot be used.
public enum PasswordError: Error, CustomStringConvertible, Sendable {
    case tooShort
    case tooLong
    case badCost(Int)
    case mismatch

    public var description: String {
        switch self {
        case .tooShort: "the password must have at least \(PasswordHasher.minimumCharacters) characters"
        case .tooLong: "the password must be at most \(PasswordHasher.maximumBytes) bytes (bcrypt ignores the rest): choose a shorter one"
        case let .badCost(cost): "--bcrypt-cost must be between 4 and 31, not \(cost) (12 is a good default)"
        case .mismatch: "the two passwords differ: nothing was changed"
        }
    }
}
