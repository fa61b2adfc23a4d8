// The programme guide: live now per studio with what comes next, the programme by day and
// studio (filtered by studio and language), and replays; kept current over the websocket.
// It offers only what can be watched: a session whose slot passed without going live is
// marked missed, never "next", and only replays that exist are listed.

import { loadProgram } from "/static/js/common.js";
import { $, el, say } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, t } from "/static/js/i18n.js";
import { Realtime, statusReporter } from "/static/js/realtime.js";
import { storage } from "/static/js/storage.js";

const FILTER_KEY = "torget.guide.filters";
let program = null;
let nowTimer = null;

/** The local calendar day of ``iso`` (YYYY-MM-DD), for grouping and the day filter. */
function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function sessionLink(s, extra = "") {
  return el(
    "a",
    { href: `/s/${encodeURIComponent(s.id)}`, class: "session-link" },
    el("span", { class: "time", text: `${formatTime(s.starts_at)}–${formatTime(s.ends_at)}` }),
    " ",
    el("span", { class: "title", text: s.title }),
    extra ? el("span", { class: "badge", text: extra }) : null,
  );
}

/** A session that never went live and never will: ended without going live, or its slot is
 * over while it is still waiting for its start. */
function missed(s, now = Date.now()) {
  if (s.went_live_at) return false;
  return s.state === "ended" || (["scheduled", "ready"].includes(s.state) && Date.parse(s.ends_at) <= now);
}

function badge(s) {
  if (missed(s)) return t("guide.missed");
  return ["live", "ready", "replay", "cancelled", "ended"].includes(s.state) ? t(`state.${s.state}`) : "";
}

function renderNow() {
  const now = Date.now();
  const items = program.studios.map((studio) => {
    const mine = program.sessions
      .filter((s) => s.studio_id === studio.id && s.state !== "cancelled")
      .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    const live = mine.find((s) => s.state === "live");
    const next = mine.find((s) => s !== live && ["scheduled", "ready"].includes(s.state) && !missed(s, now));
    return el(
      "li",
      { class: `card ${live ? "is-live" : ""}` },
      el("h3", { text: studio.name }),
      live
        ? el("p", {}, el("span", { class: "live-dot", text: t("state.live") }), " ", sessionLink(live))
        : el("p", { class: "note", text: t("guide.off_air") }),
      next
        ? el("p", { class: "next" }, el("span", { class: "label", text: `${t("guide.next")}: ` }),
            `${formatDay(next.starts_at)} `, sessionLink(next))
        : null,
    );
  });
  $("now").replaceChildren(...items);
  // Redraw when the first "next" slot is over, not up to a minute later.
  const ends = program.sessions.filter((s) => ["scheduled", "ready"].includes(s.state))
    .map((s) => Date.parse(s.ends_at)).filter((at) => at > now);
  clearTimeout(nowTimer);
  if (ends.length) nowTimer = setTimeout(renderNow, Math.min(Math.min(...ends) - now + 500, 2 ** 31 - 1));
}

function optionList(select, values, label, chosen) {
  select.replaceChildren(el("option", { value: "", text: label }), ...values.map(([v, text]) => el("option", { value: v, text })));
  select.value = values.some(([v]) => v === chosen) ? chosen : "";
}

function renderFilters(saved) {
  const days = [...new Set(program.sessions.map((s) => dayKey(s.starts_at)))].sort();
  const dayNames = new Map(program.sessions.map((s) => [dayKey(s.starts_at), formatDay(s.starts_at)]));
  optionList($("f-day"), days.map((d) => [d, dayNames.get(d)]), t("guide.all_days"), saved.day ?? dayKey(new Date().toISOString()));
  optionList($("f-studio"), program.studios.map((s) => [s.id, s.name]), t("guide.all_studios"), saved.studio);
  const langs = [...new Set(program.sessions.map((s) => s.language))].sort();
  optionList($("f-language"), langs.map((l) => [l, t(`lang.${l}`) === `lang.${l}` ? l : t(`lang.${l}`)]), t("guide.all_languages"), saved.language);
}

function renderProgramme() {
  const day = $("f-day").value;
  const studio = $("f-studio").value;
  const language = $("f-language").value;
  storage.set(FILTER_KEY, JSON.stringify({ day, studio, language }));
  const shown = program.sessions
    .filter((s) => (!day || dayKey(s.starts_at) === day) && (!studio || s.studio_id === studio) && (!language || s.language === language))
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  const byDay = new Map();
  for (const s of shown) {
    const key = dayKey(s.starts_at);
    if (!byDay.has(key)) byDay.set(key, new Map());
    const studios = byDay.get(key);
    if (!studios.has(s.studio_id)) studios.set(s.studio_id, []);
    studios.get(s.studio_id).push(s);
  }
  const names = new Map(program.studios.map((s) => [s.id, s.name]));
  const blocks = [];
  for (const [key, studios] of byDay) {
    const first = [...studios.values()][0][0];
    blocks.push(el("h3", { text: formatDay(first.starts_at), dataset: { day: key } }));
    const columns = el("div", { class: "columns" });
    for (const [studioId, sessions] of studios) {
      columns.append(
        el("section", { class: "column" }, el("h4", { text: names.get(studioId) || studioId }),
          el("ul", { class: "list" }, ...sessions.map((s) => el("li", { class: `state-${s.state}` }, sessionLink(s, badge(s)),
            el("span", { class: "lang-tag", text: s.language })))),
        ),
      );
    }
    blocks.push(columns);
  }
  if (!blocks.length) blocks.push(el("p", { class: "note", text: t("guide.nothing") }));
  $("programme").replaceChildren(...blocks);
}

function renderReplays() {
  // Only recordings that exist (a session that just ended joins when its replay is ready).
  const replays = program.sessions
    .filter((s) => s.state === "replay")
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at));
  $("replays").replaceChildren(
    ...(replays.length
      ? replays.map((s) => el("li", {}, sessionLink(s), el("span", { class: "note", text: ` · ${formatDay(s.starts_at)}` })))
      : [el("li", { class: "note", text: t("guide.no_replays") })]),
  );
}

async function load() {
  try {
    program = await loadProgram();
  } catch (error) {
    say($("guide-status"), error.message, "error");
    return;
  }
  $("event-name").textContent = program.event;
  document.title = `${program.event} · Torget`;
  const saved = JSON.parse(storage.get(FILTER_KEY) || "{}");
  const current = $("f-day").options.length
    ? { day: $("f-day").value, studio: $("f-studio").value, language: $("f-language").value }
    : saved;
  renderFilters(current);
  renderNow();
  renderProgramme();
  renderReplays();
}

let pending = null;
function reloadSoon() {
  clearTimeout(pending);
  pending = setTimeout(load, 300);
}

async function main() {
  await initI18n();
  $("filters").addEventListener("change", renderProgramme);
  await load();
  const rt = new Realtime({ onStatus: statusReporter($("rt-status")) });
  rt.join("event", { joined: (_, resumed) => resumed || reloadSoon(), events: reloadSoon });
  rt.connect();
  setInterval(() => program && renderNow(), 60000);
}

main();
