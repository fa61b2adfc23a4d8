// Injected into the viewer page before its own scripts (Playwright init script). It chooses
// the page's latency mode (window.__benchLatency, set just before this runs) and, every 100 ms,
// reads the wall clock the stamped publisher burned into the picture (bench/media/stamp.py:
// 16 x 4 black/white blocks across the top, 48 bits of milliseconds and a 16-bit CRC-32
// check) back from the <video> through a canvas. Samples go to window.__benchSamples.
(() => {
  if (window.__benchLatency) localStorage.setItem("torget.latency", window.__benchLatency);
  const COLUMNS = 16;
  const ROWS = 4;
  const WIDTH = 320; // the frame is drawn this wide: a block is 20 px
  const HEIGHT = 180;
  const SIDE = WIDTH / COLUMNS;
  const table = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (bytes) => {
    let c = 0xffffffff;
    for (const b of bytes) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const read = (video) => {
    if (!video || video.readyState < 2 || !video.videoWidth) return null;
    context.drawImage(video, 0, 0, WIDTH, HEIGHT);
    const pixels = context.getImageData(0, 0, WIDTH, SIDE * ROWS).data;
    let value = 0;
    let check = 0;
    for (let i = 0; i < COLUMNS * ROWS; i += 1) {
      const x = Math.floor((i % COLUMNS) * SIDE + SIDE / 2);
      const y = Math.floor(Math.floor(i / COLUMNS) * SIDE + SIDE / 2);
      const at = (y * WIDTH + x) * 4;
      const bit = pixels[at] + pixels[at + 1] + pixels[at + 2] > 3 * 128 ? 1 : 0;
      if (i < 48) value = value * 2 + bit;
      else check = check * 2 + bit;
    }
    const bytes = [];
    for (let k = 5; k >= 0; k -= 1) bytes.push(Math.floor(value / 2 ** (8 * k)) % 256);
    return (crc32(bytes) & 0xffff) === check ? value : null;
  };
  window.__benchSamples = [];
  setInterval(() => {
    const video = document.getElementById("video");
    let stamp = null;
    try {
      stamp = read(video);
    } catch {
      stamp = null;
    }
    window.__benchSamples.push({
      at: Date.now(),
      stamp,
      height: video ? video.videoHeight : 0,
      rate: video ? video.playbackRate : 1,
      playback: video ? video.dataset.playback || "" : "",
    });
  }, 100);
})();
