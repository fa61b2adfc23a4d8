// Injected into the viewer page after bench/viewer/probe.js (Playwright init script): every
// 50 ms, the text of each cue newly among the active cues of a shown text track, with the wall
// clock it was first seen at, goes to window.__benchCues ({text, at}).
(() => {
  const seen = new Set();
  window.__benchCues = [];
  setInterval(() => {
    const video = document.getElementById("video");
    if (!video) return;
    for (const track of video.textTracks) {
      if (track.mode !== "showing") continue;
      for (const cue of track.activeCues || []) {
        if (seen.has(cue.text)) continue;
        seen.add(cue.text);
        window.__benchCues.push({ text: cue.text, at: Date.now() });
      }
    }
  }, 50);
})();
