// One room's state as its realtime events leave it: chat (the latest messages), questions,
// polls, the highlighted question, chat settings and the viewer count. applyEvent is the one
// reducer every page uses; followRoom keeps a state current over a Realtime connection and tells
// the page what changed, so page scripts only draw.

/** How many chat messages a room keeps (and pages show). */
export const CHAT_KEPT = 300;
const PARTS = ["chat", "questions", "polls", "settings"];

export function emptyRoom() {
  return { chat: [], questions: new Map(), polls: new Map(), slowModeSeconds: 0, viewers: null, staff: null, pictureMs: 0 };
}

/** Events that belong to the picture (a question highlighted, a poll opened or closed): their
 * log id's milliseconds are the program date time of the moment they happened. */
const PICTURE_EVENTS = new Set(["qa.question", "qa.removed", "poll"]);

/** Start ``room`` over from a join's ``state`` (the chat history then arrives as events). */
export function resetRoom(room, state) {
  room.chat = [];
  room.questions = new Map((state.questions ?? []).map((q) => [q.id, q]));
  room.polls = new Map((state.polls ?? []).map((p) => [p.id, p]));
  room.slowModeSeconds = state.chat?.slow_mode_seconds ?? 0;
  room.pictureMs = 0; // what a join finds is shown at once
}

/** Apply one event to ``room``; answer the part it changed ("chat", "questions", ...) or null. */
export function applyEvent(room, event) {
  switch (event.type) {
    case "chat.message":
      room.chat.push(event);
      if (room.chat.length > CHAT_KEPT) room.chat.splice(0, room.chat.length - CHAT_KEPT);
      return "chat";
    case "chat.deleted":
      room.chat = room.chat.filter((message) => message.id !== event.message_id);
      return "chat";
    case "chat.settings":
      room.slowModeSeconds = event.slow_mode_seconds ?? 0;
      return "settings";
    case "qa.question":
      room.questions.set(event.question.id, event.question);
      return "questions";
    case "qa.removed":
      room.questions.delete(event.question_id);
      return "questions";
    case "poll":
      room.polls.set(event.poll.id, event.poll);
      return "polls";
    default:
      return null;
  }
}

/** The question being answered now (the server keeps at most one), or null. */
export function highlighted(room) {
  return [...room.questions.values()].find((q) => q.status === "answering") ?? null;
}

/**
 * Join room ``id`` on the Realtime ``rt`` and keep a state of it current; return the state.
 * ``view`` (every hook optional) draws it:
 *   joined(msg)                 every answer to a (re)join;
 *   reset(room)                 a fresh start: drop what was drawn of the room;
 *   chatAdded(message), chatDeleted(messageId)   as they come, in order;
 *   question(question)          each question as an event brings it, in order (drawing it is
 *                               update's: it may wait for the picture);
 *   update(room, parts)         after each batch of events, with the Set of parts that changed
 *                               (after a fresh start: all of them); ``room.pictureMs`` is the
 *                               program date time of the batch's latest question or poll
 *                               change (0 after a fresh start: show it at once);
 *   caption(event)              a live caption line (``caption.cue``: not part of the room's
 *                               state; the WebRTC player shows it, see captions.js);
 *   interpretation(event)       an interpreter went live or dropped (``interpretation``:
 *                               ``language``, ``live``; not part of the room's state);
 *   viewers(count, staff)       the room's viewer count (staff: its staff connections, sent
 *                               to its moderators only; else null).
 * ``view.code``: the hall's join code, when the page was opened through it.
 */
export function followRoom(rt, id, view) {
  const room = emptyRoom();
  let fresh = false; // folding a fresh join's history: nothing to wait for
  const fold = (events, parts) => {
    for (const event of events) {
      const part = applyEvent(room, event);
      if (!part) continue;
      parts.add(part);
      if (PICTURE_EVENTS.has(event.type) && !fresh) room.pictureMs = Number(String(event.id).split("-")[0]) || 0;
      if (event.type === "chat.message") view.chatAdded?.(event);
      if (event.type === "chat.deleted") view.chatDeleted?.(event.message_id);
      if (event.type === "qa.question") view.question?.(event.question);
    }
    for (const event of events) if (event.type === "caption.cue") view.caption?.(event);
    for (const event of events) if (event.type === "interpretation") view.interpretation?.(event);
    if (parts.size) view.update?.(room, parts);
  };
  rt.join(id, {
    code: view.code,
    joined: (msg, resumed) => {
      view.joined?.(msg);
      if (resumed) return fold(msg.events, new Set());
      resetRoom(room, msg.state);
      view.reset?.(room);
      fresh = true;
      fold(msg.events, new Set(PARTS));
      fresh = false;
      return undefined;
    },
    events: (events) => fold(events, new Set()),
    viewers: (count, staff) => {
      room.viewers = count;
      room.staff = staff;
      view.viewers?.(count, staff);
    },
  });
  return room;
}
