// Moderator console: pending and approved questions, highlight, merge, polls, chat moderation,
// slow mode, the audit log and the viewer count, for one session at a time.

import { api } from "/static/js/api.js";
import { askSignInAgain, openConsole } from "/static/js/common.js";
import { $, appendKept, el, keepFocus, removeItem, say, setCount } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, t } from "/static/js/i18n.js";
import { Realtime, statusReporter } from "/static/js/realtime.js";
import { CHAT_KEPT, emptyRoom, followRoom } from "/static/js/room.js";
import { keepDraft } from "/static/js/storage.js";

let rt = null;
let roomId = "";
let room = emptyRoom();

function status(text, kind = "info") {
  say($("mod-status"), text, kind);
}

async function act(frame) {
  try {
    await rt.send({ room: roomId, ...frame });
    status(t("mod.done"), "ok");
    loadAudit();
  } catch (error) {
    status(error.message, "error");
  }
}

// --- Questions --------------------------------------------------------------------------------

function button(label, onclick, cls = "") {
  return el("button", { type: "button", class: cls, text: label, onclick });
}

function questionItem(q) {
  const moderate = (action) => () => act({ type: "qa.moderate", question_id: q.id, action });
  const actions = [];
  if (q.status === "pending") {
    actions.push(button(t("mod.approve"), moderate("approve")), button(t("mod.reject"), moderate("reject"), "danger"));
  }
  if (q.status === "approved") {
    actions.push(button(t("mod.answering"), moderate("answering"), "primary"), button(t("mod.reject"), moderate("reject"), "danger"));
  }
  if (q.status === "answering") actions.push(button(t("mod.answered"), moderate("answered"), "primary"));
  const others = [...room.questions.values()].filter((o) => o.id !== q.id && ["approved", "answering"].includes(o.status));
  let merge = null;
  if (["pending", "approved"].includes(q.status) && others.length) {
    const select = el("select", { "aria-label": t("mod.merge_into") },
      el("option", { value: "", text: t("mod.merge_into") }),
      ...others.map((o) => el("option", { value: o.id, text: o.text.slice(0, 60) })));
    merge = el("span", { class: "merge" }, select,
      button(t("mod.merge"), () => select.value && act({ type: "qa.merge", question_id: q.id, into: select.value })));
  }
  return el("li", { class: `question ${q.status}`, dataset: { id: q.id } },
    el("span", { class: "votes", text: `▲ ${q.votes}` }),
    el("span", { class: "text", text: q.text }),
    el("span", { class: "by", text: q.author_name || t("qa.anonymous_author") }),
    el("span", { class: `badge origin ${q.origin || "online"}`, text: t(`qa.origin.${q.origin || "online"}`) }),
    q.status === "answering" ? el("span", { class: "badge", text: t("qa.now_answering") }) : null,
    el("span", { class: "actions" }, ...actions, merge));
}

function renderQuestions() {
  keepFocus(() => drawQuestions());
}

function drawQuestions() {
  const all = [...room.questions.values()];
  const pending = all.filter((q) => q.status === "pending").sort((a, b) => a.asked_at - b.asked_at);
  const approved = all.filter((q) => ["approved", "answering"].includes(q.status))
    .sort((a, b) => (a.status === "answering" ? -1 : 0) - (b.status === "answering" ? -1 : 0) || b.votes - a.votes);
  const answered = all.filter((q) => q.status === "answered");
  $("pending-count").textContent = String(pending.length);
  $("pending").replaceChildren(...pending.map(questionItem));
  $("approved").replaceChildren(...approved.map(questionItem));
  $("answered").replaceChildren(...answered.map(questionItem));
}

// --- Chat -------------------------------------------------------------------------------------

function addChat(event) {
  appendKept($("chat"), el("li", { dataset: { id: event.id } },
    el("span", { class: "who", text: event.name }), " ",
    el("span", { class: "text", text: event.text }),
    el("span", { class: "actions" },
      button(t("mod.delete"), () => act({ type: "chat.delete", message_id: event.id }), "danger"),
      button(t("mod.mute"), () => act({ type: "chat.mute", viewer_id: event.viewer_id, minutes: 10 })),
      button(t("mod.ban"), () => window.confirm(t("mod.confirm_ban", { name: event.name })) &&
        act({ type: "chat.ban", viewer_id: event.viewer_id, banned: true }), "danger"))), CHAT_KEPT);
}

