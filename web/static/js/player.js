// The player: LL-HLS through hls.js by default (Safari plays HLS natively), classic HLS on
// request or where the playlists carry no parts, or WebRTC through WHEP for the lowest latency,
// falling back to LL-HLS when WHEP is full or not offered. How far behind live each mode plays,
// and why these settings: docs/architecture.md ("Viewer latency").

import Hls from "/static/vendor/hls.min.mjs";
import { api } from "/static/js/api.js";
import { el } from "/static/js/dom.js";
import { languageName, t } from "/static/js/i18n.js";
import { storage } from "/static/js/storage.js";
import { endResource, negotiate } from "/static/js/webrtc.js";

const WORKER = "/static/vendor/hls.worker.js";
const UPGRADE_MS = 4000; // how soon "lowest" tries WHEP again after falling back to LL-HLS
const AUDIO_KEY = "player.audio"; // the sound a viewer chose ("" the original), remembered

/** The latency choices the page offers: LL-HLS (default), WebRTC, classic HLS. */
export const LATENCIES = ["low", "lowest", "standard"];

/**
 * hls.js settings for LL-HLS: play liveSyncDuration s behind the newest part listed, speed up
 * (up to 1.5x) to get back there after a stall, never move the target because of a stall
 * (hls.js adds a second per stall by default, for good), and jump back to the target when
 * more than 2 s behind (over a second late: faster than catching up at 1.1-1.4x).
 */
export const LOW_LATENCY = {
  lowLatencyMode: true,
  liveSyncDuration: 1.0,
  liveMaxLatencyDuration: 2,
  maxLiveSyncPlaybackRate: 1.5,
  liveSyncOnStallIncrease: 0,
};

/** Classic HLS: hls.js's own defaults (three target durations behind the edge), whole segments. */
export const CLASSIC = { lowLatencyMode: false };

/** Most a segment's program date time may differ between two loads of one playlist. */
const SAME_DATE_MS = 500;

/**
 * Whether live playlist ``after`` continues ``before`` (hls.js ``LevelDetails``): its media
 * sequence neither went back nor skipped past the segments ``before`` listed (a pipeline
 * started elsewhere numbers on from far beyond), and the segments both list start at the same
 * program date time.
 */
export function continues(before, after) {
  // A delta update's skipped segments are holes (null) until hls.js fills them in.
  const listed = before.fragments.filter(Boolean);
  if (!listed.length) return true;
  if (after.startSN < before.startSN || after.startSN > listed[listed.length - 1].sn + 1) return false;
  const dates = new Map(listed.map((f) => [f.sn, f.programDateTime]));
  return after.fragments.every((fragment) => {
    const date = fragment && dates.get(fragment.sn);
    return !date || !fragment.programDateTime || Math.abs(date - fragment.programDateTime) <= SAME_DATE_MS;
  });
}

export class Player {
  /**
   * video: the <video> element. onStatus(text, kind): what to tell the viewer.
   * onLevels(levels, current): the qualities on offer ([{index, label}]).
   * onAudio(languages, current): the sounds on offer ("" the original, then interpretation
   * languages) and the one playing.
   */
  constructor(
    video,
    {
      onStatus = () => {},
      onLevels = () => {},
      onMode = () => {},
      onCues = () => {},
      onAudio = () => {},
      viewerId = () => "",
    } = {},
  ) {
    this.video = video;
    this.onAudio = onAudio;
    this.audioLanguage = storage.get(AUDIO_KEY) || ""; // what the viewer listens to
    this.whepLanguages = []; // the interpretation languages a WebRTC viewer may pick
    this.viewerId = viewerId; // the websocket's viewer id: one viewer counts once (docs/protocol.md)
    this.onStatus = onStatus;
    this.onLevels = onLevels;
    this.onMode = onMode;
    this.onCues = onCues;
    this.hls = null;
    this.pc = null;
    this.whepResource = null;
    this.url = "";
    this.retry = null;
    this.mode = "off";
  }

