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
      const title = text("h3", (stream.name || stream.id) + " · " + stream.source);
      const state = text("span", "", "state");
      const message = text("p", "", "message");
      const health = text("p", "", "health");
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
      root.append(image, title, state, health, message, top, events, remove);
      $("streams").append(root);
      entry = { root, image, state, health, message, top, events, lastFrame: 0 };
      cards.set(stream.id, entry);
    }
    return entry;
  }

  function count(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }

  /// "12 s", "4 min", "2 h": how long ago `iso` was.
  function ago(iso) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 120) return seconds + " s";
    if (seconds < 7200) return Math.round(seconds / 60) + " min";
    return Math.round(seconds / 3600) + " h";
  }

  /// The camera's health at a glance: its last frame's age, its rate, its restarts and why it last failed.
  function healthLine(stream) {
    const parts = [stream.latest ? "last frame " + ago(stream.latest.time) + " ago" : "no frame yet",
                   stream.fps + " fps", count(stream.restarts, "restart")];
    if (stream.suppressed_alerts) parts.push(count(stream.suppressed_alerts, "alert") + " held back by cooldown");
    if (stream.last_error) parts.push("last error: " + stream.last_error);
    return parts.join(" · ");
  }

  function render(stream) {
    const entry = card(stream);
    entry.state.textContent = stream.status + (stream.status === "restarting" && stream.backoff_seconds ? " (in " + stream.backoff_seconds + " s)" : "");
    entry.state.className = "state " + stream.status;
    entry.health.textContent = healthLine(stream);
    entry.health.className = "health " + (stream.status === "running" ? "ok" : "bad");
    entry.message.textContent = [count(stream.frames, "frame"), count(stream.alerts, "alert"), stream.message || ""]
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
      // The categories of the heads the server runs, offered as HEAD/CATEGORY beside WordNet's.
      for (const head of model.heads || []) {
        for (const category of head.categories) {
          const option = document.createElement("option");
          option.value = head.name + "/" + category;
          option.textContent = "your category (" + head.name + ")";
          $("label-suggestions").appendChild(option);
        }
      }
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

  // A name from the source when none is typed: its host and path in the characters names take.
  function nameFrom(source) {
    const bare = source.replace(/^[a-z]+:\/\//i, "").replace(/^[^@/]*@/, "");
    return bare.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || "camera";
  }

  $("add-stream").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const labels = $("labels").value.split(",").map((s) => s.trim()).filter(Boolean);
    const source = $("source").value.trim();
    const body = { name: $("name").value.trim() || nameFrom(source), source, fps: Number($("fps").value) || 2 };
    if (labels.length) body.rules = [{ labels, threshold: Number($("threshold").value), window: $("window").value.trim() }];
    if ($("webhook").value.trim()) body.webhook = $("webhook").value.trim();
    try {
      const response = await fetch("/v1/streams", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const answer = await response.json();
      if (!response.ok) { showError(answer.error); return; }
      render(answer);
      $("source").value = "";
      $("name").value = "";
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
