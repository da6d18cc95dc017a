/// The page at `/streams`: each stream's latest frame, labels, status and alerts (live, through `/v1/events`),
/// and a form to add one. Plain HTML, its script and extra style served from the binary; `textContent` only.
enum StreamsPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Streams · ResNet-18</title>
        <link rel="stylesheet" href="/assets/page.css">
        <link rel="stylesheet" href="/assets/streams.css">
        <script src="/assets/session.js"></script>
        <script src="/assets/streams.js" defer></script>
        </head>
        <body>
        <div id="untrained-banner" class="banner" role="alert" hidden>
          <strong id="banner-text">Untrained weights: the labels and alerts below are meaningless.</strong>
        </div>
        \(WebPage.weightsNotice)
        <header>
          \(WebPage.accountBar)
          <h1>Streams</h1>
          <p class="weights"><a href="/">Classify a photo</a> · live: <span id="live">connecting…</span></p>
        </header>
        <main>
          <p id="error" class="error" role="alert" hidden></p>
          <p id="read-only-note" class="message" hidden>Signed in as a viewer: you watch the streams; an admin adds and stops them.</p>
          <form id="add-stream" class="add-stream">
            <label>Source <input id="source" name="source" required placeholder="rtsp://camera.local:554/stream" autocomplete="off"></label>
            <label>Frames per second <input id="fps" name="fps" type="number" min="0.01" max="30" step="any" value="2"></label>
            <label>Alert on labels <input id="labels" name="labels" placeholder="tabby, 281, n02123045"></label>
            <label>Threshold <input id="threshold" name="threshold" type="number" min="0.0001" max="1" step="any" value="0.5"></label>
            <label>Window K/N <input id="window" name="window" value="2/3" pattern="[0-9]+/[0-9]+"></label>
            <label>Webhook <input id="webhook" name="webhook" placeholder="https://example.com/hook (optional)"></label>
            <button class="button" type="submit">Add stream</button>
          </form>
          <section id="streams" class="streams" aria-live="polite"></section>
          <h2>Alerts</h2>
          <ol id="alerts" class="alerts"></ol>
        </main>
        <footer><a href="/history">History</a> · API: <a href="/openapi.yaml">openapi.yaml</a> · <a href="/v1/streams">/v1/streams</a> · events: /v1/events</footer>
        </body>
        </html>
        """

    static let css = """
        body.read-only #add-stream, body.read-only .remove { display: none; }
        .add-stream { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 10px 16px; align-items: end;
          background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 16px; }
        .add-stream label { display: flex; flex-direction: column; font-size: .9rem; color: var(--muted); gap: 4px; }
        .add-stream input { font: inherit; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
        .add-stream button { border: 0; font: inherit; }
        .streams { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 16px; margin: 24px 0; }
        .stream { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 12px; overflow-wrap: anywhere; }
        .stream img { width: 100%; aspect-ratio: 4 / 3; object-fit: contain; background: #eef0f5; border-radius: 8px; }
        .stream h3 { font-size: 1rem; margin: 8px 0 4px; }
        .state { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: .8rem; font-weight: 600; background: #e4e8f0; }
        .state.running { background: #d7f5de; color: #14632b; }
        .state.restarting, .state.starting { background: #fff1cc; color: #7a5300; }
        .state.failed { background: #fdecea; color: var(--bad); }
        .message { color: var(--muted); font-size: .85rem; }
        .top { margin: 6px 0; padding-left: 20px; font-size: .9rem; }
        .stream-events { margin: 6px 0; padding-left: 20px; font-size: .85rem; color: var(--bad); }
        .remove { background: none; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; cursor: pointer; font: inherit; font-size: .85rem; }
        .alerts { font-size: .9rem; }
        .alerts li { margin-bottom: 4px; }
        """

    static let javascript = #"""
        "use strict";
        (() => {
          const $ = (id) => document.getElementById(id);
          const cards = new Map();

          function showError(message) { $("error").textContent = message; $("error").hidden = false; }
          function clearError() { $("error").hidden = true; $("error").textContent = ""; }
          function percent(p) { return (p * 100).toFixed(2) + " %"; }
          function text(tag, value, className) {
            const node = document.createElement(tag);
            node.textContent = value;
            if (className) node.className = className;
            return node;
          }

          function alertLine(alert) {
            return alert.time.replace("T", " ").replace("Z", "") + " · frame " + alert.frame + " · " + alert.label + " " +
              percent(alert.probability) + (alert.trained ? "" : " (untrained weights)");
          }

          function card(stream) {
            let entry = cards.get(stream.id);
            if (!entry) {
              const root = document.createElement("article");
              root.className = "stream";
              root.dataset.id = stream.id;
              const image = document.createElement("img");
              image.alt = "Latest frame of " + stream.source;
              const title = text("h3", stream.source);
              const state = text("span", "", "state");
              const message = text("p", "", "message");
              const top = document.createElement("ol");
              top.className = "top";
              const events = document.createElement("ul");
              events.className = "stream-events";
              const remove = text("button", "Delete", "remove");
              remove.type = "button";
              remove.addEventListener("click", async () => {
                const response = await fetch("/v1/streams/" + encodeURIComponent(stream.id), { method: "DELETE" });
                if (!response.ok) showError("Could not delete the stream: " + (await response.json()).error);
                else { root.remove(); cards.delete(stream.id); }
              });
              root.append(image, title, state, message, top, events, remove);
              $("streams").append(root);
              entry = { root, image, state, message, top, events, lastFrame: 0 };
              cards.set(stream.id, entry);
            }
            return entry;
          }

          function count(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }

          function render(stream) {
            const entry = card(stream);
            entry.state.textContent = stream.status + (stream.status === "restarting" && stream.backoff_seconds ? " (in " + stream.backoff_seconds + " s)" : "");
            entry.state.className = "state " + stream.status;
            entry.message.textContent = [count(stream.frames, "frame"), count(stream.alerts, "alert"), stream.message || stream.last_error || ""]
              .filter(Boolean).join(" · ");
            if (stream.latest && stream.latest.frame !== entry.lastFrame) {
              entry.lastFrame = stream.latest.frame;
              entry.image.src = stream.frame_url + "?frame=" + stream.latest.frame;
              entry.top.replaceChildren(...stream.latest.top.slice(0, 3).map((p) => text("li", p.label + " " + percent(p.probability))));
            }
            if (stream.events) entry.events.replaceChildren(...stream.events.slice(-5).reverse().map((a) => text("li", alertLine(a))));
          }

          async function refresh() {
            try {
              const response = await fetch("/v1/streams");
              if (!response.ok) throw new Error((await response.json()).error);
              const list = await response.json();
              const seen = new Set();
              for (const stream of list.streams) { render(stream); seen.add(stream.id); }
              for (const [id, entry] of cards) if (!seen.has(id)) { entry.root.remove(); cards.delete(id); }
            } catch (error) {
              showError("The streams cannot be read (" + error.message + ").");
            }
          }

          async function loadModel() {
            try {
              const model = await (await fetch("/v1/model")).json();
              $("untrained-banner").hidden = model.weights.trained;
              $("weights-notice").hidden = !model.weights.trained || model.weights.official;
            } catch (error) { /* the stream list reports the server being unreachable */ }
          }

          function listen() {
            const events = new EventSource("/v1/events");
            events.addEventListener("open", () => { $("live").textContent = "connected"; });
            events.addEventListener("error", () => { $("live").textContent = "reconnecting…"; });
            events.addEventListener("alert", (message) => {
              const alert = JSON.parse(message.data);
              const item = text("li", alertLine(alert) + " · " + alert.source);
              item.className = "alert";
              item.dataset.stream = alert.stream;
              $("alerts").prepend(item);
              refresh();
            });
            events.addEventListener("status", (message) => render(JSON.parse(message.data)));
            events.addEventListener("removed", (message) => {
              const id = JSON.parse(message.data).id;
              const entry = cards.get(id);
              if (entry) { entry.root.remove(); cards.delete(id); }
            });
          }

          $("add-stream").addEventListener("submit", async (event) => {
            event.preventDefault();
            clearError();
            const labels = $("labels").value.split(",").map((s) => s.trim()).filter(Boolean);
            const body = { source: $("source").value.trim(), fps: Number($("fps").value) || 2 };
            if (labels.length) body.rules = [{ labels, threshold: Number($("threshold").value), window: $("window").value.trim() }];
            if ($("webhook").value.trim()) body.webhook = $("webhook").value.trim();
            try {
              const response = await fetch("/v1/streams", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
              const answer = await response.json();
              if (!response.ok) { showError(answer.error); return; }
              render(answer);
              $("source").value = "";
            } catch (error) {
              showError("The stream could not be added (" + error.message + ").");
            }
          });

          // Viewers watch; adding and stopping streams is an admin's (the API answers them 403), so their page hides both.
          async function loadRole() {
            const current = await window.resnet18Session;  // from /assets/session.js
            if (current && current.role === "viewer") {
              document.body.classList.add("read-only");
              $("read-only-note").hidden = false;
            }
          }

          loadRole();
          loadModel();
          refresh();
          listen();
          setInterval(refresh, 2000);
        })();
        """#
}
