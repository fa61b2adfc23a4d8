// Captions: the caption lines a WebRTC (WHEP) viewer gets over the websocket, as text tracks of
// the video timed to its picture (HLS players get them from the subtitle renditions instead),
// and the viewer's caption size and background, remembered (docs/captions.md).

import { storage } from "/static/js/storage.js";

const SIZE_KEY = "torget.captions.size";
const BACKGROUND_KEY = "torget.captions.background";
export const SIZES = ["small", "medium", "large"];
export const BACKGROUNDS = ["shadow", "solid"];

/** Caption lines from the websocket as cues of one text track per language. */
export class LiveCaptions {
  constructor(video) {
    this.video = video;
    this.tracks = new Map(); // language -> TextTrack (tracks added by script cannot be removed)
    this.active = false;
  }

  /** Show lines only while the picture is WebRTC's; hide our tracks otherwise. */
  setActive(active) {
    this.active = active;
    if (!active) for (const track of this.tracks.values()) track.mode = "disabled";
  }

  /** A ``caption.cue`` event: a cue at the picture's time it was written for (``start_ms``,
   * the server's clock: a WebRTC picture is at most a moment behind it), never in the past. */
  add(event) {
    if (!this.active) return;
    let track = this.tracks.get(event.language);
    if (!track) {
      track = this.video.addTextTrack("subtitles", event.language, event.language);
      track.mode = "disabled";
      this.tracks.set(event.language, track);
    }
    const now = this.video.currentTime;
    const start = Math.max(now, now + (event.start_ms - Date.now()) / 1000);
    const end = start + Math.max(0.5, (event.end_ms - event.start_ms) / 1000);
    track.addCue(new VTTCue(start, end, event.text));
  }
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
