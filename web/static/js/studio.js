// Operator console: sign in, pick a studio, create and edit sessions, stream key and RTMP URL,
// go live from this browser (WHIP), ingest health, start and end, restream, highlighted question.

import { api, signOut } from "/static/js/api.js";
import { askSignInAgain, copyText, openConsole } from "/static/js/common.js";
import { $, el, say, setCount, show } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, t } from "/static/js/i18n.js";
import { Realtime, statusReporter } from "/static/js/realtime.js";
import { emptyRoom, followRoom, highlighted } from "/static/js/room.js";
import { keepDraft, storage } from "/static/js/storage.js";
import { endResource, negotiate, preferH264 } from "/static/js/webrtc.js";

let me = null;
let studios = [];
let sessions = [];
let current = null;
let rt = null;
let doc = null;
let healthTimer = null;
let stream = null;
let whip = null; // {pc, location, key}
let room = emptyRoom(); // the selected session's room: its highlighted question

const keyStore = (id) => `torget.key.${id}`;
const OVER = ["ended", "replay", "cancelled"];

async function openapi() {
  if (!doc) doc = await api("GET", "/api/v1/openapi.json");
  return doc;
}

/** Paths of the documented API under a session that contain ``word`` (discovered, not guessed). */
async function sessionPaths(word) {
  const paths = (await openapi()).paths;
  return Object.keys(paths)
    .filter((p) => p.startsWith("/api/v1/sessions/{session_id}/") && p.includes(word))
    .map((p) => ({ path: p, ops: paths[p] }));
}

function fill(path, id, extra = {}) {
  return path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(name === "session_id" ? id : extra[name] ?? ""));
}

// --- Studios and sessions ---------------------------------------------------------------------

async function loadStudios() {
  const all = await api("GET", "/api/v1/studios");
  studios = me.role === "admin" ? all : all.filter((s) => me.studio_ids.includes(s.id));
  const picker = $("studio");
  picker.replaceChildren(...studios.map((s) => el("option", { value: s.id, text: s.name })));
  const saved = storage.get("torget.studio");
  if (studios.some((s) => s.id === saved)) picker.value = saved;
  await loadSessions();
}

