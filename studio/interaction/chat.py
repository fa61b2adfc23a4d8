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


def clean_message(text: str, limit: int = TEXT_MAX) -> str:
    """Collapse surrounding whitespace; refuse blank, too long or control-character text."""
    text = text.strip()
    if not text:
        raise InvalidInput("text", "must not be blank")
    if len(text) > limit:
        raise InvalidInput("text", f"must be at most {limit} characters")
    if any(ord(ch) < 32 and ch != "\n" for ch in text):
        raise InvalidInput("text", "must not contain control characters")
    return text


def check_post(
    moderation: ChatModeration,
    viewer_id: str,
    text: str,
    now: float,
    last_post_at: float | None,
) -> str:
    """Return the cleaned text if ``viewer_id`` may post it now; raise Refused otherwise."""
    if viewer_id in moderation.banned:
        raise Refused("banned", "you cannot post in this chat")
    until = moderation.muted_until.get(viewer_id)
    if until is not None and now < until:
        raise Refused("muted", f"you are muted for {int(until - now) + 1} more seconds")
    cleaned = clean_message(text)
    wait = moderation.slow_mode_seconds
    if wait and last_post_at is not None and now - last_post_at < wait:
        left = int(wait - (now - last_post_at)) + 1
        raise Refused("slow_mode", f"slow mode is on: wait {left} seconds before posting again")
    if moderation.blocked_words and _blocked(cleaned, moderation.blocked_words):
        raise Refused("blocked_word", "your message holds a word this chat does not allow")
    return cleaned


def _blocked(text: str, words: tuple[str, ...]) -> bool:
    found = set(re.findall(r"\w+", text.lower()))
    return any(word in found for word in words)
