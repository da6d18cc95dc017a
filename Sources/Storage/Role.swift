/// What a signed-in user or an API token may do: viewers classify and read the history; admins also manage
/// streams, users and tokens.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case viewer
    case admin

    /// Whether this role includes everything `other` may do.
    public func includes(_ other: Role) -> Bool { self >= other }

    public static func < (lhs: Role, rhs: Role) -> Bool {
        switch (lhs, rhs) {
        case (.viewer, .admin): true
        default: false
        }
    }
}
