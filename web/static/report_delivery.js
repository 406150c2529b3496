/* The report page's delivery card: run the report in the background (poll its status,
   then draw the stored result with the page's own table and chart), and manage the
   report's e-mail schedules. Errors are shown beside the field they name. */
(function () {
  "use strict";
  const T = window.Tessera;
  const R = window.TesseraReports;
  const { t, el, api } = T;
  const card = document.getElementById("report-delivery");
  if (!card) return;
  const data = JSON.parse(document.getElementById("report-delivery-data").textContent);
  const report = JSON.parse(document.getElementById("report-data").textContent);
  const root = document.getElementById("report");

  // ------------------------------------------------------------ background run

  const button = document.getElementById("run-background");
  const note = document.getElementById("background-status");
  const STATES = { queued: () => t("Queued: waiting for the worker…"), running: () => t("Running…") };
  const stateText = (status) => (STATES[status] || STATES.running)();

  function query() {
    const values = R.formValues(document.getElementById("report-params"));
    return Object.keys(values).length ? "?params=" + encodeURIComponent(JSON.stringify(values)) : "";
  }

  function show(result) {
    const table = document.getElementById("report-table");
    if (result.type === "pivot") R.pivotTable(report, result, table);
    else R.flatTable(report, result, table);
    R.drawChart(document.getElementById("report-chart"), R.chartOption(report, result));
    const status = document.getElementById("report-status");
    status.hidden = true;
    root.dataset.state = "ready";
  }

  async function follow(id) {
    try {
      const run = await api("GET", data.runs + id);
      card.dataset.run = run.status;
      if (run.status === "done") {
        note.textContent = t("Done: the stored result is shown.");
        button.disabled = false;
        show(run.result);
        return;
      }
      if (run.status === "failed") {
        note.textContent = t("Failed: {message}", { message: (run.error && run.error.message) || "" });
        note.classList.add("error");
        button.disabled = false;
        return;
      }
      note.textContent = stateText(run.status);
      setTimeout(() => follow(id), 1000);
    } catch (err) {
      note.textContent = err.message;
      button.disabled = false;
    }
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    note.classList.remove("error");
    try {
      const run = await api("POST", data.background + query());
      card.dataset.run = run.status;
      note.textContent = stateText(run.status);
      follow(run.id);
    } catch (err) {
      note.textContent = err.message;
      note.classList.add("error");
      button.disabled = false;
    }
  });

  // ------------------------------------------------------------ schedules

  const form = document.getElementById("schedule-form");
  const list = document.getElementById("schedule-list");
  const formError = document.getElementById("schedule-error");
  const EVERY = { daily: () => t("every day"), weekly: () => t("every week"), monthly: () => t("every month") };
  const WEEKDAYS = [() => t("Monday"), () => t("Tuesday"), () => t("Wednesday"), () => t("Thursday"),
    () => t("Friday"), () => t("Saturday"), () => t("Sunday")];

  function describe(s) {
    let when = EVERY[s.every]();
    if (s.every === "weekly") when += " · " + WEEKDAYS[s.weekday]();
    if (s.every === "monthly") when += " · " + t("day {day}", { day: s.day });
    const who = [...s.users, ...s.roles].join(", ");
    return t("{when} at {at}, {format} to {who}", { when, at: s.at, format: s.format.toUpperCase(), who });
  }

  async function refresh() {
    const answer = await api("GET", data.schedules);
    list.replaceChildren(
      ...answer.items.map((s) =>
        el("li", { "data-id": String(s.id) }, describe(s), " ",
          el("button", { type: "button", class: "link remove", "aria-label": t("Stop this schedule"),
            onclick: () => remove(s.id) }, t("Stop")))
      )
    );
    if (!answer.items.length) list.append(el("li", { class: "muted" }, t("Not scheduled.")));
    card.dataset.schedules = String(answer.items.length);
  }

  async function remove(id) {
    try {
      await api("DELETE", data.schedule + id);
      await refresh();
    } catch (err) {
      T.toast(err.message, "error");
    }
  }

  function sync() {
    const every = form.elements.every.value;
    for (const label of form.querySelectorAll("[data-when]")) label.hidden = label.dataset.when !== every;
  }

  function clearErrors() {
    formError.hidden = true;
    for (const node of form.querySelectorAll(".field-error.inline")) node.remove();
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function showErrors(err) {
    const located = err.errors || [];
    let shown = false;
    for (const entry of located) {
      const field = String(entry.field || "").replace(/\[\d+\]$/, "");
      const input = form.querySelector(`[data-field="${field}"]`);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      input.closest("label").append(el("span", { class: "field-error inline", "data-for": field }, entry.message));
      shown = true;
    }
    if (!shown) {
      formError.textContent = err.message;
      formError.hidden = false;
    }
  }

  form.elements.every.addEventListener("change", sync);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const every = form.elements.every.value;
    const body = {
      every,
      at: form.elements.at.value,
      format: form.elements.format.value,
      users: [...form.elements.users.selectedOptions].map((o) => o.value),
      roles: [...form.elements.roles.selectedOptions].map((o) => o.value),
    };
    if (every === "weekly") body.weekday = Number(form.elements.weekday.value);
    if (every === "monthly") body.day = Number(form.elements.day.value);
    try {
      await api("POST", data.schedules, body);
      T.toast(t("Scheduled."));
      form.reset();
      sync();
      await refresh();
    } catch (err) {
      showErrors(err);
    }
  });
  sync();
  refresh().catch((err) => T.toast(err.message, "error"));
})();
