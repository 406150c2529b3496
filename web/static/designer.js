/* The builders: /build (new app, new entity), the app builder and the entity designer.
   Every save goes through the metadata API (/api/v1/meta), which checks, versions and
   permits it; this script only edits a draft. Text from definitions is only ever set with
   textContent / value; the preview is the server's own form templates, parsed with
   DOMParser (which runs no script) and imported node by node. */
(function () {
  "use strict";
  const { t, api, toast, el, ApiError, lang, text, labels } = window.Tessera;
  const KEY = /^[a-z][a-z0-9_]*$/;

  function dataOf() {
    const node = document.getElementById("designer-data");
    return node ? JSON.parse(node.textContent) : null;
  }


  // ------------------------------------------------------------ /build

  document.querySelectorAll("form.new-item").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = form.querySelector("input[name=name]").value.trim();
      if (!KEY.test(name)) {
        toast(t("Use lower-case letters, digits and underscores, starting with a letter."), "error");
        return;
      }
      window.location.href = `/build/${form.dataset.kind}/${name}`;
    });
  });

  const data = dataOf();
  if (!data) return;

  /** A save refused because someone else saved first: the message says what to do. */
  function conflictText() {
    return t("Someone else saved this definition after you opened it. Reload to see their version, then make your change again.");
  }

  // ------------------------------------------------------------ the app builder

  const appRoot = document.getElementById("app-builder");
  if (appRoot) appBuilder();

  function appBuilder() {
    const found = data.found;
    const manifest = found ? JSON.parse(JSON.stringify(found.definition)) : { name: data.name, version: "0.1.0" };
    let version = found ? found.version : null;
    const group = (manifest.menus && manifest.menus[0]) || { items: [] };
    const $ = (id) => document.getElementById(id);
    const label = manifest.label || {};
    $("app-label-en").value = typeof label === "string" ? label : label.en || "";
    $("app-label-zh").value = typeof label === "string" ? "" : label["zh-CN"] || "";
    $("app-icon").value = manifest.icon || group.icon || "";
    $("app-version").value = manifest.version || "0.1.0";
    const chosen = new Set(group.roles || []);
    const rolesBox = $("app-roles");
    data.roles.forEach((r) => {
      rolesBox.append(el("label", {}, el("input", { type: "checkbox", value: r, checked: chosen.has(r) }), " ", r));
    });
    const items = $("menu-items");
    function itemRow(item) {
      const kind = item.entity ? "entity" : item.report ? "report" : "dashboard";
      const il = item.label || {};
      const li = el(
        "li",
        { class: "menu-item", dataset: { kind, target: item[kind] } },
        el("span", { class: "handle", "aria-hidden": "true" }, "⋮⋮"),
        el("code", {}, `${kind}: ${item[kind]}`),
        el("input", { class: "item-en", value: typeof il === "string" ? il : il.en || "", "aria-label": t("Label (English)") }),
        el("input", { class: "item-zh", value: typeof il === "string" ? "" : il["zh-CN"] || "", "aria-label": t("Label (Chinese)") }),
        el("button", { type: "button", class: "remove", onclick: () => li.remove() }, t("Remove"))
      );
      return li;
    }
    (group.items || []).forEach((item) => items.append(itemRow(item)));
    if (window.Sortable) window.Sortable.create(items, { forceFallback: true, handle: ".handle", animation: 120 });
    const kindSel = $("add-item-kind");
    const targetSel = $("add-item-target");
    function fillTargets() {
      targetSel.replaceChildren();
      const list =
        kindSel.value === "entity"
          ? data.entities.map((e) => [e.name, e.label])
          : (kindSel.value === "report" ? data.reports : data.dashboards).map((n) => [n, n]);
      list.forEach(([value, shown]) => targetSel.append(el("option", { value }, shown)));
    }
    kindSel.addEventListener("change", fillTargets);
    fillTargets();
    $("add-item").addEventListener("click", () => {
      if (!targetSel.value) return;
      const shown = targetSel.options[targetSel.selectedIndex].textContent;
      items.append(itemRow({ [kindSel.value]: targetSel.value, label: { en: shown } }));
    });
    $("app-save").addEventListener("click", async () => {
      const roles = Array.from(rolesBox.querySelectorAll("input:checked")).map((i) => i.value);
      const appLabel = labels($("app-label-en").value.trim(), $("app-label-zh").value.trim());
      const icon = $("app-icon").value.trim();
      const menu = {
        label: appLabel || data.name,
        items: Array.from(items.children).map((li) => {
          const entry = { label: labels(li.querySelector(".item-en").value.trim(), li.querySelector(".item-zh").value.trim()) };
          if (!entry.label) delete entry.label;
          entry[li.dataset.kind] = li.dataset.target;
          return entry;
        }),
      };
      if (icon) menu.icon = icon;
      if (roles.length) menu.roles = roles;
      const definition = Object.assign({}, manifest, {
        name: data.name,
        version: $("app-version").value.trim() || "0.1.0",
        menus: [menu].concat((manifest.menus || []).slice(1)),
      });
      if (appLabel) definition.label = appLabel;
      if (icon) definition.icon = icon;
      else delete definition.icon;
      const box = $("builder-error");
      box.hidden = true;
      try {
        const saved = await api("PUT", `/api/v1/meta/app/${data.name}`, { definition, version });
        version = saved.version;
        toast(t("Saved version {version}.", { version: saved.version }));
      } catch (e) {
        box.hidden = false;
        box.textContent = e instanceof ApiError && e.status === 409 && !e.errors.some((x) => x.field && x.field !== "version") ? conflictText() : errorText(e);
      }
    });
  }

  function errorText(e) {
    if (!(e instanceof ApiError)) return String(e);
    const details = e.errors.map((x) => (x.field ? `${x.field}: ${x.message}` : x.message));
    return [e.message].concat(details).join(" — ");
  }

  // ------------------------------------------------------------ the entity designer

  const root = document.getElementById("designer");
  if (root) entityDesigner();

  function entityDesigner() {
    const $ = (id) => document.getElementById(id);
    const types = new Map(data.palette.map((p) => [p.name, p]));
    const found = data.found;
    const base = found ? found.definition : { name: data.name, schema: { type: "object", properties: {} } };
    let version = found ? found.version : null;
    const existing = new Set(Object.keys((base.schema && base.schema.properties) || {}));

    /** The draft: labels, fields (key → {type, prop}), sections (label, columns, tab, keys). */
    let state = fromDefinition(base);
    const undoStack = [];
    const redoStack = [];
    let saved = JSON.stringify(state);
    let selected = null;
    let counter = 1;

    function fromDefinition(def) {
      const props = (def.schema && def.schema.properties) || {};
      const required = new Set((def.schema && def.schema.required) || []);
      const fields = {};
      Object.entries(props).forEach(([key, prop]) => {
        fields[key] = { type: data.types[key] || "text", prop: JSON.parse(JSON.stringify(prop)), required: required.has(key) };
      });
      const sections = [];
      const placed = new Set();
      const addSection = (s, tab, tabWhen) => {
        const keys = (s.fields || []).filter((k) => fields[k] && !placed.has(k));
        keys.forEach((k) => placed.add(k));
        const sl = s.section || s.tab || {};
        sections.push({
          en: typeof sl === "string" ? sl : sl.en || "",
          zh: typeof sl === "string" ? "" : sl["zh-CN"] || "",
          columns: s.columns || 1,
          tab: tab || "",
          tabWhen: tabWhen || "",
          when: s["x-visible-when"] || "",
          fields: keys,
        });
      };
      (def.layout || []).forEach((block) => {
        if (block.tabs) {
          block.tabs.forEach((tab) => {
            const tabName = text(tab.tab, "");
            const tabWhen = tab["x-visible-when"] || "";
            if (tab.fields) addSection({ section: tab.tab, fields: tab.fields }, tabName, tabWhen);
            (tab.sections || []).forEach((s) => addSection(s, tabName, tabWhen));
          });
        } else addSection(block, "");
      });
      const rest = Object.keys(fields).filter((k) => !placed.has(k) && !fields[k].prop["x-removed"]);
      if (rest.length || !sections.length) sections.push({ en: sections.length ? "More" : "Details", zh: "", columns: 1, tab: "", fields: rest });
      const dl = def.label || {};
      return {
        en: typeof dl === "string" ? dl : dl.en || "",
        zh: typeof dl === "string" ? "" : dl["zh-CN"] || "",
        fields,
        sections,
      };
    }

    /** Where each section of the draft sits in the saved layout (a server error names that path). */
    const sectionPaths = [];

    function toDefinition() {
      const properties = {};
      const required = [];
      Object.entries(state.fields).forEach(([key, f]) => {
        const prop = JSON.parse(JSON.stringify(f.prop));
        Object.keys(prop).forEach((k) => prop[k] === "" && delete prop[k]);
        properties[key] = prop;
        if (f.required && !prop["x-removed"]) required.push(key);
      });
      const layout = [];
      let tabs = null;
      sectionPaths.length = 0;
      state.sections.forEach((s, n) => {
        const section = { section: labels(s.en, s.zh) || "", columns: Number(s.columns) || 1, fields: s.fields.slice() };
        if (!section.section) delete section.section;
        if (s.when && s.when.trim()) section["x-visible-when"] = s.when.trim();
        if (s.tab) {
          if (!tabs) {
            tabs = { tabs: [] };
            layout.push(tabs);
          }
          let tab = tabs.tabs.find((x) => text(x.tab) === s.tab);
          if (!tab) {
            tabs.tabs.push((tab = { tab: s.tab, sections: [] }));
            if (s.tabWhen) tab["x-visible-when"] = s.tabWhen;
          }
          tab.sections.push(section);
          sectionPaths[n] = `layout[${layout.indexOf(tabs)}].tabs[${tabs.tabs.indexOf(tab)}].sections[${tab.sections.length - 1}]`;
        } else {
          tabs = null;
          layout.push(section);
          sectionPaths[n] = `layout[${layout.length - 1}]`;
        }
      });
      const def = Object.assign({}, base, {
        name: data.name,
        schema: Object.assign({}, base.schema || {}, { type: "object", properties }),
        layout,
      });
      if (required.length) def.schema.required = required;
      else delete def.schema.required;
      const l = labels(state.en, state.zh);
      if (l) def.label = l;
      return def;
    }

    // ---------------------------------------------------------- undo / redo / dirty

    function change(mutate) {
      const before = JSON.stringify(state);
      mutate();
      // an edit that changed nothing (a second "change" event as the input loses focus)
      // is not a step: undo must always undo something
      if (JSON.stringify(state) === before) return;
      undoStack.push(before);
      redoStack.length = 0;
      render();
    }
    /** A change typed into a condition builder: recorded for undo, without redrawing the
        canvas (which would take the builder away from under the user's cursor). */
    function quietChange(mutate) {
      undoStack.push(JSON.stringify(state));
      redoStack.length = 0;
      mutate();
      $("undo").disabled = false;
      $("redo").disabled = true;
      schedulePreview();
    }
    function restore(from, to) {
      if (!from.length) return;
      to.push(JSON.stringify(state));
      state = JSON.parse(from.pop());
      if (selected && !state.fields[selected]) selected = null;
      render();
    }
    $("undo").addEventListener("click", () => restore(undoStack, redoStack));
    $("redo").addEventListener("click", () => restore(redoStack, undoStack));
    const dirty = () => JSON.stringify(state) !== saved;
    window.addEventListener("beforeunload", (event) => {
      if (dirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    $("entity-label-en").value = state.en;
    $("entity-label-zh").value = state.zh;
    $("entity-label-en").addEventListener("change", (e) => change(() => (state.en = e.target.value.trim())));
    $("entity-label-zh").addEventListener("change", (e) => change(() => (state.zh = e.target.value.trim())));
    $("add-section").addEventListener("click", () =>
      change(() => state.sections.push({ en: t("Section {n}", { n: state.sections.length + 1 }), zh: "", columns: 1, tab: "", tabWhen: "", when: "", fields: [] }))
    );

    // ---------------------------------------------------------- palette

    const paletteList = $("palette");
    data.palette.forEach((p) => {
      paletteList.append(
        el(
          "li",
          { class: "palette-item", dataset: { type: p.name }, tabindex: "0", title: t("Drag onto the form, or press Enter to add") },
          p.label
        )
      );
    });
    paletteList.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.dataset.type) addField(e.target.dataset.type, state.sections.length - 1, null);
    });
    paletteList.addEventListener("dblclick", (e) => {
      if (e.target.dataset.type) addField(e.target.dataset.type, state.sections.length - 1, null);
    });
    if (window.Sortable) {
      window.Sortable.create(paletteList, { forceFallback: true, group: { name: "form", pull: "clone", put: false }, sort: false, animation: 120 });
    }

    function newKey(type) {
      let key;
      do key = `${type}_${counter++}`;
      while (state.fields[key]);
      return key;
    }

    function addField(type, sectionIndex, position) {
      const info = types.get(type);
      const key = newKey(type === "child_table" ? "rows" : type);
      change(() => {
        const prop = Object.assign({}, info.implied || {}, { "x-type": type, "x-label": { en: info.label } });
        if (type === "select" || type === "multi_select") {
          if (type === "select") prop.enum = ["option_1"];
          else prop.items = { type: "string", enum: ["option_1"] };
        }
        if (type === "reference") prop["x-ref"] = (data.entities[0] || {}).name || "";
        if (type === "child_table") prop.items = { type: "object", properties: { item: { type: "string" } } };
        state.fields[key] = { type, prop, required: false, isNew: true };
        const list = state.sections[sectionIndex].fields;
        list.splice(position === null ? list.length : position, 0, key);
        selected = key;
      });
    }

    // ---------------------------------------------------------- canvas

    const canvas = $("canvas");
    const sortables = [];

    function render() {
      $("undo").disabled = !undoStack.length;
      $("redo").disabled = !redoStack.length;
      $("entity-label-en").value = state.en; // undo and redo bring labels back too
      $("entity-label-zh").value = state.zh;
      sortables.splice(0).forEach((s) => s.destroy());
      canvas.replaceChildren();
      state.sections.forEach((s, index) => {
        const list = el("ul", { class: `drop cols-${s.columns}`, dataset: { section: String(index) } });
        s.fields.forEach((key) => {
          const f = state.fields[key];
          if (!f) return;
          list.append(
            el(
              "li",
              { class: "canvas-field" + (key === selected ? " selected" : ""), dataset: { key }, tabindex: "0" },
              el("span", { class: "field-name" }, text(f.prop["x-label"], key)),
              el("code", {}, key),
              el("span", { class: "type" }, (types.get(f.type) || {}).label || f.type),
              f.required ? el("span", { class: "req" }, "*") : null,
              el("p", { class: "field-error", dataset: { errorFor: key }, role: "alert", hidden: true })
            )
          );
        });
        const head = el(
          "div",
          { class: "section-head" },
          el("span", { class: "handle section-handle", "aria-hidden": "true" }, "⋮⋮"),
          el("input", { class: "section-en", value: s.en, "aria-label": t("Section label (English)") }),
          el("input", { class: "section-zh", value: s.zh, "aria-label": t("Section label (Chinese)"), placeholder: "中文" }),
          el(
            "select",
            { class: "section-columns", "aria-label": t("Columns") },
            [1, 2, 3, 4].map((n) => el("option", { value: String(n), selected: Number(s.columns) === n }, t("{n} columns", { n })))
          ),
          el("input", { class: "section-tab", value: s.tab, "aria-label": t("Tab"), placeholder: t("Tab") }),
          el("button", { type: "button", class: "remove-section", disabled: s.fields.length > 0 }, t("Remove"))
        );
        head.querySelector(".section-en").addEventListener("change", (e) => change(() => (s.en = e.target.value)));
        head.querySelector(".section-zh").addEventListener("change", (e) => change(() => (s.zh = e.target.value)));
        head.querySelector(".section-tab").addEventListener("change", (e) => change(() => (s.tab = e.target.value.trim())));
        head.querySelector(".section-columns").addEventListener("change", (e) => change(() => (s.columns = Number(e.target.value))));
        head.querySelector(".remove-section").addEventListener("click", () => change(() => state.sections.splice(index, 1)));
        canvas.append(el("section", { class: "canvas-section card", dataset: { section: String(index) } }, head, sectionWhen(s, index), list));
        if (window.Sortable) {
          sortables.push(
            window.Sortable.create(list, { forceFallback: true,
              group: { name: "form", pull: true, put: true },
              animation: 120,
              onAdd: onDrop,
              onUpdate: onDrop,
            })
          );
        }
      });
      if (window.Sortable) {
        sortables.push(
          window.Sortable.create(canvas, { forceFallback: true,
            handle: ".section-handle",
            draggable: ".canvas-section",
            animation: 120,
            onUpdate: (evt) =>
              change(() => {
                const [moved] = state.sections.splice(evt.oldIndex, 1);
                state.sections.splice(evt.newIndex, 0, moved);
              }),
          })
        );
      }
      renderProps();
      schedulePreview();
    }

    /** The section's "visible when" condition: the condition builder over the saved entity
        (its rows, or its text view), or a text box for an entity not saved yet. The save
        checks the condition against the draft either way. */
    const openWhen = new Set();
    function sectionWhen(s, index) {
      const summaryText = () => (s.when ? t("Visible when: {condition}", { condition: s.when }) : t("Visible when…"));
      const summary = el("summary", {}, summaryText());
      const box = el("details", { class: "section-when", dataset: { section: String(index) } }, summary);
      const body = el("div", { class: "section-when-body" });
      const problem = el("p", { class: "field-error", dataset: { errorFor: `section.${index}` }, role: "alert", hidden: true });
      box.append(body, problem);
      let mounted = false;
      const mount = () => {
        if (mounted) return;
        mounted = true;
        const onChange = (value) => {
          quietChange(() => (s.when = value.trim()));
          summary.textContent = summaryText();
        };
        if (found && window.Tessera.conditionBuilder) {
          window.Tessera.conditionBuilder(body, { entity: data.name, text: s.when || "", onChange });
        } else {
          const input = el("input", { class: "section-when-text", value: s.when || "", "aria-label": t("Visible when") });
          input.addEventListener("input", () => onChange(input.value));
          body.append(input);
        }
      };
      box.addEventListener("toggle", () => {
        if (box.open) {
          openWhen.add(index);
          mount();
        } else openWhen.delete(index);
      });
      if (openWhen.has(index)) {
        box.open = true;
        mount();
      }
      return box;
    }

    /** A drop on the canvas: a new field from the palette, or a field moved. */
    function onDrop(evt) {
      const to = Number(evt.to.dataset.section);
      const item = evt.item;
      if (item.dataset.type) {
        item.remove();
        addField(item.dataset.type, to, evt.newIndex);
        return;
      }
      const key = item.dataset.key;
      change(() => {
        state.sections.forEach((s) => {
          const i = s.fields.indexOf(key);
          if (i >= 0) s.fields.splice(i, 1);
        });
        state.sections[to].fields.splice(evt.newIndex, 0, key);
      });
    }

    canvas.addEventListener("click", (e) => {
      const li = e.target.closest(".canvas-field");
      if (!li) return;
      selected = li.dataset.key;
      canvas.querySelectorAll(".canvas-field").forEach((x) => x.classList.toggle("selected", x === li));
      renderProps();
    });

    // ---------------------------------------------------------- properties panel

    function row(labelText, input, extra) {
      return el("label", { class: "prop" + (extra ? " " + extra : "") }, el("span", {}, labelText), input);
    }

    function renderProps() {
      const body = $("props-body");
      body.replaceChildren();
      $("props-empty").hidden = !!selected;
      if (!selected || !state.fields[selected]) return;
      const key = selected;
      const f = state.fields[key];
      const prop = f.prop;
      const set = (mutate) => change(mutate);
      // a rename pending (or saved) shows where the field came from instead of the Rename
      // button; while pending, the key stays editable so it can be put back
      const renamedFrom = f.prop["x-renamed-from"] && !existing.has(key) ? f.prop["x-renamed-from"] : null;
      const keyInput = el("input", { id: "prop-key", value: key, disabled: !f.isNew && !renamedFrom, "aria-describedby": "prop-key-error" });
      keyInput.addEventListener("change", () => {
        const next = keyInput.value.trim();
        const box = $("prop-key-error");
        box.hidden = true;
        if (next === key) return;
        if (!KEY.test(next)) return fieldError(key, t("A field key uses lower-case letters, digits and underscores, starting with a letter."), true);
        if (state.fields[next]) return fieldError(key, t("There is already a field with the key {key}.", { key: next }), true);
        set(() => {
          if (!f.isNew) {
            // a saved field keeps its column and data: the plan renames it (x-renamed-from)
            const from = existing.has(key) ? key : f.prop["x-renamed-from"];
            if (next === from) delete f.prop["x-renamed-from"];
            else f.prop["x-renamed-from"] = from;
          }
          state.fields[next] = state.fields[key];
          delete state.fields[key];
          state.sections.forEach((s) => (s.fields = s.fields.map((k) => (k === key ? next : k))));
          selected = next;
        });
      });
      const renameButton = f.isNew || f.prop["x-renamed-from"]
        ? null
        : el("button", { type: "button", id: "prop-rename", title: t("The column and its data are kept") }, t("Rename"));
      if (renameButton) {
        renameButton.addEventListener("click", () => {
          keyInput.disabled = false;
          renameButton.hidden = true;
          keyInput.focus();
          keyInput.select();
        });
      }
      body.append(row(t("Key"), keyInput));
      if (renameButton) body.append(renameButton);
      if (renamedFrom) body.append(el("p", { class: "muted", id: "prop-renamed" }, t("Renamed from {key}: the column and its data are kept.", { key: renamedFrom })));
      body.append(
        el("p", { class: "field-error", id: "prop-key-error", role: "alert", hidden: true }),
        el("p", { class: "muted" }, t("Type: {type}", { type: (types.get(f.type) || {}).label || f.type }))
      );
      const lbl = prop["x-label"] || {};
      const help = prop["x-help"] || {};
      const textInput = (id, value, apply) => {
        const input = el("input", { id, value: value || "" });
        input.addEventListener("change", () => set(() => apply(input.value.trim())));
        return input;
      };
      const setLabel = (keyword, langKey) => (v) => {
        const current = typeof prop[keyword] === "object" && prop[keyword] ? prop[keyword] : {};
        if (v) current[langKey] = v;
        else delete current[langKey];
        if (Object.keys(current).length) prop[keyword] = current;
        else delete prop[keyword];
      };
      body.append(
        row(t("Label (English)"), textInput("prop-label-en", typeof lbl === "string" ? lbl : lbl.en, setLabel("x-label", "en"))),
        row(t("Label (Chinese)"), textInput("prop-label-zh", lbl["zh-CN"], setLabel("x-label", "zh-CN"))),
        row(t("Help text (English)"), textInput("prop-help-en", typeof help === "string" ? help : help.en, setLabel("x-help", "en"))),
        row(t("Help text (Chinese)"), textInput("prop-help-zh", help["zh-CN"], setLabel("x-help", "zh-CN")))
      );
      const check = (id, labelText, value, apply) => {
        const input = el("input", { id, type: "checkbox", checked: !!value });
        input.addEventListener("change", () => set(() => apply(input.checked)));
        return el("label", { class: "prop check" }, input, " ", labelText);
      };
      const flag = (keyword) => (on) => (on ? (prop[keyword] = true) : delete prop[keyword]);
      body.append(
        check("prop-required", t("Required"), f.required, (on) => (f.required = on)),
        check("prop-unique", t("Unique"), prop["x-unique"], flag("x-unique")),
        check("prop-index", t("Index"), prop["x-index"], flag("x-index")),
        row(t("Default"), textInput("prop-default", prop["x-default"] === undefined ? "" : String(prop["x-default"]), (v) => (v === "" ? delete prop["x-default"] : (prop["x-default"] = v))))
      );
      typeOptions(body, f, set);
      const expr = (id, keyword, labelText) => {
        const input = el("input", { id, value: prop[keyword] || "", class: "expr", dataset: { keyword } });
        input.addEventListener("change", () => set(() => (input.value.trim() ? (prop[keyword] = input.value.trim()) : delete prop[keyword])));
        return [row(labelText, input), el("p", { class: "field-error", dataset: { errorFor: `${key}.${keyword}` }, role: "alert", hidden: true })];
      };
      /* A "when" condition: the condition builder over the saved entity, as section
         conditions are (its "Edit as text" view is the textarea with the id the tests and
         the text box share), or a text box for an entity not saved yet. */
      const when = (id, keyword, labelText) => {
        if (!(found && window.Tessera.conditionBuilder)) return expr(id, keyword, labelText);
        const textarea = el("textarea", { id, rows: 2, class: "expr", dataset: { keyword }, "aria-label": labelText });
        const holder = el("div", { class: "prop-when", id: `${id}-builder`, dataset: { keyword } });
        window.Tessera.conditionBuilder(holder, {
          entity: data.name,
          text: prop[keyword] || "",
          textarea,
          onChange: (value) => {
            quietChange(() => (value.trim() ? (prop[keyword] = value.trim()) : delete prop[keyword]));
            checkConditions(key);
          },
        });
        return [
          el("div", { class: "prop prop-when-row" }, el("span", {}, labelText), holder),
          el("p", { class: "field-error", dataset: { errorFor: `${key}.${keyword}` }, role: "alert", hidden: true }),
        ];
      };
      body.append(
        ...expr("prop-computed", "x-computed", t("Computed expression")),
        ...when("prop-visible-when", "x-visible-when", t("Visible when")),
        ...when("prop-required-when", "x-required-when", t("Required when")),
        ...when("prop-readonly-when", "x-readonly-when", t("Read-only when"))
      );
      const remove = el("button", { type: "button", id: "prop-remove" }, existing.has(key) ? t("Remove (kept in the database)") : t("Remove"));
      remove.addEventListener("click", () =>
        set(() => {
          state.sections.forEach((s) => (s.fields = s.fields.filter((k) => k !== key)));
          if (existing.has(key)) state.fields[key].prop["x-removed"] = true;
          else delete state.fields[key];
          selected = null;
        })
      );
      body.append(remove);
      checkConditions(key);
    }

    /** The options of the field's type, from the registry's config schema; the common ones get editors. */
    function typeOptions(body, f, set) {
      const prop = f.prop;
      const config = ((types.get(f.type) || {}).config || {}).properties || {};
      const handled = new Set(["enum", "x-options-labels", "x-options-colors", "x-ref", "items"]);
      if (f.type === "select" || f.type === "multi_select") body.append(optionsEditor(f, set));
      if (f.type === "reference" || "x-ref" in config) {
        const sel = el(
          "select",
          { id: "prop-ref" },
          el("option", { value: "" }, "—"),
          data.entities.map((e) => el("option", { value: e.name, selected: prop["x-ref"] === e.name }, `${e.label} (${e.name})`))
        );
        if (prop["x-ref"] && !data.entities.some((e) => e.name === prop["x-ref"])) {
          sel.append(el("option", { value: prop["x-ref"], selected: true }, prop["x-ref"]));
        }
        sel.addEventListener("change", () => set(() => (prop["x-ref"] = sel.value)));
        body.append(row(t("Reference target"), sel));
      }
      if (f.type === "child_table") {
        const cols = Object.entries((prop.items && prop.items.properties) || {}).map(([k, p]) => `${k}: ${p["x-type"] || p.type || "string"}`);
        const area = el("textarea", { id: "prop-columns", rows: "4" }, cols.join("\n"));
        area.addEventListener("change", () =>
          set(() => {
            const properties = {};
            area.value.split("\n").map((s) => s.trim()).filter(Boolean).forEach((line) => {
              const [k, ty] = line.split(":").map((s) => s.trim());
              const info = types.get(ty) || types.get("text");
              properties[k] = Object.assign({}, info.implied || {}, { "x-type": info.name });
            });
            prop.items = { type: "object", properties };
          })
        );
        body.append(row(t("Columns (one per line, key: type)"), area));
      }
      Object.entries(config).forEach(([name, schema]) => {
        if (handled.has(name)) return;
        const kind = schema.type;
        const id = `prop-opt-${name}`;
        if (kind === "boolean") {
          const input = el("input", { id, type: "checkbox", checked: !!prop[name] });
          input.addEventListener("change", () => set(() => (input.checked ? (prop[name] = true) : delete prop[name])));
          body.append(el("label", { class: "prop check" }, input, " ", schema.title || name));
          return;
        }
        const input = el("input", {
          id,
          type: kind === "integer" || kind === "number" ? "number" : "text",
          value: prop[name] === undefined ? "" : String(prop[name]),
        });
        if (schema.enum) input.setAttribute("list", `${id}-list`);
        input.addEventListener("change", () =>
          set(() => {
            const v = input.value.trim();
            if (v === "") delete prop[name];
            else prop[name] = kind === "integer" ? parseInt(v, 10) : kind === "number" ? Number(v) : v;
          })
        );
        body.append(row(schema.title || name, input));
      });
    }

    function optionsEditor(f, set) {
      const prop = f.prop;
      const multi = f.type === "multi_select";
      const values = multi ? (prop.items && prop.items.enum) || [] : prop.enum || [];
      const names = prop["x-options-labels"] || {};
      const colours = prop["x-options-colors"] || {};
      const lines = values.map((v) => {
        const l = names[v] || {};
        return [v, typeof l === "string" ? l : l.en || "", l["zh-CN"] || "", colours[v] || ""].join(" | ");
      });
      const area = el("textarea", { id: "prop-options", rows: String(Math.max(3, values.length + 1)) }, lines.join("\n"));
      area.addEventListener("change", () =>
        set(() => {
          const enumValues = [];
          const optionLabels = {};
          const optionColours = {};
          area.value.split("\n").map((s) => s.trim()).filter(Boolean).forEach((line) => {
            const [value, en, zh, colour] = line.split("|").map((s) => (s || "").trim());
            if (!value) return;
            enumValues.push(value);
            const l = labels(en, zh);
            if (l) optionLabels[value] = l;
            if (colour) optionColours[value] = colour;
          });
          if (multi) prop.items = Object.assign({}, prop.items || { type: "string" }, { enum: enumValues });
          else prop.enum = enumValues;
          if (Object.keys(optionLabels).length) prop["x-options-labels"] = optionLabels;
          else delete prop["x-options-labels"];
          if (Object.keys(optionColours).length) prop["x-options-colors"] = optionColours;
          else delete prop["x-options-colors"];
        })
      );
      return el(
        "div",
        { class: "prop" },
        el("span", {}, t("Options (one per line: value | English | 中文 | #colour)")),
        area,
        el("p", { class: "field-error", dataset: { errorFor: `${f === state.fields[selected] ? selected : ""}.enum` }, role: "alert", hidden: true })
      );
    }

    /** Conditions checked live against the saved entity (POST /api/v1/rules/check). */
    async function checkConditions(key) {
      if (!found) return true;
      let ok = true;
      const prop = (state.fields[key] || {}).prop || {};
      for (const keyword of ["x-computed", "x-visible-when", "x-required-when", "x-readonly-when"]) {
        const expression = prop[keyword];
        const box = document.querySelector(`[data-error-for="${CSS.escape(`${key}.${keyword}`)}"]`);
        const unsaved = Object.keys(state.fields).some((k) => !existing.has(k) && new RegExp(`\\b${k}\\b`).test(expression || ""));
        if (!expression || unsaved) {
          // a field not saved yet is unknown to the live check: the save checks it with the draft
          if (box) box.hidden = true;
          continue;
        }
        try {
          const result = await api("POST", "/api/v1/rules/check", { text: expression, entity: data.name });
          const errors = (result.diagnostics || []).filter((d) => d.severity !== "warning");
          if (box) {
            box.hidden = !errors.length;
            box.textContent = errors.map((d) => d.message).join("; ");
          }
          if (errors.length) ok = false;
        } catch (e) {
          /* the check is a help; the save checks again */
        }
      }
      return ok;
    }

    // ---------------------------------------------------------- errors at their place

    function clearErrors() {
      document.querySelectorAll("#designer .field-error").forEach((b) => {
        b.hidden = true;
        b.textContent = "";
      });
      document.querySelectorAll(".canvas-field.has-error").forEach((x) => x.classList.remove("has-error"));
      $("designer-error").hidden = true;
    }

    function fieldError(key, message, atKey) {
      const li = canvas.querySelector(`.canvas-field[data-key="${CSS.escape(key)}"]`);
      if (li) {
        li.classList.add("has-error");
        const box = li.querySelector(".field-error");
        box.hidden = false;
        box.textContent = message;
      }
      if (atKey || key === selected) {
        const box = $("prop-key-error");
        if (box) {
          box.hidden = false;
          box.textContent = message;
        }
      }
    }

    function showErrors(e) {
      if (!(e instanceof ApiError)) {
        $("designer-error").hidden = false;
        $("designer-error").textContent = String(e);
        return;
      }
      const general = [];
      e.errors.forEach((x) => {
        const m = /^schema\.properties\.([^.]+)/.exec(x.field || "");
        if (m) {
          fieldError(m[1], x.message);
          const at = document.querySelector(`[data-error-for="${CSS.escape((x.field || "").split(".").slice(2).join("."))}"]`);
          if (at) {
            at.hidden = false;
            at.textContent = x.message;
          }
        }
        else if (x.field && state.fields[x.field]) fieldError(x.field, x.message);
        else if (x.field && sectionPaths.some((path) => x.field.startsWith(path + "."))) {
          const n = sectionPaths.findIndex((path) => x.field.startsWith(path + ".") && !x.field.slice(path.length + 1).startsWith("tabs"));
          const at = document.querySelector(`[data-error-for="section.${n}"]`);
          if (at) {
            at.hidden = false;
            at.textContent = x.message;
            at.closest("details").open = true;
          } else general.push(`${x.field}: ${x.message}`);
        }
        else general.push(x.field ? `${x.field}: ${x.message}` : x.message);
      });
      if (general.length || !e.errors.length) {
        $("designer-error").hidden = false;
        $("designer-error").textContent = [e.message].concat(general).join(" — ");
      }
    }

    /** Problems the designer can see itself: keys, duplicate keys, missing reference targets. */
    function localProblems() {
      let bad = false;
      const known = new Set(data.entities.map((e) => e.name).concat([data.name]));
      Object.entries(state.fields).forEach(([key, f]) => {
        if (!KEY.test(key)) {
          fieldError(key, t("A field key uses lower-case letters, digits and underscores, starting with a letter."), key === selected);
          bad = true;
        }
        if (f.type === "reference" && !f.prop["x-removed"] && !known.has(f.prop["x-ref"])) {
          fieldError(key, t("The reference target {entity} does not exist.", { entity: f.prop["x-ref"] || "—" }));
          bad = true;
        }
      });
      return bad;
    }

    // ---------------------------------------------------------- plan, then save

    const dialog = $("plan-dialog");
    const STEP_TEXT = {
      create_table: () => t("Create the table"),
      add_column: (s) => t("Add column {field}", { field: s.field }),
      add_index: (s) => t("Build an index on {field}", { field: s.field }),
      soft_remove: (s) => t("Soft-remove {field} (its data is kept)", { field: s.field }),
      remove: (s) => t("Soft-remove {field} (its data is kept)", { field: s.field }),
      restore: (s) => t("Show {field} again, with its data", { field: s.field }),
      drop_index: (s) => t("Drop the index on {field}", { field: s.field }),
      widen: (s) => t("Widen the column {field}", { field: s.field }),
      narrow: (s) => t("Narrow the column {field} (every record fits)", { field: s.field }),
      metadata: (s) => (s.field ? t("Change the label or help of {field} (no table change)", { field: s.field }) : t("Change labels or layout (no table change)")),
      rename: (s) => t("Rename to {field}", { field: s.field }),
      refuse: (s) => t("Refused: {detail}", { detail: s.detail }),
    };

    $("review").addEventListener("click", async () => {
      clearErrors();
      if (localProblems()) return;
      const checks = await Promise.all(Object.keys(state.fields).map((k) => checkConditions(k)));
      if (checks.includes(false)) {
        $("designer-error").hidden = false;
        $("designer-error").textContent = t("A condition does not check: see the field.");
        return;
      }
      let plan;
      try {
        plan = await api("POST", `/api/v1/meta/entity/${data.name}/plan`, { definition: toDefinition() });
      } catch (e) {
        showErrors(e);
        return;
      }
      const list = $("plan-steps");
      list.replaceChildren();
      plan.steps.forEach((s) => {
        const words = (STEP_TEXT[s.action] || (() => `${s.action} ${s.field || ""} ${s.detail || ""}`))(s);
        const records = (s.ids || []).map((id) =>
          el("a", { class: "refused-record", href: `/app/${encodeURIComponent(data.name)}/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener" }, `#${id}`)
        );
        list.append(
          el(
            "li",
            { class: `step step-${s.action}`, dataset: { action: s.action, field: s.field || "" } },
            words,
            s.detail && s.action !== "refuse" ? el("small", {}, ` (${s.detail})`) : null,
            records.length ? el("span", { class: "refused-records" }, " ", ...records.flatMap((a) => [a, " "])) : null
          )
        );
      });
      if (!plan.steps.length) list.append(el("li", { class: "step" }, t("Only the form changes: no table change.")));
      $("confirm-save").disabled = plan.refused;
      $("plan-error").hidden = !plan.refused;
      $("plan-error").textContent = plan.refused ? t("This change is refused: the records named above hold data it would not keep.") : "";
      if (!dialog.open) dialog.showModal();
    });
    $("cancel-save").addEventListener("click", () => dialog.close());
    $("confirm-save").addEventListener("click", async () => {
      try {
        const result = await api("PUT", `/api/v1/meta/entity/${data.name}`, { definition: toDefinition(), version });
        version = result.version;
        saved = JSON.stringify(state);
        Object.keys(state.fields).forEach((k) => existing.add(k));
        Object.values(state.fields).forEach((f) => delete f.isNew);
        saved = JSON.stringify(state);
        dialog.close();
        toast(t("Saved version {version}.", { version: result.version }));
        renderProps();
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && !e.errors.some((x) => x.field)) {
          $("plan-error").hidden = false;
          $("plan-error").textContent = conflictText();
          $("confirm-save").disabled = true;
          return;
        }
        dialog.close();
        showErrors(e);
      }
    });

    // ---------------------------------------------------------- live preview

    let previewTimer = null;
    let previewTicket = 0;
    function schedulePreview() {
      $("preview").dataset.pending = "true"; // until the latest draft's form is live
      clearTimeout(previewTimer);
      previewTimer = setTimeout(updatePreview, 300);
    }

    /** What the form logic needs of the draft: labels and help are dropped (the script is
        compiled from a POST and loaded by a short-lived id, see web/ui/preview_store.py). */
    function logicDraft(def) {
      const copy = JSON.parse(JSON.stringify(def));
      delete copy.label;
      const strip = (props) =>
        Object.values(props || {}).forEach((p) => {
          ["x-label", "x-help", "x-options-labels", "x-options-colors", "title", "description"].forEach((k) => delete p[k]);
          if (p.items && p.items.properties) strip(p.items.properties);
        });
      strip(copy.schema && copy.schema.properties);
      (copy.layout || []).forEach((b) => {
        delete b.section;
        (b.tabs || []).forEach((tab) => (tab.sections || []).forEach((s) => delete s.section));
      });
      return copy;
    }

    /** The draft's form from the server's templates, then its logic (computed fields, field
        and section conditions) compiled from the draft, run by the record form's own script. */
    async function updatePreview() {
      const ticket = ++previewTicket;
      const definition = toDefinition();
      const box = $("preview");
      const response = await fetch(`/build/entities/${data.name}/preview`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.Tessera.csrf },
        body: JSON.stringify({ definition }),
      });
      if (ticket !== previewTicket) return;
      if (!response.ok) {
        delete box.dataset.pending;
        return;
      }
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      delete box.dataset.live;
      box.replaceChildren(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
      box.querySelectorAll("[data-tabs]").forEach((tabs) => {
        tabs.addEventListener("click", (e) => {
          const tab = e.target.closest("[data-tab]");
          if (!tab) return;
          tabs.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b === tab)));
          tabs.querySelectorAll("[data-panel]").forEach((p) => (p.hidden = p.dataset.panel !== tab.dataset.tab));
        });
      });
      const form = box.querySelector("#preview-form");
      if (!form || !window.TesseraRecordForm) delete box.dataset.pending;
      else {
        const logic = await fetch(`/build/entities/${encodeURIComponent(data.name)}/preview-logic`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": window.Tessera.csrf },
          body: JSON.stringify({ definition: logicDraft(definition) }),
        });
        if (ticket !== previewTicket) return;
        if (!logic.ok) {
          delete box.dataset.pending; // an unfinished draft: no logic yet
          return;
        }
        const { id } = await logic.json();
        if (ticket !== previewTicket) return;
        const old = document.getElementById("preview-logic");
        if (old) old.remove();
        const script = el("script", { id: "preview-logic", src: `/build/entities/${encodeURIComponent(data.name)}/preview.js?id=${encodeURIComponent(id)}` });
        script.addEventListener("load", () => {
          if (ticket !== previewTicket) return;
          window.TesseraRecordForm.mount(form, { preview: true });
          box.dataset.live = "true";
          delete box.dataset.pending;
        });
        script.addEventListener("error", () => {
          if (ticket === previewTicket) delete box.dataset.pending; // an unfinished draft: no logic yet
        });
        document.body.append(script);
      }
    }

    render();
  }
})();
