// WHIP and WHEP, the two halves of WebRTC over HTTP: one non-trickle offer with every ICE
// candidate POSTed as application/sdp, the answer and the resource's Location back in a 201,
// the resource ended with DELETE. A refusal reads like any API error (an ApiError).

import { readError } from "/static/js/api.js";

/** Wait until ICE gathering is done (WHIP/WHEP send one offer with every candidate). */
export function iceGathered(pc, timeoutMs = 3000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(done, timeoutMs);
  });
}

/**
 * Offer ``pc``'s transceivers to the WHIP or WHEP endpoint ``url`` (``headers``: more request
 * headers, e.g. WHIP's Authorization) and apply its answer; resolve with the session resource's
 * address (the Location header), or reject with an ApiError when the endpoint refuses.
 */
export async function negotiate(pc, url, headers = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc);
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", Accept: "application/sdp", ...headers },
    body: pc.localDescription.sdp,
    credentials: "same-origin",
  });
  if (answer.status !== 201) throw await readError(answer);
  const resource = answer.headers.get("Location");
  try {
    await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
  } catch (error) {
    await endResource(resource, headers); // the server made a resource we cannot use
    throw error;
  }
  return resource;
}

/**
 * End a WHIP or WHEP session resource (RFC 9725 / WHEP: DELETE it). ``keepalive`` lets the
 * request outlive the page. Resolves when done; a failure is ignored (the server times it out).
 */
export function endResource(resource, headers = {}, { keepalive = false } = {}) {
  if (!resource) return Promise.resolve();
  return fetch(new URL(resource, location.href), { method: "DELETE", headers, keepalive })
    .then(() => undefined)
    .catch(() => undefined);
}

/** Put H.264 first among the video codecs ``pc`` offers (the ingest passes H.264 through; VP8 it re-encodes). */
export function preferH264(pc) {
  const caps = RTCRtpSender.getCapabilities?.("video");
  if (!caps) return;
  const h264 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== "video/h264");
  for (const tr of pc.getTransceivers()) {
    if (tr.sender.track?.kind === "video" && tr.setCodecPreferences && h264.length) tr.setCodecPreferences([...h264, ...rest]);
  }
}
