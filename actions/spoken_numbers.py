"""Numbers the patient typed or said ("zéro six douze…", "il y a dix ans"): French phone numbers, the age of a stay."""

from __future__ import annotations

import datetime as dt
import re

from text_to_num import alpha2digit

from actions.french_text import fold


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


# A stay under this many years old gets its medical record copy within the short delay.
RECENT_YEARS = 5
RECENT_WORDS = ("mois", "semaine", "annee derniere", "cette annee", "recent", "hier", "l an dernier", "l an passe")
OLD_WORDS = ("ancien", "longtemps", "tres vieux")


def stay_age(text: str, today: dt.date) -> str | None:
    """'recent' (under 5 years), 'old', or None when the text does not say."""
    written = fold(digits_of(text))
    more = re.search(r"plus de (\d+) ans", written)
    if more:
        return "old" if int(more.group(1)) >= RECENT_YEARS else None
    less = re.search(r"moins de (\d+) ans", written)
    if less:
        return "recent" if int(less.group(1)) <= RECENT_YEARS else None
    year = re.search(r"\b(19[5-9]\d|20\d\d)\b", written)
    if year:
        age = today.year - int(year.group(1))
        return "recent" if age < RECENT_YEARS else "old"
    years = re.search(r"\b(\d+) ans?\b", written)
    if years:
        return "recent" if int(years.group(1)) < RECENT_YEARS else "old"
    if any(word in written for word in RECENT_WORDS):
        return "recent"
    if any(word in written for word in OLD_WORDS):
        return "old"
    return None
