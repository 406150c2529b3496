/* The kanban board: cards dragged between columns with SortableJS. A drop saves the
   record through the REST API (so validation, rules and flows run); a refused move
   shows the problem's message and the card goes back where it was. */
(function () {
  "use strict";
  const T = window.Tessera;
  const t = T.t;
  const meta = JSON.parse(document.getElementById("kanban-meta").textContent);
  const message = document.getElementById("kanban-message");

  function bump(list, delta) {
    const badge = list.closest(".kanban-column").querySelector(".count");
    const n = Number(badge.dataset.count) + delta;
    badge.dataset.count = String(n);
    badge.textContent = String(n);
  }

  /** PATCH the grouped field. A stale version (409) is retried once when the record's
      field still holds the card's old column: someone (often a rule or a flow acting on
      the previous move) changed other fields, not the one this drag is about. */
  async function save(card, from, value) {
    const url = "/api/v1/records/" + encodeURIComponent(meta.entity) + "/" + card.dataset.id;
    try {
      return await T.api("PATCH", url, { [meta.by]: value, version: Number(card.dataset.version) });
    } catch (err) {
      if (err.status !== 409) throw err;
      const fresh = await T.api("GET", url);
      const was = from.dataset.value === "" ? null : from.dataset.value;
      if ((fresh[meta.by] ?? null) !== was) throw err;
      return await T.api("PATCH", url, { [meta.by]: value, version: Number(fresh.version) });
    }
  }

  async function moved(evt) {
    if (evt.from === evt.to) return;
    const card = evt.item;
    const value = evt.to.dataset.value === "" ? null : evt.to.dataset.value;
    const title = card.querySelector("a").textContent;
    card.classList.add("saving");
    try {
      const saved = await save(card, evt.from, value);
      card.dataset.version = String(saved.version);
      bump(evt.from, -1);
      bump(evt.to, 1);
      message.textContent = "";
      const warnings = (saved._warnings || []).map((w) => w.message);
      T.toast(warnings.length ? warnings.join("; ") : t("{title} moved", { title }));
    } catch (err) {
      evt.from.insertBefore(card, evt.from.children[evt.oldIndex] || null);
      const located = [...new Set((err.errors || []).map((e) => e.message).filter(Boolean))];
      const why = located.length ? located.join("; ") : err.message;
      message.textContent = t("{title} was not moved: {why}", { title, why });
      T.toast(message.textContent, "error");
    } finally {
      card.classList.remove("saving");
    }
  }

  document.querySelectorAll("#kanban ol.cards").forEach((list) => {
    window.Sortable.create(list, { group: "kanban-" + meta.by, animation: 120, onEnd: moved });
  });
})();
