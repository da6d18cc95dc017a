import ArgumentParser
import Foundation
import Storage

struct UserList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the users and their roles.")

    @Flag(help: "One JSON object per line: name, role, created.")
    var json = false

    @OptionGroup var database: UserDatabaseOptions

    func run() async throws {
        let users = try await database.withStore { try await $0.users() }
        let formatter = ISO8601DateFormatter()
        for user in users {
            let created = formatter.string(from: user.createdAt)
            if json {
                let object = ["name": user.name, "role": user.role.rawValue, "created": created]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("\(user.name.padding(toLength: max(20, user.name.count), withPad: " ", startingAt: 0)) \(user.role.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) added \(created)")
            }
        }
        if users.isEmpty && !json {
            printError("no users: serve runs open on loopback and refuses other addresses; add one with `resnet18 user add NAME --role admin`")
        }
    }
}
