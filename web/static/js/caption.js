// Caption console: a captioner picks a session of their studios and a caption language. While
// the session is live they see and hear the programme over WebRTC (WHEP), type, and each line
// goes out when Enter commits it (POST /api/v1/sessions/{id}/captions). Live or afterwards,
// the session's lines are listed, each correctable in place (PATCH …/captions/{cue id}), all
// of them can be shifted in time (POST …/captions/shift) and downloaded as .vtt and .srt; lines
// sent by anyone arrive over the websocket (caption.cue). See docs/captions.md.

import { api } from "/static/js/api.js";
import { askSignInAgain, fillSessionPicker, openConsole } from "/static/js/common.js";
import { recordingZeroMs, shiftMs, sinceStart } from "/static/js/cue_times.js";
import { $, el, say, show } from "/static/js/dom.js";
import { initI18n, t } from "/static/js/i18n.js";
import { Player } from "/static/js/player.js";
import { Realtime, statusReporter } from "/static/js/realtime.js";
import { followRoom } from "/static/js/room.js";

/** States a captioner writes in (the rest are corrected afterwards). */
const WRITING = ["ready", "live"];
const ORDER = { live: 0, ready: 1, ended: 2, replay: 2 };
const player = new Player($("video"), { onStatus: (text, kind) => say($("player-status"), text, kind) });
let rt = null;
let session = null; // the chosen session, as GET /api/v1/sessions/{id} last answered
let zeroMs = 0;

const language = () => $("caption-language").value;
const captionsPath = (suffix = "") => `/api/v1/sessions/${encodeURIComponent(session.id)}/captions${suffix}`;

// --- the lines ----------------------------------------------------------------------------------

function cueItem(cue) {
  const item = el("li", { dataset: { id: cue.id } });
  const status = el("p", { class: "status", id: `fix-${cue.id}`, role: "status" });
  const input = el("input", { name: "text", autocomplete: "off", "aria-describedby": status.id });
  const form = el("form", { class: "row" },
    el("time", { class: "meta" }), input, el("button", { type: "submit", text: t("cap.save") }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    correct(item, input, status);
  });
  input.addEventListener("input", () => status.dataset.kind === "ok" && say(status, "")); // no longer "Saved."
  item.append(form, status);
  return item;
}

/** Show ``cue`` in the list, at its place in time; a line being edited keeps its draft. */
function upsert(cue) {
  if (cue.language !== language()) return;
  const list = $("cues");
  let item = list.querySelector(`[data-id="${CSS.escape(cue.id)}"]`);
  if (!item) {
    item = cueItem(cue);
    say($("cues-status"), ""); // no longer "No lines … yet"
  }
  const input = item.querySelector("input");
  if (input.value === (input.dataset.saved ?? "")) input.value = cue.text;
  input.dataset.saved = cue.text;
  const time = sinceStart(cue.start_ms, zeroMs);
  item.querySelector("time").textContent = time;
  input.setAttribute("aria-label", t("cap.line_at", { time }));
  item.dataset.start = String(cue.start_ms);
  const after = [...list.children].find((other) => other !== item && Number(other.dataset.start) > cue.start_ms);
  if (item.parentNode !== list || item.nextElementSibling !== (after ?? null)) {
    const focused = item.contains(document.activeElement) ? document.activeElement : null;
    list.insertBefore(item, after ?? null);
    focused?.focus();
  }
}

async function correct(item, input, status) {
  if (input.value === input.dataset.saved) return;
  try {
    upsert(await api("PATCH", captionsPath(`/${encodeURIComponent(item.dataset.id)}`), { text: input.value }));
    input.value = input.dataset.saved; // the server keeps it without the spaces around it
    input.removeAttribute("aria-invalid");
    say(status, t("cap.saved"), "ok");
  } catch (error) {
    input.setAttribute("aria-invalid", "true");
    say(status, error.message, "error");
    input.focus();
  }
}

/** List the chosen session's lines of the chosen language; ``fresh``: drop what was shown
 * (another session or language), else update it in place (drafts and focus stay). */
