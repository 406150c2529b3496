/* The record page's actions (a lead's Convert): open the preview dialog, run the action
   through the API, then open the record it made; a refusal is shown in the dialog and on
   the field it names. */
(function () {
  "use strict";
  const { t, api, toast } = window.Tessera;
  const page = document.getElementById("record");
  if (!page) return;

  function clearErrors(dialog) {
    const box = dialog.querySelector(".dialog-error");
    box.hidden = true;
    box.textContent = "";
    document.querySelectorAll(".field-error").forEach((n) => {
      n.classList.remove("field-error");
      n.removeAttribute("title");
    });
  }

  function showErrors(dialog, error) {
    const box = dialog.querySelector(".dialog-error");
    const lines = [error.message];
    (error.errors || []).forEach((entry) => {
      if (entry.message && entry.message !== error.message) lines.push(entry.message);
      if (!entry.field) return;
      const selector = `[data-field="${CSS.escape(entry.field)}"]`;
      page.querySelectorAll(selector).forEach((n) => {
        n.classList.add("field-error");
        n.setAttribute("title", entry.message);
      });
    });
    box.textContent = lines.join(" · ");
    box.hidden = false;
  }

  function targetLabel(dialog, name) {
    const heading = dialog.querySelector(`.action-target[data-target="${CSS.escape(name)}"] h3`);
    return heading ? heading.textContent.trim() : name;
  }

  async function run(dialog, button) {
    clearErrors(dialog);
    const skip = Array.from(dialog.querySelectorAll(".keep-target"))
      .filter((box) => !box.checked)
      .map((box) => box.value);
    button.disabled = true;
    try {
      const result = await api("POST", dialog.dataset.url, { skip });
      result.created.filter((c) => c.reused).forEach((c) => {
        toast(t("{label} already existed and was used: {title}", { label: targetLabel(dialog, c.target), title: c.title }));
      });
      toast(t("Done"));
      if (result.open) {
        window.location.assign(`/app/${encodeURIComponent(result.open.entity)}/${result.open.id}`);
      } else {
        window.location.reload();
      }
    } catch (error) {
      showErrors(dialog, error);
      button.disabled = false;
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const opener = target.closest(".record-action");
    if (opener) {
      const dialog = document.getElementById(`action-dialog-${opener.dataset.action}`);
      if (dialog) {
        clearErrors(dialog);
        dialog.showModal();
      }
    } else if (target.matches(".action-dialog [data-close]")) {
      target.closest("dialog").close();
    }
  });

  document.querySelectorAll(".action-dialog form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(form.closest("dialog"), form.querySelector("[data-run]"));
    });
  });
})();
