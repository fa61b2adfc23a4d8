// Shared by every Torget page: translations, the HTTP API, the realtime connection, drafts and
// small DOM helpers. All user-provided text is inserted with textContent, never as HTML.

export const LANGUAGES = ["sv", "fi", "nb", "en"];

/**
 * localStorage when the browser allows it (an embedded third-party frame may be denied it),
 * else memory for this page's life.
 */
const memory = new Map();
export const storage = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return memory.has(key) ? memory.get(key) : null;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, value);
    } catch {
      memory.set(key, value);
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      memory.delete(key);
    }
  },
};
const LANG_KEY = "torget.lang";
let catalogue = {};
let fallback = {};
export let lang = "en";

function browserLanguage() {
  for (const wanted of navigator.languages || [navigator.language || "en"]) {
    const base = String(wanted).toLowerCase().split("-")[0];
    if (base === "no" || base === "nn") return "nb";
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

async function loadCatalogue(code) {
  const answer = await fetch(`/static/i18n/${code}.json`, { headers: { Accept: "application/json" } });
  if (!answer.ok) throw new Error(`catalogue ${code}: ${answer.status}`);
  return answer.json();
}

/** Load the catalogue of the remembered (or browser) language and translate the page. */
export async function initI18n() {
  const stored = storage.get(LANG_KEY);
  lang = LANGUAGES.includes(stored) ? stored : browserLanguage();
  fallback = await loadCatalogue("en");
  catalogue = lang === "en" ? fallback : await loadCatalogue(lang).catch(() => fallback);
  document.documentElement.lang = lang;
  translate(document);
  const picker = document.getElementById("lang");
  if (picker) {
    picker.replaceChildren(
      ...LANGUAGES.map((code) => el("option", { value: code, text: t(`lang.${code}`) })),
    );
    picker.value = lang;
    picker.addEventListener("change", () => {
      storage.set(LANG_KEY, picker.value);
      location.reload(); // drafts are kept in storage, so nothing typed is lost
    });
  }
}

/** The text of ``key`` in the page's language, with {name} placeholders filled in. */
export function t(key, vars = {}) {
  const text = catalogue[key] ?? fallback[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Translate elements marked with data-i18n (text), data-i18n-placeholder/-label/-title. */
export function translate(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]"))
    node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-label]"))
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
}

// --- DOM -------------------------------------------------------------------------------------

/** Create an element: attrs.text sets textContent, attrs.class the class, on* listeners. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name.startsWith("on") && typeof value === "function")
      node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

/**
 * Re-render a part of the page without losing the keyboard focus: if focus was on a control in
 * an item with data-id, focus the same control (or the item's first one) after ``render``.
 */
export function keepFocus(render) {
  const active = document.activeElement;
  const item = active?.closest?.("[data-id]");
  const label = active?.textContent;
  render();
  if (!item || document.contains(active)) return;
  const again = document.querySelector(`[data-id="${CSS.escape(item.dataset.id)}"]`);
  if (!again) return;
  const controls = [...again.querySelectorAll("button, select, input")];
  (controls.find((c) => c.textContent === label && !c.disabled) || controls.find((c) => !c.disabled))?.focus();
}

/** Set a live count only when it changes (a screen reader then hears real changes only). */
export function setCount(node, count) {
  const text = String(count);
  if (node.textContent !== text) node.textContent = text;
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Say something in a status region (role=status / aria-live) for sighted and screen readers. */
export function say(node, text, kind = "info") {
  node.textContent = text;
  node.dataset.kind = kind;
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
}

export function formatDay(iso) {
  return new Date(iso).toLocaleDateString(lang, { weekday: "long", day: "numeric", month: "long" });
}

export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export async function copyText(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    if (status) say(status, t("common.copied"));
  } catch {
    if (status) say(status, t("common.copy_failed"), "error");
  }
}

export function sessionIdFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return decodeURIComponent(parts[parts.length - 1] || "");
}

// --- HTTP API --------------------------------------------------------------------------------

let csrfToken = "";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Call the JSON API; unsafe methods carry the CSRF token of the browser sign-in. */
export async function api(method, path, body = undefined, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const raw = typeof body === "string" && "Content-Type" in extraHeaders; // a file, sent as is
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
  if (answer.status === 204) return null;
  const type = answer.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await answer.json().catch(() => null) : await answer.text();
  if (!answer.ok) {
    const error = data && data.error ? data.error : { code: "http_error", message: answer.statusText };
    throw new ApiError(answer.status, error.code, error.message);
  }
  return data;
}

/** Who this browser is signed in as (and remember the CSRF token), or null. */
export async function whoAmI() {
  try {
    const me = await api("GET", "/api/v1/auth/me");
    csrfToken = me.csrf_token;
    return me;
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

export async function signIn(token) {
  const me = await api("POST", "/api/v1/auth/login", { token });
  csrfToken = me.csrf_token;
  return me;
}

export async function signOut() {
  await api("POST", "/api/v1/auth/logout");
  csrfToken = "";
}

/**
 * Show the sign-in form in ``form`` until the person is signed in; resolve with who they are.
 * The form has an input named "token" and an output element with class "status".
 */
export async function requireSignIn(form, onSignedOut) {
  const me = await whoAmI();
  if (me) {
    form.hidden = true;
    return me;
  }
  form.hidden = false;
  const status = form.querySelector(".status");
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = form.elements.token;
      try {
        const who = await signIn(input.value.trim());
        input.value = "";
        form.hidden = true;
        resolve(who);
      } catch (error) {
        say(status, error.message, "error");
        input.focus();
      }
    });
    if (onSignedOut) onSignedOut();
  });
}

