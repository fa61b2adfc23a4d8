// The player: HLS through hls.js (Safari plays HLS natively), or WebRTC through WHEP for the
// low-latency mode, falling back to HLS when WHEP is full or not offered.

import Hls from "/static/vendor/hls.min.mjs";
import { el } from "/static/js/dom.js";
import { t } from "/static/js/i18n.js";
import { endResource, negotiate } from "/static/js/webrtc.js";

const WORKER = "/static/vendor/hls.worker.js";

export class Player {
  /**
   * video: the <video> element. onStatus(text, kind): what to tell the viewer.
   * onLevels(levels, current): the qualities on offer ([{index, label}]).
   */
  constructor(video, { onStatus = () => {}, onLevels = () => {}, onMode = () => {}, viewerId = () => "" } = {}) {
    this.video = video;
    this.viewerId = viewerId; // the websocket's viewer id: one viewer counts once (docs/protocol.md)
    this.onStatus = onStatus;
    this.onLevels = onLevels;
    this.onMode = onMode;
    this.hls = null;
    this.pc = null;
    this.whepResource = null;
    this.url = "";
    this.retry = null;
    this.mode = "off";
  }

  /** ``url`` with ``v=<viewer id>`` added when we know it. */
  tagged(url) {
    const id = this.viewerId();
    if (!id) return url;
    const tagged = new URL(url, location.href);
    tagged.searchParams.set("v", id);
    return tagged.href;
  }

  /** Play ``sessionId``: WHEP when ``lowLatency`` and available, HLS otherwise. */
  async play(sessionId, { lowLatency = false, vod = false } = {}) {
    this.stop();
    this.channelUrl = null;
    this.sessionId = sessionId;
    this.vod = vod;
    if (lowLatency && !vod && "RTCPeerConnection" in window) {
      const ok = await this.playWhep(sessionId);
      if (ok) return;
      this.onStatus(t("player.whep_fallback"), "warn");
    }
    this.playHls(`/hls/${encodeURIComponent(sessionId)}/index.m3u8`, { lowLatency });
  }

  playHls(url, { lowLatency }) {
    this.url = url;
    this.mode = lowLatency ? "llhls" : "hls";
    this.onMode(this.mode);
    const video = this.video;
    if (Hls.isSupported()) {
      const hls = new Hls({
        lowLatencyMode: lowLatency,
        workerPath: WORKER,
        enableWorker: true,
        backBufferLength: 30,
        capLevelToPlayerSize: true,
        renderTextTracksNatively: true,
        xhrSetup: (xhr, requested) => xhr.open("GET", this.tagged(requested), true),
      });
      this.hls = hls;
      hls.on(Hls.Events.MANIFEST_PARSED, () => {
        this.reportLevels();
        this.onStatus("", "ok");
        video.play().catch(() => this.onStatus(t("player.press_play"), "info"));
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, () => this.reportLevels());
      let networkRetries = 0;
      hls.on(Hls.Events.FRAG_LOADED, () => {
        networkRetries = 0;
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
          return;
        }
        this.onStatus(this.video.currentTime > 0 ? t("player.reconnecting") : t("player.waiting"), "warn");
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && networkRetries < 3 && hls.levels.length) {
          networkRetries += 1; // a blip: carry on from where we are, keep the buffer
          setTimeout(() => this.hls === hls && hls.startLoad(), 1000 * networkRetries);
          return;
        }
        this.scheduleRetry();
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = this.tagged(url);
      video.addEventListener("error", () => this.scheduleRetry(), { once: true });
      video.play().catch(() => this.onStatus(t("player.press_play"), "info"));
      this.onLevels([], -1);
    } else {
      this.onStatus(t("player.unsupported"), "error");
    }
  }

  /** Play a studio channel's stable HLS address (it carries on across sessions by itself). */
  playChannel(url) {
    this.stop();
    this.sessionId = null;
    this.channelUrl = url;
    this.vod = false;
    this.playHls(url, { lowLatency: false });
  }

  scheduleRetry() {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.mode !== "off" && this.channelUrl) return this.playChannel(this.channelUrl);
      if (this.mode === "off" || !this.sessionId) return;
      this.play(this.sessionId, { lowLatency: this.mode === "llhls", vod: this.vod });
    }, 3000);
  }

  reportLevels() {
    if (!this.hls) return;
    const levels = this.hls.levels.map((level, index) => ({
      index,
      label: level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbit/s`,
    }));
    this.onLevels(levels, this.hls.autoLevelEnabled ? -1 : this.hls.currentLevel);
  }

  /** -1 picks automatically (fits the connection); other values pin one rendition. */
  setQuality(index) {
    if (this.hls) this.hls.currentLevel = index;
  }

  async playWhep(sessionId) {
    const pc = new RTCPeerConnection();
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    const stream = new MediaStream();
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      this.video.srcObject = stream;
      this.video.play().catch(() => this.onStatus(t("player.press_play"), "info"));
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "failed" || pc.connectionState === "disconnected") {
        this.onStatus(t("player.reconnecting"), "warn");
        this.scheduleRetry();
      }
    });
    try {
      this.whepResource = await negotiate(pc, this.tagged(`/whep/${encodeURIComponent(sessionId)}`));
      this.mode = "whep";
      this.onMode("whep");
      this.onLevels([], -1);
      this.onStatus("", "ok");
      return true;
    } catch {
      this.closeWhep();
      return false;
    }
  }

  closeWhep() {
    if (this.pc) this.pc.close();
    this.pc = null;
    endResource(this.whepResource, {}, { keepalive: true });
    this.whepResource = null;
    if (this.video.srcObject) this.video.srcObject = null;
  }

  stop() {
    clearTimeout(this.retry);
    if (this.hls) this.hls.destroy();
    this.hls = null;
    this.closeWhep();
    this.mode = "off";
    if (this.video.src) {
      this.video.removeAttribute("src");
      this.video.load();
    }
  }
}

/** Fill a <select> with "Automatic" and the qualities on offer. */
export function fillQuality(select, levels, current) {
  select.replaceChildren(
    el("option", { value: "-1", text: t("player.auto") }),
    ...levels.map((level) => el("option", { value: String(level.index), text: level.label })),
  );
  select.value = String(current);
  select.disabled = levels.length < 2;
}

/** Fill a captions <select> from the video's text tracks; "off" hides them all. */
export function wireCaptions(video, select) {
  const refresh = () => {
    const tracks = [...video.textTracks].filter((track) => ["captions", "subtitles"].includes(track.kind));
    const chosen = tracks.findIndex((track) => track.mode === "showing");
    select.replaceChildren(
      el("option", { value: "-1", text: t("player.captions_off") }),
      ...tracks.map((track, index) =>
        el("option", { value: String(index), text: track.label || track.language || t("player.captions") }),
      ),
    );
    select.value = String(chosen);
    select.disabled = tracks.length === 0;
    select.onchange = () => {
      tracks.forEach((track, index) => {
        track.mode = String(index) === select.value ? "showing" : "disabled";
      });
    };
  };
  video.textTracks.addEventListener("addtrack", refresh);
  video.textTracks.addEventListener("removetrack", refresh);
  refresh();
}
