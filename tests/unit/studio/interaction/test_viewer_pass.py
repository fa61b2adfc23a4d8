"""Viewer passes carry the id and the display name they were issued with."""

from __future__ import annotations

from studio.interaction.viewer_pass import PassHolder, issue_pass, read_pass
from studio.signing import Signer

SIGNER = Signer(b"k" * 32)


def test_a_pass_names_its_holder_until_it_expires() -> None:
    """A pass reads back as its viewer id and name (any characters, dots too) until it
    expires; a forged one does not read."""
    signed = issue_pass(SIGNER, "vwr_abc", "Eva E. ~ Ek", expires=100)
    assert read_pass(SIGNER, signed, now=99) == PassHolder("vwr_abc", "Eva E. ~ Ek")
    assert read_pass(SIGNER, signed, now=101) is None
    assert read_pass(SIGNER, signed.replace("vwr_abc", "vwr_abd"), now=99) is None


def test_a_pass_from_before_names_were_carried_reads_without_one() -> None:
    """A pass signed over the viewer id alone (earlier versions) still proves the id."""
    old = SIGNER.sign("viewer", "vwr_abc", 100)
    assert read_pass(SIGNER, old, now=50) == PassHolder("vwr_abc", None)
