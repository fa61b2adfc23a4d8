// The websocket client: one connection per tab, rooms resumed with ``after`` after a blip (so
// nothing is missed), actions queued while the socket is down and sent again when a frame went
// unanswered, the viewer pass presented in the first frame (an event with an access code), a
// staff sign-in that ended (close code 4401); and how its state and refusals read on the page.

import { ApiError } from "/static/js/api.js";
import { say } from "/static/js/dom.js";
import { t } from "/static/js/i18n.js";
import { storage } from "/static/js/storage.js";

/** Where the viewer pass of an event with an access code is kept (common.askAccessCode). */
export const PASS_KEY = "torget.viewer_pass";
/** The close code of a staff sign-in that ended (revoked, signed out, expired). */
export const SIGN_IN_ENDED = 4401;

/**
 * One websocket to /ws; ``join`` a room, ``send`` an action, ``hello`` a chat name.
 * ``onSignInEnded(rt)`` is called when the server closes the socket because the staff sign-in
 * ended; the socket reconnects as what the browser still is (a viewer).
 */
export class Realtime {
  constructor({ onStatus = () => {}, onWelcome = () => {}, onNotice = () => {}, onSignInEnded = () => {} } = {}) {
    this.onStatus = onStatus;
    this.onWelcome = onWelcome;
    this.onNotice = onNotice;
    this.onSignInEnded = onSignInEnded;
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
    let welcomed;
    this.welcomed = new Promise((resolve) => {
      welcomed = resolve;
    });
    this.resolveWelcome = welcomed;
    window.addEventListener("online", () => this.reconnectSoon(0));
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.passSent = false;
    this.onStatus(this.attempt ? "reconnecting" : "connecting");
    ws.addEventListener("open", () => {
      // An event with an access code holds a connection without a pass cookie until its first
      // frame presents the pass (an embedded player's frame may not send the cookie).
      const pass = storage.get(PASS_KEY);
      if (!pass) return;
      this.passSent = true;
      this.raw(this.name ? { type: "hello", name: this.name, viewer_pass: pass } : { type: "hello", viewer_pass: pass });
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      if (event.code === SIGN_IN_ENDED) this.onSignInEnded(this);
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
        this.resolveWelcome(msg);
        this.attempt = 0;
        this.onWelcome(msg);
        if (this.name && !this.passSent) this.raw({ type: "hello", name: this.name });
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
        this.rooms.get(msg.room)?.handlers.viewers?.(msg.count, msg.staff ?? null);
        break;
      case "notice":
        this.onNotice(msg);
        break;
      case "ack":
      case "error": {
        if (msg.type === "error" && msg.field === "viewer_pass") storage.remove(PASS_KEY); // expired
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
    if (room.handlers.code) frame.code = room.handlers.code; // joined through the hall's code
    this.raw(frame);
  }

  /** Join ``name``; handlers: joined(msg, resumed), events(list), viewers(count, staff): staff
   * is the room's staff connections for its moderators, else null. */
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

/**
 * Resolve once ``rt`` knows its viewer id (its first welcome), or after ``ms`` without one: a
 * player that starts before would be counted apart from its websocket for a while.
 */
export function viewerKnown(rt, ms = 2000) {
  return Promise.race([rt.welcomed, new Promise((resolve) => setTimeout(resolve, ms))]);
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
