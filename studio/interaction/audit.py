"""The moderators' audit log: one name per kind of action, its target and details. Pure.

Each moderator fact becomes one record: ``action`` names what was done (the client frame's
name, split where one frame does two things: ``chat.mute``/``chat.unmute``), ``target`` what it
was done to (a viewer, message, question or poll id; None for room settings). See
docs/protocol.md, "Actions".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from studio.interaction import facts as f
from studio.interaction.qa import QuestionAction


class AuditAction(enum.StrEnum):
    """What a moderator did, as the audit log names it."""

    CHAT_DELETE = "chat.delete"
    CHAT_MUTE = "chat.mute"
    CHAT_UNMUTE = "chat.unmute"
    CHAT_BAN = "chat.ban"
    CHAT_UNBAN = "chat.unban"
    CHAT_SLOW_MODE = "chat.slow_mode"
    CHAT_FILTER = "chat.filter"
    QA_APPROVE = "qa.approve"
    QA_REJECT = "qa.reject"
    QA_ANSWERING = "qa.answering"
    QA_ANSWERED = "qa.answered"
    QA_EDIT = "qa.edit"
    QA_MERGE = "qa.merge"
    POLL_OPEN = "poll.open"
    POLL_CLOSE = "poll.close"


_QA = {
    QuestionAction.APPROVE: AuditAction.QA_APPROVE,
    QuestionAction.REJECT: AuditAction.QA_REJECT,
    QuestionAction.ANSWERING: AuditAction.QA_ANSWERING,
    QuestionAction.ANSWERED: AuditAction.QA_ANSWERED,
}


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One moderator action: its name, what it was done to (None: the room), and details."""

    action: AuditAction
    target: str | None
    detail: dict[str, Any] = field(default_factory=dict)


def audit_record(fact: f.Fact) -> AuditRecord | None:
    """The audit record of a moderator's fact (None for a viewer's)."""
    match fact:
        case f.ChatDeleted():
            return AuditRecord(AuditAction.CHAT_DELETE, fact.message_id)
        case f.ViewerModerated(muted_until=int(until)):
            if until:
                return AuditRecord(AuditAction.CHAT_MUTE, fact.viewer_id, {"muted_until": until})
            return AuditRecord(AuditAction.CHAT_UNMUTE, fact.viewer_id)
        case f.ViewerModerated():
            banned = AuditAction.CHAT_BAN if fact.banned else AuditAction.CHAT_UNBAN
            return AuditRecord(banned, fact.viewer_id)
        case f.ChatSettingsChanged(blocked_words=list(words)):
            return AuditRecord(AuditAction.CHAT_FILTER, None, {"blocked_words": words})
        case f.ChatSettingsChanged():
            seconds = {"slow_mode_seconds": fact.slow_mode_seconds}
            return AuditRecord(AuditAction.CHAT_SLOW_MODE, None, seconds)
        case f.QuestionModerated():
            return AuditRecord(_QA[fact.action], fact.question_id)
        case f.QuestionEdited():
            return AuditRecord(AuditAction.QA_EDIT, fact.question_id, {"text": fact.text})
        case f.QuestionMerged():
            return AuditRecord(AuditAction.QA_MERGE, fact.question_id, {"into": fact.into})
        case f.PollOpened():
            detail = {"question": fact.question, "options": fact.options,
                      "multiple": fact.multiple}  # fmt: skip
            return AuditRecord(AuditAction.POLL_OPEN, fact.poll_id, detail)
        case f.PollClosed():
            return AuditRecord(AuditAction.POLL_CLOSE, fact.poll_id)
    return None
