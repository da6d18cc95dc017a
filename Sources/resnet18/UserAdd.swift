import ArgumentParser
import Server
import Storage

struct UserAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a user who may sign in.")

    @Argument(help: "User name: letters, digits, . _ - @ (at most 64).")
    var name: String

    @Option(help: "admin (also manages streams, users and tokens) or viewer (classifies and reads the history).")
    var role: Role = .viewer

    @Flag(help: "Read the password from the first line of stdin instead of asking for it.")
    var passwordStdin = false

    @Option(help: "bcrypt cost (log2 of the rounds): 12 takes about a quarter of a second per login.")
    var bcryptCost: UInt8 = PasswordHasher.defaultCost

    @OptionGroup var database: UserDatabaseOptions

    func validate() throws {
        try UserName.validate(name)
    }

    func run() async throws {
        let hasher = try PasswordHasher(cost: bcryptCost)
        let password = try PasswordInput.read(fromStdin: passwordStdin, confirm: true)
        let hash = try await hasher.hash(password)
        try await database.withStore { store in
            try await store.addUser(UserAccount(name: name, role: role, passwordHash: hash))
        }
        // Which database: serve reads only the one given to its own --db (or RESNET18_DB).
        print("added \(role.rawValue) \(name) to \(try database.resolved())")
    }
}

extension Role: ExpressibleByArgument {}

/// The rule for user names: short, and safe in logs, URLs and HTML.
enum UserName {
    static func validate(_ name: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
        guard (1...64).contains(name.count), name.allSatisfy(allowed.contains) else {
            throw ValidationError("user name \"\(name)\" must be 1 to 64 letters, digits, '.', '_', '-' or '@'")
        }
    }
}