async function loadSessions() {
  const studioId = $("studio").value;
  storage.set("torget.studio", studioId);
  if (!studioId) return;
  const program = await api("GET", `/api/v1/program?studio_id=${encodeURIComponent(studioId)}`);
  sessions = program.sessions.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  $("sessions").replaceChildren(
    ...sessions.map((s) =>
      el("li", { class: current && current.id === s.id ? "selected" : "" },
        el("button", { type: "button", class: "link", onclick: () => select(s.id) },
          `${formatDay(s.starts_at)} ${formatTime(s.starts_at)}–${formatTime(s.ends_at)} `,
          el("strong", { text: s.title }), ` · ${t(`state.${s.state}`)}`)),
    ),
  );
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function editForm(s) {
  const form = $("session-form");
  form.elements.id.value = s ? s.id : "";
  $("form-h").textContent = s ? t("studio.edit") : t("studio.new");
  $("save-session").textContent = s ? t("studio.save") : t("studio.create");
  if (!s) return;
  const start = new Date(s.starts_at);
  const end = new Date(s.ends_at);
  form.elements.title.value = s.title;
  form.elements.date.value = `${start.getFullYear()}-${pad(start.getMonth() + 1)}-${pad(start.getDate())}`;
  form.elements.start.value = `${pad(start.getHours())}:${pad(start.getMinutes())}`;
  form.elements.end.value = `${pad(end.getHours())}:${pad(end.getMinutes())}`;
  form.elements.language.value = s.language;
  form.elements.speakers.value = s.speakers.join(", ");
  form.elements.description.value = s.description;
  form.elements.qa_auto_approve.checked = s.qa_auto_approve;
  form.elements.auto_start.checked = s.auto_start;
  form.elements.auto_end.checked = s.auto_end;
}

function formBody(form) {
  const f = form.elements;
  const starts = new Date(`${f.date.value}T${f.start.value}`);
  const ends = new Date(`${f.date.value}T${f.end.value}`);
  if (ends <= starts) ends.setDate(ends.getDate() + 1); // ends after midnight
  return {
    title: f.title.value.trim(),
    starts_at: starts.toISOString(),
    ends_at: ends.toISOString(),
    language: f.language.value,
    speakers: f.speakers.value.split(",").map((x) => x.trim()).filter(Boolean),
    description: f.description.value.trim(),
    qa_auto_approve: f.qa_auto_approve.checked,
    auto_start: f.auto_start.checked,
    auto_end: f.auto_end.checked,
  };
}

async function saveSession(event) {
  event.preventDefault();
  const form = $("session-form");
  const status = form.querySelector(".status");
  const id = form.elements.id.value;
  try {
    const body = formBody(form);
    let saved;
    if (id) saved = await api("PATCH", `/api/v1/sessions/${encodeURIComponent(id)}`, body);
    else {
      saved = await api("POST", "/api/v1/sessions", { ...body, studio_id: $("studio").value });
      sessionStorage.setItem(keyStore(saved.id), saved.stream_key);
    }
    say(status, id ? t("studio.saved") : t("studio.created"), "ok");
    await loadSessions();
    await select(saved.id);
  } catch (error) {
    say(status, error.message, "error");
  }
}

// --- The selected session ---------------------------------------------------------------------

async function select(id) {
  const s = await api("GET", `/api/v1/sessions/${encodeURIComponent(id)}`);
  const changed = !current || current.id !== s.id;
  if (changed && current && rt) rt.leave(current.id);
  current = s;
  editForm(s);
  show($("panel"), true);
  $("panel-h").textContent = s.title;
  $("state").textContent = t(`state.${s.state}`);
  $("state").dataset.state = s.state;
  $("viewer-link").href = `/s/${encodeURIComponent(id)}`;
  $("moderate-link").href = `/moderate?session=${encodeURIComponent(id)}`;
  $("report-link").href = `/report?session=${encodeURIComponent(id)}`;
  $("overlay-url").value = `${location.origin}/embed/${encodeURIComponent(id)}?overlay=1`;
  $("go-live").disabled = !["scheduled", "ready"].includes(s.state);
  $("end").disabled = !["live", "ready", "scheduled"].includes(s.state);
  $("extend").disabled = !["live", "ready", "scheduled"].includes(s.state);
  $("whip-start").disabled = OVER.includes(s.state);
  // The session is over: the server has ended its ingest, so this browser stops sending.
  if (whip && whip.sessionId === s.id && OVER.includes(s.state)) dropWhip(t("studio.whip_ended"));
  if (!changed) return;
  const ingest = await api("GET", `/api/v1/sessions/${encodeURIComponent(id)}/ingest`);
  $("rtmp-url").value = ingest.rtmp;
  showKey(sessionStorage.getItem(keyStore(id)) || "");
  room = emptyRoom();
  renderHighlight();
  if (rt) {
    room = followRoom(rt, id, {
      update: (_, parts) => parts.has("questions") && renderHighlight(),
      viewers: (count) => setCount($("viewers"), count),
    });
  }
  pollHealth();
  loadRestreams();
  await loadSessions();
}

function showKey(key) {
  $("stream-key").value = key;
  $("stream-key").type = "password";
  show($("key-note"), !key);
}

async function rotateKey() {
  const answer = await api("POST", `/api/v1/sessions/${encodeURIComponent(current.id)}/stream-key`);
  sessionStorage.setItem(keyStore(current.id), answer.stream_key);
  showKey(answer.stream_key);
  $("rtmp-url").value = answer.ingest.rtmp;
  say($("panel-status"), t("studio.rotated"), "ok");
  return answer.stream_key;
}

async function lifecycle(step) {
  try {
    const s = await api("POST", `/api/v1/sessions/${encodeURIComponent(current.id)}/${step}`);
    say($("panel-status"), t(step === "live" ? "studio.now_live" : "studio.now_ended"), "ok");
    await select(s.id);
    await loadSessions();
  } catch (error) {
    say($("panel-status"), error.message, "error");
  }
}

function renderHighlight() {
  const now = highlighted(room);
  $("highlighted").textContent = now ? now.text : t("studio.no_highlight");
  $("overlay-text").textContent = now ? now.text : "";
  show($("overlay"), Boolean(now) && $("show-overlay").checked);
}

// --- Ingest health (the endpoint is found in the API document) --------------------------------

async function pollHealth() {
  clearTimeout(healthTimer);
  if (!current) return;
  const list = $("health");
  const found = (await sessionPaths("health")).find((p) => p.ops.get);
  if (!found) {
    list.replaceChildren(el("dd", { class: "note", text: t("studio.health_unavailable") }));
    return;
  }
  try {
    const health = await api("GET", fill(found.path, current.id));
    const rows = healthRows(health).flatMap(([key, value]) => [el("dt", { text: t(key) }), el("dd", { text: value })]);
    list.replaceChildren(...rows);
  } catch (error) {
    list.replaceChildren(el("dd", { class: "note", text: error.message }));
  }
  healthTimer = setTimeout(pollHealth, 2000);
}

function kbit(bits) {
  return bits === null || bits === undefined ? "–" : `${Math.round(bits / 1000)} kbit/s`;
}

/** The figures an operator looks at, from the documented health answer (absent ones skipped). */
function healthRows(h) {
  if (!h) return [];
  const rows = [["health.connected", h.connected ? t("health.yes") : t("health.no")]];
  if (!h.connected) return rows;
  const source = h.source || {};
  const measured = h.measured || {};
  if (h.origin) rows.push(["health.origin", String(h.origin).toUpperCase()]);
  const width = measured.width ?? source.width;
  const height = measured.height ?? source.height;
  if (width) rows.push(["health.resolution", `${width}×${height}`]);
  if (source.video_codec) rows.push(["health.codec", `${source.video_codec}${source.has_audio ? " + audio" : ""}`]);
  const fps = measured.fps ?? source.fps;
  if (fps) rows.push(["health.fps", Number(fps).toFixed(1)]);
  rows.push(["health.bitrate", kbit(measured.bitrate ?? source.video_bitrate)]);
  const keyframe = measured.keyframe_interval ?? source.keyframe_interval;
  if (keyframe) rows.push(["health.keyframe", `${Number(keyframe).toFixed(1)} s`]);
  rows.push(["health.dropped", String(h.dropped_frames ?? 0)]);
  if (h.pipeline) rows.push(["health.restarts", String(h.pipeline.restarts)]);
  return rows;
}

// --- Restream destinations (collection and item paths from the API document) -----------------

async function loadRestreams() {
  const found = await sessionPaths("restream");
  const collection = found.find((p) => p.ops.get && p.ops.post);
  const item = found.find((p) => p.ops.delete && p !== collection);
  const list = $("restreams");
  const form = $("restream-form");
  if (!collection) {
    list.replaceChildren(el("li", { class: "note", text: t("studio.restream_unavailable") }));
    form.replaceChildren();
    return;
  }
  try {
    const items = await api("GET", fill(collection.path, current.id));
    const rows = Array.isArray(items) ? items : items.destinations || [];
    list.replaceChildren(
      ...rows.map((d) => {
        const state = typeof d.status === "object" && d.status ? d.status.state : d.state;
        const label = [d.name, d.url, state, d.status?.last_error].filter(Boolean).join(" · ");
        const itemParam = item ? (item.path.match(/\{(\w+)\}$/) || [])[1] : null;
        return el("li", {}, el("span", { text: label || d.id }),
          item && itemParam
            ? el("button", { type: "button", class: "danger", text: t("common.remove"), onclick: async () => {
                try {
                  await api("DELETE", fill(item.path, current.id, { [itemParam]: d.id }));
                  loadRestreams();
                } catch (error) {
                  say($("restream-status"), error.message, "error");
                }
              } })
            : null);
      }),
    );
  } catch (error) {
    say($("restream-status"), error.message, "error");
  }
  if (form.dataset.path === collection.path) return;
  form.dataset.path = collection.path;
  const body = collection.ops.post.requestBody?.content?.["application/json"]?.schema;
  const schema = body?.$ref ? doc.components.schemas[body.$ref.split("/").pop()] : body;
  const fields = Object.entries(schema?.properties ?? {}).filter(([, p]) => ["string", undefined].includes(p.type) || p.anyOf);
  form.replaceChildren(
    ...fields.flatMap(([name]) => [
      el("label", { for: `rs-${name}`, text: t(`studio.rs_${name}`) === `studio.rs_${name}` ? name : t(`studio.rs_${name}`) }),
      el("input", { id: `rs-${name}`, name, required: (schema.required || []).includes(name) }),
    ]),
    el("button", { type: "submit", text: t("studio.restream_add") }),
  );
  form.onsubmit = async (event) => {
    event.preventDefault();
    const data = {};
    for (const [name] of fields) if (form.elements[name].value) data[name] = form.elements[name].value.trim();
    try {
      await api("POST", fill(collection.path, current.id), data);
      form.reset();
      say($("restream-status"), t("studio.restream_added"), "ok");
      loadRestreams();
    } catch (error) {
      say($("restream-status"), error.message, "error");
    }
  };
}

// --- Go live from this browser (WHIP) ---------------------------------------------------------

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select] of [["videoinput", $("camera")], ["audioinput", $("microphone")]]) {
    const previous = select.value;
    const found = devices.filter((d) => d.kind === kind);
    select.replaceChildren(...found.map((d, i) => el("option", { value: d.deviceId, text: d.label || `${kind} ${i + 1}` })));
    if (found.some((d) => d.deviceId === previous)) select.value = previous;
  }
}

