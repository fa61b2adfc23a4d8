// The embeddable player: video only, follows the session's state, shows the highlighted question
// (while the session is not over: a replay has no "now answering").

import { api } from "/static/js/api.js";
import { sessionIdFromPath } from "/static/js/common.js";
import { $, say, show } from "/static/js/dom.js";
import { initI18n, t } from "/static/js/i18n.js";
import { Player } from "/static/js/player.js";
import { Realtime, viewerKnown } from "/static/js/realtime.js";
import { followRoom, highlighted } from "/static/js/room.js";

const sessionId = sessionIdFromPath();
let rt = null;
const player = new Player($("video"), {
  onStatus: (text, kind) => say($("player-status"), text, kind),
  viewerId: () => rt?.viewerId || "",
});
let playing = null;
let over = false;
let room = null;
const OVER = ["ended", "replay", "cancelled"];

async function update() {
  let session;
  try {
    session = await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
  } catch (error) {
    say($("player-status"), error.status === 404 ? t("session.not_found") : error.message, "error");
    return;
  }
  over = OVER.includes(session.state);
  if (room) highlight(room);
  if (overlayOnly) return;
  const wanted = session.state === "live" ? "live" : session.state === "replay" ? "replay" : "";
  if (wanted === playing) return;
  playing = wanted;
  show($("offair"), !wanted);
  if (!wanted) {
    player.stop();
    $("offair-text").textContent = `${session.title}: ${t(`state.${session.state}`)}`;
  } else player.play(sessionId, { vod: wanted === "replay" });
}

function highlight(room) {
  const now = over ? null : highlighted(room);
  $("highlight-text").textContent = now ? now.text : "";
  show($("highlight"), Boolean(now));
}

// ?overlay=1: only the highlighted question on a transparent page, for OBS's browser source.
const overlayOnly = new URLSearchParams(location.search).get("overlay") === "1";

async function main() {
  await initI18n();
  $("open-page").href = `/s/${encodeURIComponent(sessionId)}`;
  if (overlayOnly) document.body.classList.add("overlay-only");
  rt = new Realtime();
  room = followRoom(rt, sessionId, { update: (state, parts) => parts.has("questions") && highlight(state) });
  rt.join("event", {
    events: (events) => events.some((e) => e.session_id === sessionId) && update(),
  });
  rt.connect();
  await viewerKnown(rt); // the player names the websocket's viewer id: one viewer counts once
  await update();
}

main();
