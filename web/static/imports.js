/* The import page: choose a file, check the column mapping on a cleansed sample, pick
   the duplicate policy, run the import with a progress bar, then read the result and
   settle the flagged duplicates. The server does the work: /api/v1/import/<entity>
   (the run), .../preview and .../duplicates/<id> (web/ui/imports.py). */
(function () {
  "use strict";
  const { t, api, toast, el, ApiError, csrf } = window.Tessera;
  const meta = JSON.parse(document.getElementById("import-meta").textContent);
  const base = "/api/v1/import/" + encodeURIComponent(meta.entity);
  const $ = (id) => document.getElementById(id);
  const IGNORE = "-";

  let file = null;
  let preview = null; // the last preview answer
  let labels = {}; // field key -> label
  let options = {}; // field key -> {option value -> label}

  /** Show ``message`` (and the located errors) in the paragraph ``id``; null hides it. */
  function showError(id, error) {
    const box = $(id);
    box.replaceChildren();
    if (!error) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.append(error.message || String(error));
    const errors = (error.errors || []).filter((e) => e.message);
    if (errors.length) {
      box.append(el("ul", {}, errors.map((e) => el("li", {}, where(e), e.message))));
    }
  }

  function where(e) {
    const parts = [];
    if (e.row) parts.push(t("row {row}", { row: e.row }));
    if (e.column_name) parts.push(t("column {name}", { name: e.column_name }));
    if (e.field) parts.push(t("field {name}", { name: labels[e.field] || e.field }));
    return parts.length ? parts.join(", ") + ": " : "";
  }

  /** POST a multipart form with XMLHttpRequest (fetch cannot report upload progress). */
  function send(url, form, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.responseType = "json";
      if (onProgress) xhr.upload.addEventListener("progress", onProgress);
      xhr.addEventListener("load", () => {
        const body = xhr.response;
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else if (xhr.status === 413) reject(new ApiError(413, { detail: t("The file is too large.") }));
        else reject(new ApiError(xhr.status, body));
      });
      xhr.addEventListener("error", () => reject(new Error(t("The server could not be reached."))));
      xhr.send(form);
    });
  }

  function setStep(name) {
    for (const li of document.querySelectorAll("#import-steps li")) {
      li.classList.toggle("current", li.dataset.step === name);
    }
  }

  /** ``map`` query parameters for the columns as the selects now say. */
  function mappingQuery() {
    const params = new URLSearchParams();
    for (const select of document.querySelectorAll("#mapping-table select")) {
      params.append("map", select.dataset.column + "=" + (select.value || IGNORE));
    }
    return params;
  }

  // ------------------------------------------------------------ 1. the file

  function checkFile(chosen) {
    if (!chosen) return t("Choose a file first.");
    const name = chosen.name.toLowerCase();
    if (!meta.suffixes.some((s) => name.endsWith(s))) return t("Only .csv and .xlsx files can be imported.");
    if (chosen.size === 0) return t("The file is empty.");
    if (chosen.size > meta.max_bytes) return t("The file is too large.");
    return null;
  }

  async function readFile(event) {
    event.preventDefault();
    const chosen = $("import-file").files[0];
    const problem = checkFile(chosen);
    if (problem) {
      showError("file-error", new Error(problem));
      return;
    }
    showError("file-error", null);
    file = chosen;
    $("preview-button").disabled = true;
    try {
      await loadPreview(new URLSearchParams());
      $("step-mapping").hidden = false;
      $("step-options").hidden = false;
      $("step-result").hidden = true;
      $("run-button").disabled = false; // a file read anew is a new import
      setStep("mapping");
    } catch (error) {
      showError("file-error", error);
    } finally {
      $("preview-button").disabled = false;
    }
  }

  // ------------------------------------------------------------ 2. the mapping

  async function loadPreview(params) {
    const form = new FormData();
    form.append("file", file);
    const query = params.toString();
    preview = await send(base + "/preview" + (query ? "?" + query : ""), form);
    labels = Object.fromEntries(preview.fields.map((f) => [f.key, f.label]));
    options = Object.fromEntries(preview.fields.filter((f) => f.options).map((f) => [f.key, f.options]));
    drawMapping();
    drawSample();
  }

  function drawMapping() {
    const body = $("mapping-table").tBodies[0];
    body.replaceChildren();
    for (const column of preview.columns) {
      const select = el(
        "select",
        { "aria-label": t("Field for column {name}", { name: column.name }), dataset: { column: column.name } },
        el("option", { value: "" }, t("Leave out")),
        preview.fields.map((f) => el("option", { value: f.key, selected: f.key === column.field }, f.label))
      );
      select.addEventListener("change", remap);
      const note = column.field ? "" : column.ignored ? t("Left out") : column.note ? t("Matches no field; left out") : "";
      body.append(
        el("tr", { class: column.field ? "" : "unmapped" }, el("th", { scope: "row" }, column.name), el("td", {}, select), el("td", { class: "hint" }, note))
      );
    }
  }

  function drawSample() {
    const mapped = preview.columns.filter((c) => c.field);
    const head = $("sample-table").tHead;
    head.replaceChildren(el("tr", {}, el("th", {}, t("Row")), mapped.map((c) => el("th", {}, labels[c.field] || c.field))));
    const body = $("sample-table").tBodies[0];
    body.replaceChildren();
    for (const row of preview.sample) {
      body.append(el("tr", {}, el("td", {}, row.row), mapped.map((c) => el("td", {}, show(row.values[c.field], c.field)))));
    }
    if (!preview.sample.length) body.append(el("tr", {}, el("td", { colspan: mapped.length + 1 }, t("The file has no data rows."))));
  }

  async function remap() {
    try {
      await loadPreview(mappingQuery());
      showError("mapping-error", null);
    } catch (error) {
      showError("mapping-error", error);
    }
  }

  /** A value as the page shows it; ``key`` names its field, so options read as their labels. */
  function show(value, key) {
    if (value === null || value === undefined || value === "") return "—";
    const names = options[key];
    if (names && Array.isArray(value)) return value.map((v) => names[v] || v).join(", ");
    if (names && typeof value === "string") return names[value] || value;
    if (Array.isArray(value)) return value.join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    if (typeof value === "boolean") return value ? t("Yes") : t("No");
    return String(value);
  }

  // ------------------------------------------------------------ 3. the run

  async function run() {
    if (!file) return;
    const params = mappingQuery();
    const policy = document.querySelector("input[name=policy]:checked").value;
    params.set("policy", policy);
    if (document.querySelector("input[name=mode]:checked").value === "all") params.set("all_or_nothing", "1");
    params.set("restart", "1"); // the page always starts a fresh run of the chosen file
    const form = new FormData();
    form.append("file", file);
    const bar = $("import-progress");
    const text = $("progress-text");
    $("progress-box").hidden = false;
    $("run-button").disabled = true;
    showError("run-error", null);
    bar.value = 0;
    text.textContent = t("Sending the file…");
    try {
      const result = await send(base + "?" + params.toString(), form, (e) => {
        if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
        if (e.loaded === e.total) {
          bar.removeAttribute("value"); // the server now checks every row: no measure of that
          text.textContent = t("Importing: checking and saving every row…");
        }
      });
      bar.value = 100;
      text.textContent = t("Done.");
      drawResult(result, policy);
      // the file is in: a second click would import it again, so the button stays off
      // until "Import another file" (or reading a file anew) starts a new import
    } catch (error) {
      $("progress-box").hidden = true;
      showError("run-error", error);
      $("run-button").disabled = false;
    }
  }

  // ------------------------------------------------------------ 4. the result

  function drawResult(result, policy) {
    $("step-result").hidden = false;
    setStep("result");
    for (const dd of document.querySelectorAll("#counts dd")) dd.textContent = result[dd.dataset.count] || 0;
    $("result-summary").textContent = result.committed
      ? t("{rows} rows read.", { rows: result.rows })
      : t("Nothing was imported: some rows are invalid and the import was all or nothing.");
    const errors = result.errors || [];
    $("rejected-box").hidden = !errors.length;
    const body = $("rejected-table").tBodies[0];
    body.replaceChildren(
      ...errors.map((e) =>
        el("tr", {}, el("td", {}, e.row), el("td", {}, e.column_name || "—"), el("td", {}, labels[e.field] || e.field || "—"), el("td", {}, e.message))
      )
    );
    $("report-link").href = result.report_url;
    const flagged = (result.duplicates || []).filter((d) => d.action === "flagged" && d.created_id);
    $("duplicates-box").hidden = !flagged.length || !result.committed;
    $("duplicates").replaceChildren();
    const fields = Object.values(result.mapping || {});
    if (result.committed) flagged.forEach((d) => drawDuplicate(d, fields));
    $("step-result").scrollIntoView({ block: "start" });
  }

  async function drawDuplicate(dup, fields) {
    const card = el("article", { class: "duplicate card", dataset: { id: dup.created_id, row: dup.row } });
    $("duplicates").append(card);
    card.append(el("h4", {}, t("Row {row} matches record #{id} ({match})", { row: dup.row, id: dup.record_id, match: matchLabel(dup.match) })));
    let pair;
    try {
      pair = await api("GET", base + "/duplicates/" + dup.created_id);
    } catch (error) {
      card.append(el("p", { class: "field-error", role: "alert" }, error.message));
      return;
    }
    const keys = preview.fields.map((f) => f.key).filter((k) => k !== preview.flag_field);
    const original = pair.original;
    const rows = keys
      .filter((k) => !isEmpty(pair.record[k]) || (original && !isEmpty(original[k])))
      .map((k) => {
        const mine = pair.record[k];
        const theirs = original ? original[k] : undefined;
        const differs = original && show(mine, k) !== show(theirs, k);
        return el("tr", { class: differs ? "differs" : "" }, el("th", { scope: "row" }, labels[k] || k), el("td", {}, original ? show(theirs, k) : "…"), el("td", {}, show(mine, k)));
      });
    card.append(
      el(
        "table",
        { class: "side-by-side" },
        el("thead", {}, el("tr", {}, el("th", {}, t("Field")), el("th", {}, el("a", { href: "/app/" + meta.entity + "/" + pair.original_id }, t("Existing record #{id}", { id: pair.original_id }))), el("th", {}, el("a", { href: "/app/" + meta.entity + "/" + dup.created_id }, t("Imported record #{id}", { id: dup.created_id }))))),
        el("tbody", {}, rows)
      )
    );
    if (!original) card.append(el("p", { class: "hint" }, t("You may not see the existing record.")));
    const status = el("p", { class: "outcome", role: "status" });
    const error = el("p", { class: "field-error", role: "alert", hidden: true });
    const buttons = el(
      "div",
      { class: "toolbar" },
      original ? el("button", { type: "button", class: "primary", dataset: { action: "merge" } }, t("Merge into existing")) : null,
      el("button", { type: "button", dataset: { action: "create" } }, t("Create anyway")),
      el("button", { type: "button", dataset: { action: "skip" } }, t("Skip"))
    );
    buttons.addEventListener("click", async (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      for (const b of buttons.querySelectorAll("button")) b.disabled = true;
      try {
        const settled = await api("POST", base + "/duplicates/" + dup.created_id, { action: button.dataset.action, fields });
        buttons.remove();
        error.hidden = true;
        const done = { merge: t("Merged into record #{id}.", { id: pair.original_id }), create: t("Kept as a new record."), skip: t("Removed the imported record.") };
        const moved = Object.values((settled && settled.moved) || {}).reduce((n, ids) => n + ids.length, 0);
        status.textContent = done[button.dataset.action] + (moved === 1 ? " " + t("1 related record moved to it.") : moved ? " " + t("{count} related records moved to it.", { count: moved }) : "");
        card.classList.add("settled");
        toast(status.textContent);
      } catch (failure) {
        error.hidden = false;
        error.textContent = failure.message + (failure.errors || []).map((e) => " · " + where(e) + e.message).join("");
        for (const b of buttons.querySelectorAll("button")) b.disabled = false;
      }
    });
    card.append(buttons, status, error);
  }

  function matchLabel(match) {
    return String(match || "")
      .split("+")
      .map((k) => labels[k] || k)
      .join(" + ");
  }

  function isEmpty(value) {
    return value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);
  }

  function again() {
    file = null;
    preview = null;
    $("file-form").reset();
    for (const id of ["step-mapping", "step-options", "step-result", "progress-box"]) $(id).hidden = true;
    $("run-button").disabled = false;
    setStep("file");
    $("import-file").focus();
  }

  $("file-form").addEventListener("submit", readFile);
  $("run-button").addEventListener("click", run);
  $("again-button").addEventListener("click", again);
})();
