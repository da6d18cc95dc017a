extension Migration {
    /// The streams added through the API, kept so that they come back after a restart: each one's whole request as
    /// JSON (the camera's credentials and the webhook's secret included: the database is as private as the
    /// service's own files), whether it runs, and when it was added and last changed.
    public static let streams = Migration(id: "2026-12-05 streams") { d in
        [
            """
            CREATE TABLE streams (
                name \(d.text) PRIMARY KEY NOT NULL,
                request_json \(d.text) NOT NULL,
                enabled \(d.integer) NOT NULL,
                created_at_ms \(d.integer) NOT NULL,
                updated_at_ms \(d.integer) NOT NULL
            )
            """,
        ]
    }

    /// Each history row's 512 features, int8 with a scale (516 bytes), for "find frames like this one".
    public static let embeddings = Migration(id: "2026-12-05 embeddings") { d in
        ["ALTER TABLE recognitions ADD COLUMN embedding \(d.blob)"]
    }
}
