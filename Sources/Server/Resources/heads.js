"use strict";
// The heads page: examples by category (uploads and history frames), training with its progress and held-out
// report, and switching the trained head on. Server strings reach the page through textContent only.
(() => {
  const $ = (id) => document.getElementById(id);
  let head = "";
  let historyCursor = null;
  const picked = new Set();
  let polling = null;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }

  async function call(method, url, body, contentType) {
    const init = { method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.body = body;
      if (contentType) init.headers["Content-Type"] = contentType;
    }
    const response = await fetch(url, init);
    let answer = null;
    if (response.status !== 204) { try { answer = await response.json(); } catch (_) { answer = null; } }
    if (!response.ok) throw new Error((answer && answer.error) || ("the server answered " + response.status));
    return answer;
  }

  const headURL = (suffix) => "/v1/heads/" + encodeURIComponent(head) + (suffix || "");
  const percent = (value) => (value * 100).toFixed(1) + " %";

  async function loadNames() {
    const answer = await call("GET", "/v1/heads");
    const list = $("head-names");
    list.replaceChildren(...answer.heads.filter((h) => h.source === "page").map((h) => { const o = element("option"); o.value = h.name; return o; }));
    return answer.heads;
  }

  function renderCategories(detail) {
    const box = $("categories");
    box.replaceChildren();
    let total = 0;
    for (const category of detail.categories) {
      const section = element("div", "category");
      section.dataset.category = category.name;
      section.append(element("h3", "", category.name + " · " + category.examples.length + " example" + (category.examples.length === 1 ? "" : "s")));
      const strip = element("ul", "frames");
      for (const example of category.examples) {
        total += 1;
        const item = element("li");
        item.dataset.id = String(example.id);
        const image = element("img");
        image.src = example.thumbnail_url;
        image.alt = category.name + ": " + example.source;
        image.loading = "lazy";
        item.title = example.source;
        const remove = element("button", "remove", "×");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove example " + example.id);
        remove.addEventListener("click", async () => {
          try { await call("DELETE", headURL("/examples/" + example.id)); await load(); } catch (error) { showError(error.message); }
        });
        item.append(image, remove);
        strip.append(item);
      }
      section.append(strip);
      box.append(section);
    }
    if (detail.categories.length === 0) box.append(element("p", "prob", "No examples yet: add photos below, or pick frames from the history."));
    $("example-count").textContent = total + " examples in " + detail.categories.length + " categories";
    $("category-names").replaceChildren(...detail.categories.map((c) => { const o = element("option"); o.value = c.name; return o; }));
  }

  function renderReport(report) {
    $("report").hidden = !report;
    if (!report) return;
    $("report-summary").textContent = "Held-out accuracy " + percent(report.accuracy) + " (" + report.folds + "-fold cross-validation, C = "
      + report.c + ", " + report.samples + " samples" + (report.augmentations.length ? ": uploads with their mirror image and two crops" : "") + ")";
    const rows = $("report-rows");
    rows.replaceChildren(...report.categories.map((c) => {
      const row = element("tr");
      row.append(element("td", "", c.name), element("td", "mono", String(c.images)), element("td", "mono", percent(c.precision)),
                 element("td", "mono", percent(c.recall)));
      return row;
    }));
    const table = $("confusion");
    const header = element("tr");
    header.append(element("th", "", ""), ...report.categories.map((c) => element("th", "", c.name)));
    const head = element("thead");
    head.append(header);
    const body = element("tbody");
    report.confusion.forEach((counts, truth) => {
      const row = element("tr");
      row.append(element("th", "", report.categories[truth].name),
                 ...counts.map((count, predicted) => element("td", predicted === truth ? "diagonal" : "", String(count))));
      body.append(row);
    });
    table.replaceChildren(head, body);
  }

  function renderTraining(job, detail) {
    const progress = $("train-progress");
    if (!job) {
      progress.hidden = true;
      $("train-message").textContent = "";
      renderReport(detail && detail.active_report);
      $("activate").hidden = true;
      return;
    }
    progress.hidden = job.state !== "running";
    progress.max = job.total;
    progress.value = job.done;
    $("train-message").textContent = job.state === "failed" ? "training failed: " + job.error : job.message;
    $("train").disabled = job.state === "running";
    if (job.state === "done") {
      renderReport(job.report);
      $("activate").hidden = job.active;
      $("activate-message").textContent = job.active ? "This head answers now." : "";
    } else if (job.state !== "running") {
      renderReport(null);
    }
  }

  async function load() {
    $("error").hidden = true;
    if (!head) return;
    const detail = await call("GET", headURL());
    renderCategories(detail);
    $("head-state").textContent = detail.active
      ? "answering now with " + detail.active_categories.join(", ")
      : "not switched on";
    $("active-line").textContent = detail.active
      ? "Answers and rules use " + head + ": " + detail.active_categories.map((c) => head + "/" + c).join(", ") + "."
      : "";
    $("deactivate").hidden = !detail.active;
    renderTraining(detail.training, detail);
    if (detail.training && detail.training.state === "running") follow();
  }

  function follow() {
    if (polling) return;
    polling = setInterval(async () => {
      try {
        const job = await call("GET", headURL("/training"));
        renderTraining(job);
        if (job.state !== "running") {
          clearInterval(polling);
          polling = null;
          $("train").disabled = false;
        }
      } catch (error) {
        clearInterval(polling);
        polling = null;
        $("train").disabled = false;
        showError(error.message);
      }
    }, 250);
  }

  async function loadHistory(reset) {
    if (reset) { historyCursor = null; $("history-frames").replaceChildren(); }
    renderFrames(await call("GET", "/v1/history?limit=24" + (historyCursor ? "&cursor=" + historyCursor : "")));
  }

  function renderFrames(answer) {
    historyCursor = answer.next_cursor;
    $("history-more").disabled = historyCursor === null;
    for (const entry of answer.entries) {
      if (!entry.thumbnail_url) continue;
      const item = element("li");
      item.dataset.id = String(entry.id);
      const button = element("button", "pick");
      button.type = "button";
      const top = entry.top[0] || { label: "" };
      button.title = "Row " + entry.id + ": " + top.label + ", " + new Date(entry.time).toLocaleString();
      button.setAttribute("aria-pressed", "false");
      const image = element("img");
      image.src = entry.thumbnail_url;
      image.alt = "History row " + entry.id;
      image.loading = "lazy";
      button.append(image);
      button.addEventListener("click", () => {
        if (picked.has(entry.id)) picked.delete(entry.id); else picked.add(entry.id);
        item.classList.toggle("picked", picked.has(entry.id));
        button.setAttribute("aria-pressed", String(picked.has(entry.id)));
        $("picked").textContent = picked.size === 0 ? "none picked" : picked.size + " picked";
      });
      item.append(button, element("div", "", "row " + entry.id));
      $("history-frames").append(item);
    }
  }

  function open(name) {
    head = name.trim();
    if (!head) return;
    $("head-name").value = head;
    history.replaceState(null, "", "#head=" + encodeURIComponent(head));
    load().catch((error) => showError(error.message));
  }

  $("head-form").addEventListener("submit", (event) => { event.preventDefault(); open($("head-name").value); });

  $("upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData();
    for (const file of $("upload-files").files) form.append("file", file, file.name);
    const button = event.submitter;
    if (button) button.disabled = true;
    try {
      await call("POST", headURL("/examples?category=" + encodeURIComponent($("upload-category").value.trim())), form);
      $("upload-files").value = "";
      await load();
    } catch (error) {
      showError(error.message);
    } finally {
      if (button) button.disabled = false;
    }
  });

  $("history-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (picked.size === 0) { showError("Pick frames first: click their pictures."); return; }
    try {
      await call("POST", headURL("/examples?category=" + encodeURIComponent($("history-category").value.trim())),
                 JSON.stringify({ history_ids: [...picked] }), "application/json");
      picked.clear();
      for (const item of document.querySelectorAll("#history-frames li.picked")) item.classList.remove("picked");
      $("picked").textContent = "none picked";
      await load();
    } catch (error) {
      showError(error.message);
    }
  });

  $("history-more").addEventListener("click", () => loadHistory(false).catch((error) => showError(error.message)));

  $("train").addEventListener("click", async () => {
    $("error").hidden = true;
    try {
      $("train").disabled = true;
      renderTraining(await call("POST", headURL("/train")));
      follow();
    } catch (error) {
      $("train").disabled = false;
      showError(error.message);
    }
  });

  $("activate").addEventListener("click", async () => {
    try { await call("POST", headURL("/activate")); await load(); await loadNames(); } catch (error) { showError(error.message); }
  });

  $("deactivate").addEventListener("click", async () => {
    try { await call("POST", headURL("/deactivate")); await load(); } catch (error) { showError(error.message); }
  });

  document.addEventListener("DOMContentLoaded", async () => {
    try {
      const model = await call("GET", "/v1/model");
      $("weights-notice").hidden = model.weights.official === true;
      const heads = await loadNames();
      const fromHash = location.hash.startsWith("#head=") ? decodeURIComponent(location.hash.slice(6)) : "";
      const firstPageHead = heads.find((h) => h.source === "page");
      open(fromHash || (firstPageHead ? firstPageHead.name : "custom"));
      await loadHistory(true);
    } catch (error) {
      showError(error.message);
    }
  });
})();
