/* The record page: tabs and starting a flow on the record. */
(function () {
  "use strict";
  const { t, api, toast } = window.Tessera;
  const page = document.getElementById("record");
  if (!page) return;
  document.addEventListener("click", async (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    if (target.matches("[role=tab]")) {
      const tabs = target.closest("[data-tabs]");
      tabs.querySelectorAll("[role=tab]").forEach((b) => b.setAttribute("aria-selected", String(b === target)));
      tabs.querySelectorAll("[role=tabpanel]").forEach((p) => { p.hidden = p.dataset.panel !== target.dataset.tab; });
    } else if (target.matches(".start-flow")) {
      target.disabled = true;
      const shown = document.getElementById("start-flow-error");
      shown.hidden = true;
      try {
        await api("POST", `/api/v1/flows/${encodeURIComponent(target.dataset.flow)}/start`,
          { entity: page.dataset.entity, id: Number(page.dataset.id) });
        toast(t("Flow started"));
        window.location.reload();
      } catch (error) {
        // the API's refusal (say the flow already runs here) stays beside the button
        shown.textContent = error.message;
        shown.hidden = false;
        toast(error.message, "error");
        target.disabled = false;
      }
    }
  });
})();
