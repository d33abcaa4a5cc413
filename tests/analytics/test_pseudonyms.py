"""Pseudonyms: French numbers normalised to E.164, keyed hashes, the secret generated once (mode 600)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.pseudonyms import analytics_secret, normalise_phone, phone_pseudonym, sender_pseudonym
from core.settings import Settings


@pytest.mark.parametrize(
    "written",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033612345678",
        "33612345678",
        "sip:0612345678@pbx.local",
        "sip:+33612345678@10.0.0.1;user=phone",
        "tel:+33612345678",
    ],
)
def test_french_numbers_are_normalised_to_e164(written: str) -> None:
    assert normalise_phone(written) == "+33612345678"


def test_other_numbers_and_no_number() -> None:
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("") is None and normalise_phone("anonymous") is None and normalise_phone(None) is None


def test_pseudonyms_are_keyed_hashes(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, analytics_secret="one")
    other = Settings(var_dir=tmp_path, analytics_secret="two")
    assert phone_pseudonym(settings, "06 12 34 56 78") == phone_pseudonym(settings, "+33612345678")
    assert phone_pseudonym(settings, "06 12 34 56 78") != phone_pseudonym(other, "06 12 34 56 78")
    assert len(sender_pseudonym(settings, "abc")) == 64 and "abc" not in sender_pseudonym(settings, "abc")
    assert sender_pseudonym(settings, "+33612345678") != phone_pseudonym(settings, "+33612345678")
    assert phone_pseudonym(settings, "anonymous") is None


def test_the_default_secret_is_generated_once_readable_by_this_user_only(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    secret = analytics_secret(settings)
    path = tmp_path / "var" / "analytics_secret"
    assert len(secret) > 40 and path.read_text() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert analytics_secret(Settings(var_dir=tmp_path / "var")) == secret
    assert sender_pseudonym(settings, "x") == sender_pseudonym(Settings(var_dir=tmp_path / "var"), "x")
