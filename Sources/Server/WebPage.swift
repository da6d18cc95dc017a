/// The page at `/`: plain HTML, with its stylesheet and script served beside it from the binary
/// (no CDN, no build step: it works offline). Labels reach the page through `textContent` only.
enum WebPage {
    /// Only this server's own script and style; previews are `blob:` URLs.
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    /// Who is signed in, the admin link and the log-out form; `/assets/session.js` fills and shows it. Every page has it.
    static let accountBar = """
        <nav id="account" class="account" hidden>
            <span id="account-name"></span>
            <a id="admin-link" href="/admin" hidden>admin</a>
            <form id="logout-form" method="post" action="/logout"><input type="hidden" name="csrf_token" id="logout-csrf"><button id="logout" type="submit">Log out</button></form>
          </nav>
        """

    /// Shown by the page scripts when the weights are trained but not torchvision's ImageNet checkpoint.
    static let weightsNotice = """
        <div id="weights-notice" class="banner notice" role="note" hidden>
          Not torchvision's ImageNet weights (resnet18-f37072fd.pth): these labels mean something only if the weights in use were trained on ImageNet-1k.
        </div>
        """

    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>ResNet-18 image recognition</title>
        <link rel="stylesheet" href="/assets/page.css">
        <script src="/assets/session.js"></script>
        <script src="/assets/page.js" defer></script>
        </head>
        <body>
        <div id="untrained-banner" class="banner" role="alert" hidden>
          <strong id="banner-text">Untrained weights: the labels below are meaningless.</strong>
        </div>
        \(WebPage.weightsNotice)
        <header>
          \(WebPage.accountBar)
          <h1>What is in this picture?</h1>
          <p class="weights">ResNet-18 · weights: <span id="weights">…</span> · <a id="history-nav" href="/history">History</a> · <a id="streams-nav" href="/streams">Streams</a></p>
        </header>
        <main>
          <p id="error" class="error" role="alert" hidden></p>
          <section id="drop-zone" class="drop" tabindex="0" aria-label="Drop, paste or choose a photo">
            <p>Drop a photo here, paste one, or</p>
            <label class="button">Choose a photo<input id="file-input" type="file" accept="image/jpeg,image/png,image/webp"></label>
            <p class="hint">JPEG, PNG or WebP. <span id="privacy">The photo is classified on this server.</span></p>
          </section>
          <section id="output" class="output" hidden>
            <figure><img id="preview" alt="The photo being classified"><figcaption id="file-name"></figcaption></figure>
            <div class="answer">
              <p id="status" role="status"></p>
              <ol id="results" class="results"></ol>
              <dl id="timings" class="timings"></dl>
              <p><a id="history-link" href="/history" hidden></a></p>
            </div>
          </section>
        </main>
        <footer><a href="/history">History</a> · <a href="/streams">Streams</a> · API: <a href="/openapi.yaml">openapi.yaml</a> · <a href="/metrics">metrics</a> · <a href="/v2/models/resnet18">KServe v2</a></footer>
        </body>
        </html>
        """
}
