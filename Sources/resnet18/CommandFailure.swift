/// A command that cannot go on, said in one line (`Error: ...`, exit status 1), without the usage text that a
/// `ValidationError` adds: for problems with what the arguments name (a missing folder), not with the arguments.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
