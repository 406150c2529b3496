/* The condition builder: nested groups of field / operator / value rows that write rule
   text, and a text view checked live. Menus come from GET /api/v1/rules/operators (only
   the fields the user may read, enum options with labels in the user's language); text
   is read into a tree by POST /api/v1/rules/condition, which also gives the checker's
   located messages. Used by the list page; later builders (rules, visibility, flow
   edges, report filters, segments) mount it the same way:

     const builder = Tessera.conditionBuilder(container, { entity, text, onChange });
     builder.text(); builder.setText("amount > 10"); builder.addRow();

   Options: ``textarea`` / ``problems`` adopt existing elements (a form field and its
   message list), ``addButton`` serves as the top group's "Add condition". Every value
   goes into the page as text nodes or form values, never as HTML. */
(function () {
  "use strict";
  const T = window.Tessera;
  const t = T.t;
  const el = T.el;

  const OP_LABELS = {
    "==": t("is"),
    "!=": t("is not"),
    "<": t("less than"),
    "<=": t("at most"),
    ">": t("greater than"),
    ">=": t("at least"),
    "in": t("is one of"),
    "not in": t("is none of"),
    "contains": t("contains"),
    "starts with": t("starts with"),
    "ends with": t("ends with"),
    "between": t("between"),
    "is null": t("is blank"),
    "is not null": t("is not blank"),
    "is empty": t("is empty"),
    "is not empty": t("is not empty"),
    "in last days": t("in the last … days"),
    "in next days": t("in the next … days"),
    "more than days ago": t("more than … days ago"),
  };
  const DATE_OPS = { "==": t("on"), "<": t("before"), ">": t("after"), "<=": t("on or before"), ">=": t("on or after") };
  const UNARY = ["is null", "is not null", "is empty", "is not empty"];
  const RELATIVE = ["in last days", "in next days", "more than days ago"];
  const KEYWORDS = ["not", "if", "null", "true", "false", "and", "or", "in", "then", "else"];

  const menus = {};
  function loadFields(entity) {
    if (!menus[entity]) {
      menus[entity] = T.api("GET", "/api/v1/rules/operators?entity=" + encodeURIComponent(entity))
        .then((answer) => {
          const byKey = {};
          for (const f of answer.fields) byKey[f.key] = f;
          return { list: answer.fields, byKey };
        });
    }
    return menus[entity];
  }

  // ------------------------------------------------------------ tree → rule text

  /** A string as a rule-language literal (the same escaping as engine.rules.condition_tree). */
  function quote(text) {
    return '"' + String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"')
      .replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t") + '"';
  }

  function name(key) {
    return /^[^\W\d]\w*$/u.test(key) && !KEYWORDS.includes(key) ? key : "`" + key + "`";
  }

  /** The literal of one value for field ``f``, or null when it is not complete. */
  function literal(f, value) {
    if (value === null || value === undefined) return null;
    const kind = f.kind === "list" ? (f.options.length ? "enum" : "string") : f.kind;
    if (kind === "boolean") return value === true || value === "true" ? "true" : value === false || value === "false" ? "false" : null;
    if (kind === "number") {
      const n = String(value).trim().replace(/,/g, "");
      return /^-?\d+(\.\d+)?$/.test(n) ? n : null;
    }
    if (kind === "date") return /^\d{4}-\d{2}-\d{2}$/.test(value) ? "@" + value : null;
    if (kind === "datetime") {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
      return "@" + (/T\d{2}:\d{2}$/.test(value) ? value + ":00" : value);  // as the server writes it
    }
    if (kind === "enum" && value === "") return null;
    return quote(value);
  }

  function rowText(row, fields) {
    const f = fields.byKey[row.field];
    if (!f) return "";
    const left = name(f.key);
    const op = row.op;
    if (UNARY.includes(op)) return left + " " + op;
    if (RELATIVE.includes(op)) {
      const days = String(row.value || "").trim();
      if (!/^[1-9]\d*$/.test(days)) return "";
      const anchor = f.kind === "date" ? "today()" : "now()";
      if (op === "in last days") return left + " between " + anchor + " - " + days + "d and " + anchor;
      if (op === "in next days") return left + " between " + anchor + " and " + anchor + " + " + days + "d";
      return left + " < " + anchor + " - " + days + "d";
    }
    if (op === "in" || op === "not in") {
      const items = (Array.isArray(row.value) ? row.value : []).map((v) => literal(f, v));
      if (!items.length || items.includes(null)) return "";
      return left + " " + op + " [" + items.join(", ") + "]";
    }
    if (op === "between") {
      const pair = Array.isArray(row.value) ? row.value : [];
      const low = literal(f, pair[0]);
      const high = literal(f, pair[1]);
      return low === null || high === null ? "" : left + " between " + low + " and " + high;
    }
    const value = literal(f, row.value);
    return value === null ? "" : left + " " + op + " " + value;
  }

  /** Canonical rule text of a tree; incomplete rows and empty groups are left out. */
  function treeText(node, fields, top) {
    if (node.type === "row") return rowText(node, fields);
    const parts = node.items.map((item) => [item, treeText(item, fields, false)]).filter((p) => p[1]);
    if (!parts.length) return "";
    if (parts.length === 1) return treeText(parts[0][0], fields, top);
    const joined = parts.map((p) => p[1]).join(node.match === "any" ? " or " : " and ");
    return top ? joined : "(" + joined + ")";
  }

  // ------------------------------------------------------------ the component

  function conditionBuilder(container, options) {
    const opts = options || {};
    const entity = opts.entity;
    const onChange = opts.onChange || (() => {});
    let fields = { list: [], byKey: {} };
    let tree = { type: "group", match: "all", items: [] };
    let mode = "builder";

    const textarea = opts.textarea || el("textarea", { rows: 3, spellcheck: "false" });
    textarea.classList.add("cond-textarea");
    if (!textarea.getAttribute("aria-label")) textarea.setAttribute("aria-label", t("Condition as text"));
    const problems = opts.problems || el("ul", { class: "problems", role: "alert" });
    problems.classList.add("cond-problems");
    const reasonBox = el("p", { class: "cond-reason", role: "status", hidden: true });
    const toggle = el("button", { type: "button", class: "cond-mode", "aria-pressed": "false" }, t("Edit as text"));
    const treeBox = el("div", { class: "cond-tree" });
    const textBox = el("div", { class: "cond-text", hidden: true }, textarea);
    const root = el("div", { class: "cond-builder" },
      el("div", { class: "cond-bar" }, toggle), treeBox, textBox, reasonBox, problems);
    container.append(root);
    textarea.value = opts.text || "";

    // -------------------------------------------------------- checking

    let timer = null;
    let asked = 0;

    function showProblems(items, valid) {
      problems.replaceChildren(...items.map((d) => el("li", { class: "problem" },
        d.line ? t("Line {line}, column {column}", { line: d.line, column: d.column }) + ": " : "",
        d.message)));
      problems.classList.toggle("ok", Boolean(valid));
      if (valid) problems.append(el("li", { class: "valid" }, t("The expression is valid.")));
    }

    /** Ask the server about ``text``: its tree (or why none) and the checker's messages. */
    async function read(text) {
      try {
        const answer = await T.api("POST", "/api/v1/rules/condition", { entity, text });
        answer.errors = answer.errors.filter((d) => (d.severity || "error") === "error");
        return answer;
      } catch (err) {
        return { tree: null, reason: err.message, errors: err.errors && err.errors.length ? err.errors : [{ message: err.message }] };
      }
    }

    function check() {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const text = textarea.value.trim();
        const ticket = ++asked;
        if (!text) { showProblems([]); return; }
        const answer = await read(text);
        if (ticket !== asked) return;
        showProblems(answer.errors, answer.errors.length === 0);
      }, 250);
    }

    function changed() {
      if (mode === "builder") textarea.value = treeText(tree, fields, true);
      reasonBox.hidden = true;
      onChange(textarea.value);
      check();
    }

    textarea.addEventListener("input", () => { if (mode === "text") changed(); });

    // -------------------------------------------------------- value widgets

    function optionList(f, multiple, value) {
      const chosen = multiple ? (Array.isArray(value) ? value : []) : [value];
      const select = el("select", { class: "cond-value", multiple: multiple || null, "aria-label": t("Value") },
        f.options.map((o) => el("option", { value: o.value, selected: chosen.includes(o.value) || null }, o.label)));
      return select;
    }

    function scalarInput(f, value, cls) {
      let input;
      if (f.kind === "boolean") {
        input = el("select", { class: cls, "aria-label": t("Value") },
          el("option", { value: "true", selected: value === true || null }, t("Yes")),
          el("option", { value: "false", selected: value === false || null }, t("No")));
      } else if ((f.kind === "enum" || f.kind === "list") && f.options.length) {
        input = optionList(f, false, value);
        input.className = cls;
      } else {
        const type = f.kind === "number" ? "number" : f.kind === "date" ? "date"
          : f.kind === "datetime" ? "datetime-local" : "text";
        const step = type === "number" ? "any" : type === "datetime-local" ? "1" : null;
        input = el("input", { class: cls, type, step, "aria-label": t("Value") });
        input.value = value === null || value === undefined ? "" : String(value);
      }
      return input;
    }

    function readScalar(f, input) {
      if (f.kind === "boolean") return input.value === "true";
      return input.value;
    }

    function valueWidgets(row, f) {
      const op = row.op;
      const nodes = [];
      const fire = () => changed();
      if (UNARY.includes(op)) return nodes;
      if (RELATIVE.includes(op)) {
        const input = el("input", { class: "cond-value cond-days", type: "number", min: "1", step: "1", "aria-label": t("Days") });
        input.value = row.value === null || row.value === undefined ? "30" : String(row.value);
        row.value = input.value;
        input.addEventListener("input", () => { row.value = input.value; fire(); });
        return [input, el("span", { class: "muted" }, t("days"))];
      }
      if (op === "in" || op === "not in") {
        if (f.options.length) {
          const select = optionList(f, true, row.value);
          select.addEventListener("change", () => {
            row.value = Array.from(select.selectedOptions).map((o) => o.value);
            fire();
          });
          row.value = Array.from(select.selectedOptions).map((o) => o.value);
          return [select];
        }
        const input = el("input", { class: "cond-value", type: "text", "aria-label": t("Values, separated by commas") });
        input.value = (Array.isArray(row.value) ? row.value : []).join(", ");
        const take = () => {
          row.value = input.value.split(",").map((s) => s.trim()).filter(Boolean);
          if (f.kind === "number") row.value = row.value.map((s) => s.replace(/\s/g, ""));
        };
        if (!Array.isArray(row.value)) row.value = [];
        input.addEventListener("input", () => { take(); fire(); });
        return [input];
      }
      if (op === "between") {
        const pair = Array.isArray(row.value) ? row.value : [null, null];
        const low = scalarInput(f, pair[0], "cond-value");
        const high = scalarInput(f, pair[1], "cond-value2");
        const take = () => { row.value = [readScalar(f, low), readScalar(f, high)]; };
        take();
        for (const input of [low, high]) input.addEventListener("input", () => { take(); fire(); });
        for (const input of [low, high]) input.addEventListener("change", () => { take(); fire(); });
        return [low, el("span", { class: "muted" }, t("and")), high];
      }
      const input = scalarInput(f, row.value, "cond-value");
      row.value = readScalar(f, input);
      const take = () => { row.value = readScalar(f, input); fire(); };
      input.addEventListener("input", take);
      input.addEventListener("change", take);
      return [input];
    }

    // -------------------------------------------------------- rows and groups

    function opLabel(f, op) {
      if ((f.kind === "date" || f.kind === "datetime") && DATE_OPS[op]) return DATE_OPS[op];
      return OP_LABELS[op] || op;
    }

    function renderRow(row, parent) {
      const node = el("div", { class: "condition" });
      const fieldSelect = el("select", { class: "cond-field", "aria-label": t("Field") },
        fields.list.map((f) => el("option", { value: f.key, selected: f.key === row.field || null }, f.label)));
      const opSelect = el("select", { class: "cond-op", "aria-label": t("Operator") });
      const slot = el("span", { class: "cond-slot" });
      const remove = el("button", { type: "button", class: "cond-remove", title: t("Remove condition"), "aria-label": t("Remove condition") }, "×");

      function fill() {
        const f = fields.byKey[row.field];
        if (!f) return;
        if (!f.operators.includes(row.op)) row.op = f.operators[0];
        opSelect.replaceChildren(...f.operators.map((op) =>
          el("option", { value: op, selected: op === row.op || null }, opLabel(f, op))));
        slot.replaceChildren(...valueWidgets(row, f));
      }

      fieldSelect.addEventListener("change", () => {
        row.field = fieldSelect.value;
        row.op = null;
        row.value = null;
        fill();
        changed();
      });
      opSelect.addEventListener("change", () => {
        const before = row.op;
        row.op = opSelect.value;
        const shape = (op) => (UNARY.includes(op) ? "none" : RELATIVE.includes(op) ? "days"
          : op === "in" || op === "not in" ? "list" : op === "between" ? "pair" : "one");
        if (shape(before) !== shape(row.op)) row.value = null;
        slot.replaceChildren(...valueWidgets(row, fields.byKey[row.field]));
        changed();
      });
      remove.addEventListener("click", () => {
        parent.items.splice(parent.items.indexOf(row), 1);
        render();
        changed();
      });
      if (!fields.byKey[row.field]) row.field = fields.list.length ? fields.list[0].key : null;
      fill();
      node.append(fieldSelect, opSelect, slot, remove);
      return node;
    }

    function newRow() {
      const first = fields.list[0];
      return { type: "row", field: first ? first.key : null, op: null, value: null };
    }

    function renderGroup(group, parent, depth) {
      const match = el("select", { class: "cond-match", "aria-label": t("Match") },
        el("option", { value: "all", selected: group.match === "all" || null }, t("All of these")),
        el("option", { value: "any", selected: group.match === "any" || null }, t("Any of these")));
      match.addEventListener("change", () => { group.match = match.value; node.dataset.match = group.match; changed(); });
      const items = el("div", { class: "cond-items" });
      for (const item of group.items) {
        items.append(item.type === "group" ? renderGroup(item, group, depth + 1) : renderRow(item, group));
      }
      let addRowButton = el("button", { type: "button", class: "cond-add-row" }, t("Add condition"));
      if (!parent && opts.addButton) {
        addRowButton = opts.addButton;
        addRowButton.classList.add("cond-add-row");
      }
      const addGroupButton = el("button", { type: "button", class: "cond-add-group" }, t("Add group"));
      addRowButton.onclick = () => ready.then(() => addRow(group));
      addGroupButton.onclick = () => {
        group.items.push({ type: "group", match: group.match === "all" ? "any" : "all", items: [newRow()] });
        render();
        changed();
      };
      const foot = el("div", { class: "cond-foot" }, addRowButton, depth < 8 ? addGroupButton : null);
      if (parent) {
        const removeGroup = el("button", { type: "button", class: "cond-remove-group", title: t("Remove group") }, t("Remove group"));
        removeGroup.addEventListener("click", () => {
          parent.items.splice(parent.items.indexOf(group), 1);
          render();
          changed();
        });
        foot.append(removeGroup);
      }
      const node = el("div", { class: "cond-group" + (parent ? " nested" : ""), dataset: { match: group.match } },
        el("div", { class: "cond-head" }, match), items, foot);
      return node;
    }

    function render() {
      treeBox.replaceChildren(renderGroup(tree, null, 0));
    }

    function addRow(group) {
      const row = newRow();
      (group || tree).items.push(row);
      if (mode !== "builder") return;
      render();
      changed();
      const inputs = treeBox.querySelectorAll(".condition");
      const last = inputs[inputs.length - 1];
      if (last) (last.querySelector(".cond-value") || last.querySelector(".cond-field")).focus();
    }

    // -------------------------------------------------------- modes

    function setMode(next) {
      mode = next;
      treeBox.hidden = next !== "builder";
      textBox.hidden = next !== "text";
      toggle.textContent = next === "text" ? t("Use the builder") : t("Edit as text");
      toggle.setAttribute("aria-pressed", String(next === "text"));
      if (opts.addButton) opts.addButton.hidden = next !== "builder";
    }

    async function toBuilder() {
      const text = textarea.value.trim();
      const answer = await read(text);
      if (answer.tree) {
        tree = answer.tree;
        setMode("builder");
        reasonBox.hidden = true;
        render();
        showProblems(answer.errors, text !== "" && answer.errors.length === 0);
        return true;
      }
      reasonBox.textContent = t("The builder cannot show this condition: {reason}", { reason: answer.reason || "" });
      reasonBox.hidden = false;
      setMode("text");
      return false;
    }

    toggle.addEventListener("click", () => {
      if (mode === "builder") {
        setMode("text");
        textarea.focus();
      } else {
        toBuilder();
      }
    });

    if (opts.addButton) opts.addButton.onclick = () => ready.then(() => addRow(tree));
    const ready = loadFields(entity).then(async (loaded) => {
      fields = loaded;
      if (textarea.value.trim()) {
        setMode("text");
        await toBuilder();
      } else {
        setMode("builder");
        render();
      }
      root.dataset.ready = "true";
    }).catch((err) => {
      setMode("text");
      reasonBox.textContent = err.message;
      reasonBox.hidden = false;
    });

    return {
      ready,
      text: () => textarea.value,
      tree: () => tree,
      mode: () => mode,
      addRow: () => ready.then(() => addRow(tree)),
      setText(text) {
        textarea.value = text;
        return toBuilder();
      },
    };
  }

  T.conditionBuilder = conditionBuilder;
  T.conditionText = treeText;
})();
