import ArgumentParser
import Server
import Storage

struct UserPasswd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "passwd", abstract: "Set a user's password and end their sessions.")

    @Argument(help: "User name.")
    var name: String

    @Flag(help: "Read the new password from the first line of stdin instead of asking for it.")
    var passwordStdin = false

    @Option(help: "bcrypt cost (log2 of the rounds).")
    var bcryptCost: UInt8 = PasswordHasher.defaultCost

    @OptionGroup var database: UserDatabaseOptions

    func run() async throws {
        let hasher = try PasswordHasher(cost: bcryptCost)
        try await database.withStore { store in
            guard try await store.user(named: name) != nil else {
                throw UserCommandError.noSuchUser(name)
            }
            let password = try PasswordInput.read(fromStdin: passwordStdin, confirm: true, prompt: "New password for \(name): ")
            guard try await store.setPasswordHash(try await hasher.hash(password), forUser: name) else {
                throw UserCommandError.noSuchUser(name)
            }
        }
        print("password of \(name) changed; their sessions have ended")
    }
}
