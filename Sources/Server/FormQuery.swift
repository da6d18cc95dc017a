import Foundation
import Hummingbird

extension Request {
    /// The query string's parameters decoded as browsers encode them (`application/x-www-form-urlencoded`, what
    /// `URLSearchParams` and HTML forms send): `+` is a space and `%XX` a byte, in names and values. Hummingbird's
    /// `queryParameters` leaves `+` as it is, so a page asking for `label=hand-held+computer` found nothing.
    var formParameters: Parameters {
        guard let query = uri.query, !query.isEmpty else { return .init() }
        return .init(query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.formDecoded(parts[0])[...], Self.formDecoded(parts.count > 1 ? parts[1] : "")[...])
        })
    }

    /// `+` as a space, then percent-decoding; text that is not valid percent-encoded UTF-8 is kept as sent.
    static func formDecoded(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
