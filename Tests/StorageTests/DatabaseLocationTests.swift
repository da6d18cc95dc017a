import Testing
@testable import Storage

@Suite struct DatabaseLocationTests {
    @Test func aPathIsSQLite() throws {
        #expect(try DatabaseLocation(argument: "/var/lib/resnet18/history.sqlite") == .sqlite(path: "/var/lib/resnet18/history.sqlite"))
        #expect(try DatabaseLocation(argument: "history.sqlite") == .sqlite(path: "history.sqlite"))
    }

    @Test func noneTurnsHistoryOff() throws {
        #expect(try DatabaseLocation(argument: "none") == DatabaseLocation.none)
        #expect(try DatabaseLocation(argument: "NONE") == DatabaseLocation.none)
    }

    @Test func aPostgresURLGivesEveryPart() throws {
        let location = try DatabaseLocation(argument: "postgres://app:s%40cret@db.example:6543/monitoring?sslmode=require")
        guard case let .postgres(settings) = location else { Issue.record("not postgres: \(location)"); return }
        #expect(settings.username == "app")
        #expect(settings.password == "s@cret")
        #expect(settings.host == "db.example")
        #expect(settings.port == 6543)
        #expect(settings.database == "monitoring")
        #expect(settings.sslMode == .require)
        #expect(settings.unixSocketPath == nil)
    }

    @Test func aPostgresURLDefaultsPortAndTLS() throws {
        guard case let .postgres(settings) = try DatabaseLocation(argument: "postgresql://app@localhost/history") else {
            Issue.record("not postgres"); return
        }
        #expect(settings.port == 5432)
        #expect(settings.sslMode == .prefer)
        #expect(settings.password == nil)
    }

    @Test func aSocketDirectoryInHostNamesTheSocketFile() throws {
        guard case let .postgres(settings) = try DatabaseLocation(argument: "postgres://postgres@localhost:5999/x?host=/tmp/pg") else {
            Issue.record("not postgres"); return
        }
        #expect(settings.unixSocketPath == "/tmp/pg/.s.PGSQL.5999")
    }

    @Test func theDescriptionNeverShowsThePassword() throws {
        let location = try DatabaseLocation(argument: "postgres://app:topsecret@db:5432/h")
        #expect(!location.description.contains("topsecret"))
        #expect(location.description.contains("***"))
    }

    @Test(arguments: [
        ("postgres://db.example/history", "names no user"),
        ("postgres://app@db.example", "names no database"),
        ("postgres://app@db.example:99999/h", "port"),
        ("postgres://app@db.example/h?sslmode=maybe", "sslmode maybe"),
        ("mysql://app@db/h", "only postgres://"),
        ("", "empty"),
        ("/var/lib/resnet18/", "names a directory"),
    ])
    func badLocationsSayWhatToDo(argument: String, expected: String) {
        #expect {
            _ = try DatabaseLocation(argument: argument)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func theDefaultIsInTheUsersDataDirectory() {
        #expect(DatabaseLocation.defaultSQLite(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/u"])
            == .sqlite(path: "/data/resnet18/history.sqlite"))
        #expect(DatabaseLocation.defaultSQLite(environment: ["HOME": "/home/u"])
            == .sqlite(path: "/home/u/.local/share/resnet18/history.sqlite"))
    }
}
