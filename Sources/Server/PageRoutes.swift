import Hummingbird
import NIOCore

/// The pages (`/`, `/history`, `/streams`, `/admin`, `/heads`) and their scripts and stylesheets (`/assets/NAME`), as the
/// files in `Resources/` are: plain HTML, CSS and JS from the binary (no CDN, no build step: they work offline).
/// Server-provided strings reach the pages through `textContent` only. (`/login` is `LoginRoutes`'s: each answer
/// carries a fresh form token.)
struct PageRoutes: Sendable {
    /// Only this server's own script and style; previews are `blob:` URLs.
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    /// Each page's path, file and extra headers. They hold no per-request value, so each is rendered once.
    static let pages: [(path: String, file: String, headers: HTTPFields)] = [
        ("/", "page.html", [:]),
        ("/history", "history.html", [:]),
        ("/streams", "streams.html", [:]),
        ("/admin", "admin.html", [.cacheControl: "no-store"]),
        ("/heads", "heads.html", [.cacheControl: "no-store"]),
    ]
    /// Served at `/assets/NAME`.
    static let assets = ["style.css", "history.css", "streams.css", "session.js", "page.js", "history.js", "streams.js", "admin.js", "heads.css", "heads.js"]

    func register(on router: RouteTable) {
        for page in Self.pages {
            var headers = page.headers
            headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
            router.get(RouterPath(page.path), use: Self.file(ByteBuffer(string: PageTemplate(file: page.file).render()),
                                                             type: EmbeddedFile.contentType(page.file), headers: headers))
        }
        for asset in Self.assets {
            router.get(RouterPath("/assets/" + asset), use: Self.file(ByteBuffer(bytes: EmbeddedFile.contents(asset)),
                                                                      type: EmbeddedFile.contentType(asset)))
        }
    }

    private static func file(_ body: ByteBuffer, type: String, headers: HTTPFields = [:])
        -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        var headers = headers
        headers[.contentType] = type
        return { [headers] _, _ in Response(status: .ok, headers: headers, body: .init(byteBuffer: body)) }
    }
}
