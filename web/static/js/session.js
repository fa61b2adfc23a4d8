// Viewer page of one session: player, chat, Q&A, polls, viewer count, share and embed.

import { api } from "/static/js/api.js";
import { wireClips } from "/static/js/clips.js";
import { askAccessCode, copyText, sessionIdFromPath } from "/static/js/common.js";
import { $, appendKept, el, keepFocus, removeItem, say, setCount, show } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, languageName, t } from "/static/js/i18n.js";
import { LiveCaptions, wireCaptionStyle } from "/static/js/captions.js";
import { fillAudio, fillQuality, LATENCIES, Player, wireCaptions } from "/static/js/player.js";
import { explain, Realtime, statusReporter, viewerKnown } from "/static/js/realtime.js";
import { CHAT_KEPT, emptyRoom, followRoom, highlighted } from "/static/js/room.js";
import { displayName, keepDraft, setDisplayName, storage } from "/static/js/storage.js";

const sessionId = sessionIdFromPath();
const votedKey = `torget.voted.${sessionId}`;
const voted = new Set(JSON.parse(storage.get(votedKey) || "[]"));
let session = null;
let rt = null;
let room = emptyRoom();
let playing = null;
let awaitingApproval = false; // "shown once a moderator approves it" is on screen
let pendingSeen = false; // ... and the viewer's pending question has reached the room since
const hasPending = () => [...room.questions.values()].some((q) => q.status === "pending");
let redrawClips = () => {};

/** States after the broadcast: the page is the replay's (no live banner, count or inputs). */
const OVER = ["ended", "replay", "cancelled"];
const over = () => OVER.includes(session.state);

function remember(id) {
  voted.add(id);
  storage.set(votedKey, JSON.stringify([...voted]));
}

async function fetchSession() {
  try {
    return await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
  } catch (error) {
    if (error.status === 401) {
      await askAccessCode();
      return fetchSession();
    }
    throw error;
  }
}

function renderSession() {
  applyMode();
  document.title = `${session.title} · Torget`;
  $("title").textContent = session.title;
  const speakers = session.speakers.length ? ` · ${session.speakers.join(", ")}` : "";
  $("meta").textContent =
    `${session.studio_name} · ${formatDay(session.starts_at)} ${formatTime(session.starts_at)}–` +
    `${formatTime(session.ends_at)} · ${session.language}${speakers} · ${t(`state.${session.state}`)}`;
  $("description").textContent = session.description;
}

/** Live or replay: after the broadcast the chat is its archive, the Q&A shows the answered
 * questions read-only, and nothing says "now answering" or how many watch. A session that comes
 * back (a page opened before it started) turns live again the same way. */
function applyMode() {
  const done = over();
  show($("ask"), !done);
  show($("qa-closed"), done);
  show($("chat-form"), !done);
  show($("chat-closed"), done);
  show($("watching"), !done);
  if (done) show($("slow-mode"), false);
  else showSlowMode(room.slowModeSeconds);
  renderQuestions();
  renderPolls();
}

// --- Player -----------------------------------------------------------------------------------

const liveCaptions = new LiveCaptions($("video"), () => player.hls?.playingDate?.getTime() || null);
const player = new Player($("video"), {
  onStatus: (text, kind) => say($("player-status"), text, kind),
  onMode: (mode) => liveCaptions.setMode(mode),
  onCues: () => liveCaptions.settle(),
  onLevels: (levels, current) => fillQuality($("quality"), levels, current),
  onAudio: (languages, current) => fillAudio($("audio-language"), languages, current),
  viewerId: () => rt?.viewerId || "",
});

function updatePlayer() {
  const state = session.state;
  const wanted = state === "live" ? "live" : state === "replay" ? "replay" : "";
  const latency = $("latency").value;
  const key = wanted ? `${wanted}:${latency}` : "";
  if (key === playing) return;
  playing = key;
  const offair = $("offair");
  if (!wanted) {
    player.stop();
    const missed = !session.went_live_at && (state === "ended" || Date.parse(session.ends_at) < Date.now());
    const text = missed
      ? t("player.missed")
      : {
          scheduled: t("player.starts_at", { time: `${formatDay(session.starts_at)} ${formatTime(session.starts_at)}` }),
          ready: t("player.ready"),
          ended: t("player.ended"),
          cancelled: t("player.cancelled"),
        }[state] || "";
    $("offair-text").textContent = text;
    show(offair, true);
    return;
  }
  show(offair, false);
  player.play(sessionId, { latency, vod: wanted === "replay" });
}

// --- Chat -------------------------------------------------------------------------------------

/** An interpreter is on air (everyone is told: the language is there to pick) or dropped
 * (their language carries the original sound meanwhile: told to those listening to it). */
function showInterpretation(event) {
  if (!event.live && player.audioLanguage !== event.language) return;
  const key = event.live ? "player.interpreter_live" : "player.interpreter_away";
  const status = $("interpretation-status");
  status.dataset.language = event.language;
  status.dataset.live = String(event.live);
  say(status, t(key, { language: languageName(event.language) }), event.live ? "ok" : "warn");
}

