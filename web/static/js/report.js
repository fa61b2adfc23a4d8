// After-event report: peak and unique viewers, viewers over time (an SVG chart drawn here),
// questions and chat volume, CSV export.

import { api } from "/static/js/api.js";
import { openConsole } from "/static/js/common.js";
import { $, el, say } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, t } from "/static/js/i18n.js";

const SVG = "http://www.w3.org/2000/svg";
let report = null;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** Nice round step for an axis reaching ``max`` in about ``ticks`` steps. */
function niceStep(max, ticks = 4) {
  const raw = Math.max(1, max) / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

function drawChart(points) {
  const width = 720;
  const height = 280;
  const pad = { left: 48, right: 16, top: 16, bottom: 36 };
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart", "aria-labelledby": "chart-title",
  });
  chart.append(svg("title", { id: "chart-title" }, t("report.chart_label", {
    peak: report.peak_viewers, minutes: points.length,
  })));
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "axis" }, t("report.no_data")));
    return chart;
  }
  const max = Math.max(1, ...points.map((p) => p.viewers));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const t0 = Date.parse(points[0].at);
  const t1 = Math.max(t0 + 60000, Date.parse(points[points.length - 1].at));
  const x = (at) => pad.left + ((Date.parse(at) - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  for (let v = 0; v <= top; v += step) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: "grid" }));
    chart.append(svg("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, String(v)));
  }
  const labels = Math.min(6, points.length);
  for (let i = 0; i < labels; i += 1) {
    const p = points[Math.round((i * (points.length - 1)) / Math.max(1, labels - 1))];
    chart.append(svg("text", { x: x(p.at), y: height - pad.bottom + 18, "text-anchor": "middle", class: "axis" }, formatTime(p.at)));
  }
  const line = points.map((p) => `${x(p.at).toFixed(1)},${y(p.viewers).toFixed(1)}`).join(" ");
  const area = `${x(points[0].at).toFixed(1)},${y(0)} ${line} ${x(points[points.length - 1].at).toFixed(1)},${y(0)}`;
  chart.append(svg("polygon", { points: area, class: "area" }));
  chart.append(svg("polyline", { points: line, class: "line" }));
  for (const p of points) {
    const dot = svg("circle", { cx: x(p.at), cy: y(p.viewers), r: 3, class: "dot" });
    dot.append(svg("title", {}, `${formatTime(p.at)}: ${p.viewers}`));
    chart.append(dot);
  }
  return chart;
}

/** "hall / online" counts of the report's split. */
function split(counts) {
  return `${counts?.hall ?? 0} / ${counts?.online ?? 0}`;
}

function render() {
  $("report-title").textContent = report.title;
  const figures = [
    ["report.peak", report.peak_viewers],
    ["report.unique", report.unique_viewers],
    ["report.questions", report.questions],
    ["report.chat", report.chat_messages],
    ["report.deleted", report.chat_deleted],
    ["report.questions_split", split(report.questions_by_origin)],
    ["report.votes_split", split(report.question_votes_by_origin)],
    ["report.polls_split", split(report.poll_answers_by_origin)],
  ];
  $("figures").replaceChildren(...figures.map(([key, value]) =>
    el("div", { class: "figure" }, el("dt", { text: t(key) }), el("dd", { text: String(value) }))));
  $("chart").replaceChildren(drawChart(report.timeline));
  $("table").tBodies[0].replaceChildren(...report.timeline.map((p) =>
    el("tr", {}, el("td", { text: `${formatDay(p.at)} ${formatTime(p.at)}` }), el("td", { text: String(p.viewers) }))));
}

function csvCell(value) {
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text; // never a formula in a spreadsheet
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function exportCsv() {
  const rows = [
    ["session_id", "title", "peak_viewers", "unique_viewers", "questions", "chat_messages", "chat_deleted"],
    [report.session_id, report.title, report.peak_viewers, report.unique_viewers, report.questions, report.chat_messages, report.chat_deleted],
    [],
    ["origin", "questions", "question_votes", "poll_answers"],
    ...["hall", "online"].map((origin) => [origin, report.questions_by_origin[origin],
      report.question_votes_by_origin[origin], report.poll_answers_by_origin[origin]]),
    [],
    ["minute", "viewers"],
    ...report.timeline.map((p) => [p.at, p.viewers]),
  ];
  const text = rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
  const link = el("a", {
    href: URL.createObjectURL(new Blob([text], { type: "text/csv" })),
    download: `torget-report-${report.session_id}.csv`,
  });
  document.body.append(link);
  link.click();
  link.remove();
}

async function load(id) {
  history.replaceState(null, "", `/report?session=${encodeURIComponent(id)}`);
  try {
    report = await api("GET", `/api/v1/sessions/${encodeURIComponent(id)}/report`);
    render();
    say($("report-status"), "");
  } catch (error) {
    say($("report-status"), error.message, "error");
  }
}

async function main() {
  await initI18n();
  const me = await openConsole({ withRole: false });
  const program = await api("GET", "/api/v1/program");
  const mine = program.sessions
    .filter((s) => me.role === "admin" || me.studio_ids.includes(s.studio_id))
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at));
  const picker = $("session");
  picker.replaceChildren(...mine.map((s) => el("option", { value: s.id,
    text: `${formatDay(s.starts_at)} ${formatTime(s.starts_at)} · ${s.title} (${t(`state.${s.state}`)})` })));
  const wanted = new URLSearchParams(location.search).get("session");
  if (wanted && mine.some((s) => s.id === wanted)) picker.value = wanted;
  picker.addEventListener("change", () => load(picker.value));
  $("csv").addEventListener("click", () => report && exportCsv());
  if (picker.value) await load(picker.value);
}

main();
