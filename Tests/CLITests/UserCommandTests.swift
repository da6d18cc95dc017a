import Foundation
import Storage
import Testing
import TestSupport

/// `resnet18 user add|remove|list|passwd` on a real database, as an operator runs them.
@Suite(.serialized, .ownThread) struct UserCommandTests {
    /// Runs the tool with `input` on stdin (not a terminal).
    static func run(_ arguments: [String], input: String? = nil) async throws -> Command.Outcome {
        try await offThePool { try runBlocking(arguments, input: input) }
    }

    private static func runBlocking(_ arguments: [String], input: String?) throws -> Command.Outcome {
        let process = Process()
        process.executableURL = Command.binary
        process.arguments = arguments
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        nonisolated(unsafe) var errorData = Data()
        let reader = Thread { errorData = errors.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning || !reader.isFinished { usleep(5_000) }
        return Command.Outcome(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                               stderr: String(decoding: errorData, as: UTF8.self))
    }

    /// A SQLite file or a fresh PostgreSQL database for one test.
    static func withDatabase(_ backend: TestDatabases.Backend, _ body: (String) async throws -> Void) async throws {
        let (location, cleanup) = try await TestDatabases.freshLocation(backend)
        let argument: String
        switch location {
        case let .sqlite(path): argument = path
        case let .postgres(settings):
            var url = "postgres://\(settings.username)"
            if let password = settings.password { url += ":" + (password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password) }
            url += "@\(settings.host.isEmpty ? "localhost" : settings.host):\(settings.port)/\(settings.database)?sslmode=\(settings.sslMode.rawValue)"
            if let socket = settings.unixSocketPath { url += "&host=" + (socket as NSString).deletingLastPathComponent }
            argument = url
        case .none: argument = "none"
        }
        do {
            try await body(argument)
            await cleanup()
        } catch {
            await cleanup()
            throw error
        }
    }

    @Test("add, list, passwd and remove, with the password on stdin", arguments: TestDatabases.backends)
    func lifecycle(backend: TestDatabases.Backend) async throws {
        try await Self.withDatabase(backend) { db in
            let add = try await Self.run(["user", "add", "ada", "--role", "admin", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: "correct horse\n")
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("added admin ada"))
            #expect(try await Self.run(["user", "add", "vic", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: "battery staple\n").status == 0)

            let list = try await Self.run(["user", "list", "--json", "--db", db])
            #expect(list.status == 0)
            let users = try Command.jsonLines(list.stdout)
            #expect(users.map { $0["name"] as? String } == ["ada", "vic"])
            #expect(users.map { $0["role"] as? String } == ["admin", "viewer"])
            #expect(!list.stdout.contains("$2"), "hashes are never printed")

            // The hash is bcrypt of what was typed, at the asked cost.
            let database = try await Database.open(try DatabaseLocation(argument: db))
            let hash = try #require(try await DatabaseCredentialStore(database: database).user(named: "ada")?.passwordHash)
            #expect(hash.hasPrefix("$2b$04$"))
            #expect(!hash.contains("correct horse"))

            let duplicate = try await Self.run(["user", "add", "ada", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: "another one\n")
            #expect(duplicate.status != 0)
            #expect(duplicate.stderr.contains("already exists"))

            let passwd = try await Self.run(["user", "passwd", "ada", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: "new horse battery\n")
            #expect(passwd.status == 0, "\(passwd.stderr)")
            let changed = try #require(try await DatabaseCredentialStore(database: database).user(named: "ada")?.passwordHash)
            #expect(changed != hash)
            await database.close()

            let lastAdmin = try await Self.run(["user", "remove", "ada", "--db", db])
            #expect(lastAdmin.status != 0)
            #expect(lastAdmin.stderr.contains("last admin"))
            #expect(try await Self.run(["user", "remove", "vic", "--db", db]).status == 0)
            #expect(try await Self.run(["user", "remove", "ada", "--db", db]).status == 0)
            let missing = try await Self.run(["user", "remove", "ada", "--db", db])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("there is no user ada"))
            #expect(try await Self.run(["user", "list", "--json", "--db", db]).stdout.isEmpty)
        }
    }

    @Test("Passwords never come from argv; without a terminal --password-stdin is required; weak ones are refused")
    func passwordSources() async throws {
        try await Self.withDatabase(.sqlite) { db in
            let argv = try await Self.run(["user", "add", "ada", "--password", "secret-secret", "--db", db])
            #expect(argv.status != 0)
            #expect(argv.stderr.contains("--password"))
            let noTerminal = try await Self.run(["user", "add", "ada", "--db", db], input: "secret-secret\n")
            #expect(noTerminal.status != 0)
            #expect(noTerminal.stderr.contains("--password-stdin"))
            let short = try await Self.run(["user", "add", "ada", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: "short\n")
            #expect(short.status != 0)
            #expect(short.stderr.contains("at least 8 characters"))
            let long = try await Self.run(["user", "add", "ada", "--password-stdin", "--bcrypt-cost", "4", "--db", db], input: String(repeating: "x", count: 80) + "\n")
            #expect(long.status != 0)
            #expect(long.stderr.contains("at most 72 bytes"))
            let badName = try await Self.run(["user", "add", "a b", "--password-stdin", "--db", db], input: "secret-secret\n")
            #expect(badName.status != 0)
            #expect(try await Self.run(["user", "list", "--json", "--db", db]).stdout.isEmpty, "nothing was added")
        }
    }

    @Test("serve refuses 0.0.0.0 without users, saying to run `resnet18 user add`")
    func serveRefusesWithoutUsers() async throws {
        try await Self.withDatabase(.sqlite) { db in
            let serve = try await Self.run(["serve", "--host", "0.0.0.0", "--port", "0", "--db", db, "--weights", Fixtures.seededPth.path])
            #expect(serve.status != 0)
            #expect(serve.stderr.contains("resnet18 user add"))
            #expect(serve.stderr.contains("--no-auth"))
        }
    }

    @Test("serve adds the first admin from RESNET18_ADMIN_USER and a password file, only while the database has no user; a missing password refuses to start")
    func firstAdminFromEnvironment() async throws {
        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("users.sqlite").path
        let secret = folder.appendingPathComponent("admin-password").path
        try "correct horse battery\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let environment = ["RESNET18_ADMIN_USER": "ada", "RESNET18_ADMIN_PASSWORD_FILE": secret]
        let first = try await ServeProcess.start(["--db", db, "--bcrypt-cost", "4"], environment: environment)
        #expect(first.printed.contains("added admin ada from RESNET18_ADMIN_USER"), "\(first.printed)")
        #expect(!first.printed.contains("correct horse"))
        first.stop()
        let list = try await Self.run(["user", "list", "--json", "--db", db])
        #expect(list.stdout.contains("\"ada\"") && list.stdout.contains("admin"), "\(list.stdout)")

        // A second start with another password changes nothing.
        try "another password 1\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let second = try await ServeProcess.start(["--db", db, "--bcrypt-cost", "4"], environment: environment)
        #expect(!second.printed.contains("added admin"), "\(second.printed)")
        second.stop()

        let missing = try await Command.run(["serve", "--port", "0", "--db", folder.appendingPathComponent("other.sqlite").path],
                                            environment: ["RESNET18_ADMIN_USER": "ada"])
        #expect(missing.status != 0 && missing.stderr.contains("RESNET18_ADMIN_PASSWORD_FILE"), "\(missing.stderr)")
    }
}
