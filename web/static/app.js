/* Tessera's shared page script: translated text, calls to the REST API with the
   session's CSRF token, problem documents turned into messages, and toasts.
   Area scripts (lists, forms, tasks, reports) build on window.Tessera. */
(function () {
  "use strict";
  const catalog = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const csrf = document.body.dataset.csrf || "";

  /** The text in the page's language; {name} placeholders are filled from values. */
  function t(message, values) {
    let text = catalog[message] || message;
    if (values) {
      text = text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
    }
    return text;
  }

  /** An API error with the problem document's detail and located errors. */
  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || "HTTP " + status);
      this.status = status;
      this.problem = problem || {};
      this.errors = (problem && problem.errors) || [];
    }
  }

  /** Call the REST API as the signed-in user; resolves to the JSON body (or null). */
  async function api(method, url, body, headers) {
    const init = { method, credentials: "same-origin", headers: Object.assign({}, headers || {}) };
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("json") ? await response.json() : null;
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  /** A short message at the corner of the page. */
  function toast(message, kind) {
    const box = document.createElement("div");
    box.className = "toast" + (kind === "error" ? " error" : "");
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = message;
    document.body.appendChild(box);
    setTimeout(() => box.remove(), kind === "error" ? 8000 : 3500);
    return box;
  }

  /** An element with attributes and children; text children are never parsed as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const lang = document.body.dataset.lang;

  /** A definition's label ({en, "zh-CN"} or plain text) in the page's language. */
  function text(value, fallback) {
    if (!value) return fallback || "";
    if (typeof value === "string") return value;
    return value[lang] || value.en || Object.values(value)[0] || fallback || "";
  }

  /** The label a builder saves from its English and Chinese inputs (undefined when both are empty). */
  function labels(en, zh) {
    const out = {};
    if (en) out.en = en;
    if (zh) out["zh-CN"] = zh;
    return Object.keys(out).length ? out : undefined;
  }

  window.Tessera = { t, api, toast, el, ApiError, csrf, lang, text, labels };
})();