/** The programme, asking for the event's access code first when the event has one. */
export async function loadProgram(query = "") {
  try {
    return await api("GET", `/api/v1/program${query}`);
  } catch (error) {
    if (error.status !== 401) throw error;
    await askAccessCode();
    return api("GET", `/api/v1/program${query}`);
  }
}

/** Ask for the access code in the page's #access dialog and get a viewer pass with it. */
export function askAccessCode() {
  const form = $("access");
  if (!form) return Promise.reject(new ApiError(401, "unauthenticated", t("access.needed")));
  form.hidden = false;
  form.elements.code.focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", "/api/v1/auth/viewer", {
          display_name: displayName() || t("chat.guest"),
          access_code: form.elements.code.value,
        });
        form.hidden = true;
        resolve();
      } catch (error) {
        say(form.querySelector(".status"), error.message, "error");
      }
    });
  });
}

export function displayName() {
  return storage.get("torget.name") || "";
}

export function setDisplayName(name) {
  storage.set("torget.name", name);
}

// --- Drafts: what a person typed survives reloads, reconnects and language switches ---------

/** Keep ``input``'s value in localStorage under ``key``; return a function that clears it. */
export function keepDraft(input, key) {
  const storageKey = `torget.draft.${key}`;
  const saved = storage.get(storageKey);
  if (saved && !input.value) input.value = saved;
  input.addEventListener("input", () => {
    if (input.value) storage.set(storageKey, input.value);
    else storage.remove(storageKey);
  });
  return (sent) => {
    if (sent === undefined || input.value === sent) {
      input.value = "";
      storage.remove(storageKey);
    }
  };
}

// --- Realtime: one websocket, rooms resumed after a blip, sends queued while away ----------

