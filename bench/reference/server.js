'use strict';
// Reference websocket broadcast server for Torget's fan-out benchmark (bench/fanout).
//
// Speaks the subset of docs/protocol.md the benchmark uses: `welcome` on connect, `join` ->
// `joined`, `chat.send` -> `ack` plus a `chat.message` event, and `events` frames: every 50 ms
// each room with pending events encodes ONE frame once and hands the same buffer to every
// member (the `ws` README's broadcast loop: no waiting per client). A client whose send buffer
// holds more than BUFFER_LIMIT bytes is disconnected with 1013, as Torget does.
//
//   node server.js [PORT]        (or PORT=... node server.js); listens on 127.0.0.1 only.

const crypto = require('node:crypto');
const { WebSocketServer } = require('ws');

const HOST = '127.0.0.1';
const PORT = Number(process.argv[2] || process.env.PORT || 8765);
const TICK_MS = 50;
const BUFFER_LIMIT = 1 << 20; // bytes queued in user space for one client
const FRAME_MAX_BYTES = 8192;
const TEXT_MAX = 500;

/** room name -> {members: Set<WebSocket>, pending: object[], lastMs: number, seq: number} */
const rooms = new Map();
let guests = 0;

function room(name) {
  let r = rooms.get(name);
  if (r === undefined) {
    r = { members: new Set(), pending: [], lastMs: 0, seq: 0 };
    rooms.set(name, r);
  }
  return r;
}

function nextId(r, ms) {
  if (ms === r.lastMs) {
    r.seq += 1;
  } else {
    r.lastMs = ms;
    r.seq = 0;
  }
  return `${ms}-${r.seq}`;
}

function reply(ws, frame) {
  ws.send(JSON.stringify(frame));
}

function error(ws, code, message, ref) {
  reply(ws, { type: 'error', code, message, ref: ref || '', field: null });
}

const wss = new WebSocketServer({
  host: HOST,
  port: PORT,
  backlog: 4096,
  maxPayload: FRAME_MAX_BYTES,
  perMessageDeflate: false,
  clientTracking: false,
});

wss.on('connection', (ws) => {
  guests += 1;
  const me = {
    viewerId: `vwr_${crypto.randomBytes(6).toString('hex')}`,
    name: `Guest ${1000 + (guests % 9000)}`,
    rooms: new Set(),
  };
  reply(ws, {
    type: 'welcome', v: 1, viewer_id: me.viewerId, name: me.name, role: 'viewer', node: 'ref',
  });

  ws.on('message', (data, isBinary) => {
    let frame;
    try {
      frame = JSON.parse(isBinary ? '' : data.toString());
    } catch {
      frame = null;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      error(ws, 'bad_frame', 'not a JSON object');
      return;
    }
    const ref = typeof frame.ref === 'string' ? frame.ref : '';
    const name = typeof frame.room === 'string' ? frame.room : '';
    switch (frame.type) {
      case 'join': {
        if (!name) { error(ws, 'invalid_input', 'room: required', ref); return; }
        room(name).members.add(ws);
        me.rooms.add(name);
        reply(ws, {
          type: 'joined', room: name, moderator: false, reset: false,
          events: [], state: {}, viewers: 0, last_id: '', ref,
        });
        return;
      }
      case 'leave': {
        const r = rooms.get(name);
        if (r !== undefined) r.members.delete(ws);
        me.rooms.delete(name);
        reply(ws, { type: 'left', room: name, ref });
        return;
      }
      case 'chat.send': {
        if (!me.rooms.has(name)) { error(ws, 'not_joined', 'join the room first', ref); return; }
        const text = typeof frame.text === 'string' ? frame.text.trim() : '';
        if (!text || text.length > TEXT_MAX) {
          error(ws, 'invalid_input', `text: must be 1 to ${TEXT_MAX} characters`, ref);
          return;
        }
        const r = room(name);
        const ms = Date.now();
        const id = nextId(r, ms);
        r.pending.push({
          id, type: 'chat.message', viewer_id: me.viewerId, name: me.name, text, ts: ms,
        });
        reply(ws, { type: 'ack', ref, id });
        return;
      }
      case 'ping':
        reply(ws, { type: 'pong', ref });
        return;
      default:
        error(ws, 'bad_frame', 'unknown type', ref);
    }
  });

  ws.on('close', () => {
    for (const name of me.rooms) {
      const r = rooms.get(name);
      if (r !== undefined) r.members.delete(ws);
    }
    me.rooms.clear();
  });
  ws.on('error', () => {});
});

function flush() {
  for (const [name, r] of rooms) {
    if (r.pending.length === 0) continue;
    // Encode once; every member gets the same buffer.
    const frame = Buffer.from(JSON.stringify({ type: 'events', room: name, events: r.pending }));
    r.pending = [];
    for (const ws of r.members) {
      if (ws.readyState !== 1) continue;
      if (ws.bufferedAmount > BUFFER_LIMIT) {
        r.members.delete(ws);
        ws.close(1013, 'try again later');
        continue;
      }
      ws.send(frame, { binary: false });
    }
  }
}

setInterval(flush, TICK_MS);

wss.on('listening', () => {
  console.log(`reference listening on ws://${HOST}:${PORT}/ws`);
});

function stop() {
  wss.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
