/* The tasks inbox and a flow instance's page: dialogs that approve, reject, return,
   transfer, add a signer, comment and withdraw, each one call to the REST API.
   Text is set with textContent only; the page reloads to show the engine's answer. */
(function () {
  "use strict";
  const T = window.Tessera;
  const t = T.t;
  const DONE_KEY = "tessera.tasks.done";

  const done = sessionStorage.getItem(DONE_KEY);
  if (done) {
    sessionStorage.removeItem(DONE_KEY);
    T.toast(done);
  }

  function commandId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function open(id, fields, title, about) {
    const dialog = document.getElementById(id);
    const form = dialog.querySelector("form");
    form.reset();
    for (const [name, value] of Object.entries(fields)) form.elements[name].value = value;
    if (title !== null) {
      const heading = dialog.querySelector("h2");
      heading.textContent = heading.dataset["title" + title] || heading.dataset.titleOther || "";
    }
    dialog.querySelector(".dialog-about").textContent = about || "";
    const error = dialog.querySelector(".dialog-error");
    error.hidden = true;
    error.textContent = "";
    dialog.showModal();
  }

  function cap(word) {
    return word.charAt(0).toUpperCase() + word.slice(1);
  }

  document.addEventListener("click", async (event) => {
    const link = event.target.closest("li.note.unread a");
    if (link) {
      // Opening a notification reads it; keepalive lets the call outlive the page.
      const id = link.closest("li.note").dataset.note;
      fetch("/api/v1/notifications/" + encodeURIComponent(id) + "/read", {
        method: "POST", credentials: "same-origin", keepalive: true,
        headers: { "X-CSRF-Token": T.csrf, "Content-Type": "application/json" }, body: "{}",
      }).catch(() => {});
      return;
    }
    const button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-close")) {
      button.closest("dialog").close();
      return;
    }
    const action = button.dataset.action;
    if (!action) return;
    const box = button.closest(".task-actions");
    const about = (box && box.dataset.about) || button.dataset.about || "";
    if (action === "decide") {
      const outcome = button.dataset.outcome;
      const known = ["approve", "reject", "return"].includes(outcome);
      open("decide-dialog", { task: box.dataset.task, outcome }, known ? cap(outcome) : "Other", about);
      // the approval's comment_required: the form asks for the reason before the API would refuse
      const rule = box.dataset.commentRequired;
      const needed = rule === "always" || (rule === "on_reject" && (outcome === "reject" || outcome === "return"));
      const field = document.getElementById("decide-dialog").querySelector("textarea[name=comment]");
      field.required = needed;
      field.placeholder = needed ? (outcome === "approve" ? t("A comment is required for this decision") : t("A comment is required to reject")) : "";
    } else if (action === "person") {
      const kind = button.dataset.kind;
      open("person-dialog", { task: box.dataset.task, action: kind }, cap(kind), about);
    } else if (action === "comment") {
      open("comment-dialog", { instance: box.dataset.instance }, null, about);
    } else if (action === "withdraw") {
      open("withdraw-dialog", { instance: button.dataset.instance }, null, about);
    } else if (action === "read" || action === "read-all") {
      const url = action === "read"
        ? "/api/v1/notifications/" + encodeURIComponent(button.dataset.note) + "/read"
        : "/api/v1/notifications/read";
      button.disabled = true;
      try {
        await T.api("POST", url, {});
        sessionStorage.setItem(DONE_KEY, t("Marked as read"));
        location.reload();
      } catch (err) {
        button.disabled = false;
        T.toast(err.message || t("Something went wrong"), "error");
      }
    }
  });

  function request(form) {
    const f = form.elements;
    const comment = f.comment ? f.comment.value.trim() || null : null;
    switch (form.dataset.form) {
      case "decide": {
        const outcome = f.outcome.value;
        const said = { approve: t("Approved"), reject: t("Rejected"), return: t("Returned to the requester") };
        return ["/api/v1/tasks/" + encodeURIComponent(f.task.value) + "/complete",
          { outcome, comment, command_id: commandId() }, said[outcome] || t("Task completed")];
      }
      case "person": {
        const transfer = f.action.value === "transfer";
        const path = transfer ? "/transfer" : "/signers";
        return ["/api/v1/tasks/" + encodeURIComponent(f.task.value) + path,
          { to: f.to.value.trim(), comment, command_id: commandId() },
          transfer ? t("Transferred") : t("Signer added")];
      }
      case "comment":
        return ["/api/v1/flows/instances/" + encodeURIComponent(f.instance.value) + "/comments",
          { comment }, t("Comment added")];
      default:
        return ["/api/v1/flows/instances/" + encodeURIComponent(f.instance.value) + "/withdraw",
          { command_id: commandId() }, t("Request withdrawn")];
    }
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-form]");
    if (!form) return;
    event.preventDefault();
    const [url, body, said] = request(form);
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      await T.api("POST", url, body);
      sessionStorage.setItem(DONE_KEY, said);
      location.reload();
    } catch (err) {
      submit.disabled = false;
      const error = form.querySelector(".dialog-error");
      const details = (err.errors || []).map((e) => e.message).filter(Boolean);
      error.textContent = [err.message || t("Something went wrong"), ...details].join(" · ");
      error.hidden = false;
    }
  });
})();
