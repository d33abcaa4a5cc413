"""Numbers the patient typed or said ("zéro six douze…", "quatorze heures"): number words as digits, French phone numbers."""

from __future__ import annotations

import re

from text_to_num import alpha2digit


def digits_of(text: str) -> str:
    """The text with French number words written as digits ("zero" spelt without its accent too)."""
    return alpha2digit(re.sub(r"\bzero\b", "zéro", text.lower()), "fr")


def french_phone(text: str) -> str | None:
    """A French phone number written '06 12 34 56 78', or None if the text holds none."""
    written = digits_of(text)
    digits = re.sub(r"\D", "", written.replace("+", "00"))
    if digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0[1-9]\d{8}", digits):
        return None
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))

