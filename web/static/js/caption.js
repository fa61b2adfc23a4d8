// Caption console: a captioner picks a live session and a caption language, sees and hears the
// programme over WebRTC (WHEP), types, and each line goes out when Enter commits it
// (POST /api/v1/sessions/{id}/captions; docs/captions.md).

import { api } from "/static/js/api.js";
import { openConsole } from "/static/js/common.js";
import { $, appendKept, el, say } from "/static/js/dom.js";
import { formatTime, initI18n, t } from "/static/js/i18n.js";
import { Player } from "/static/js/player.js";

const SENT_KEPT = 50;
const player = new Player($("video"), { onStatus: (text, kind) => say($("player-status"), text, kind) });

function watch(sessionId) {
  if (sessionId) player.play(sessionId, { latency: "lowest" });
  else player.stop();
}

async function send(sessionId, language, text) {
  const cue = await api("POST", `/api/v1/sessions/${encodeURIComponent(sessionId)}/captions`, { text, language });
  const item = el("li", { dataset: { id: cue.id } },
    el("span", { class: "meta", text: `${formatTime(cue.start)} · ${cue.language} ` }),
    el("span", { text: cue.text }));
  appendKept($("sent"), item, SENT_KEPT);
}

async function main() {
  await initI18n();
  const me = await openConsole();
  const [program, languages] = await Promise.all([
    api("GET", "/api/v1/program"),
    api("GET", "/api/v1/captions/languages"),
  ]);
  const mine = program.sessions
    .filter((s) => me.role === "admin" || !me.studio_ids.length || me.studio_ids.includes(s.studio_id))
    .filter((s) => ["ready", "live"].includes(s.state));
  const picker = $("session");
  picker.replaceChildren(...mine.map((s) => el("option", { value: s.id,
    text: `${s.studio_name} · ${formatTime(s.starts_at)} · ${s.title} (${t(`state.${s.state}`)})` })));
  const wanted = new URLSearchParams(location.search).get("session");
  if (wanted && mine.some((s) => s.id === wanted)) picker.value = wanted;
  if (!mine.length) say($("cap-status"), t("cap.none_live"), "warn");
  $("caption-language").replaceChildren(...languages.languages.map((language) => el("option", { value: language, text: language })));
  picker.addEventListener("change", () => watch(picker.value));
  watch(picker.value);
  const form = $("line-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.elements.line;
    const text = input.value;
    if (!picker.value || !text.trim()) return;
    input.value = ""; // the next line can be typed while this one is sent
    try {
      await send(picker.value, $("caption-language").value, text);
      say($("cap-status"), "");
    } catch (error) {
      input.value = input.value || text;
      say($("cap-status"), error.message, "error");
    }
    input.focus();
  });
}

main();
