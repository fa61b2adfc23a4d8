"""The roles a caller can have; the one place this vocabulary is defined."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """Who a caller is: admins run the event, operators broadcast, moderators keep order."""

    ADMIN = "admin"
    OPERATOR = "operator"
    MODERATOR = "moderator"
    VIEWER = "viewer"
