import Foundation
import Server

/// Reads a password from stdin (`--password-stdin`: the first line) or from the terminal without echo.
/// Never from the command line, where other users would see it in `ps` and shell history would keep it.
enum PasswordInput {
    static func read(fromStdin: Bool, confirm: Bool, prompt: String = "Password: ") throws -> String {
        let password: String
        if fromStdin {
            guard let line = Swift.readLine(strippingNewline: true) else {
                throw UserCommandError.password("--password-stdin: stdin is empty; pipe the password in, e.g. `printf %s \"$PW\" | resnet18 user add ...`")
            }
            password = line.hasSuffix("\r") ? String(line.dropLast()) : line
        } else {
            guard isatty(STDIN_FILENO) != 0 else {
                throw UserCommandError.password("stdin is not a terminal, so no password can be asked: pass --password-stdin and pipe it in")
            }
            password = try readHidden(prompt)
            if confirm, try readHidden("Again: ") != password { throw PasswordError.mismatch }
        }
        try PasswordHasher.validate(password)
        return password
    }

    /// One line from the terminal with echo off (restored even when reading fails).
    private static func readHidden(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = Swift.readLine(strippingNewline: true) else { throw UserCommandError.password("no password was typed") }
        return line
    }
}
