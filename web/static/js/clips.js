// Clips on the session page: staff clip the last seconds while live, or mark in and out on the
// replay's timeline, optionally with a caption language burned in; everyone sees the ready clips
// and downloads them.

import { api, whoAmI } from "/static/js/api.js";
import { $, el, say, show } from "/static/js/dom.js";
import { t } from "/static/js/i18n.js";

const CUT_POLL_MS = 2000;

/** Wire the clips box of ``sessionId``; ``current()`` is the session as last fetched. The
 * returned function redraws it after the session changes (live, replay). */
export async function wireClips(sessionId, current, video) {
  const path = `/api/v1/sessions/${encodeURIComponent(sessionId)}/clips`;
  const staff = await whoAmI().catch(() => null);
  let timer = null;

  const clippable = () => ["live", "replay"].includes(current().state);
  const seconds = (value) => (Number.isFinite(value) ? Math.round(value * 10) / 10 : "");
  const languageName = (code) => (t(`lang.${code}`) === `lang.${code}` ? code : t(`lang.${code}`));

  if (staff !== null) {
    const found = await api("GET", "/api/v1/captions/languages").catch(() => ({ languages: [] }));
    $("clip-captions").append(
      ...found.languages.map((code) => el("option", { value: code, text: languageName(code) })),
    );
  }

  async function load() {
    clearTimeout(timer);
    let clips = [];
    try {
      clips = await api("GET", path);
    } catch {
      return;
    }
    show($("clips-box"), clippable() && (staff !== null || clips.length > 0));
    $("clip-list").replaceChildren(
      ...clips.map((clip) =>
        el(
          "li",
          { dataset: { id: clip.id, state: clip.state } },
          `${clip.aspect} · ${seconds(clip.in_seconds)}–${seconds(clip.out_seconds)} s · `,
          clip.captions ? `${t("clips.captioned", { language: languageName(clip.captions) })} · ` : "",
          clip.mp4
            ? el("a", { href: clip.mp4, download: "", text: t("clips.download") })
            : el("span", { text: t(`clips.${clip.state}`) }),
          clip.message ? el("span", { class: "note", text: ` ${clip.message}` }) : null,
        ),
      ),
    );
    if (clips.some((clip) => clip.state === "cutting")) timer = setTimeout(load, CUT_POLL_MS);
  }

  function redraw() {
    const live = current().state === "live";
    show($("clip-form"), staff !== null && clippable());
    show($("clip-last-row"), live);
    show($("clip-points"), !live);
    load();
  }

  const mark = (input) => () => {
    input.value = seconds(video.currentTime);
  };
  $("clip-mark-in").addEventListener("click", mark($("clip-in")));
  $("clip-mark-out").addEventListener("click", mark($("clip-out")));
  $("clip-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const aspects = [...document.querySelectorAll("#clip-form input[name=aspect]:checked")].map(
      (box) => box.value,
    );
    const body =
      current().state === "live"
        ? { last_seconds: Number($("clip-last").value), aspects }
        : { in_seconds: Number($("clip-in").value), out_seconds: Number($("clip-out").value), aspects };
    if ($("clip-captions").value) body.captions = $("clip-captions").value;
    const status = $("clip-status");
    try {
      await api("POST", path, body);
      say(status, t("clips.started"), "ok");
    } catch (error) {
      say(status, error.message, "error");
    }
    load();
  });
  redraw();
  return redraw;
}
