import Foundation

/// Secrets inside URLs (a camera's `user:password@`, a webhook's `?token=`) masked for everything people and logs
/// see: API answers, events, status messages, log lines and pages. The whole URL stays with the process that needs
/// it (ffmpeg, the webhook client) and no one reads it back.
public enum Redaction {
    /// Query parameters whose values are credentials.
    static let secretParameters: Set<String> = [
        "token", "access_token", "auth", "key", "api_key", "apikey", "password", "passwd", "pass", "pwd", "secret",
        "signature", "sig", "code", "session", "credentials",
    ]

    static let mask = "***"

    /// `rtsp://user:***@host/path?token=***`: the password of the user part and secret query values masked.
    public static func url(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.scheme != nil else { return masked(in: text) }
        if components.password != nil { components.percentEncodedPassword = mask }
        if let items = components.percentEncodedQueryItems {
            components.percentEncodedQueryItems = items.map { item in
                secretParameters.contains(item.name.lowercased()) && item.value != nil ? URLQueryItem(name: item.name, value: mask) : item
            }
        }
        return components.string ?? masked(in: text)
    }

    /// Free text (ffmpeg's messages, errors) with every URL's password and secret query values masked, and each of
    /// `secrets` replaced wherever it appears.
    public static func masked(in text: String, secrets: [String] = []) -> String {
        var result = text
        for secret in secrets where secret.count >= 3 { result = result.replacingOccurrences(of: secret, with: mask) }
        // scheme://user:password@ → scheme://user:***@
        result = result.replacing(#/(?<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*):[^\s/@]*@/#) { "\($0.output.head):\(mask)@" }
        // name=value for secret names, in query strings and free text alike
        result = result.replacing(#/(?<name>[?&;\s][A-Za-z_]+)=(?<value>[^&\s'"]+)/#) { match in
            secretParameters.contains(match.output.name.dropFirst().lowercased())
                ? "\(match.output.name)=\(mask)" : String(match.output.0)
        }
        return result
    }

    /// The secret parts of a URL (its password, its secret query values), decoded and as written, for `masked(in:)`.
    public static func secrets(of text: String) -> [String] {
        guard let components = URLComponents(string: text) else { return [] }
        var found: [String] = []
        if let password = components.password, !password.isEmpty { found += [password] }
        if let encoded = components.percentEncodedPassword, !encoded.isEmpty { found += [encoded] }
        for item in components.queryItems ?? [] where secretParameters.contains(item.name.lowercased()) {
            if let value = item.value, !value.isEmpty { found += [value] }
        }
        return Array(Set(found)).sorted { $0.count > $1.count }
    }
}
