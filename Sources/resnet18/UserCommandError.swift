/// Why a `resnet18 user` command did nothing.
enum UserCommandError: Error, CustomStringConvertible {
    case noSuchUser(String)
    case lastAdmin(String)
    case noDatabase
    /// No password could be read.
    case password(String)

    var description: String {
        switch self {
        case let .noSuchUser(name): "there is no user \(name): `resnet18 user list` shows them"
        case let .lastAdmin(name): "\(name) is the last admin: add another admin first, or pass --force"
        case let .password(message): message
        case .noDatabase: "users are kept in the database: --db none has none (give a SQLite path or a postgres:// URL)"
        }
    }
}
