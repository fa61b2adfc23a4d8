"""The code and message of a refusal caught by pytest.raises."""

from __future__ import annotations

import pytest

from studio.errors import Refused


def refused(exc: pytest.ExceptionInfo[Refused]) -> tuple[str, str]:
    """The refusal's code and message."""
    return exc.value.code, exc.value.message
