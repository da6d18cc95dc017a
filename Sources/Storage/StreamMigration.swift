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

    /// Heads taught from the page: each example's features (float32, little-endian: the image's 512, then its
    /// augmented variants' 512 each) and thumbnail under a head and category, so that training again needs no
    /// network run; and the heads trained from them, the active ones served after a restart too.
    public static let heads = Migration(id: "2026-12-05 heads") { d in
        [
            """
            CREATE TABLE head_examples (
                id \(d.autoincrementPrimaryKey),
                head \(d.text) NOT NULL,
                category \(d.text) NOT NULL,
                source \(d.text) NOT NULL,
                history_id \(d.integer),
                features \(d.blob) NOT NULL,
                thumbnail_jpeg \(d.blob),
                created_at_ms \(d.integer) NOT NULL
            )
            """,
            "CREATE INDEX head_examples_head ON head_examples (head, category)",
            """
            CREATE TABLE heads (
                name \(d.text) PRIMARY KEY NOT NULL,
                head_json \(d.text) NOT NULL,
                active \(d.integer) NOT NULL,
                updated_at_ms \(d.integer) NOT NULL
            )
            """,
        ]
    }

    /// Failed logins by user name and by client address (`user:NAME`, `client:ADDRESS`), so that every replica on
    /// one database counts the same failures and keeps the same lockouts.
    public static let loginFailures = Migration(id: "2026-12-05 login failures") { d in
        [
            """
            CREATE TABLE login_failures (
                throttle_key \(d.text) PRIMARY KEY NOT NULL,
                failures \(d.integer) NOT NULL,
                last_failure_ms \(d.integer) NOT NULL,
                locked_until_ms \(d.integer) NOT NULL
            )
            """,
        ]
    }

    /// Which replica watches each camera: a lease per stream name that its holder renews (heartbeat) and another
    /// replica takes over once it has expired; `generation` counts takeovers (a holder renews only its own
    /// generation); `info_json` is the holder's latest view of the stream, for the other replicas' lists.
    public static let streamLeases = Migration(id: "2026-12-05 stream leases") { d in
        [
            """
            CREATE TABLE stream_leases (
                stream_name \(d.text) PRIMARY KEY NOT NULL,
                holder \(d.text) NOT NULL,
                generation \(d.integer) NOT NULL,
                expires_at_ms \(d.integer) NOT NULL,
                info_json \(d.text)
            )
            """,
        ]
    }
}