async function loadLines({ fresh = false } = {}) {
  if (fresh) $("cues").replaceChildren();
  say($("cues-status"), "");
  if (!session) return;
  try {
    const cues = await api("GET", `${captionsPath()}?language=${encodeURIComponent(language())}`);
    const kept = new Set(cues.map((cue) => cue.id));
    for (const item of [...$("cues").children]) if (!kept.has(item.dataset.id)) item.remove();
    cues.forEach(upsert);
    if (!cues.length) say($("cues-status"), t("cap.no_lines"));
  } catch (error) {
    say($("cues-status"), error.message, "error");
  }
}

function setDownloads() {
  show($("downloads"), Boolean(session));
  if (!session) return;
  const query = `?language=${encodeURIComponent(language())}`;
  $("download-vtt").href = captionsPath(`.vtt${query}`);
  $("download-srt").href = captionsPath(`.srt${query}`);
}

// --- the session ------------------------------------------------------------------------------

/** Watch the programme: live over WebRTC, the replay once there is one, else nothing. */
function watch() {
  if (session && WRITING.includes(session.state)) player.play(session.id, { latency: "lowest" });
  else if (session?.state === "replay") player.play(session.id, { vod: true });
  else {
    player.stop();
    say($("player-status"), session ? t("cap.no_picture") : "");
  }
}

async function choose(id) {
  if (session) rt.leave(session.id);
  delete $("cues").dataset.room;
  session = id ? await api("GET", `/api/v1/sessions/${encodeURIComponent(id)}`) : null;
  zeroMs = session ? recordingZeroMs(session) : 0;
  show($("write"), Boolean(session && WRITING.includes(session.state)));
  watch();
  setDownloads();
  if (!session) return;
  history.replaceState(null, "", `/caption?session=${encodeURIComponent(session.id)}`);
  const following = session.id;
  followRoom(rt, following, {
    joined: () => {
      $("cues").dataset.room = following; // lines sent from now on arrive here (tests read it)
    },
    caption: (event) => upsert({ ...event, id: event.cue_id }),
  });
  if (rt.open) rt.flushQueue();
  await loadLines({ fresh: true });
}

async function send(text) {
  upsert(await api("POST", captionsPath(), { text, language: language() }));
}

function wireLineForm() {
  const form = $("line-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.elements.line;
    const text = input.value;
    if (!session || !text.trim()) return;
    input.value = ""; // the next line can be typed while this one is sent
    try {
      await send(text);
      say($("cap-status"), "");
    } catch (error) {
      input.value = input.value || text;
      say($("cap-status"), error.message, "error");
    }
    input.focus();
  });
}

function wireShiftForm() {
  const form = $("shift-form");
  const status = $("shift-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ms = shiftMs(form.elements.shift.value);
    if (!session) return;
    if (ms === null) {
      say(status, t("cap.shift_invalid"), "error");
      return;
    }
    try {
      const shifted = await api("POST", captionsPath("/shift"), { language: language(), shift_ms: ms });
      form.elements.shift.value = "";
      say(status, t("cap.shifted", { count: shifted.moved, seconds: ms / 1000 }), "ok");
      await loadLines();
    } catch (error) {
      say(status, error.message, "error");
    }
  });
}

async function main() {
  await initI18n();
  const me = await openConsole();
  const [program, languages] = await Promise.all([
    api("GET", "/api/v1/program"),
    api("GET", "/api/v1/captions/languages"),
  ]);
  const mine = fillSessionPicker(me, program.sessions, ORDER);
  const picker = $("session");
  if (!mine.length) say($("cues-status"), t("cap.none"), "warn");
  $("caption-language").replaceChildren(...languages.languages.map((code) => el("option", { value: code, text: code })));
  rt = new Realtime({
    onStatus: statusReporter($("rt-status")),
    onNotice: (msg) => say($("rt-status"), msg.text || msg.message, "warn"),
    onSignInEnded: askSignInAgain(),
  });
  rt.connect();
  picker.addEventListener("change", () => choose(picker.value));
  $("caption-language").addEventListener("change", () => {
    setDownloads();
    loadLines({ fresh: true });
  });
  wireLineForm();
  wireShiftForm();
  await choose(picker.value);
}

main();
