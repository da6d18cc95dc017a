import ArgumentParser

struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the users who may sign in to `resnet18 serve` (admins and viewers).",
        discussion: """
            Users live in the service's database (--db, the same as serve's). Passwords are read from a prompt that \
            does not echo, or from stdin with --password-stdin; never from the command line. Once a user exists, \
            serve asks for a login (and an open loopback server turns login on within a second).
            """,
        subcommands: [UserAdd.self, UserRemove.self, UserList.self, UserPasswd.self])
}