function addChat(event) {
  const item = el(
    "li",
    { dataset: { id: event.id } },
    el("span", { class: "who", text: event.name }),
    " ",
    el("span", { class: "text", text: event.text }),
  );
  appendKept($("chat"), item, CHAT_KEPT);
}

function showSlowMode(seconds) {
  const note = $("slow-mode");
  note.textContent = seconds ? t("chat.slow_mode_on", { seconds }) : "";
  show(note, seconds > 0 && !over());
}

// --- Interaction timed to the picture ------------------------------------------------------------

const PICTURE_WAIT_MAX_MS = 15_000; // a player further behind than this is not waited for

/** Call ``draw`` once the picture on screen has reached ``atMs`` (program date time): an HLS
 * viewer some seconds behind live sees a highlighted question or a poll when the speaker on
 * their screen gets to it, not before (chat stays immediate). */
function atPicture(atMs, draw) {
  const until = Date.now() + PICTURE_WAIT_MAX_MS;
  const check = () => {
    if (!atMs || player.pictureTime() >= atMs || Date.now() >= until) draw();
    else setTimeout(check, 100);
  };
  check();
}

// --- Questions --------------------------------------------------------------------------------

const ORDER = { answering: 0, approved: 1, pending: 2, answered: 3, rejected: 4 };

function renderQuestions() {
  keepFocus(() => drawQuestions());
}

function drawQuestions() {
  const list = $("questions");
  const done = over();
  const shown = [...room.questions.values()]
    .filter((q) => (done ? q.status === "answered" : q.status !== "merged"))
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || b.votes - a.votes || a.asked_at - b.asked_at);
  list.replaceChildren(
    ...shown.map((q) => {
      if (done) {
        return el(
          "li",
          { class: `question ${q.status}`, dataset: { id: q.id } },
          el("span", { class: "votes", text: `▲ ${q.votes}` }),
          el("span", { class: "text", text: q.text }),
          el("span", { class: "by", text: q.author_name || t("qa.anonymous_author") }),
        );
      }
      const vote = el("button", {
        type: "button",
        class: "vote",
        "aria-pressed": voted.has(q.id) ? "true" : "false",
        disabled: q.status !== "approved" && q.status !== "answering" ? true : voted.has(q.id),
        "aria-label": t("qa.upvote_label", { votes: q.votes }),
        text: `▲ ${q.votes}`,
        onclick: () => upvote(q.id),
      });
      return el(
        "li",
        { class: `question ${q.status}`, dataset: { id: q.id } },
        vote,
        el("span", { class: "text", text: q.text }),
        el("span", { class: "by", text: q.author_name || t("qa.anonymous_author") }),
        q.status === "approved" ? null : el("span", { class: "badge", text: t(`qa.status.${q.status}`) }),
      );
    }),
  );
  const now = done ? null : highlighted(room);
  $("highlight-text").textContent = now ? now.text : "";
  show($("highlight"), Boolean(now));
  // Only a viewer's own questions are seen pending: once none is, approval came (or refusal,
  // which its badge says), and "shown once a moderator approves it" no longer holds. The ack
  // may come before the question itself (events go out in batches) and a drawing timed to the
  // picture may come between: a question not in the room pending yet was not approved yet.
  if (awaitingApproval && pendingSeen && !shown.some((q) => q.status === "pending")) {
    awaitingApproval = false;
    pendingSeen = false;
    say($("ask").querySelector(".status"), "");
  }
}

async function upvote(id) {
  const status = $("ask").querySelector(".status");
  remember(id);
  renderQuestions();
  try {
    await rt.send({ type: "qa.vote", room: sessionId, question_id: id });
  } catch (error) {
    say(status, explain(error), "error");
  }
}

// --- Polls ------------------------------------------------------------------------------------

function renderPolls() {
  const box = $("polls");
  const shown = [...room.polls.values()].sort((a, b) => Number(b.open) - Number(a.open)).slice(0, 3);
  show($("polls-box"), shown.length > 0);
  box.replaceChildren(...shown.map(pollView));
}

function pollView(poll) {
  const total = poll.voters || 0;
  const canVote = poll.open && !voted.has(poll.id) && !over();
  const name = `poll-${poll.id}`;
  const form = el("form", { class: "poll stack", dataset: { id: poll.id } });
  const fieldset = el("fieldset", {}, el("legend", { text: poll.question }));
  poll.options.forEach((option, index) => {
    const count = poll.tally[index] || 0;
    const share = total ? Math.round((100 * count) / total) : 0;
    const input = canVote
      ? el("input", { type: poll.multiple ? "checkbox" : "radio", name, value: String(index) })
      : null;
    const bar = el("span", { class: "bar-fill" });
    bar.style.width = `${share}%`; // CSSOM, allowed by the style-src policy
    fieldset.append(
      el(
        "label",
        { class: "option" },
        input,
        el("span", { class: "option-text", text: option }),
        el("span", { class: "bar" }, bar),
        el("span", { class: "count", text: t("polls.votes", { count, share }) }),
      ),
    );
  });
  form.append(fieldset);
  if (canVote) form.append(el("button", { type: "submit", text: t("polls.vote") }));
  else form.append(el("p", { class: "note", text: poll.open ? t("polls.voted") : t("polls.closed") }));
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  form.append(status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const choices = [...form.querySelectorAll("input:checked")].map((i) => Number(i.value));
    if (!choices.length) return say(status, t("polls.choose"), "error");
    try {
      await rt.send({ type: "poll.vote", room: sessionId, poll_id: poll.id, choices });
      remember(poll.id);
      renderPolls();
    } catch (error) {
      say(status, explain(error), "error");
    }
  });
  return form;
}