// --- Polls ------------------------------------------------------------------------------------

function renderPolls() {
  $("polls").replaceChildren(...[...room.polls.values()].reverse().map((p) =>
    el("li", { class: "poll-row" },
      el("strong", { text: p.question }),
      el("span", { class: "note", text: ` ${p.open ? t("polls.open") : t("polls.closed")} · ${t("polls.voters", { count: p.voters })}` }),
      el("ul", {}, ...p.options.map((o, i) => el("li", { text: `${o}: ${p.tally[i] || 0}` }))),
      p.open ? button(t("mod.poll_close"), () => act({ type: "poll.close", poll_id: p.id })) : null)));
}

// --- Audit ------------------------------------------------------------------------------------

async function loadAudit() {
  if (!roomId) return;
  try {
    const entries = await api("GET", `/api/v1/sessions/${encodeURIComponent(roomId)}/audit`);
    $("audit").replaceChildren(...entries.slice(-100).reverse().map((e) =>
      el("li", {}, el("time", { datetime: e.at, text: formatTime(e.at) }), ` ${e.actor_name}: ${e.action} `,
        el("span", { class: "note", text: e.target }))));
  } catch (error) {
    $("audit").replaceChildren(el("li", { class: "note", text: error.message }));
  }
}

// --- Room -------------------------------------------------------------------------------------

function openRoom(id) {
  if (roomId) rt.leave(roomId);
  roomId = id;
  history.replaceState(null, "", `/moderate?session=${encodeURIComponent(id)}`);
  $("chat").replaceChildren();
  room = followRoom(rt, id, {
    joined: (msg) => msg.moderator || status(t("mod.not_moderator"), "error"),
    reset: () => $("chat").replaceChildren(),
    chatAdded: addChat,
    chatDeleted: (messageId) => removeItem($("chat"), messageId),
    update: (_, parts) => {
      if (parts.has("settings")) $("slow-mode").value = String(room.slowModeSeconds);
      renderQuestions();
      renderPolls();
    },
    viewers: (count, staff) => {
      setCount($("viewers"), count);
      if (staff !== null) setCount($("staff"), staff);
    },
  });
  if (rt.open) rt.flushQueue();
  loadAudit();
}

async function main() {
  await initI18n();
  const me = await openConsole();
  const program = await api("GET", "/api/v1/program");
  const mine = program.sessions
    .filter((s) => me.role === "admin" || me.studio_ids.includes(s.studio_id))
    .sort((a, b) => (b.state === "live") - (a.state === "live") || a.starts_at.localeCompare(b.starts_at));
  const picker = $("session");
  picker.replaceChildren(...mine.map((s) => el("option", { value: s.id,
    text: `${s.studio_name} · ${formatDay(s.starts_at)} ${formatTime(s.starts_at)} · ${s.title} (${t(`state.${s.state}`)})` })));
  const wanted = new URLSearchParams(location.search).get("session");
  if (wanted && mine.some((s) => s.id === wanted)) picker.value = wanted;
  rt = new Realtime({
    onStatus: statusReporter($("rt-status")),
    onNotice: (m) => status(m.text || m.message, "warn"),
    onSignInEnded: askSignInAgain(),
  });
  rt.connect();
  if (picker.value) openRoom(picker.value);
  picker.addEventListener("change", () => openRoom(picker.value));
  $("slow-mode").addEventListener("change", () => act({ type: "chat.slow_mode", seconds: Number($("slow-mode").value) }));
  $("audit-refresh").addEventListener("click", loadAudit);
  const form = $("poll-form");
  const clearQ = keepDraft(form.elements.question, "mod.poll.q");
  const clearO = keepDraft(form.elements.options, "mod.poll.o");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const options = form.elements.options.value.split("\n").map((x) => x.trim()).filter(Boolean);
    try {
      await rt.send({ type: "poll.open", room: roomId, question: form.elements.question.value.trim(), options, multiple: form.elements.multiple.checked });
      clearQ();
      clearO();
      say(form.querySelector(".status"), t("mod.poll_opened"), "ok");
      loadAudit();
    } catch (error) {
      say(form.querySelector(".status"), error.message, "error");
    }
  });
}

main();
