// The participation page a hall's join code opens on a phone (/j/{code}): the questions and
// polls of the studio's session on air, video only when asked for (the hall's Wi-Fi is spared).
// Everything done here counts as the hall's: the room is joined with the code.

import { api } from "/static/js/api.js";
import { $, say, show } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { Participation } from "/static/js/participate.js";
import { Player } from "/static/js/player.js";
import { Realtime, statusReporter } from "/static/js/realtime.js";

const code = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
let rt = null;
let taking = null;
let joined = null;
const player = new Player($("video"), {
  onStatus: (text, kind) => say($("player-status"), text, kind),
  viewerId: () => rt?.viewerId || "",
});

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
  show($("qa-box"), Boolean(id));
  taking.follow(id);
}

function wire() {
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
  taking = new Participation(rt, { code });
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
