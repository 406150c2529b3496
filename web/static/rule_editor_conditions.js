/* Condition cells for the rule editor's grids (scoring, grading, routing, validation).

   Every grid edits its conditions the same way: the condition builder (condition.js) of
   field / operator / value rows, whose text view is checked live and takes what the
   builder cannot show. A row of such a grid is a tbody of two lines, its own cells then
   its condition across the whole width, so the builder has room. Each change prints the
   model back to text (the helpers of rule_editor.js) and counts the records the condition
   hits; focusing a condition counts them too. */

const { t, el } = window.Tessera;

function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Mark ``box`` as the condition the side panel counts (and only it). */
function markActive(box) {
  document.querySelectorAll(".re-grid .active").forEach((x) => x.classList.remove("active"));
  box.classList.add("active");
}

/**
 * The condition cell of row ``r`` (its ``when``) in block ``b``.
 *
 * ``h`` are the rule editor's helpers; ``otherwise`` says that an empty condition means
 * "otherwise" (grading and routing), which the cell's caption tells the admin.
 */
export function conditionCell(b, r, h, otherwise) {
  const caption = otherwise ? t("Condition (empty means otherwise)") : t("Condition");
  const box = el("div", { class: "re-when" }, el("span", { class: "muted" }, caption));
  const look = () => {
    if (r.when) h.showMatching(r.when, b.entity);
  };
  box.addEventListener("focusin", () => {
    markActive(box);
    look();
  });
  if (!window.Tessera.conditionBuilder) {
    // condition.js did not load: a plain text box still edits and counts the condition
    const attrs = { "aria-label": t("Condition"), placeholder: otherwise ? t("otherwise") : null };
    box.append(h.conditionInput(r.when, b.entity, (v) => (r.when = v), attrs));
    return box;
  }
  const lookSoon = debounce(look, 300);
  window.Tessera.conditionBuilder(box, {
    entity: b.entity,
    text: r.when || "",
    onChange: (value) => {
      r.when = value.trim();
      h.changed();
      markActive(box);
      lookSoon();
    },
  });
  return box;
}

/**
 * A grid of ``b.rows`` whose rows carry a condition: ``cells(row, i)`` gives a row's own
 * cells, and the condition builder fills a second line under them.
 */
export function conditionGrid(b, h, headings, cells, options) {
  const opts = options || {};
  return el(
    "table",
    { class: "grid re-grid re-conditions" + (opts.className ? " " + opts.className : ""), dataset: { block: b.name } },
    el("thead", {}, el("tr", {}, headings.map((x) => el("th", {}, x)), el("th", {}))),
    b.rows.map((r, i) =>
      el(
        "tbody",
        { dataset: { row: i } },
        el("tr", { class: "re-cells" }, cells(r, i), h.tools(b.rows, i)),
        el(
          "tr",
          { class: "re-when-row" },
          el("td", { colspan: headings.length + 1 }, conditionCell(b, r, h, Boolean(opts.otherwise))),
        ),
      ),
    ),
  );
}
