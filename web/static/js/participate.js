// Taking part from a list: the questions (with upvotes) and polls (with voting and bars) of a
// room's state, drawn for the channel page and the hall's phones. The room's state comes from
// room.js; the actions go through the page's Realtime.

import { $, el, keepFocus, say, show } from "/static/js/dom.js";
import { t } from "/static/js/i18n.js";
import { explain } from "/static/js/realtime.js";
import { followRoom } from "/static/js/room.js";

const ORDER = { answering: 0, approved: 1, pending: 2, answered: 3, rejected: 4 };

/** The share of ``count`` in ``total`` as a whole percentage. */
export function share(count, total) {
  return total ? Math.round((100 * count) / total) : 0;
}

/** The <li>s of the room's open questions, most voted first; ``voted`` holds what this
 * browser voted for, ``send(frame)`` sends an action. */
export function questionItems(room, { roomId, voted, send, status }) {
  return [...room.questions.values()]
    .filter((q) => q.status !== "merged")
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || b.votes - a.votes || a.asked_at - b.asked_at)
    .map((q) => {
      const vote = el("button", {
        type: "button",
        class: "vote",
        "aria-pressed": voted.has(q.id) ? "true" : "false",
        disabled: q.status !== "approved" && q.status !== "answering" ? true : voted.has(q.id),
        "aria-label": t("qa.upvote_label", { votes: q.votes }),
        text: `▲ ${q.votes}`,
        onclick: async () => {
          voted.add(q.id);
          vote.disabled = true;
          try {
            await send({ type: "qa.vote", room: roomId, question_id: q.id });
          } catch (error) {
            say(status, explain(error), "error");
          }
        },
      });
      return el(
        "li",
        { class: `question ${q.status}`, dataset: { id: q.id } },
        vote,
        el("span", { class: "text", text: q.text }),
        q.status === "approved" ? null : el("span", { class: "badge", text: t(`qa.status.${q.status}`) }),
      );
    });
}

/** A form per poll of the room (open ones first): choices while this browser may vote, the
 * results as bars. */
export function pollForms(room, { roomId, voted, send, onVoted }) {
  return [...room.polls.values()]
    .sort((a, b) => Number(b.open) - Number(a.open))
    .slice(0, 3)
    .map((poll) => {
      const canVote = poll.open && !voted.has(poll.id);
      const form = el("form", { class: "poll stack", dataset: { id: poll.id } });
      const fieldset = el("fieldset", {}, el("legend", { text: poll.question }));
      poll.options.forEach((option, index) => {
        const count = poll.tally[index] || 0;
        const bar = el("span", { class: "bar-fill" });
        bar.style.width = `${share(count, poll.voters)}%`;
        const input = canVote
          ? el("input", { type: poll.multiple ? "checkbox" : "radio", name: `poll-${poll.id}`, value: String(index) })
          : null;
        fieldset.append(
          el(
            "label",
            { class: "option" },
            input,
            el("span", { class: "option-text", text: option }),
            el("span", { class: "bar" }, bar),
            el("span", { class: "count", text: t("polls.votes", { count, share: share(count, poll.voters) }) }),
          ),
        );
      });
      form.append(fieldset);
      const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
      if (canVote) form.append(el("button", { type: "submit", text: t("polls.vote") }));
      else form.append(el("p", { class: "note", text: poll.open ? t("polls.voted") : t("polls.closed") }));
      form.append(status);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const choices = [...form.querySelectorAll("input:checked")].map((i) => Number(i.value));
        if (!choices.length) return say(status, t("polls.choose"), "error");
        try {
          await send({ type: "poll.vote", room: roomId, poll_id: poll.id, choices });
          voted.add(poll.id);
          onVoted();
        } catch (error) {
          say(status, explain(error), "error");
        }
      });
      return form;
    });
}

/** "in 4 min 12 s" until ``iso``, or "starting soon" once it has passed. */
export function countdown(iso, now = Date.now()) {
  const left = Math.round((new Date(iso).getTime() - now) / 1000);
  if (left <= 0) return t("channel.soon");
  const hours = Math.floor(left / 3600);
  const minutes = Math.floor((left % 3600) / 60);
  const seconds = left % 60;
  if (hours) return t("channel.in_hours", { hours, minutes });
  return t("channel.in_minutes", { minutes, seconds });
}

/**
 * The questions (#questions, the #ask form) and polls (#polls in #polls-box) of the session a
 * page follows on ``rt``; ``follow(id)`` moves them to another session (null: none).
 * ``code``: the hall's join code the page was opened with; ``onQuestions(room)`` and
 * ``onViewers(count)`` let the page draw more.
 */
export class Participation {
  constructor(rt, { code = undefined, onQuestions = () => {}, onViewers = () => {} } = {}) {
    this.rt = rt;
    this.code = code;
    this.onQuestions = onQuestions;
    this.onViewers = onViewers;
    this.voted = new Set();
    this.roomId = null;
    this.room = null;
    this.send = (frame) => rt.send(frame);
    this.wireAsk($("ask"));
  }

  follow(id) {
    if (id === this.roomId) return;
    if (this.roomId) this.rt.leave(this.roomId);
    this.roomId = id;
    this.room = null;
    if (!id) {
      $("questions").replaceChildren();
      show($("polls-box"), false);
      this.onQuestions(null);
      return;
    }
    this.room = followRoom(this.rt, id, {
      code: this.code,
      update: (_, parts) => {
        if (parts.has("questions")) this.drawQuestions();
        if (parts.has("polls")) this.drawPolls();
      },
      viewers: (count) => this.onViewers(count),
    });
  }

  drawQuestions() {
    const { room, roomId, voted, send } = this;
    const status = $("ask").querySelector(".status");
    keepFocus(() => $("questions").replaceChildren(...questionItems(room, { roomId, voted, send, status })));
    this.onQuestions(room);
  }

  drawPolls() {
    const { room, roomId, voted, send } = this;
    const forms = pollForms(room, { roomId, voted, send, onVoted: () => this.drawPolls() });
    show($("polls-box"), forms.length > 0);
    keepFocus(() => $("polls").replaceChildren(...forms));
  }

  wireAsk(form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector(".status");
      const text = form.elements.text.value.trim();
      if (!text || !this.roomId) return;
      try {
        await this.rt.send({ type: "qa.ask", room: this.roomId, text });
        form.elements.text.value = "";
        say(status, t("qa.sent_pending"), "ok");
      } catch (error) {
        say(status, explain(error), "error");
      }
    });
  }
}
