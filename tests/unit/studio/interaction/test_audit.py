"""The audit log's names and targets for moderator facts (studio/interaction/audit.py)."""

from __future__ import annotations

from studio.interaction import facts as f
from studio.interaction.audit import AuditAction, audit_record
from studio.interaction.qa import QuestionAction


def test_each_moderator_action_has_its_own_name_and_target() -> None:
    """Mute and unmute, ban and unban, slow mode and filter are told apart; settings have no
    target; a viewer's own facts are not audited."""
    cases: list[tuple[f.Fact, AuditAction, str | None]] = [
        (f.ViewerModerated(viewer_id="v", by="m", muted_until=5), AuditAction.CHAT_MUTE, "v"),
        (f.ViewerModerated(viewer_id="v", by="m", muted_until=0), AuditAction.CHAT_UNMUTE, "v"),
        (f.ViewerModerated(viewer_id="v", by="m", banned=True), AuditAction.CHAT_BAN, "v"),
        (f.ViewerModerated(viewer_id="v", by="m", banned=False), AuditAction.CHAT_UNBAN, "v"),
        (f.ChatSettingsChanged(by="m", slow_mode_seconds=0), AuditAction.CHAT_SLOW_MODE, None),
        (f.ChatSettingsChanged(by="m", blocked_words=[]), AuditAction.CHAT_FILTER, None),
        (f.ChatDeleted(message_id="e1", by="m"), AuditAction.CHAT_DELETE, "e1"),
        (f.QuestionModerated(question_id="q", action=QuestionAction.ANSWERING, by="m"),
         AuditAction.QA_ANSWERING, "q"),
        (f.QuestionMerged(question_id="q", into="r", by="m"), AuditAction.QA_MERGE, "q"),
        (f.PollClosed(poll_id="p", by="m"), AuditAction.POLL_CLOSE, "p"),
    ]  # fmt: skip
    for fact, action, target in cases:
        record = audit_record(fact)
        assert record is not None
        assert (record.action, record.target) == (action, target)
    assert audit_record(f.QuestionVoted(question_id="q", viewer_id="v")) is None
