"""Pseudonymised identifiers: sender ids and phone numbers become keyed hashes (HMAC-SHA256).

The analytics tables and the contact history never hold an identifier in clear: the same person gets the same
pseudonym (so recontacts can be counted and contacts found again from a phone number),
and nobody without the secret (`settings.analytics_secret`, or a random one generated once
into VAR_DIR/analytics_secret, readable by this user only) can tell who it is.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from core.secret_files import generated_secret
from core.settings import Settings


def analytics_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in VAR_DIR (mode 600)."""
    return settings.analytics_secret or generated_secret(settings.var_dir / "analytics_secret")


def normalise_phone(value: str | None) -> str | None:
    """A phone number in E.164 ('+33612345678' for '06 12 34 56 78', '0033 6…', '+33 (0)6…' or 'sip:0612345678@pbx'),
    other international numbers as '+' and their digits; None when there is no number (anonymous caller, a web call)."""
    if not value:
        return None
    text = str(value).strip()
    match = re.match(r"^(?:sips?|tel):([^@;]+)", text, re.IGNORECASE)
    if match:
        text = match.group(1)
    text = text.replace("(0)", "")
    if re.search(r"[^\d\s+().\-/]", text):  # 'anonymous', 'websocket:127.0.0.1': not a phone number
        return None
    international = text.lstrip().startswith("+")
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 17:
        return None
    if digits.startswith("00"):
        digits, international = digits[2:], True
    if international or (digits.startswith("33") and len(digits) == 11):
        return f"+{digits}"
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return f"+33{digits[1:]}"
    return digits


def pseudonym(settings: Settings, value: str, *, kind: str = "id") -> str:
    """The keyed hash (hex) of an identifier; `kind` separates the spaces of sender ids and phone numbers."""
    message = f"{kind}:{value}".encode("utf-8")
    return hmac.new(analytics_secret(settings).encode("utf-8"), message, hashlib.sha256).hexdigest()


def sender_pseudonym(settings: Settings, sender_id: str) -> str:
    """The pseudonym of a Rasa conversation (its sender id)."""
    return pseudonym(settings, sender_id, kind="sender")


def phone_pseudonym(settings: Settings, phone: str | None) -> str | None:
    """The pseudonym of a phone number, whatever way it was written; None when there is no number."""
    number = normalise_phone(phone)
    return pseudonym(settings, number, kind="phone") if number else None
