import Storage

/// Who makes the current request, as `AuthenticationMiddleware` found out: a signed-in user, an API token, or
/// anyone at all when the service runs open. Routes read it as `Caller.current` (a task-local value, so route
/// signatures stay `Router<BasicRequestContext>`), e.g. to record who classified an image.
struct Caller: Sendable, Equatable {
    enum Credential: Sendable, Equatable {
        /// The service runs open (loopback with no users, or `--no-auth`): everyone may do everything.
        case open
        case session(SessionRecord)
        case token(APITokenRecord)
    }

    let credential: Credential

    /// The user's name, `token:NAME` for an API token, `anonymous` when the service is open.
    var name: String {
        switch credential {
        case .open: "anonymous"
        case let .session(session): session.userName
        case let .token(token): "token:\(token.name)"
        }
    }

    /// The name the history records: nil while the service runs open (nobody signed in).
    var recordedName: String? {
        credential == .open ? nil : name
    }

    var role: Role {
        switch credential {
        case .open: .admin
        case let .session(session): session.role
        case let .token(token): token.role
        }
    }

    @TaskLocal static var current: Caller?
}
