// The hall screen (/screen/{studio}) for a projector: large type, no controls. It follows the
// studio's session on air and shows the question being answered, the latest poll's results as
// bars, and the join code with its QR code for the phones in the seats.

import { api } from "/static/js/api.js";
import { $, el, show } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { share } from "/static/js/participate.js";
import { Realtime } from "/static/js/realtime.js";
import { followRoom, highlighted } from "/static/js/room.js";

const studioId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const CODE_EVERY_MS = 60_000; // a renewed code shows within a minute
let rt = null;
let roomId = null;
let room = null;
let code = "";

async function refresh() {
  let channel;
  try {
    channel = await api("GET", `/api/v1/studios/${encodeURIComponent(studioId)}/channel`);
  } catch (error) {
    $("title").textContent = error.status === 404 ? t("channel.not_found") : error.message;
    return;
  }
  const now = channel.on_air;
  const next = channel.next_up;
  $("studio").textContent = channel.studio_name;
  $("title").textContent = now
    ? now.title
    : next
      ? t("screen.next", { title: next.title, time: formatTime(next.starts_at) })
      : "";
  follow(now ? now.id : null);
}

async function refreshCode() {
  try {
    const found = await api("GET", `/api/v1/studios/${encodeURIComponent(studioId)}/join-code`);
    if (found.code === code) return;
    code = found.code;
    $("join-code").textContent = found.code;
    $("join-url").textContent = found.url.replace(/^https?:\/\//, "");
    // Same origin as the page (the CSP's img-src 'self'), whatever public_url says.
    $("qr").src = `/api/v1/studios/${encodeURIComponent(studioId)}/join-code.svg?c=${found.code}`;
  } catch {
    /* keep the code shown; the next round tries again */
  }
}

function follow(id) {
  if (id === roomId) return;
  if (roomId) rt.leave(roomId);
  roomId = id;
  room = null;
  draw();
  if (!id) return;
  room = followRoom(rt, id, { update: () => draw() });
}

function draw() {
  const now = room ? highlighted(room) : null;
  show($("question"), Boolean(now));
  $("question-text").textContent = now ? now.text : "";
  const polls = room ? [...room.polls.values()] : [];
  const poll = polls.filter((p) => p.open).pop() ?? polls.pop() ?? null;
  show($("poll"), Boolean(poll));
  if (!poll) return;
  $("poll-question").textContent = poll.question;
  $("poll-voters").textContent = t("polls.voters", { count: poll.voters });
  $("poll-bars").replaceChildren(
    ...poll.options.map((option, index) => {
      const count = poll.tally[index] || 0;
      const fill = el("span", { class: "screen-bar-fill" });
      fill.style.width = `${share(count, poll.voters)}%`;
      return el(
        "li",
        { class: "screen-bar", dataset: { count: String(count) } },
        el("span", { class: "screen-bar-label", text: option }),
        el("span", { class: "screen-bar-track" }, fill),
        el("span", { class: "screen-bar-value", text: `${share(count, poll.voters)} %` }),
      );
    }),
  );
}

async function main() {
  await initI18n();
  rt = new Realtime();
  rt.join("event", {
    joined: () => refresh(),
    events: (events) => {
      if (events.some((e) => e.type === "channel.on_air" && e.studio_id === studioId)) refresh();
    },
  });
  rt.connect();
  await refreshCode();
  setInterval(refreshCode, CODE_EVERY_MS);
}

main();
