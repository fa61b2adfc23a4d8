// Interpreter console: an interpreter picks a live session of their studios and the language
// they speak. They see and hear the programme over WebRTC (WHEP); "Go on air" publishes their
// microphone, sound only, over WHIP (POST /whip/{id}/interpret/{language}); "Stop" (or closing
// the page) DELETEs the resource and viewers of that language hear the original sound again.
// A meter shows the microphone's level. See docs/interpretation.md.

import { api, csrfHeaders } from "/static/js/api.js";
import { fillSessionPicker, openConsole } from "/static/js/common.js";
import { $, el, say, show } from "/static/js/dom.js";
import { initI18n, languageName, t } from "/static/js/i18n.js";
import { Player } from "/static/js/player.js";
import { endResource, negotiate } from "/static/js/webrtc.js";

const ORDER = { live: 0, ready: 1 };
const player = new Player($("video"), { onStatus: (text, kind) => say($("player-status"), text, kind) });
let session = null; // the chosen session, as GET /api/v1/sessions/{id} last answered
let air = null; // while on air: { pc, stream, resource, meter }

const language = () => $("interpret-language").value;

function setState(state, text, kind = "info") {
  const status = $("air-status");
  status.dataset.state = state; // off, connecting, live (tests read it)
  say(status, text, kind);
  show($("on-air"), state === "off");
  show($("stop"), state !== "off");
  $("session").disabled = state !== "off";
  $("interpret-language").disabled = state !== "off";
}

/** Follow the microphone's level on the meter while ``stream`` is on air. */
function levelMeter(stream) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let frame = 0;
  const draw = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    $("level").value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    frame = requestAnimationFrame(draw);
  };
  draw();
  return () => {
    cancelAnimationFrame(frame);
    context.close();
    $("level").value = 0;
  };
}

async function goOnAir() {
  if (!session || air) return;
  setState("connecting", t("int.connecting"));
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true }, video: false });
  } catch (error) {
    setState("off", t("int.no_microphone", { reason: error.message }), "error");
    return;
  }
  const pc = new RTCPeerConnection();
  const [track] = stream.getAudioTracks();
  pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
  air = { pc, stream, resource: null, meter: levelMeter(stream) };
  const url = `/whip/${encodeURIComponent(session.id)}/interpret/${encodeURIComponent(language())}`;
  try {
    air.resource = await negotiate(pc, url, csrfHeaders());
  } catch (error) {
    stopAir();
    setState("off", error.message, "error");
    return;
  }
  pc.addEventListener("connectionstatechange", () => {
    if (!air || air.pc !== pc) return;
    if (pc.connectionState === "connected") setState("live", t("int.live", { language: languageName(language()) }), "ok");
    if (["failed", "closed", "disconnected"].includes(pc.connectionState)) {
      stopAir();
      setState("off", t("int.dropped"), "error");
    }
  });
}

/** End the publish: the microphone and the meter at once, the connection once its resource
 * is deleted (closing it first would end the resource under the DELETE). */
async function stopAir({ keepalive = false } = {}) {
  if (!air) return;
  const { pc, stream, resource, meter } = air;
  air = null;
  meter();
  for (const track of stream.getTracks()) track.stop();
  await endResource(resource, csrfHeaders(), { keepalive });
  pc.close();
}

async function choose(id) {
  session = id ? await api("GET", `/api/v1/sessions/${encodeURIComponent(id)}`) : null;
  if (session) {
    history.replaceState(null, "", `/interpret?session=${encodeURIComponent(session.id)}`);
    player.play(session.id, { latency: "lowest" });
  } else player.stop();
  $("on-air").disabled = session?.state !== "live";
  setState("off", session && session.state !== "live" ? t("int.not_live") : "");
}

async function main() {
  await initI18n();
  const me = await openConsole();
  const program = await api("GET", "/api/v1/program");
  const mine = fillSessionPicker(me, program.sessions, ORDER);
  const picker = $("session");
  if (!mine.length) {
    say($("air-status"), t("int.none"), "warn");
    $("on-air").disabled = true;
    return;
  }
  const { languages } = await api("GET", `/api/v1/sessions/${encodeURIComponent(picker.value)}/interpretation`);
  $("interpret-language").replaceChildren(...languages.map((code) => el("option", { value: code, text: languageName(code) })));
  picker.addEventListener("change", () => choose(picker.value));
  $("on-air").addEventListener("click", goOnAir);
  $("stop").addEventListener("click", async () => {
    await stopAir();
    setState("off", t("int.stopped"));
  });
  addEventListener("pagehide", () => stopAir({ keepalive: true }));
  await choose(picker.value);
  if (!languages.length) {
    $("on-air").disabled = true;
    say($("air-status"), t("int.no_languages"), "warn");
  }
}

main();
