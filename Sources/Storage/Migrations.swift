/// Every schema migration of resnet18's database, in the order they are applied at start-up.
///
/// To add tables for a feature (users, tokens, sessions, streams, …):
/// 1. append a `Migration` to `all` below, with a new unique `id` (`"<date> <feature>"`), never editing or
///    reordering the ones above it: databases in the field have already applied them;
/// 2. write its `CREATE TABLE` / `CREATE INDEX` statements once, taking column types from the `SQLDialect`
///    (`d.autoincrementPrimaryKey`, `d.integer`, `d.real`, `d.text`, `d.blob`) so the same migration runs on SQLite and
///    PostgreSQL; keep identifiers lower-case snake_case and avoid reserved words (`user`, `order`);
/// 3. write the feature's store like `HistoryStore`: it takes a `Database` and uses `read`, `write` and
///    `writeTransaction` with `SQLStatement`s (`?` placeholders).
/// `Database.open` applies the pending migrations, each in its own transaction; on PostgreSQL under an advisory
/// lock, so replicas starting together apply each migration once.
public enum Migrations {
    public static let all: [Migration] = [
        Migration(id: "2026-11-25 history") { d in
            [
                """
                CREATE TABLE recognitions (
                    id \(d.autoincrementPrimaryKey),
                    time_ms \(d.integer) NOT NULL,
                    source \(d.text) NOT NULL,
                    stream_id \(d.text),
                    user_name \(d.text),
                    image_sha256 \(d.text) NOT NULL,
                    top_index \(d.integer) NOT NULL,
                    top_label \(d.text) NOT NULL,
                    top_probability \(d.real) NOT NULL,
                    top5_json \(d.text) NOT NULL,
                    weights_name \(d.text) NOT NULL,
                    weights_sha256 \(d.text) NOT NULL,
                    weights_trained \(d.integer) NOT NULL,
                    decode_ms \(d.real) NOT NULL,
                    preprocess_ms \(d.real) NOT NULL,
                    queue_ms \(d.real) NOT NULL,
                    inference_ms \(d.real) NOT NULL,
                    total_ms \(d.real) NOT NULL,
                    alert \(d.text),
                    thumbnail_jpeg \(d.blob)
                )
                """,
                "CREATE INDEX recognitions_time ON recognitions (time_ms)",
                "CREATE INDEX recognitions_label_time ON recognitions (top_label, time_ms)",
                "CREATE INDEX recognitions_source ON recognitions (source)",
            ]
        },
        .credentials,
        .streams,
        .embeddings,
        .heads,
        .loginFailures,
        .streamLeases,
    ]
}