async function startCamera() {
  const status = $("whip-status");
  if (!navigator.mediaDevices?.getUserMedia) return say(status, t("studio.no_camera_api"), "error");
  try {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    const camera = $("camera").value;
    const mic = $("microphone").value;
    const [width, height] = $("resolution").value.split("x").map(Number);
    stream = await navigator.mediaDevices.getUserMedia({
      video: { ...(camera ? { deviceId: { exact: camera } } : {}), width: { ideal: width }, height: { ideal: height } },
      audio: mic ? { deviceId: { exact: mic } } : true,
    });
    $("preview").srcObject = stream;
    await listDevices();
    say(status, t("studio.camera_ready"), "ok");
    if (whip) await replaceTracks();
  } catch (error) {
    say(status, `${t("studio.camera_failed")} ${error.message}`, "error");
  }
}

async function replaceTracks() {
  for (const sender of whip.pc.getSenders()) {
    const track = stream.getTracks().find((x) => x.kind === sender.track?.kind);
    if (track) await sender.replaceTrack(track);
  }
}

const bearer = (key) => ({ Authorization: `Bearer ${key}` });

async function startWhip() {
  const status = $("whip-status");
  if (!stream) await startCamera();
  if (!stream) return;
  let key = sessionStorage.getItem(keyStore(current.id));
  if (!key) {
    if (!window.confirm(t("studio.whip_needs_key"))) return;
    key = await rotateKey();
  }
  const pc = new RTCPeerConnection();
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  preferH264(pc);
  try {
    say(status, t("studio.whip_connecting"));
    const resource = await negotiate(pc, `/whip/${encodeURIComponent(current.id)}`, bearer(key));
    whip = { pc, location: resource, key, sessionId: current.id };
    pc.addEventListener("connectionstatechange", () => {
      if (whip?.pc !== pc) return;
      const state = pc.connectionState;
      if (state === "connected") say(status, t("studio.whip_live"), "ok");
      if (state === "disconnected") say(status, t("studio.whip_lost"), "warn");
      // The server closed the ingest (the session ended, another publisher took over): stop.
      if (state === "failed" || state === "closed") dropWhip(t("studio.whip_dropped"));
    });
    show($("whip-start"), false);
    show($("whip-stop"), true);
    say(status, t("studio.whip_sending"), "ok");
  } catch (error) {
    pc.close();
    say(status, `${t("studio.whip_failed")} ${error.message}`, "error");
  }
}

