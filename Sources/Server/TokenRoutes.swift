import Foundation
import Hummingbird
import Storage

/// `GET/POST /v1/tokens`, `DELETE /v1/tokens/{id}`: API tokens, made and revoked by admins (`AccessPolicy`).
struct TokenRoutes: Sendable {
    let credentials: CredentialService?

    /// The body of `POST /v1/tokens`.
    struct NewToken: Decodable {
        let name: String
        let role: Role
        let expiresInDays: Int?

        enum CodingKeys: String, CodingKey {
            case name, role, expiresInDays = "expires_in_days"
        }
    }

    /// A token as listed (never its secret; `token` only in the answer that made it).
    struct TokenBody: Encodable {
        let id: String
        let name: String
        let role: String
        let createdBy: String
        let createdAt: String
        let expiresAt: String?
        let revokedAt: String?
        let token: String?

        init(_ record: APITokenRecord, secret: String? = nil) {
            id = record.id
            name = record.name
            role = record.role.rawValue
            createdBy = record.createdBy
            createdAt = Timestamp.iso8601(record.createdAt)
            expiresAt = record.expiresAt.map(Timestamp.iso8601)
            revokedAt = record.revokedAt.map(Timestamp.iso8601)
            token = secret
        }

        enum CodingKeys: String, CodingKey {
            case id, name, role, token, createdBy = "created_by", createdAt = "created_at", expiresAt = "expires_at", revokedAt = "revoked_at"
        }
    }

    struct TokenList: Encodable {
        let tokens: [TokenBody]
    }

    func register(on router: RouteTable) {
        router.get("/v1/tokens") { _, _ in
            let tokens = try await store().store.tokens()
            return try JSONBody.response(TokenList(tokens: tokens.map { TokenBody($0) }), headers: [.cacheControl: "no-store"])
        }
        router.post("/v1/tokens") { request, _ in
            let credentials = try store()
            let body = try await Self.decode(request)
            let name = body.name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...100).contains(name.count) else { throw APIError.badRequest("name must have 1 to 100 characters: say what the token is for") }
            if let days = body.expiresInDays, !(1...3650).contains(days) {
                throw APIError.badRequest("expires_in_days must be from 1 to 3650, or left out for a token that does not expire")
            }
            let creator = (Caller.current ?? Caller(credential: .open)).name
            let (secret, token) = try await credentials.makeToken(name: name, role: body.role, createdBy: creator, expiresInDays: body.expiresInDays)
            return try JSONBody.response(TokenBody(token, secret: secret), status: .created, headers: [.cacheControl: "no-store"])
        }
        router.delete("/v1/tokens/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard try await store().store.revokeToken(id: id, now: Date()) else {
                throw APIError.notFound("no active token with id \(id): GET /v1/tokens lists them")
            }
            return Response(status: .noContent)
        }
    }

    private func store() throws(APIError) -> CredentialService {
        guard let credentials else {
            throw .notFound("tokens are kept in the database, and this server runs with --db none: start it with --db PATH or a postgres:// URL")
        }
        return credentials
    }

    private static func decode(_ request: Request) async throws -> NewToken {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false else {
            throw APIError.unsupportedContentType("POST /v1/tokens takes JSON: {\"name\": \"...\", \"role\": \"viewer\"|\"admin\"}")
        }
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        do {
            return try JSONDecoder().decode(NewToken.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest("the body must be {\"name\": \"...\", \"role\": \"viewer\"|\"admin\", \"expires_in_days\": 30 (optional)}")
        }
    }
}
