"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  let previewURL = null;

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    $("status").textContent = "";
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  function showWeights(weights, warning) {
    if (!weights) return;
    $("weights").textContent = weights.trained
      ? weights.name + " (sha256 " + weights.sha256 + (weights.official ? ", torchvision ImageNet" : "") + ")"
      : "untrained (built in)";
    $("untrained-banner").hidden = weights.trained;
    $("weights-notice").hidden = !weights.trained || weights.official;
    if (!weights.trained && warning) $("banner-text").textContent = warning;
  }

  async function loadModel() {
    try {
      const response = await fetch("/v1/model");
      const model = await response.json();
      showWeights(model.weights, model.warning);
      $("privacy").textContent = !model.history
        ? "The photo is classified on this server and never stored."
        : model.thumbnails
          ? "The photo is classified on this server; the result and a small thumbnail are kept in the history."
          : "The photo is classified on this server; the result (no picture) is kept in the history.";
    } catch (error) {
      showError("The server cannot be reached (" + error.message + "). Is resnet18 serve still running?");
    }
  }

  function milliseconds(value) {
    return value.toFixed(value < 10 ? 2 : 1) + " ms";
  }

  function render(result) {
    const list = $("results");
    list.replaceChildren();
    for (const prediction of result.top) {
      const percent = prediction.probability * 100;
      const item = document.createElement("li");
      const row = document.createElement("div");
      row.className = "row";
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = prediction.label;
      const value = document.createElement("span");
      value.className = "percent";
      value.textContent = percent.toFixed(2) + " %";
      row.append(label, value);
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("div");
      fill.className = "fill";
      fill.style.width = Math.min(100, percent).toFixed(2) + "%";
      bar.append(fill);
      item.append(row, bar);
      list.append(item);
    }
    const timings = $("timings");
    timings.replaceChildren();
    const rows = [["decode", result.timings.decode], ["preprocess", result.timings.preprocess],
                  ["queue", result.timings.queue], ["inference", result.timings.inference],
                  ["total", result.timings.total]];
    for (const [name, value] of rows) {
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = milliseconds(value);
      timings.append(term, detail);
    }
    const source = document.createElement("dt");
    source.textContent = "from";
    const how = document.createElement("dd");
    how.textContent = result.cached ? "the result cache" : "the engine, batch of " + result.batch_size;
    timings.append(source, how);
    $("status").textContent = "Top " + result.top.length + " classes:";
  }

  async function classify(file) {
    clearError();
    if (!file) return;
    if (previewURL) URL.revokeObjectURL(previewURL);
    previewURL = URL.createObjectURL(file);
    $("preview").src = previewURL;
    $("file-name").textContent = file.name || "pasted image";
    $("output").hidden = false;
    $("results").replaceChildren();
    $("timings").replaceChildren();
    $("status").textContent = "Classifying…";
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image");
    let response;
    try {
      // The header records this upload with source "page" in the history.
      response = await fetch("/v1/classify?top_k=5", { method: "POST", body: form, headers: { "X-ResNet18-Client": "page" } });
    } catch (error) {
      showError("The server cannot be reached (" + error.message + ").");
      return;
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      showError("The server answered " + response.status + " " + response.statusText + " without a readable body.");
      return;
    }
    if (!response.ok) {
      let message = (body && body.error) || ("The server answered " + response.status + ".");
      if (response.status === 503) message += " (the server is busy: try again in a moment)";
      showError(message);
      return;
    }
    showWeights(body.weights, body.warning);
    render(body.results[0]);
    const historyID = body.results[0].history_id;
    if (historyID) {
      const link = $("history-link");
      link.href = "/history#row-" + historyID;
      link.textContent = "In the history as row " + historyID;
      link.hidden = false;
    }
  }

  function firstImage(items) {
    for (const item of items || []) {
      if (item.kind === "file") {
        const file = item.getAsFile();
        if (file) return file;
      }
    }
    return null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const input = $("file-input");
    const zone = $("drop-zone");
    input.addEventListener("change", () => classify(input.files[0]));
    zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const file = event.dataTransfer.files[0] || firstImage(event.dataTransfer.items);
      if (file) classify(file); else showError("Nothing to classify in what was dropped: drop an image file.");
    });
    document.addEventListener("paste", (event) => {
      const file = firstImage(event.clipboardData && event.clipboardData.items);
      if (file) { event.preventDefault(); classify(file); }
    });
    loadModel();
  });
})();
