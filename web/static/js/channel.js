// A studio's channel (/c/{studio}) and its embed (/embed/c/{studio}): one player on the
// channel's stable HLS address, whatever the studio has on air; between sessions the next
// session's card with a countdown. The questions, polls and viewer count follow the session on
// air: the server announces each switch ("channel.on_air" in the event room).

import { api } from "/static/js/api.js";
import { $, say, setCount, show } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { countdown, Participation } from "/static/js/participate.js";
import { Player } from "/static/js/player.js";
import { Realtime, statusReporter, viewerKnown } from "/static/js/realtime.js";
import { highlighted } from "/static/js/room.js";

const studioId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const embedded = location.pathname.startsWith("/embed/");
let rt = null;
let taking = null;
let channel = null;
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
  show($("between"), !id);
  show($("ask"), Boolean(id));
  taking.follow(id);
}

function highlight(room) {
  const now = room ? highlighted(room) : null;
  $("highlight-text").textContent = now ? now.text : "";
  show($("highlight"), Boolean(now));
}

async function main() {
  await initI18n();
  if (embedded) document.body.classList.add("embed", "channel-embed");
  rt = new Realtime({ onStatus: statusReporter($("rt-status")) });
  taking = new Participation(rt, { onQuestions: highlight, onViewers: (count) => setCount($("viewers"), count) });
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
