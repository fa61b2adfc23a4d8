// The participation page a hall's join code opens on a phone (/j/{code}): the questions and
// polls of the studio's session on air, video only when asked for (the hall's Wi-Fi is spared).
// Everything done here counts as the hall's: the room is joined with the code.

import { api } from "/static/js/api.js";
import { $, keepFocus, say, show } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { pollForms, questionItems } from "/static/js/participate.js";
import { Player } from "/static/js/player.js";
import { explain, Realtime, statusReporter } from "/static/js/realtime.js";
import { followRoom } from "/static/js/room.js";

const code = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const voted = new Set();
let rt = null;
let joined = null;
let roomId = null;
let room = null;
const player = new Player($("video"), {
  onStatus: (text, kind) => say($("player-status"), text, kind),
  viewerId: () => rt?.viewerId || "",
});
const send = (frame) => rt.send(frame);

async function refresh() {
  try {
    joined = await api("GET", `/api/v1/join/${encodeURIComponent(code)}`);
  } catch (error) {
    show($("taking-part"), false);
    show($("problem"), true);
    $("problem-text").textContent = [404, 410, 422].includes(error.status) ? t(`join.error_${error.status}`) : error.message;
    return;
  }
  show($("problem"), false);
  show($("taking-part"), true);
  const channel = joined.channel;
  const now = channel.on_air;
  $("title").textContent = now ? now.title : channel.studio_name;
  const next = channel.next_up;
  $("on-air").textContent = now
    ? channel.studio_name
    : next
      ? t("join.nothing_now_next", { title: next.title, time: formatTime(next.starts_at) })
      : t("join.nothing_now");
  follow(now ? now.id : null);
}

function follow(id) {
  if (id === roomId) return;
  if (roomId) rt.leave(roomId);
  roomId = id;
  show($("qa-box"), Boolean(id));
  if (!id) {
    show($("polls-box"), false);
    return;
  }
  room = followRoom(rt, id, {
    code,
    update: (_, parts) => {
      if (parts.has("questions")) drawQuestions();
      if (parts.has("polls")) drawPolls();
    },
  });
}

function drawQuestions() {
  const status = $("ask").querySelector(".status");
  keepFocus(() => $("questions").replaceChildren(...questionItems(room, { roomId, voted, send, status })));
}

function drawPolls() {
  const forms = pollForms(room, { roomId, voted, send, onVoted: drawPolls });
  show($("polls-box"), forms.length > 0);
  keepFocus(() => $("polls").replaceChildren(...forms));
}

function wire() {
  const form = $("ask");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector(".status");
    const text = form.elements.text.value.trim();
    if (!text || !roomId) return;
    try {
      await rt.send({ type: "qa.ask", room: roomId, text });
      form.elements.text.value = "";
      say(status, t("qa.sent_pending"), "ok");
    } catch (error) {
      say(status, explain(error), "error");
    }
  });
  $("video-toggle").addEventListener("click", () => {
    const box = $("video-box");
    const showing = box.hidden;
    show(box, showing);
    $("video-toggle").textContent = t(showing ? "join.hide_video" : "join.show_video");
    if (showing && joined) player.playChannel(`/hls/c/${encodeURIComponent(joined.studio_id)}/index.m3u8`); // this origin (CSP)
    else player.stop();
  });
}

async function main() {
  await initI18n();
  rt = new Realtime({ onStatus: statusReporter($("rt-status")) });
  wire();
  rt.join("event", {
    joined: () => refresh(),
    events: (events) => {
      if (events.some((e) => e.type === "channel.on_air" && e.studio_id === joined?.studio_id)) refresh();
    },
  });
  rt.connect();
}

main();
