import ArgumentParser
import Storage

struct UserRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a user and end their sessions.")

    @Argument(help: "User name.")
    var name: String

    @Flag(help: "Remove the last admin even though other users remain (nobody could then manage tokens or streams).")
    var force = false

    @OptionGroup var database: UserDatabaseOptions

    func run() async throws {
        try await database.withStore { store in
            let users = try await store.users()
            guard let user = users.first(where: { $0.name == name }) else {
                throw UserCommandError.noSuchUser(name)
            }
            let admins = users.filter { $0.role == .admin }
            if user.role == .admin, admins.count == 1, users.count > 1, !force {
                throw UserCommandError.lastAdmin(name)
            }
            _ = try await store.removeUser(named: name)
        }
        print("removed \(name)")
    }
}
