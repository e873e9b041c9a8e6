// Every change a page makes is an ordinary API call: same-origin, with the session cookie
// and the CSRF token (double-submit: the token cookie is readable, the session one is not).
"use strict";

function csrfToken() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("strata_csrf="));
  return found ? decodeURIComponent(found.slice("strata_csrf=".length)) : "";
}

async function send(method, url, body, isForm) {
  const headers = { "x-csrf-token": csrfToken() };
  let payload = body;
  if (body !== undefined && !isForm) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  return fetch(url, { method, headers, body: payload, credentials: "same-origin" });
}

async function failure(response) {
  try {
    const body = await response.json();
    if (body.error && body.error.message) return body.error.message;
  } catch (e) { /* not JSON */ }
  return `${response.status} ${response.statusText}`;
}

function wireActions(section) {
  const model = encodeURIComponent(section.dataset.model);
  const version = section.dataset.version;
  const result = section.querySelector(".action-result");
  const calls = {
    stage: (f) => ["POST", `/api/v1/models/${model}/versions/${version}/stage`,
      { stage: f.get("stage"), reason: f.get("reason") }],
    alias: (f) => ["PUT", `/api/v1/models/${model}/aliases/${encodeURIComponent(f.get("alias"))}`,
      { version: Number(version), reason: f.get("reason") }],
    rollback: (f) => ["POST", `/api/v1/models/${model}/rollback`,
      { to: Number(version), reason: f.get("reason") }],
  };
  section.querySelectorAll("form.action").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const [method, url, body] = calls[form.dataset.action](new FormData(form));
      result.textContent = "…";
      result.classList.remove("failed");
      const response = await send(method, url, body, false);
      if (response.ok) {
        window.location.reload();
      } else {
        result.textContent = await failure(response);
        result.classList.add("failed");
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("section.actions").forEach(wireActions);
  // Forms that post (the log-in) go through fetch so that they carry the CSRF header.
  document.querySelectorAll("form[data-csrf-form]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await send("POST", form.action, new URLSearchParams(new FormData(form)), true);
      if (response.redirected) {
        window.location.assign(response.url);
      } else {
        alert(await failure(response));
      }
    });
  });
  document.querySelectorAll("[data-post]").forEach((button) => {
    button.addEventListener("click", async () => {
      const response = await send("POST", button.dataset.post, undefined, true);
      window.location.assign(response.redirected ? response.url : "/login");
    });
  });
});