async function stopWhip() {
  if (!whip) return;
  const { pc, location: resource, key } = whip;
  whip = null;
  // End the WHIP resource first (RFC 9725), then the peer connection.
  await endResource(resource, bearer(key));
  pc.close();
  whipStopped(t("studio.whip_stopped"));
}

/** The server ended the ingest already (its resource is gone): close our side, say why. */
function dropWhip(why) {
  if (!whip) return;
  const { pc } = whip;
  whip = null;
  pc.close();
  whipStopped(why);
}

function whipStopped(text) {
  show($("whip-start"), true);
  show($("whip-stop"), false);
  say($("whip-status"), text);
}

// --- Start ------------------------------------------------------------------------------------

async function main() {
  await initI18n();
  me = await openConsole();
  show($("signout"), true);
  $("signout").addEventListener("click", async () => {
    await signOut();
    location.reload();
  });
  rt = new Realtime({
    onStatus: statusReporter($("rt-status")),
    onSignInEnded: askSignInAgain((who) => {
      me = who;
    }),
  });
  rt.join("event", {
    events: (events) => {
      loadSessions();
      if (current && events.some((e) => e.session_id === current.id)) select(current.id);
    },
  });
  rt.connect();
  keepDraft($("f-title"), "studio.title");
  keepDraft($("f-description"), "studio.description");
  $("studio").addEventListener("change", loadSessions);
  $("new-session").addEventListener("click", () => {
    $("session-form").reset();
    editForm(null);
    $("f-title").focus();
  });
  $("session-form").addEventListener("submit", saveSession);
  $("go-live").addEventListener("click", () => lifecycle("live"));
  $("extend").addEventListener("click", async () => {
    try {
      const s = await api("POST", `/api/v1/sessions/${encodeURIComponent(current.id)}/extend`, { minutes: 10 });
      say($("panel-status"), t("studio.extended", { time: formatTime(s.ends_at) }), "ok");
      await select(s.id);
      await loadSessions();
    } catch (error) {
      say($("panel-status"), error.message, "error");
    }
  });
  $("end").addEventListener("click", () => window.confirm(t("studio.confirm_end")) && lifecycle("end"));
  $("rotate-key").addEventListener("click", () => window.confirm(t("studio.confirm_rotate")) && rotateKey());
  $("copy-rtmp").addEventListener("click", () => copyText($("rtmp-url").value, $("panel-status")));
  $("copy-overlay").addEventListener("click", () => copyText($("overlay-url").value, $("panel-status")));
  $("copy-key").addEventListener("click", () => copyText($("stream-key").value, $("panel-status")));
  $("reveal-key").addEventListener("click", () => {
    $("stream-key").type = $("stream-key").type === "password" ? "text" : "password";
  });
  $("camera-on").addEventListener("click", startCamera);
  $("camera").addEventListener("change", () => stream && startCamera());
  $("microphone").addEventListener("change", () => stream && startCamera());
  $("resolution").addEventListener("change", () => stream && startCamera());
  $("whip-start").addEventListener("click", startWhip);
  $("whip-stop").addEventListener("click", stopWhip);
  $("show-overlay").addEventListener("change", renderHighlight);
  window.addEventListener("pagehide", () => whip && endResource(whip.location, bearer(whip.key), { keepalive: true }));
  const date = new Date();
  const form = $("session-form");
  if (!form.elements.date.value) form.elements.date.value = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  await loadStudios();
  const wanted = new URLSearchParams(location.search).get("session");
  if (wanted) await select(wanted);
}

main();
