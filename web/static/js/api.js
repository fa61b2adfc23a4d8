// The HTTP API: JSON calls with the CSRF token of the browser sign-in, and ApiError, the one
// error for anything the server refuses. The server answers every failure with
// {"error": {"code", "message", "field"}}; readError turns such an answer into an ApiError.

import { t } from "/static/js/i18n.js";

let csrfToken = "";

/**
 * A refusal by the server: ``status`` is the HTTP status (0 for a network failure or a refusal
 * over the websocket), ``code`` and ``field`` those of the server's error, the message its words.
 */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The ApiError an unsuccessful answer carries (its JSON error, else its HTTP status). */
export async function readError(answer) {
  const body = await answer.text().catch(() => "");
  let error = null;
  try {
    error = JSON.parse(body).error;
  } catch {
    /* not JSON */
  }
  if (!error || typeof error !== "object") {
    error = { code: "http_error", message: answer.statusText || String(answer.status) };
  }
  return new ApiError(answer.status, error.code, error.message, error.field ?? null);
}

/** Call the JSON API; unsafe methods carry the CSRF token of the browser sign-in. */
export async function api(method, path, body = undefined, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const raw = (typeof body === "string" || body instanceof Blob) && "Content-Type" in extraHeaders; // a file, sent as is
  if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
  if (!["GET", "HEAD"].includes(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let answer;
  try {
    answer = await fetch(path, {
      method,
      headers,
      body: body === undefined || raw ? body : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network", t("common.network_error"));
  }
  if (!answer.ok) throw await readError(answer);
  if (answer.status === 204) return null;
  const type = answer.headers.get("Content-Type") || "";
  return type.includes("json") ? answer.json().catch(() => null) : answer.text();
}

/** The headers an unsafe request outside ``api`` (a WHIP offer) needs: the CSRF token. */
export function csrfHeaders() {
  return csrfToken ? { "X-CSRF-Token": csrfToken } : {};
}

/** Who this browser is signed in as (and remember the CSRF token), or null. Asked of
 * /api/v1/auth/session, which answers 200 signed in or not (no error on every page load). */
export async function whoAmI() {
  const state = await api("GET", "/api/v1/auth/session");
  if (!state.signed_in) return null;
  csrfToken = state.me.csrf_token;
  return state.me;
}

/** Trade an access token for the sign-in cookie (and remember the CSRF token). */
export async function signIn(token) {
  const me = await api("POST", "/api/v1/auth/login", { token });
  csrfToken = me.csrf_token;
  return me;
}

export async function signOut() {
  await api("POST", "/api/v1/auth/logout");
  csrfToken = "";
}
