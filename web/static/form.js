/* Record forms: widgets, live rules (the entity's compiled form script), save through the
   REST API with errors on their fields, and a warning before leaving unsaved changes.
   Text from records is only ever set with textContent / value, never parsed as HTML. */
(function () {
  "use strict";
  const { t, api, toast, el, ApiError } = window.Tessera;
  const Tessera = window.Tessera;

  /** Wire one record form. ``options.preview``: the designer's preview (nothing is saved,
      leaving it never warns); the page's own form is mounted at the end of this file. */
  function mount(form, options) {
    const preview = !!(options && options.preview);
    const entity = form.dataset.entity;
    const recordId = form.dataset.id || null;
    let version = form.dataset.version || null;
    const logic = (globalThis.TesseraForms || {})[entity] || null;
    const T = globalThis.TesseraRules;
    let dirty = false;
    let saving = false;

    const fields = Array.from(form.querySelectorAll(".field[data-field]"));
    const byKey = new Map(fields.map((f) => [f.dataset.field, f]));

    // ------------------------------------------------------------ reading the inputs

    function rawValue(box) {
      const key = box.dataset.field;
      switch (box.dataset.widget) {
        case "boolean": {
          const input = box.querySelector("input[type=checkbox]");
          return input.checked;
        }
        case "multiselect":
          return Array.from(box.querySelectorAll("input[type=checkbox]:checked")).map((i) => i.value);
        case "tags": {
          const text = box.querySelector("input").value;
          return text.split(/[,，]/).map((s) => s.trim()).filter(Boolean);
        }
        case "grid":
          return Array.from(box.querySelectorAll("tbody tr")).map((tr) => {
            const row = {};
            tr.querySelectorAll("input[data-col]").forEach((i) => {
              const head = box.querySelector(`th[data-col="${CSS.escape(i.dataset.col)}"]`);
              row[i.dataset.col] = typed(head ? head.dataset.widget : "text", i.value);
            });
            Object.assign(row, cellFiles(box, tr));
            return row;
          });
        case "file": {
          const ids = Array.from(box.querySelectorAll(".file-list li[data-id]")).map((li) => li.dataset.id);
          return box.querySelector(".files[data-multiple]") ? ids : (ids[0] || null);
        }
        default: {
          const input = box.querySelector(`[name="${CSS.escape(key)}"]`);
          return input ? input.value : undefined;
        }
      }
    }

    /** A child-table row's file cells: column -> the file id (or ids, for a multi-file column). */
    function cellFiles(grid, tr) {
      const row = {};
      tr.querySelectorAll(".cell-files[data-col]").forEach((cell) => {
        const ids = Array.from(cell.querySelectorAll(".file-list li[data-id]")).map((li) => li.dataset.id);
        const head = grid.querySelector(`th[data-col="${CSS.escape(cell.dataset.col)}"]`);
        row[cell.dataset.col] = head && "multiple" in head.dataset ? ids : (ids[0] || null);
      });
      return row;
    }

    /** The JSON value the API takes for an input's text. */
    function typed(widget, text) {
      if (typeof text !== "string") return text;
      const s = text.trim();
      if (s === "") return null;
      if (widget === "integer") return /^-?\d+$/.test(s) ? Number(s) : s;
      if (widget === "number" || widget === "currency") return isFinite(Number(s)) ? Number(s) : s;
      if (widget === "reference") return /^\d+$/.test(s) ? Number(s) : s;
      if (widget === "datetime") {
        // datetime-local has no zone: the wall clock is the platform's, sent with its offset
        const text = s.length === 16 ? s + ":00" : s;
        try {
          return T.time.parseMoment(text, logic ? logic.tz : "UTC").toString();
        } catch (e) {
          return text;
        }
      }
      return s;
    }

    function jsonValue(box) {
      const raw = rawValue(box);
      if (raw === undefined) return undefined;
      if (Array.isArray(raw) || typeof raw === "boolean") return raw;
      return typed(box.dataset.widget, raw);
    }

    /** An input's text as the rules runtime holds it (BigInt, Dec, Day, Moment, string). */
    function ruleOf(widget, text) {
      const s = String(text).trim();
      if (s === "") return null;
      try {
        switch (widget) {
          case "integer":
          case "reference":
            return /^-?\d+$/.test(s) ? BigInt(s) : null;
          case "number":
          case "currency":
            return T.dec(s);
          case "date":
            return T.time.parseDay(s);
          case "datetime":
            return T.time.parseMoment(s.length === 16 ? s + ":00" : s, logic.tz);
          default:
            return s;
        }
      } catch (e) {
        return null;
      }
    }

    function ruleValue(box) {
      if (box.dataset.widget === "grid") {
        return Array.from(box.querySelectorAll("tbody tr")).map((tr) => {
          const row = {};
          tr.querySelectorAll("input[data-col]").forEach((i) => {
            const head = box.querySelector(`th[data-col="${CSS.escape(i.dataset.col)}"]`);
            row[i.dataset.col] = ruleOf(head ? head.dataset.widget : "text", i.value);
          });
          Object.assign(row, cellFiles(box, tr));
          return row;
        });
      }
      const raw = rawValue(box);
      if (raw === undefined || raw === null) return null;
      if (Array.isArray(raw) || typeof raw === "boolean") return raw;
      return ruleOf(box.dataset.widget, raw);
    }

    // ------------------------------------------------------------ live rules

    function recordForRules() {
      const r = {};
      for (const box of fields) r[box.dataset.field] = ruleValue(box);
      if (recordId) r.id = BigInt(recordId);
      return r;
    }

    function setShown(box, value) {
      const input = box.querySelector("input, textarea, select");
      if (!input) return;
      let text = "";
      if (value !== null && value !== undefined) {
        const plain = T.plain ? T.plain(value) : value;
        text = plain === null || plain === undefined ? "" : String(plain);
      }
      if (input.type === "checkbox") input.checked = text === "true";
      else input.value = text;
    }

    function applyRules() {
      if (!logic || !T) return;
      const ctx = T.context({
        tz: logic.tz,
        calendar: logic.calendar, // the bundle's working days, holidays and make-up days
        event: recordId ? "updated" : "created",
      });
      const r = recordForRules();
      const run = (fn) => {
        try {
          return fn(r, null, null, ctx);
        } catch (e) {
          return null;
        }
      };
      for (const [key, fn] of Object.entries(logic.computed)) {
        const box = byKey.get(key);
        const value = run(fn);
        r[key] = value;
        if (box) setShown(box, value);
      }
      for (const stage of logic.preview || []) {
        const box = byKey.get(stage.target);
        let value = null;
        try {
          value = stage.run(r, null, null, ctx, null);
        } catch (e) {
          value = null;
        }
        r[stage.target] = value;
        if (box) {
          setShown(box, value);
          box.classList.add("preview");
        }
      }
      for (const [number, fn] of Object.entries(logic.sections || {})) {
        const section = form.querySelector(`.form-section[data-section="${CSS.escape(number)}"]`);
        if (section) section.hidden = run(fn) !== true;
      }
      for (const [key, fn] of Object.entries(logic.visible)) {
        const box = byKey.get(key);
        if (box) box.hidden = run(fn) !== true;
      }
      for (const [key, fn] of Object.entries(logic.required)) {
        const box = byKey.get(key);
        if (box && !("required" in box.dataset)) box.classList.toggle("required", run(fn) === true);
      }
      for (const [key, fn] of Object.entries(logic.readonly)) {
        const box = byKey.get(key);
        if (!box || "readonly" in box.dataset) continue;
        const locked = run(fn) === true;
        box.classList.toggle("readonly", locked);
        box.querySelectorAll("input, textarea, select").forEach((i) => {
          if (i.type === "checkbox" || i.tagName === "SELECT") i.disabled = locked;
          else i.readOnly = locked;
        });
      }
    }

    // ------------------------------------------------------------ widgets

    function referenceBox(ref, col, label) {
      const id = "ref-" + Math.random().toString(36).slice(2);
      const wrap = el("span", { class: "reference", "data-ref": ref },
        el("input", { type: "hidden", "data-col": col }),
        el("input", { type: "search", class: "ref-search", autocomplete: "off", role: "combobox",
          "aria-expanded": "false", "aria-controls": id, "aria-label": label, placeholder: t("Type to search") }),
        el("ul", { id, class: "ref-results", role: "listbox", hidden: true }));
      wireReference(wrap);
      return wrap;
    }

    function addRow(grid) {
      const heads = Array.from(grid.querySelectorAll("th[data-col]"));
      const cell = (h) => {
        if (h.dataset.widget === "reference") return referenceBox(h.dataset.ref, h.dataset.col, h.textContent);
        if (h.dataset.widget === "file") return fileCell(h);
        return el("input", { "data-col": h.dataset.col, "aria-label": h.textContent,
          inputmode: ["integer", "number", "currency"].includes(h.dataset.widget) ? "decimal" : null });
      };
      const cells = heads.map((h) => el("td", {}, cell(h)));
      const tr = el("tr", {}, cells, el("td", {}, el("button", { type: "button", class: "row-remove" }, t("Remove"))));
      grid.querySelector("tbody").append(tr);
      const first = tr.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    }

    form.addEventListener("click", (event) => {
      const target = event.target;
      if (!(target instanceof Element)) return;
      if (target.matches(".row-add")) {
        addRow(target.closest(".grid"));
        changed();
      } else if (target.matches(".row-remove")) {
        target.closest("tr").remove();
        changed();
      } else if (target.matches("[role=tab]")) {
        const tabs = target.closest("[data-tabs]");
        tabs.querySelectorAll("[role=tab]").forEach((b) => b.setAttribute("aria-selected", String(b === target)));
        tabs.querySelectorAll("[role=tabpanel]").forEach((p) => { p.hidden = p.dataset.panel !== target.dataset.tab; });
      }
    });

    const titles = new Map();
    async function titleField(ref) {
      if (!titles.has(ref)) {
        const info = await api("GET", `/api/v1/entities/${encodeURIComponent(ref)}`);
        titles.set(ref, (info.definition && info.definition.title_field) || "id");
      }
      return titles.get(ref);
    }

    function wireReference(wrap) {
      const hidden = wrap.querySelector("input[type=hidden]");
      const search = wrap.querySelector(".ref-search");
      const list = wrap.querySelector(".ref-results");
      let timer = null;
      let asked = 0;
      const close = () => { list.hidden = true; search.setAttribute("aria-expanded", "false"); };
      search.addEventListener("input", () => {
        hidden.value = "";
        clearTimeout(timer);
        const q = search.value.trim();
        if (!q) { close(); changed(); return; }
        timer = setTimeout(async () => {
          const mine = ++asked;
          try {
            const ref = wrap.dataset.ref;
            const title = await titleField(ref);
            const where = `${title} contains ${JSON.stringify(q)}`;
            const found = await api("GET", `/api/v1/records/${encodeURIComponent(ref)}?limit=8&where=${encodeURIComponent(where)}`);
            if (mine !== asked) return;
            list.replaceChildren(...found.items.map((item) => el("li", { role: "option", "data-id": item.id },
              String(item[title] === undefined || item[title] === null ? "#" + item.id : item[title]))));
            if (!found.items.length) list.append(el("li", { class: "muted" }, t("No matches")));
            list.hidden = false;
            search.setAttribute("aria-expanded", "true");
          } catch (e) {
            toast(e.message, "error");
          }
        }, 200);
      });
      list.addEventListener("mousedown", (event) => {
        const li = event.target.closest("li[data-id]");
        if (!li) return;
        event.preventDefault();
        hidden.value = li.dataset.id;
        search.value = li.textContent;
        close();
        changed();
      });
      search.addEventListener("blur", () => setTimeout(close, 150));
    }

    // Files upload as soon as they are picked; the field holds the file's id (see /api/v1/files).
    function fileItem(info) {
      return el("li", { "data-id": info.id },
        el("a", { class: "file-link", href: info.url, download: "" }, info.name), " ",
        el("button", { type: "button", class: "file-remove" }, t("Remove")));
    }

    function fieldError(box, message) {
      box.classList.add("invalid");
      const p = box.querySelector(".field-error");
      p.textContent = message;
      p.hidden = false;
    }

    async function uploadFiles(box, input) {
      const wrap = box.querySelector(".files");
      const list = wrap.querySelector(".file-list");
      const query = `?entity=${encodeURIComponent(entity)}&field=${encodeURIComponent(box.dataset.field)}`;
      clearError(box);
      for (const file of Array.from(input.files)) {
        if (file.size > Number(wrap.dataset.maxSize)) {
          fieldError(box, t("{name} is too large", { name: file.name }));
          continue;
        }
        const body = new FormData();
        body.append("file", file);
        box.classList.add("uploading");
        try {
          const response = await fetch("/api/v1/files" + query, {
            method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": Tessera.csrf }, body,
          });
          const type = response.headers.get("Content-Type") || "";
          const data = type.includes("json") ? await response.json() : null;
          if (!response.ok) throw new ApiError(response.status, data);
          if ("multiple" in wrap.dataset) list.append(fileItem(data));
          else list.replaceChildren(fileItem(data));
          changed();
        } catch (error) {
          fieldError(box, error instanceof ApiError ? error.message : t("Could not upload {name}", { name: file.name }));
        } finally {
          box.classList.remove("uploading");
        }
      }
      input.value = "";
    }

    form.querySelectorAll(".field[data-widget=file] input[type=file]").forEach((input) => {
      input.addEventListener("change", () => uploadFiles(input.closest(".field"), input));
    });

    // A child table's file cell: the same upload endpoint and checks, under the field
    // ``table.column`` (the server takes the row field's size and type limits from it).
    function fileCell(head) {
      return el("span", { class: "cell-files", "data-col": head.dataset.col },
        el("ul", { class: "file-list" }),
        el("input", { type: "file", "aria-label": head.textContent, accept: head.dataset.accept || null,
          multiple: "multiple" in head.dataset ? "" : null }));
    }

    async function uploadCell(input) {
      const cell = input.closest(".cell-files");
      const box = input.closest(".field");
      const head = box.querySelector(`th[data-col="${CSS.escape(cell.dataset.col)}"]`);
      const list = cell.querySelector(".file-list");
      const name = `${box.dataset.field}.${cell.dataset.col}`;
      clearError(box);
      for (const file of Array.from(input.files)) {
        if (file.size > Number(head.dataset.maxSize)) {
          fieldError(box, t("{name} is too large", { name: file.name }));
          continue;
        }
        const body = new FormData();
        body.append("file", file);
        cell.classList.add("uploading");
        try {
          const response = await fetch(`/api/v1/files?entity=${encodeURIComponent(entity)}&field=${encodeURIComponent(name)}`, {
            method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": Tessera.csrf }, body,
          });
          const type = response.headers.get("Content-Type") || "";
          const data = type.includes("json") ? await response.json() : null;
          if (!response.ok) throw new ApiError(response.status, data);
          if ("multiple" in head.dataset) list.append(fileItem(data));
          else list.replaceChildren(fileItem(data));
          changed();
        } catch (error) {
          fieldError(box, error instanceof ApiError ? error.message : t("Could not upload {name}", { name: file.name }));
        } finally {
          cell.classList.remove("uploading");
        }
      }
      input.value = "";
    }

    form.addEventListener("change", (event) => {
      const input = event.target;
      if (input instanceof HTMLInputElement && input.type === "file" && input.closest(".cell-files")) {
        event.stopPropagation();
        uploadCell(input);
      }
    }, true);

    form.addEventListener("click", (event) => {
      const button = event.target instanceof Element && event.target.closest(".file-remove");
      if (!button) return;
      button.closest("li").remove();
      changed();
    });

    // Rich text: a small toolbar over a contenteditable box. The box starts from the
    // field's HTML as the server sanitised it (engine.forms.richtext) and the server
    // sanitises what is saved again; nothing else is ever set as HTML.
    const RICH_COMMANDS = [
      ["bold", "B", () => t("Bold")],
      ["italic", "I", () => t("Italic")],
      ["insertUnorderedList", "•", () => t("Bulleted list")],
      ["insertOrderedList", "1.", () => t("Numbered list")],
      ["createLink", null, () => t("Link")],
    ];

    function richEditor(box) {
      const area = box.querySelector("textarea");
      if (!area) return;
      if (area.readOnly) {
        const shown = el("div", { class: "rich" });
        shown.innerHTML = area.value; // server-sanitised HTML only (see above)
        area.hidden = true;
        area.before(shown);
        return;
      }
      const label = box.querySelector("label");
      const editor = el("div", { class: "rich-editor", contenteditable: "true", role: "textbox",
        "aria-multiline": "true", "aria-label": label ? label.textContent.trim() : box.dataset.field });
      editor.innerHTML = area.value; // server-sanitised HTML only (see above)
      const bar = el("div", { class: "rich-toolbar", role: "toolbar", "aria-label": t("Formatting") },
        RICH_COMMANDS.map(([cmd, text, title]) => el("button",
          { type: "button", "data-cmd": cmd, title: title(), "aria-label": title() }, text || title())));
      const sync = () => { area.value = editor.innerHTML; };
      editor.addEventListener("input", sync);
      bar.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
      bar.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-cmd]");
        if (!button) return;
        const cmd = button.dataset.cmd;
        if (cmd === "createLink") {
          const url = (window.prompt(t("Link address (https://...)")) || "").trim();
          if (!/^(https?:\/\/|mailto:)/i.test(url)) return;
          document.execCommand("createLink", false, url);
        } else {
          document.execCommand(cmd, false);
        }
        editor.focus();
        sync();
        changed();
      });
      area.hidden = true;
      area.before(bar, editor);
    }
    form.querySelectorAll(".field[data-type=rich_text]").forEach(richEditor);

    form.querySelectorAll(".reference").forEach((wrap) => {
      const search = wrap.querySelector(".ref-search");
      if (search && !search.readOnly) wireReference(wrap);
    });

    // ------------------------------------------------------------ changes and leaving

    function changed() {
      dirty = true;
      applyRules();
    }
    form.addEventListener("input", (event) => {
      const box = event.target.closest && event.target.closest(".field");
      if (box) clearError(box);
      changed();
    });
    form.addEventListener("change", changed);
    window.addEventListener("beforeunload", (event) => {
      if (preview || !dirty || saving) return;
      event.preventDefault();
      event.returnValue = "";
    });

    // ------------------------------------------------------------ saving

    function clearError(box) {
      box.classList.remove("invalid");
      const p = box.querySelector(".field-error");
      if (p) { p.hidden = true; p.textContent = ""; }
    }

    function showErrors(error) {
      const general = document.getElementById("form-error");
      const loose = [];
      for (const item of error.errors) {
        const key = String(item.field || "").split(/[.[]/)[0];
        const box = byKey.get(key);
        if (box && !hiddenBox(box)) {
          box.classList.add("invalid");
          const p = box.querySelector(".field-error");
          p.textContent = p.hidden ? item.message : p.textContent + " " + item.message;
          p.hidden = false;
        } else {
          loose.push(item.field ? `${item.field}: ${item.message}` : item.message);
        }
      }
      general.textContent = loose.length ? loose.join("; ") : error.message;
      general.hidden = false;
      const first = form.querySelector(".field.invalid input, .field.invalid select, .field.invalid textarea");
      if (first) first.focus();
    }

    const initial = new Map(fields.map((box) => [box.dataset.field, JSON.stringify(jsonValue(box))]));

    /** A field the user cannot see: hidden itself or in a section its condition hides. */
    function hiddenBox(box) {
      return box.hidden || !!box.closest(".form-section[hidden]");
    }

    function payload() {
      const data = {};
      for (const box of fields) {
        if ("readonly" in box.dataset || box.classList.contains("readonly") || hiddenBox(box)) continue;
        const key = box.dataset.field;
        const value = jsonValue(box);
        if (value === undefined) continue;
        if (recordId) {
          if (JSON.stringify(value) !== initial.get(key)) data[key] = value;
        } else if (value !== null && !(Array.isArray(value) && !value.length) && value !== false) {
          data[key] = value;
        }
      }
      return data;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (preview) return;
      fields.forEach(clearError);
      document.getElementById("form-error").hidden = true;
      const button = document.getElementById("save");
      button.disabled = true;
      try {
        const base = `/api/v1/records/${encodeURIComponent(entity)}`;
        const saved = recordId
          ? await api("PATCH", `${base}/${recordId}`, payload(), { "If-Match": `"${version}"` })
          : await api("POST", base, payload());
        version = saved.version;
        saving = true;
        dirty = false;
        toast(t("Saved"));
        const page = `/app/${encodeURIComponent(entity)}`;
        // Routing may have moved the record out of the user's view: then the list says so.
        const visible = await fetch(`/api/v1/records/${encodeURIComponent(entity)}/${saved.id}`, {
          credentials: "same-origin", headers: { Accept: "application/json" },
        }).then((r) => r.ok, () => true);
        window.location.assign(visible ? `${page}/${saved.id}` : `${page}?routed=${saved.id}`);
      } catch (error) {
        if (error instanceof ApiError) {
          if (error.status === 409) toast(t("Someone else changed this record; reload to see their changes"), "error");
          showErrors(error);
        } else {
          toast(t("Could not save"), "error");
        }
      } finally {
        button.disabled = false;
      }
    });

    applyRules();
  }

  globalThis.TesseraRecordForm = { mount };
  const page = document.getElementById("record-form");
  if (page) mount(page, {});
})();
