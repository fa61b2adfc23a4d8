// Captions: the caption lines a viewer gets over the websocket, as cues of the video timed to
// its picture, and the viewer's caption size and background, remembered (docs/captions.md).
// A WebRTC (WHEP) viewer has text tracks of our own. An HLS viewer has the subtitle renditions'
// tracks, whose WebVTT segment for a moment comes only once the video segment holding it has
// closed: later than an LL-HLS picture shows that moment. The websocket's line stands in, in
// the rendition's track, until the rendition's own cue for it lands.

import { storage } from "/static/js/storage.js";

const SIZE_KEY = "torget.captions.size";
const BACKGROUND_KEY = "torget.captions.background";
export const SIZES = ["small", "medium", "large"];
export const BACKGROUNDS = ["shadow", "solid"];
const STAND_IN = "live-"; // the id prefix of a cue that stands in for a rendition's
const SAME_LINE_S = 1.5; // a rendition cue this close to a stand-in with its text replaces it

/** Caption lines from the websocket as cues timed to the picture on screen. */
export class LiveCaptions {
  /** hlsPictureTime(): the program date time (ms) of the HLS picture on screen, or null when
   * hls.js does not know it (then the renditions' cues alone are shown). */
  constructor(video, hlsPictureTime = () => null) {
    this.video = video;
    this.hlsPictureTime = hlsPictureTime;
    this.tracks = new Map(); // language -> our TextTrack (tracks added by script cannot be removed)
    this.mode = "off";
  }

  /** What plays: "whep" shows lines in our tracks, "llhls" and "hls" in the renditions'. */
  setMode(mode) {
    this.mode = mode;
    if (mode !== "whep") for (const track of this.tracks.values()) track.mode = "disabled";
  }

  /** A ``caption.cue`` event: a cue at the picture's time it was written for (``start_ms``,
   * the server's clock), never in the past. */
  add(event) {
    const track = this.mode === "whep" ? this.ownTrack(event.language) : this.renditionTrack(event.language);
    if (!track) return;
    if (this.mode === "whep") this.takeOverChoice(track);
    const picture = this.mode === "whep" ? Date.now() : this.hlsPictureTime(); // WebRTC: a moment behind
    if (picture === null) return;
    const now = this.video.currentTime;
    const start = Math.max(now, now + (event.start_ms - picture) / 1000);
    const end = start + Math.max(0.5, (event.end_ms - event.start_ms) / 1000);
    if (this.mode !== "whep" && sameLine(track, event.text, start, (cue) => !isStandIn(cue))) return;
    const cue = new VTTCue(start, end, event.text);
    cue.id = `${STAND_IN}${event.cue_id}`;
    track.addCue(cue);
  }

  /** The subtitle renditions' cues landed: drop the stand-ins they replace. */
  settle() {
    for (const track of this.video.textTracks) {
      if ([...this.tracks.values()].includes(track) || !track.cues) continue;
      for (const cue of [...track.cues]) {
        if (isStandIn(cue) && sameLine(track, cue.text, cue.startTime, (other) => !isStandIn(other))) {
          track.removeCue(cue);
        }
      }
    }
  }

  /** A viewer who chose this language in the captions menu while HLS played (the page notes
   * the choice as ``video.dataset.captions``) sees our track once WebRTC plays. */
  takeOverChoice(track) {
    if (track.mode === "showing" || this.video.dataset.captions !== track.language) return;
    for (const other of this.video.textTracks) if (other !== track && other.mode === "showing") other.mode = "disabled";
    track.mode = "showing";
  }

  ownTrack(language) {
    let track = this.tracks.get(language);
    if (!track) {
      track = this.video.addTextTrack("subtitles", language, language);
      track.mode = "disabled";
      this.tracks.set(language, track);
    }
    return track;
  }

  /** The shown subtitle rendition track of ``language`` (none while captions are off). */
  renditionTrack(language) {
    const ours = [...this.tracks.values()];
    return [...this.video.textTracks].find(
      (track) => track.language === language && track.mode === "showing" && !ours.includes(track),
    );
  }
}

function isStandIn(cue) {
  return cue.id.startsWith(STAND_IN);
}

function sameLine(track, text, start, which) {
  return [...(track.cues || [])].some(
    (cue) => which(cue) && cue.text === text && Math.abs(cue.startTime - start) < SAME_LINE_S,
  );
}

/** Wire the caption size and background menus; the choices are remembered. */
export function wireCaptionStyle(video, sizeSelect, backgroundSelect) {
  const apply = () => {
    for (const size of SIZES) video.classList.toggle(`captions-${size}`, sizeSelect.value === size);
    for (const bg of BACKGROUNDS) video.classList.toggle(`captions-${bg}`, backgroundSelect.value === bg);
  };
  sizeSelect.value = SIZES.includes(storage.get(SIZE_KEY)) ? storage.get(SIZE_KEY) : "medium";
  backgroundSelect.value = BACKGROUNDS.includes(storage.get(BACKGROUND_KEY)) ? storage.get(BACKGROUND_KEY) : "solid";
  sizeSelect.onchange = () => {
    storage.set(SIZE_KEY, sizeSelect.value);
    apply();
  };
  backgroundSelect.onchange = () => {
    storage.set(BACKGROUND_KEY, backgroundSelect.value);
    apply();
  };
  apply();
}
