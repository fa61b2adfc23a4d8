// Admin page: import (and export) the programme, studios, access tokens for operators and
// moderators, and links to each session's report.

import { api } from "/static/js/api.js";
import { copyText, openConsole } from "/static/js/common.js";
import { $, el, say } from "/static/js/dom.js";
import { formatDay, formatTime, initI18n, t } from "/static/js/i18n.js";

let studios = [];

async function loadStudios() {
  studios = await api("GET", "/api/v1/studios");
  $("studios").replaceChildren(...studios.map((s) =>
    el("li", {}, el("strong", { text: s.name }), " · ", el("a", { href: s.calendar, text: t("admin.calendar") }))));
  $("token-studios").replaceChildren(
    el("legend", { text: t("admin.token_studios") }),
    ...studios.map((s) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "studio", value: s.id }), el("span", { text: s.name }))));
}

async function loadTokens() {
  const tokens = await api("GET", "/api/v1/tokens");
  const names = new Map(studios.map((s) => [s.id, s.name]));
  $("tokens").tBodies[0].replaceChildren(...tokens.map((tok) =>
    el("tr", { dataset: { id: tok.id } },
      el("td", { text: tok.name }),
      el("td", { text: t(`role.${tok.role}`) }),
      el("td", { text: tok.studio_ids.map((id) => names.get(id) || id).join(", ") || "–" }),
      el("td", {}, el("button", { type: "button", class: "danger", text: t("admin.revoke"),
        "aria-label": t("admin.revoke_label", { name: tok.name }),
        onclick: async () => {
          if (!window.confirm(t("admin.confirm_revoke", { name: tok.name }))) return;
          await api("DELETE", `/api/v1/tokens/${encodeURIComponent(tok.id)}`);
          loadTokens();
        } })))));
}

async function loadReports() {
  const program = await api("GET", "/api/v1/program");
  const done = program.sessions.filter((s) => ["live", "ended", "replay"].includes(s.state))
    .sort((a, b) => b.starts_at.localeCompare(a.starts_at));
  $("reports").replaceChildren(...(done.length ? done.map((s) => el("li", {},
    el("a", { href: `/report?session=${encodeURIComponent(s.id)}`, text: s.title }),
    el("span", { class: "note", text: ` · ${s.studio_name} · ${formatDay(s.starts_at)} ${formatTime(s.starts_at)} · ${t(`state.${s.state}`)}` })))
    : [el("li", { class: "note", text: t("admin.no_reports") })]));
}

function wire() {
  $("import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const status = form.querySelector(".status");
    const file = form.elements.file.files[0];
    if (!file) return;
    const type = /\.csv$/i.test(file.name) ? "text/csv" : "application/yaml";
    try {
      const result = await api("POST", "/api/v1/program/import", await file.text(), { "Content-Type": type });
      say(status, t("admin.imported", {
        created: result.sessions_created, updated: result.sessions_updated, studios: result.studios_created,
      }), "ok");
      form.reset();
      await loadStudios();
      await loadReports();
    } catch (error) {
      say(status, error.message, "error");
    }
  });
  $("studio-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await api("POST", "/api/v1/studios", { name: form.elements.name.value.trim() });
      form.reset();
      say($("studio-status"), t("admin.studio_added"), "ok");
      await loadStudios();
    } catch (error) {
      say($("studio-status"), error.message, "error");
    }
  });
  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const status = form.querySelector(".status");
    const studioIds = [...form.querySelectorAll("input[name=studio]:checked")].map((i) => i.value);
    try {
      const made = await api("POST", "/api/v1/tokens", {
        role: form.elements.role.value, name: form.elements.name.value.trim(), studio_ids: studioIds,
      });
      $("new-token-value").value = made.token;
      $("new-token").hidden = false;
      $("new-token-value").focus();
      $("new-token-value").select();
      say(status, t("admin.issued", { name: made.name }), "ok");
      form.elements.name.value = "";
      await loadTokens();
    } catch (error) {
      say(status, error.message, "error");
    }
  });
  $("copy-token").addEventListener("click", () => copyText($("new-token-value").value, $("token-form").querySelector(".status")));
}

async function main() {
  await initI18n();
  const me = await openConsole();
  if (me.role !== "admin") {
    $("console").replaceChildren(el("p", { class: "card", text: t("admin.only_admins") }));
    return;
  }
  wire();
  await loadStudios();
  await Promise.all([loadTokens(), loadReports()]);
}

main();
