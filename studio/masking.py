"""Masking of personal data in patient messages before an editor sees them or they become training examples.

French social security numbers (NIR), phone numbers and e-mail addresses are replaced by
« [n° de sécurité sociale] », « [téléphone] » and « [e-mail] ». The NIR is masked first:
its digits would otherwise be partly taken for a phone number.
"""

from __future__ import annotations

import re

SOCIAL_SECURITY_LABEL = "[n° de sécurité sociale]"
PHONE_LABEL = "[téléphone]"
EMAIL_LABEL = "[e-mail]"

# Separators people type between groups of digits.
_SEP = r"[ \u00a0.\-]?"

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)

# NIR: sex (1 or 2), year (2 digits), month (2), department (2 digits, or 2A/2B for Corsica),
# commune (3), order number (3), then the 2-digit key: 15 characters, with or without separators.
SOCIAL_SECURITY = re.compile(
    rf"(?<![\dA-Za-z])[12]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[ABab]){_SEP}\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?(?!\d)"
)

# French numbers: 0 then 9 digits, or +33 / 0033 (optionally "(0)") then 9 digits; digits grouped by two
# (or not at all) with spaces, dots or dashes.
PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)33{_SEP}(?:\(0\){_SEP})?[1-9]|0[1-9])(?:{_SEP}\d{{2}}){{4}}(?!\d)"
)


def mask_personal_data(text: str) -> str:
    """`text` with its social security numbers, phone numbers and e-mail addresses replaced by labels."""
    if not text:
        return text
    text = EMAIL.sub(EMAIL_LABEL, text)
    text = SOCIAL_SECURITY.sub(SOCIAL_SECURITY_LABEL, text)
    return PHONE.sub(PHONE_LABEL, text)
