import ArgumentParser
import Foundation
import Storage

/// `--db` for the `user` commands: the same database as `serve --db`.
struct UserDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp(
        "The service's database: a SQLite file or a postgres:// URL, as given to serve.",
        discussion: "Default: RESNET18_DB, else history.sqlite in $XDG_DATA_HOME/resnet18 (else ~/.local/share/resnet18), as serve.",
        valueName: "path|url"))
    var location: String?

    /// The database these options name (`--db`, else RESNET18_DB, else the default SQLite file).
    func resolved() throws -> DatabaseLocation {
        let argument = location ?? ProcessInfo.processInfo.environment["RESNET18_DB"].flatMap { $0.isEmpty ? nil : $0 }
        return try argument.map { try DatabaseLocation(argument: $0) } ?? DatabaseLocation.defaultSQLite()
    }

    /// The database and its credential store; `body` runs with them, then the database is closed.
    func withStore<Value>(_ body: (DatabaseCredentialStore) async throws -> Value) async throws -> Value {
        let location = try resolved()
        if case .none = location {
            throw UserCommandError.noDatabase
        }
        let database = try await Database.open(location)
        do {
            let value = try await body(DatabaseCredentialStore(database: database))
            await database.close()
            return value
        } catch {
            await database.close()
            throw error
        }
    }
}
