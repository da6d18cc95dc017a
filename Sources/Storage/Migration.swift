/// One step of the schema: applied once per database, in order, inside a transaction, and remembered in the
/// `schema_migrations` table by its `id`. A migration is never edited once released; a change is a new migration.
public struct Migration: Sendable {
    /// A unique, stable name, e.g. `"2026-11-25 history"`. Order is the order of `Migrations.all`, not of ids.
    public let id: String
    /// The statements, written for the dialect (column types differ; see `SQLDialect`).
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(id: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.id = id
        self.statements = statements
    }
}
