extension Migration {
    /// Users, their server-side sessions and API tokens (login and roles). Secrets are stored as SHA-256 hashes,
    /// passwords as bcrypt hashes.
    public static let credentials = Migration(id: "2026-11-25 credentials") { d in
        [
            """
            CREATE TABLE users (
                name \(d.text) PRIMARY KEY NOT NULL,
                role \(d.text) NOT NULL,
                password_hash \(d.text) NOT NULL,
                created_at_ms \(d.integer) NOT NULL
            )
            """,
            """
            CREATE TABLE sessions (
                id_hash \(d.text) PRIMARY KEY NOT NULL,
                user_name \(d.text) NOT NULL REFERENCES users (name) ON DELETE CASCADE,
                csrf_token \(d.text) NOT NULL,
                created_at_ms \(d.integer) NOT NULL,
                expires_at_ms \(d.integer) NOT NULL
            )
            """,
            "CREATE INDEX sessions_user ON sessions (user_name)",
            "CREATE INDEX sessions_expiry ON sessions (expires_at_ms)",
            """
            CREATE TABLE api_tokens (
                id \(d.text) PRIMARY KEY NOT NULL,
                name \(d.text) NOT NULL,
                role \(d.text) NOT NULL,
                secret_hash \(d.text) NOT NULL UNIQUE,
                created_by \(d.text) NOT NULL,
                created_at_ms \(d.integer) NOT NULL,
                expires_at_ms \(d.integer),
                revoked_at_ms \(d.integer)
            )
            """,
        ]
    }
}
