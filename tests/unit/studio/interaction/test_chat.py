"""Chat rules: clean text and names, slow mode (not for staff), mutes, bans, the word filter."""

from __future__ import annotations

import pytest

from studio.errors import InvalidInput, Refused
from studio.interaction import chat
from tests.support.refusals import refused


def test_chat_post_is_cleaned_and_limited() -> None:
    """Text is trimmed; blank, long and control-character text is refused by field."""
    rules = chat.ChatModeration()
    assert chat.check_post(rules, "v1", "  hej  ", 0.0, None) == "hej"
    with pytest.raises(InvalidInput, match="text: must not be blank"):
        chat.check_post(rules, "v1", "   ", 0.0, None)
    with pytest.raises(InvalidInput, match="text: must be at most 500 characters"):
        chat.check_post(rules, "v1", "x" * 501, 0.0, None)
    with pytest.raises(InvalidInput, match="control characters"):
        chat.check_post(rules, "v1", "a\x07b", 0.0, None)


def test_slow_mode_counts_per_viewer() -> None:
    """With slow mode, one viewer waits; another viewer is not held up."""
    rules = chat.ChatModeration().with_slow_mode(10)
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "again", 104.0, last_post_at=100.0)
    assert refused(caught) == ("slow_mode", "slow mode is on: wait 7 seconds before posting again")
    assert chat.check_post(rules, "v1", "later", 110.0, last_post_at=100.0) == "later"
    assert chat.check_post(rules, "v2", "first", 104.0, last_post_at=None) == "first"


def test_mute_expires_and_ban_holds() -> None:
    """A mute ends at its time; a ban lasts until lifted."""
    rules = chat.ChatModeration().with_mute("v1", until=60.0).with_ban("v2")
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "hi", 30.0, None)
    assert refused(caught) == ("muted", "you are muted for 31 more seconds")
    assert chat.check_post(rules, "v1", "hi", 60.0, None) == "hi"
    with pytest.raises(Refused, match="you cannot post in this chat"):
        chat.check_post(rules, "v2", "hi", 0.0, None)
    assert chat.check_post(rules.without_ban("v2"), "v2", "hi", 0.0, None) == "hi"


def test_word_filter_matches_whole_words_any_case() -> None:
    """A blocked word refuses the message; a word merely containing it does not."""
    rules = chat.ChatModeration().with_filter(["Spam", " "])
    assert rules.blocked_words == ("spam",)
    with pytest.raises(Refused) as caught:
        chat.check_post(rules, "v1", "buy SPAM now", 0.0, None)
    assert caught.value.code == "blocked_word"
    assert chat.check_post(rules, "v1", "spammy word", 0.0, None) == "spammy word"


def test_slow_mode_range() -> None:
    """Slow mode takes 0 to 600 seconds."""
    with pytest.raises(InvalidInput, match="seconds: must be between 0 and 600"):
        chat.ChatModeration().with_slow_mode(601)


def test_display_names_are_one_clean_line() -> None:
    """A name is trimmed; blank, multi-line or control-character names are refused."""
    assert chat.clean_name("  Eva  ") == "Eva"
    for name, problem in [("  ", "name: must not be blank"),
                          ("Eva\x00", "name: must not contain control characters"),
                          ("Eva\nEk", "name: must not contain control characters"),
                          ("x" * 41, "name: must be at most 40 characters")]:  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            chat.clean_name(name)
        assert str(caught.value) == problem


def test_staff_are_not_slowed_down() -> None:
    """Slow mode applies to viewers, not to the room's moderators."""
    rules = chat.ChatModeration().with_slow_mode(60)
    assert chat.check_post(rules, "mod", "again", 10.0, 5.0, staff=True) == "again"
    with pytest.raises(Refused):
        chat.check_post(rules, "v", "again", 10.0, 5.0)


def test_muted_and_banned_viewers_may_not_take_part() -> None:
    """Asking and voting: a ban always refuses, a mute until it ends (and not when the time
    of an old vote is unknown)."""
    rules = chat.ChatModeration().with_ban("b").with_mute("m", until=100.0)
    with pytest.raises(Refused) as banned:
        chat.check_may_take_part(rules, "b", None)
    assert refused(banned) == ("banned", "you cannot take part in this room")
    with pytest.raises(Refused) as muted:
        chat.check_may_take_part(rules, "m", 40.0)
    assert refused(muted) == ("muted", "you are muted for 61 more seconds")
    chat.check_may_take_part(rules, "m", 100.0)
    chat.check_may_take_part(rules, "m", None)
