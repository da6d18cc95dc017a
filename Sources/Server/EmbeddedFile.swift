/// The files under `Sources/Server/Resources` (pages, scripts, stylesheets, the OpenAPI document), compiled into the
/// binary by SwiftPM (`.embedInCode` in Package.swift): the service serves them from any directory with no file
/// beside it. A new file is named in Package.swift and in `bytes` below.
enum EmbeddedFile {
    /// Every embedded file by its name in `Resources/`.
    static let bytes: [String: [UInt8]] = [
        "openapi.yaml": PackageResources.openapi_yaml,
        "head.html": PackageResources.head_html,
        "account-bar.html": PackageResources.account_bar_html,
        "weights-notice.html": PackageResources.weights_notice_html,
        "page.html": PackageResources.page_html,
        "history.html": PackageResources.history_html,
        "streams.html": PackageResources.streams_html,
        "admin.html": PackageResources.admin_html,
        "login.html": PackageResources.login_html,
        "style.css": PackageResources.style_css,
        "history.css": PackageResources.history_css,
        "streams.css": PackageResources.streams_css,
        "session.js": PackageResources.session_js,
        "page.js": PackageResources.page_js,
        "history.js": PackageResources.history_js,
        "streams.js": PackageResources.streams_js,
        "admin.js": PackageResources.admin_js,
        "heads.html": PackageResources.heads_html,
        "heads.css": PackageResources.heads_css,
        "heads.js": PackageResources.heads_js,
    ]

    /// The file's bytes. A name not embedded is a programming error (the tests serve every page).
    static func contents(_ name: String) -> [UInt8] {
        guard let contents = bytes[name] else { preconditionFailure("\(name) is not embedded: add it to Package.swift and EmbeddedFile.bytes") }
        return contents
    }

    /// The file as UTF-8 text.
    static func text(_ name: String) -> String {
        String(decoding: contents(name), as: UTF8.self)
    }

    /// The media type a file is served with, from its extension.
    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "yaml": "application/yaml; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
