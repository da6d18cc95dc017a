@testable import Server
import Testing

extension ServerTests {
    /// The pages are whole documents built from the files in `Sources/Server/Resources`, sharing one head.
    @Suite("Page templates")
    struct PageTemplateTests {
        @Test("every page is a whole document with the shared head, and links only assets the server has")
        func pages() throws {
            let assets = Set(PageRoutes.assets.map { "/assets/" + $0 })
            for page in PageRoutes.pages {
                let html = PageTemplate(file: page.file).render()
                #expect(html.hasPrefix("<!doctype html>\n<html lang=\"en\">\n<head>\n"), "\(page.file)")
                #expect(html.contains(#"<link rel="stylesheet" href="/assets/style.css">"#), "\(page.file)")
                #expect(html.hasSuffix("</html>\n"), "\(page.file)")
                #expect(!html.contains("{{") && !html.contains("}}"), "\(page.file)")
                for match in html.matches(of: #/(?:href|src)="(/assets/[^"]+)"/#) {
                    #expect(assets.contains(String(match.1)), "\(page.file) links \(match.1)")
                }
            }
        }

        @Test("values are HTML-escaped; an include is indented like its line")
        func login() {
            let html = LoginPage.html(csrfToken: #"a"b"#, next: "/x?<y>&z", message: "<script>'hi'</script>", isError: true)
            #expect(html.contains(#"name="csrf_token" value="a&quot;b""#))
            #expect(html.contains(#"name="next" value="/x?&lt;y&gt;&amp;z""#))
            #expect(html.contains(#"<p id="login-message" class="error" role="alert">&lt;script&gt;&#39;hi&#39;&lt;/script&gt;</p>"#))
            #expect(!html.contains("<script>"))
            let page = PageTemplate(file: "page.html").render()
            #expect(page.contains("<header>\n  <nav id=\"account\" class=\"account\" hidden>\n    <span id=\"account-name\"></span>"))
        }
    }
}
