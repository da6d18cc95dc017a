import Foundation
import Server
import Storage

/// The first admin of a fresh database from the environment, for containers and orchestrators that cannot run
/// `resnet18 user add` before the service: `RESNET18_ADMIN_USER` with `RESNET18_ADMIN_PASSWORD_FILE` (a mounted
/// secret) or `RESNET18_ADMIN_PASSWORD`. Only while the database has no user: a later start changes nothing, so
/// the variables cannot reset a password someone changed. There is no default password.
enum FirstAdmin {
    static func createIfAsked(in store: DatabaseCredentialStore, bcryptCost: UInt8, say: (String) -> Void,
                              environment: [String: String] = ProcessInfo.processInfo.environment) async throws {
        guard let name = environment["RESNET18_ADMIN_USER"], !name.isEmpty else { return }
        let password: String
        if let file = environment["RESNET18_ADMIN_PASSWORD_FILE"], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CommandFailure("RESNET18_ADMIN_PASSWORD_FILE: \(file) cannot be read")
            }
            password = text.trimmingCharacters(in: .newlines)
        } else if let text = environment["RESNET18_ADMIN_PASSWORD"], !text.isEmpty {
            password = text
        } else {
            throw CommandFailure("RESNET18_ADMIN_USER is set without RESNET18_ADMIN_PASSWORD_FILE or RESNET18_ADMIN_PASSWORD: give the first admin's password (a mounted secret file is best)")
        }
        do {
            try UserName.validate(name)
            try PasswordHasher.validate(password)
        } catch {
            throw CommandFailure("RESNET18_ADMIN_USER / password: \(error)")
        }
        guard try await store.userCount() == 0 else { return }
        let hash = try await PasswordHasher(cost: bcryptCost).hash(password)
        try await store.addUser(UserAccount(name: name, role: .admin, passwordHash: hash))
        say("added admin \(name) from RESNET18_ADMIN_USER (the database had no user)")
    }
}