export class Realtime {
  constructor({ onStatus = () => {}, onWelcome = () => {}, onNotice = () => {} } = {}) {
    this.onStatus = onStatus;
    this.onWelcome = onWelcome;
    this.onNotice = onNotice;
    this.rooms = new Map();
    this.queue = [];
    this.pending = new Map();
    this.counter = 0;
    this.attempt = 0;
    this.ws = null;
    this.open = false;
    this.name = "";
    this.closed = false;
    this.viewerId = "";
    window.addEventListener("online", () => this.reconnectSoon(0));
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.onStatus(this.attempt ? "reconnecting" : "connecting");
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.open = false;
      // Frames sent but not answered go out again after the reconnect (the draft stays until
      // an ack, so a lost frame is never a lost message).
      this.queue = [...this.pending.values(), ...this.queue];
      this.pending.clear();
      for (const room of this.rooms.values()) room.joined = false;
      if (this.closed) return;
      this.onStatus("reconnecting");
      this.reconnectSoon();
    });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.open && this.raw({ type: "ping" }), 25000);
  }

  reconnectSoon(delay) {
    clearTimeout(this.timer);
    const wait = delay ?? Math.min(10000, 500 * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      if (this.ws && this.ws.readyState <= WebSocket.OPEN && this.open) return;
      if (this.ws) this.ws.close();
      this.connect();
    }, wait);
  }

  raw(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    switch (msg.type) {
      case "welcome":
        this.open = true;
        this.viewerId = msg.viewer_id;
        this.attempt = 0;
        this.onWelcome(msg);
        if (this.name) this.raw({ type: "hello", name: this.name });
        for (const [name, room] of this.rooms) this.sendJoin(name, room);
        this.onStatus("connected");
        this.flushQueue();
        break;
      case "joined": {
        const room = this.rooms.get(msg.room);
        if (!room) break;
        const resumed = room.after !== null && !msg.reset;
        room.joined = true;
        room.after = msg.last_id || room.after;
        room.handlers.joined?.(msg, resumed);
        if (typeof msg.viewers === "number") room.handlers.viewers?.(msg.viewers);
        this.flushQueue();
        break;
      }
      case "events": {
        const room = this.rooms.get(msg.room);
        if (!room) break;
        if (msg.events.length) room.after = msg.events[msg.events.length - 1].id;
        room.handlers.events?.(msg.events);
        break;
      }
      case "viewers":
        this.rooms.get(msg.room)?.handlers.viewers?.(msg.count);
        break;
      case "notice":
        this.onNotice(msg);
        break;
      case "ack":
      case "error": {
        const waiter = this.pending.get(msg.ref);
        if (!waiter) {
          if (msg.type === "error" && msg.code === "forbidden" && !msg.ref) this.onNotice(msg);
          break;
        }
        this.pending.delete(msg.ref);
        if (msg.type === "ack") waiter.resolve(msg);
        else waiter.reject(new ApiError(0, msg.code, msg.message));
        break;
      }
      default:
        break;
    }
  }

  sendJoin(name, room) {
    const frame = { type: "join", room: name };
    if (room.after) frame.after = room.after;
    this.raw(frame);
  }

  /** Join ``name``; handlers: joined(msg, resumed), events(list), viewers(count). */
  join(name, handlers) {
    const room = { after: null, joined: false, handlers };
    this.rooms.set(name, room);
    if (this.open) this.sendJoin(name, room);
  }

  leave(name) {
    if (this.rooms.delete(name) && this.open) this.raw({ type: "leave", room: name });
  }

  hello(name) {
    this.name = name;
    if (this.open) this.raw({ type: "hello", name });
  }

  /** Send an action; resolves with its ack, rejects with its error. Queued while offline. */
  send(frame) {
    return new Promise((resolve, reject) => {
      this.queue.push({ frame, resolve, reject });
      this.flushQueue();
    });
  }

  flushQueue() {
    if (!this.open) return;
    const waiting = [];
    for (const item of this.queue) {
      const room = item.frame.room ? this.rooms.get(item.frame.room) : null;
      if (room && !room.joined) {
        waiting.push(item);
        continue;
      }
      const ref = `r${++this.counter}`;
      this.pending.set(ref, item);
      this.raw({ ...item.frame, ref });
    }
    this.queue = waiting;
  }

  get queued() {
    return this.queue.length;
  }
}

/** Wire a Realtime's status into an element: connecting, connected, reconnecting. */
export function statusReporter(node) {
  let wasDown = false;
  return (state) => {
    if (state === "connected") {
      say(node, wasDown ? t("rt.back") : t("rt.connected"), "ok");
      wasDown = false;
    } else if (state === "reconnecting") {
      wasDown = true;
      say(node, t("rt.reconnecting"), "warn");
    } else say(node, t("rt.connecting"));
  };
}

/** Explain a refused action in words (server messages are in English; prefix with ours). */
export function explain(error) {
  if (error.code === "lost") return t("rt.lost");
  return error.message || t("common.error");
}
