// The caption console's times (pure, no imports): a cue's time from the moment its session went
// live, written as the .vtt download writes it, and the "shift all lines" seconds as the
// milliseconds the shift endpoint takes (docs/captions.md).

/** How far the shift endpoint moves cues at most (studio.captions.cues.SHIFT_LIMIT_MS). */
export const SHIFT_LIMIT_MS = 3_600_000;

/** The program date time (ms) the downloads count from: when the session went live, else
 * when it was to start (studio.captions.cues.recording_zero_ms). */
export function recordingZeroMs(session) {
  return Date.parse(session.went_live_at || session.starts_at);
}

/** ``ms`` after ``zeroMs`` as HH:MM:SS.mmm (the WebVTT clock); a minus sign before it. */
export function sinceStart(ms, zeroMs) {
  const offset = Math.round(ms - zeroMs);
  let rest = Math.abs(offset);
  const parts = [3_600_000, 60_000, 1000].map((unit) => {
    const whole = Math.floor(rest / unit);
    rest -= whole * unit;
    return String(whole).padStart(2, "0");
  });
  return `${offset < 0 ? "-" : ""}${parts.join(":")}.${String(rest).padStart(3, "0")}`;
}

/** The shift in ms that ``text`` (seconds, "+1.5", "-0.7", "2,5") asks for, or null for
 * anything else: not a number, no shift at all, or more than an hour either way. */
export function shiftMs(text) {
  const cleaned = String(text).trim().replace(",", ".");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
  const ms = Math.round(Number(cleaned) * 1000);
  if (ms === 0 || Math.abs(ms) > SHIFT_LIMIT_MS) return null;
  return ms;
}