  /** The program date time (ms) of the picture on screen: HLS's playhead (EXT-X-PROGRAM-DATE-
   * TIME), else now (a WebRTC picture is at most a moment behind the server's clock). */
  pictureTime() {
    const date = this.hls?.playingDate;
    return date instanceof Date && !Number.isNaN(date.getTime()) ? date.getTime() : Date.now();
  }

  /** ``url`` with ``v=<viewer id>`` added when we know it. */
  tagged(url) {
    const id = this.viewerId();
    if (!id) return url;
    const tagged = new URL(url, location.href);
    tagged.searchParams.set("v", id);
    return tagged.href;
  }

  /** Play ``sessionId`` at ``latency`` (one of LATENCIES): WHEP for "lowest" when available,
   * LL-HLS for "low" (and when WHEP is not), classic HLS for "standard". */
  async play(sessionId, { latency = "low", vod = false } = {}) {
    this.stop();
    this.channelUrl = null;
    this.sessionId = sessionId;
    this.vod = vod;
    this.latency = latency;
    if (latency === "lowest" && !vod && "RTCPeerConnection" in window) {
      const ok = await this.playWhep(sessionId);
      if (ok) return;
      this.onStatus(t("player.whep_fallback"), "warn");
      this.upgradeLater(); // e.g. the ingest was not up yet at go-live: try again soon
    }
    this.playHls(`/hls/${encodeURIComponent(sessionId)}/index.m3u8`, { lowLatency: latency !== "standard" && !vod });
  }

  /** While "lowest" plays LL-HLS because WHEP was refused, try WHEP again every few seconds
   * and switch over (LL-HLS goes on meanwhile) once it answers. */
  upgradeLater() {
    clearTimeout(this.upgrade);
    this.upgrade = setTimeout(async () => {
      if (this.latency !== "lowest" || this.mode === "whep" || this.mode === "off") return;
      const hls = this.hls;
      if (!(await this.playWhep(this.sessionId))) {
        this.upgradeLater();
        return;
      }
      if (hls) hls.destroy();
      if (this.hls === hls) this.hls = null;
      this.video.play().catch(() => this.onStatus(t("player.press_play"), "info"));
    }, UPGRADE_MS);
  }

  setMode(mode) {
    this.mode = mode;
    this.video.dataset.playback = mode; // what plays: "llhls", "hls" or "whep" (tests read it)
    this.onMode(mode);
  }

  playHls(url, { lowLatency }) {
    this.url = url;
    this.setMode(lowLatency ? "llhls" : "hls");
    const video = this.video;
    if (Hls.isSupported()) {
      const hls = new Hls({
        ...(lowLatency ? LOW_LATENCY : CLASSIC),
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
      hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => {
        const index = this.audioIndex(this.audioLanguage);
        if (index >= 0 && index !== hls.audioTrack) hls.audioTrack = index;
        this.reportAudio();
      });
      hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, () => this.reportAudio());
      hls.on(Hls.Events.SUBTITLE_FRAG_PROCESSED, () => this.onCues());
      // Playlists without parts (another origin, an old node) play as classic HLS.
      hls.on(Hls.Events.LEVEL_UPDATED, (_, { details }) => {
        const mode = lowLatency && details.partList ? "llhls" : "hls";
        if (this.hls === hls && mode !== this.mode) this.setMode(mode);
      });
      // A live playlist that does not follow the one before it (the session's media moved to
      // another node, whose numbering starts again) is not one hls.js can merge: start afresh.
      const followed = new Map();
      const follows = (key, details) => {
        if (this.hls !== hls || !details?.live || !details.fragments.length) return;
        const before = followed.get(key);
        followed.set(key, details);
        if (before && !continues(before, details)) {
          this.onStatus(t("player.reconnecting"), "warn");
          this.scheduleRetry(0);
        }
      };
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => follows(`level${data.level}`, data.details));
      hls.on(Hls.Events.AUDIO_TRACK_LOADED, (_, data) => follows(`audio${data.id}`, data.details));
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
        // The server answered with an error (the session's media is moving to another node,
        // docs/operations.md): its next playlists need not follow the ones hls.js holds, so
        // start afresh soon. Anything else is a blip: carry on from where we are.
        const answered = (data.response?.code ?? 0) >= 400;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && !answered && networkRetries < 3 && hls.levels.length) {
          networkRetries += 1; // keep the buffer
          setTimeout(() => this.hls === hls && hls.startLoad(), 1000 * networkRetries);
          return;
        }
        this.scheduleRetry(answered ? 1000 : 3000);
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

