"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const pageSize = 25;
  const palette = ["#2f6fde", "#e8772e", "#2e9e5b", "#c0392b", "#8e5bd6", "#d4a017", "#1aa3a3", "#a0a7b4"];
  let cursors = [null];   // cursor of each page shown so far; the last is the current page's
  let nextCursor = null;

  function showError(message) {
    $("error").textContent = message;
    $("error").hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /// The filters as query parameters (times converted from the local datetime inputs to ISO 8601 UTC).
  function filterParameters() {
    const parameters = new URLSearchParams();
    const label = $("f-label").value.trim();
    if (label) parameters.set("label", label);
    if ($("f-source").value) parameters.set("source", $("f-source").value);
    if ($("f-min").value !== "") parameters.set("min_probability", $("f-min").value);
    for (const [id, name] of [["f-from", "from"], ["f-to", "to"]]) {
      const value = $(id).value;
      if (value) parameters.set(name, new Date(value).toISOString());
    }
    if ($("f-alerts").checked) parameters.set("alerts", "true");
    return parameters;
  }

  async function getJSON(url) {
    const response = await fetch(url);
    let body = null;
    try { body = await response.json(); } catch (error) { body = null; }
    if (!response.ok) throw new Error((body && body.error) || ("the server answered " + response.status));
    return body;
  }

  function percent(probability) {
    return (probability * 100).toFixed(1) + " %";
  }

  function renderRows(page) {
    const body = $("rows");
    body.replaceChildren();
    const target = location.hash.startsWith("#row-") ? location.hash.slice(5) : null;
    for (const entry of page.entries) {
      const row = element("tr");
      row.id = "row-" + entry.id;
      row.dataset.id = String(entry.id);
      if (String(entry.id) === target) row.classList.add("target");
      const picture = element("td");
      if (entry.thumbnail_url) {
        const image = element("img");
        image.loading = "lazy";
        image.src = entry.thumbnail_url;
        image.alt = "Thumbnail of row " + entry.id;
        picture.append(image);
      } else {
        picture.append(element("div", "none", "no picture"));
      }
      const similar = element("button", "plain similar", "Similar");
      similar.type = "button";
      similar.title = "Rows whose pictures look most like this one";
      similar.addEventListener("click", () => toggleSimilar(row, entry.id, similar));
      picture.append(similar);
      const time = element("td", "mono", new Date(entry.time).toLocaleString());
      time.title = entry.time;
      const best = element("td");
      const top = entry.top[0] || { label: "", probability: 0 };
      best.append(element("div", "best", top.label), element("div", "prob", percent(top.probability)));
      if (entry.alert) best.append(element("div", "alert", "event: " + entry.alert));
      if (!entry.weights.trained) best.append(element("div", "weights-note untrained", "untrained weights: meaningless"));
      else if (!entry.weights.official) best.append(element("div", "weights-note", "weights " + entry.weights.name + ": not torchvision's ImageNet"));
      const five = element("td");
      const list = element("ol", "top5");
      list.start = 2;
      for (const item of entry.top.slice(1)) list.append(element("li", "", item.label + " " + percent(item.probability)));
      five.append(list);
      const source = element("td", "", entry.source + (entry.user ? " · " + entry.user : ""));
      const total = element("td", "mono", entry.timings.total.toFixed(1) + " ms");
      row.append(picture, time, best, five, source, total);
      body.append(row);
    }
    if (page.entries.length === 0) {
      const row = element("tr");
      const cell = element("td", "", "No recognitions match. Classify a photo on the main page, or clear the filters.");
      cell.colSpan = 6;
      row.append(cell);
      body.append(row);
    }
    const first = (cursors.length - 1) * pageSize;
    $("summary").textContent = page.total === 0 ? "0 recognitions"
      : "Recognitions " + (first + 1) + "–" + (first + page.entries.length) + " of " + page.total + ", newest first";
    nextCursor = page.next_cursor;
    $("older").disabled = nextCursor === null;
    $("newer").disabled = cursors.length <= 1;
    if (target) { const row = $("row-" + target); if (row) row.scrollIntoView({ block: "center" }); }
  }

  // The rows most like one row (cosine similarity of the images' features), as thumbnails in a row of their own.
  async function toggleSimilar(row, id, button) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains("similar-row")) { next.remove(); button.setAttribute("aria-expanded", "false"); return; }
    const box = element("td");
    box.colSpan = 6;
    const holder = element("tr", "similar-row");
    holder.append(box);
    row.after(holder);
    button.setAttribute("aria-expanded", "true");
    box.append(element("p", "prob", "Looking for rows like row " + id + "…"));
    let answer;
    try {
      answer = await getJSON("/v1/history/" + id + "/similar?limit=12");
    } catch (error) {
      box.replaceChildren(element("p", "error", error.message));
      return;
    }
    const strip = element("ul", "similar-strip");
    strip.setAttribute("aria-label", "Rows like row " + id);
    for (const match of answer.similar) {
      const item = element("li");
      item.dataset.id = String(match.entry.id);
      if (match.entry.thumbnail_url) {
        const image = element("img");
        image.src = match.entry.thumbnail_url;
        image.alt = "Row " + match.entry.id + ": " + ((match.entry.top[0] || {}).label || "");
        item.append(image);
      } else {
        item.append(element("div", "none", "no picture"));
      }
      item.append(element("div", "prob", "row " + match.entry.id + " · " + (match.similarity * 100).toFixed(1) + " %"));
      item.title = new Date(match.entry.time).toLocaleString() + ": " + ((match.entry.top[0] || {}).label || "");
      strip.append(item);
    }
    box.replaceChildren(element("p", "prob", answer.similar.length === 0
      ? "No other row with features among " + answer.searched + " rows."
      : "Most like row " + id + " among " + answer.searched + " rows (cosine similarity of the pictures' features):"), strip);
  }

  async function loadPage() {
    const parameters = filterParameters();
    parameters.set("limit", String(pageSize));
    const cursor = cursors[cursors.length - 1];
    if (cursor !== null) parameters.set("cursor", String(cursor));
    renderRows(await getJSON("/v1/history?" + parameters));
  }

  const bucketChoices = [60, 300, 900, 3600, 21600, 86400, 604800];

  async function loadChart() {
    const parameters = filterParameters();
    let bucket = $("bucket").value;
    if (bucket === "auto") {
      // A coarse look first, then the bucket that gives about 30 bars over the span the data covers.
      parameters.set("bucket_seconds", "86400");
      const coarse = await getJSON("/v1/history/labels?" + parameters);
      const starts = coarse.counts.map((c) => Date.parse(c.start));
      const span = starts.length ? (Math.max(...starts) - Math.min(...starts)) / 1000 + 86400 : 86400;
      bucket = bucketChoices.find((b) => span / b <= 40) || 604800;
      if (span <= 86400) {
        parameters.set("bucket_seconds", "60");
        const fine = await getJSON("/v1/history/labels?" + parameters);
        const fineStarts = fine.counts.map((c) => Date.parse(c.start));
        const fineSpan = fineStarts.length ? (Math.max(...fineStarts) - Math.min(...fineStarts)) / 1000 + 60 : 60;
        bucket = bucketChoices.find((b) => fineSpan / b <= 40) || 86400;
      }
    }
    parameters.set("bucket_seconds", String(bucket));
    drawChart(await getJSON("/v1/history/labels?" + parameters), Number(bucket));
  }

  function drawChart(data, bucketSeconds) {
    const canvas = $("chart");
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 900, height = canvas.clientHeight || 260;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const context = canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    context.font = "12px system-ui, sans-serif";
    const legend = $("legend");
    legend.replaceChildren();
    if (data.counts.length === 0) {
      context.fillStyle = "#5b6475";
      context.fillText("Nothing recorded yet for these filters.", 12, height / 2);
      canvas.dataset.bars = "0";
      canvas.dataset.drawn = "empty";
      return;
    }
    // The seven most frequent labels get a colour each; the rest are "other".
    const totals = new Map();
    for (const c of data.counts) totals.set(c.label, (totals.get(c.label) || 0) + c.count);
    const named = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 7).map(([label]) => label);
    const series = named.concat(totals.size > named.length ? ["other"] : []);
    const step = bucketSeconds * 1000;
    const starts = data.counts.map((c) => Date.parse(c.start));
    const first = Math.min(...starts), last = Math.max(...starts);
    const bucketCount = Math.round((last - first) / step) + 1;
    const stacks = Array.from({ length: bucketCount }, () => new Array(series.length).fill(0));
    for (const c of data.counts) {
      const slot = Math.round((Date.parse(c.start) - first) / step);
      const index = named.indexOf(c.label);
      stacks[slot][index >= 0 ? index : series.length - 1] += c.count;
    }
    const highest = Math.max(1, ...stacks.map((s) => s.reduce((a, b) => a + b, 0)));
    const left = 40, right = 8, top = 8, bottom = 24;
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    // Axis and three grid lines with counts.
    context.strokeStyle = "#d9dee8";
    context.fillStyle = "#5b6475";
    context.textAlign = "right";
    for (let i = 0; i <= 3; i++) {
      const value = Math.round(highest * i / 3);
      const y = top + plotHeight - plotHeight * value / highest;
      context.beginPath(); context.moveTo(left, y); context.lineTo(left + plotWidth, y); context.stroke();
      context.fillText(String(value), left - 6, y + 4);
    }
    const slotWidth = plotWidth / bucketCount;
    const barWidth = Math.max(1, Math.min(40, slotWidth * 0.8));
    let bars = 0;
    stacks.forEach((stack, slot) => {
      let y = top + plotHeight;
      const x = left + slot * slotWidth + (slotWidth - barWidth) / 2;
      stack.forEach((count, index) => {
        if (count === 0) return;
        const h = plotHeight * count / highest;
        context.fillStyle = palette[index === named.length ? palette.length - 1 : index % (palette.length - 1)];
        context.fillRect(x, y - h, barWidth, h);
        y -= h;
        bars += 1;
      });
    });
    // Time labels at both ends and the middle.
    context.fillStyle = "#5b6475";
    const format = (ms) => bucketSeconds >= 86400 ? new Date(ms).toLocaleDateString() : new Date(ms).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    context.textAlign = "left";
    context.fillText(format(first), left, height - 6);
    if (bucketCount > 1) {
      context.textAlign = "right";
      context.fillText(format(last), left + plotWidth, height - 6);
    }
    series.forEach((label, index) => {
      const item = element("li");
      const swatch = element("span", "swatch");
      swatch.style.background = palette[index === named.length ? palette.length - 1 : index % (palette.length - 1)];
      item.append(swatch, element("span", "", label + " (" + (label === "other"
        ? [...totals.entries()].filter(([l]) => !named.includes(l)).reduce((a, [, n]) => a + n, 0)
        : totals.get(label)) + ")"));
      legend.append(item);
    });
    canvas.dataset.bars = String(bars);
    canvas.dataset.drawn = "true";
  }

  function syncCSVLink() {
    const parameters = filterParameters();
    $("csv-link").href = "/v1/history.csv" + (parameters.toString() ? "?" + parameters : "");
  }

  async function refresh(resetPages) {
    clearError();
    if (resetPages) cursors = [null];
    syncCSVLink();
    try {
      await Promise.all([loadPage(), loadChart()]);
    } catch (error) {
      showError("The history cannot be shown: " + error.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(true); });
    $("filters").addEventListener("reset", () => setTimeout(() => refresh(true), 0));
    $("bucket").addEventListener("change", () => loadChart().catch((error) => showError(error.message)));
    $("older").addEventListener("click", () => {
      if (nextCursor === null) return;
      cursors.push(nextCursor);
      loadPage().catch((error) => showError(error.message));
    });
    $("newer").addEventListener("click", () => {
      if (cursors.length <= 1) return;
      cursors.pop();
      loadPage().catch((error) => showError(error.message));
    });
    window.addEventListener("resize", () => loadChart().catch(() => {}));
    refresh(true);
  });
})();
