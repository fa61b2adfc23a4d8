"""The roles a caller can have; the one place this vocabulary is defined."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """Who a caller is: admins run the event, operators broadcast, moderators keep order,
    captioners write the live captions, interpreters speak a session's sound in another language."""

    ADMIN = "admin"
    OPERATOR = "operator"
    MODERATOR = "moderator"
    CAPTIONER = "captioner"
    INTERPRETER = "interpreter"
    VIEWER = "viewer"