function wireForms() {
  const nameInput = $("chat-name");
  nameInput.value = displayName();
  nameInput.addEventListener("change", () => {
    const name = nameInput.value.trim();
    if (!name) return;
    setDisplayName(name);
    rt.hello(name);
  });
  const chatForm = $("chat-form");
  const chatText = $("chat-text");
  const clearChat = keepDraft(chatText, `${sessionId}.chat`);
  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = chatText.value.trim();
    const status = chatForm.querySelector(".status");
    if (!text) return;
    if (rt.queued || !rt.open) say(status, t("rt.queued"), "warn");
    try {
      await rt.send({ type: "chat.send", room: sessionId, text });
      clearChat(chatText.value.trim() === text ? chatText.value : undefined);
      say(status, "");
    } catch (error) {
      say(status, explain(error), "error");
    }
  });
  const askForm = $("ask");
  const askText = $("ask-text");
  const clearAsk = keepDraft(askText, `${sessionId}.ask`);
  askForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = askText.value.trim();
    const status = askForm.querySelector(".status");
    if (!text) return;
    if (!rt.open) say(status, t("rt.queued"), "warn");
    try {
      await rt.send({ type: "qa.ask", room: sessionId, text, anonymous: askForm.elements.anonymous.checked });
      clearAsk(askText.value.trim() === text ? askText.value : undefined);
      say(status, session.qa_auto_approve ? t("qa.sent") : t("qa.sent_pending"), "ok");
      awaitingApproval = !session.qa_auto_approve; // until the question's next change
      pendingSeen = hasPending();
    } catch (error) {
      say(status, explain(error), "error");
    }
  });
}

function wireShare() {
  const url = `${location.origin}/embed/${encodeURIComponent(sessionId)}`;
  const snippet = `<iframe src="${url}" title="${session.title.replace(/["<>&]/g, "")}" width="640" height="360" allow="autoplay; fullscreen" allowfullscreen></iframe>`;
  $("embed-code").value = snippet;
  $("copy-embed").addEventListener("click", () => copyText(snippet, $("share-status")));
  $("calendar").href = `/api/v1/studios/${encodeURIComponent(session.studio_id)}/program.ics`;
}

async function main() {
  await initI18n();
  try {
    session = await fetchSession();
  } catch (error) {
    $("title").textContent = error.status === 404 ? t("session.not_found") : error.message;
    return;
  }
  renderSession();
  wireShare();
  redrawClips = await wireClips(sessionId, () => session, $("video"));
  const chosen = storage.get("torget.latency");
  $("latency").value = LATENCIES.includes(chosen) ? chosen : "low";
  $("latency").addEventListener("change", () => {
    storage.set("torget.latency", $("latency").value);
    updatePlayer();
  });
  $("quality").addEventListener("change", () => player.setQuality(Number($("quality").value)));
  fillQuality($("quality"), [], -1);
  fillAudio($("audio-language"), [], "");
  $("audio-language").addEventListener("change", () => player.setAudio($("audio-language").value));
  wireCaptions($("video"), $("captions"));
  wireCaptionStyle($("video"), $("caption-size"), $("caption-background"));
  rt = new Realtime({
    onStatus: statusReporter($("rt-status")),
    onNotice: (msg) => say($("rt-status"), msg.text || msg.message, "warn"),
  });
  if (displayName()) rt.name = displayName();
  wireForms();
  room = followRoom(rt, sessionId, {
    reset: () => $("chat").replaceChildren(),
    chatAdded: addChat,
    chatDeleted: (id) => removeItem($("chat"), id),
    question: (q) => {
      if (awaitingApproval && q.status === "pending") pendingSeen = true;
    },
    caption: (event) => liveCaptions.add(event),
    interpretation: showInterpretation,
    update: (_, parts) => {
      if (parts.has("settings")) showSlowMode(room.slowModeSeconds);
      const at = room.pictureMs;
      if (parts.has("questions")) atPicture(at, renderQuestions);
      if (parts.has("polls")) atPicture(at, renderPolls);
    },
    viewers: (count) => setCount($("viewers"), count),
  });
  rt.join("event", {
    joined: () => refresh(),
    events: (events) => {
      if (events.some((e) => e.type === "program.session" && e.session_id === sessionId)) refresh();
    },
  });
  rt.connect();
  // The player names the websocket's viewer id in its requests, so this viewer counts once.
  await viewerKnown(rt);
  updatePlayer();
}

async function refresh() {
  try {
    session = await fetchSession();
    renderSession();
    updatePlayer();
    redrawClips();
  } catch {
    /* keep what we show; the next event retries */
  }
}

main();
