"""Chat rules: what a viewer may post, and the moderation state of a room. Pure.

A room's moderation is a value (``ChatModeration``); moderator actions return a new value.
``check_post`` decides whether a message is accepted and returns its cleaned text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from studio.errors import InvalidInput, Refused

TEXT_MAX = 500
NAME_MAX = 40
SLOW_MODE_MAX = 600
FILTER_WORDS_MAX = 200


@dataclass(frozen=True, slots=True)
class ChatModeration:
    """A room's chat rules: slow mode, blocked words, muted and banned viewers."""

    slow_mode_seconds: int = 0
    blocked_words: tuple[str, ...] = ()
    muted_until: dict[str, float] = field(default_factory=dict)
    banned: frozenset[str] = frozenset()

    def with_slow_mode(self, seconds: int) -> ChatModeration:
        """Slow mode of ``seconds`` between one viewer's messages (0 turns it off)."""
        if not 0 <= seconds <= SLOW_MODE_MAX:
            raise InvalidInput("seconds", f"must be between 0 and {SLOW_MODE_MAX}")
        return replace(self, slow_mode_seconds=seconds)

    def with_filter(self, words: list[str]) -> ChatModeration:
        """Refuse messages holding any of ``words`` (whole words, any case)."""
        cleaned = tuple(sorted({w.strip().lower() for w in words if w.strip()}))
        if len(cleaned) > FILTER_WORDS_MAX:
            raise InvalidInput("words", f"at most {FILTER_WORDS_MAX} words")
        return replace(self, blocked_words=cleaned)

    def with_mute(self, viewer_id: str, until: float) -> ChatModeration:
        """Mute ``viewer_id`` until the given time."""
        return replace(self, muted_until={**self.muted_until, viewer_id: until})

    def without_mute(self, viewer_id: str) -> ChatModeration:
        """Lift a mute."""
        return replace(
            self, muted_until={k: v for k, v in self.muted_until.items() if k != viewer_id}
        )

    def with_ban(self, viewer_id: str) -> ChatModeration:
        """Ban ``viewer_id`` from posting in the room."""
        return replace(self, banned=self.banned | {viewer_id})

    def without_ban(self, viewer_id: str) -> ChatModeration:
        """Lift a ban."""
        return replace(self, banned=self.banned - {viewer_id})


def clean_message(
    text: str, limit: int = TEXT_MAX, field: str = "text", *, lines: bool = True
) -> str:
    """Collapse surrounding whitespace; refuse blank, too long or control-character text
    (newlines are allowed when ``lines``), naming ``field``."""
    text = text.strip()
    if not text:
        raise InvalidInput(field, "must not be blank")
    if len(text) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters")
    if any((ord(ch) < 32 and not (lines and ch == "\n")) or ch == "\x7f" for ch in text):
        raise InvalidInput(field, "must not contain control characters")
    return text


def clean_name(name: str) -> str:
    """A display name: one line of at most ``NAME_MAX`` characters, not blank."""
    return clean_message(name, NAME_MAX, "name", lines=False)


def check_not_muted(moderation: ChatModeration, viewer_id: str, now: float | None) -> None:
    """Refuse a viewer whose mute lasts beyond ``now`` (None: the time is not known)."""
    until = moderation.muted_until.get(viewer_id)
    if now is not None and until is not None and now < until:
        raise Refused("muted", f"you are muted for {int(until - now) + 1} more seconds")


def check_may_take_part(moderation: ChatModeration, viewer_id: str, now: float | None) -> None:
    """Whether a viewer may ask questions and vote: not banned, not muted now."""
    if viewer_id in moderation.banned:
        raise Refused("banned", "you cannot take part in this room")
    check_not_muted(moderation, viewer_id, now)


def check_post(
    moderation: ChatModeration,
    viewer_id: str,
    text: str,
    now: float,
    last_post_at: float | None,
    *,
    staff: bool = False,
) -> str:
    """Return the cleaned text if ``viewer_id`` may post it now; raise Refused otherwise.
    Slow mode does not apply to the room's moderators (``staff``)."""
    if viewer_id in moderation.banned:
        raise Refused("banned", "you cannot post in this chat")
    check_not_muted(moderation, viewer_id, now)
    cleaned = clean_message(text)
    wait = 0 if staff else moderation.slow_mode_seconds
    if wait and last_post_at is not None and now - last_post_at < wait:
        left = int(wait - (now - last_post_at)) + 1
        raise Refused("slow_mode", f"slow mode is on: wait {left} seconds before posting again")
    if moderation.blocked_words and _blocked(cleaned, moderation.blocked_words):
        raise Refused("blocked_word", "your message holds a word this chat does not allow")
    return cleaned


def _blocked(text: str, words: tuple[str, ...]) -> bool:
    found = set(re.findall(r"\w+", text.lower()))
    return any(word in found for word in words)