  scheduleRetry(delay = 3000) {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.mode !== "off" && this.channelUrl) return this.playChannel(this.channelUrl);
      if (this.mode === "off" || !this.sessionId) return;
      this.play(this.sessionId, { latency: this.latency, vod: this.vod });
    }, delay);
  }

  reportLevels() {
    if (!this.hls) return;
    const levels = this.hls.levels.map((level, index) => ({
      index,
      label: level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbit/s`,
    }));
    this.onLevels(levels, this.hls.autoLevelEnabled ? -1 : this.hls.currentLevel);
  }

  /** The hls.js audio track of ``language`` ("" the original: the default one), or -1. */
  audioIndex(language) {
    const tracks = this.hls?.audioTracks ?? [];
    return tracks.findIndex((track) => (language ? track.lang === language : track.default || !track.lang));
  }

  /** Tell onAudio the sounds on offer: HLS's audio renditions, or WHEP's languages. */
  reportAudio() {
    if (this.hls) {
      const languages = this.hls.audioTracks.map((track) => (track.default ? "" : track.lang || ""));
      const playing = this.hls.audioTracks[this.hls.audioTrack];
      this.onAudio(languages, playing && !playing.default ? playing.lang || "" : "");
    } else if (this.mode === "whep") {
      this.onAudio(["", ...this.whepLanguages], this.audioLanguage);
    } else {
      this.onAudio([], "");
    }
  }

  /** Listen to ``language`` ("" the original sound), remembered for next time: HLS switches
   * its audio rendition; WebRTC reconnects with that sound. */
  setAudio(language) {
    this.audioLanguage = language;
    storage.set(AUDIO_KEY, language);
    if (this.hls) {
      const index = this.audioIndex(language);
      if (index >= 0) this.hls.audioTrack = index;
    } else if (this.mode === "whep" && this.sessionId) {
      this.play(this.sessionId, { latency: this.latency, vod: this.vod });
    }
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
      const offered = await api("GET", `/api/v1/sessions/${encodeURIComponent(sessionId)}/interpretation`).catch(
        () => null,
      );
      this.whepLanguages = offered?.languages ?? [];
      if (!this.whepLanguages.includes(this.audioLanguage)) this.audioLanguage = "";
      const url = new URL(`/whep/${encodeURIComponent(sessionId)}`, location.href);
      if (this.audioLanguage) url.searchParams.set("audio", this.audioLanguage);
      this.whepResource = await negotiate(pc, this.tagged(url.href));
      this.setMode("whep");
      this.onLevels([], -1);
      this.reportAudio();
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
    clearTimeout(this.upgrade);
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

/** Fill a sound <select>: the original sound, then each interpretation language. */
export function fillAudio(select, languages, current) {
  select.replaceChildren(
    ...languages.map((language) =>
      el("option", { value: language, text: language ? languageName(language) : t("player.audio_original") }),
    ),
  );
  select.value = current;
  select.disabled = languages.length < 2;
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
      // The language chosen, for a player that moves to WebRTC (captions.js LiveCaptions).
      video.dataset.captions = tracks[Number(select.value)]?.language ?? "";
    };
  };
  video.textTracks.addEventListener("addtrack", refresh);
  video.textTracks.addEventListener("removetrack", refresh);
  refresh();
}
