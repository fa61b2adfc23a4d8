// A studio's channel (/c/{studio}) and its embed (/embed/c/{studio}): one player on the
// channel's stable HLS address, whatever the studio has on air; between sessions the next
// session's card with a countdown. The questions, polls and viewer count follow the session on
// air: the server announces each switch ("channel.on_air" in the event room).

import { api } from "/static/js/api.js";
import { $, keepFocus, say, setCount, show } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { countdown, pollForms, questionItems } from "/static/js/participate.js";
import { Player } from "/static/js/player.js";
import { explain, Realtime, statusReporter, viewerKnown } from "/static/js/realtime.js";
import { followRoom, highlighted } from "/static/js/room.js";

const studioId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const embedded = location.pathname.startsWith("/embed/");
const voted = new Set();
let rt = null;
let channel = null;
let roomId = null;
let room = null;
let playing = false;
const player = new Player($("video"), {
  onStatus: (text, kind) => say($("player-status"), text, kind),
  viewerId: () => rt?.viewerId || "",
});

async function refresh(announce = false) {
  let next;
  try {
    next = await api("GET", `/api/v1/studios/${encodeURIComponent(studioId)}/channel`);
  } catch (error) {
    say($("player-status"), error.status === 404 ? t("channel.not_found") : error.message, "error");
    return;
  }
  const before = channel?.on_air?.id ?? null;
  channel = next;
  const now = channel.on_air;
  if (announce && (now?.id ?? null) !== before) {
    say($("switched"), now ? t("channel.now_on_air", { title: now.title }) : t("channel.off_air"));
  }
  $("title").textContent = channel.studio_name;
  $("on-air").textContent = now ? `${t("channel.on_air")}: ${now.title}` : "";
  drawNextUp();
  follow(now ? now.id : null);
  if (!playing && (now || (channel.playout && channel.replays > 0))) {
    playing = true;
    player.playChannel(`/hls/c/${encodeURIComponent(studioId)}/index.m3u8`); // this origin (CSP)
  }
}

function drawNextUp() {
  const next = channel?.on_air ? null : channel?.next_up;
  show($("nextup"), Boolean(next));
  if (!next) return;
  $("next-title").textContent = next.title;
  $("next-when").textContent = `${formatTime(next.starts_at)} · ${countdown(next.starts_at)}`;
}

function follow(id) {
  if (id === roomId) return;
  if (roomId) rt.leave(roomId);
  roomId = id;
  show($("between"), !id);
  show($("ask"), Boolean(id));
  if (!id) {
    room = null;
    $("questions").replaceChildren();
    show($("polls-box"), false);
    show($("highlight"), false);
    return;
  }
  room = followRoom(rt, id, {
    update: (_, parts) => {
      if (parts.has("questions")) drawQuestions();
      if (parts.has("polls")) drawPolls();
    },
    viewers: (count) => setCount($("viewers"), count),
  });
}

const send = (frame) => rt.send(frame);

function drawQuestions() {
  const status = $("ask").querySelector(".status");
  keepFocus(() => $("questions").replaceChildren(...questionItems(room, { roomId, voted, send, status })));
  const now = highlighted(room);
  $("highlight-text").textContent = now ? now.text : "";
  show($("highlight"), Boolean(now));
}

function drawPolls() {
  const forms = pollForms(room, { roomId, voted, send, onVoted: drawPolls });
  show($("polls-box"), forms.length > 0);
  keepFocus(() => $("polls").replaceChildren(...forms));
}

function wireAsk() {
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
}

async function main() {
  await initI18n();
  if (embedded) document.body.classList.add("embed", "channel-embed");
  rt = new Realtime({ onStatus: statusReporter($("rt-status")) });
  wireAsk();
  rt.join("event", {
    joined: () => refresh(),
    events: (events) => {
      if (events.some((e) => e.type === "channel.on_air" && e.studio_id === studioId)) refresh(true);
    },
  });
  rt.connect();
  await viewerKnown(rt); // the player names the websocket's viewer id: one viewer counts once
  await refresh();
  setInterval(drawNextUp, 1000);
}

main();
