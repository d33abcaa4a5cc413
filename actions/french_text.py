"""French wording of hospital facts: times, weekly hours, lists; and accent-blind matching."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import groupby
from typing import Iterable, Sequence

from kb_sync.french import match_form as fold  # how matching sees text
from kb_sync.french import strip_accents

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


# Typed without the apostrophe: "ladresse", "lirm", "jappelle", "dinscription".
_ELIDED = re.compile(r" ([ldjmtsn]|qu)(?=[aeiouyh]\w{2,} )")


def fold_typed(text: str) -> str:
    """`fold`, with the elisions typed without their apostrophe split as if it were there ("lirm" -> "l irm")."""
    return _ELIDED.sub(r" \1 ", fold(text).replace(" ", "  ")).replace("  ", " ")


def find_mention(text: str, names_by_key: dict[str, Sequence[str]]) -> str | None:
    """The key whose name appears in `text` as whole words; the longest name wins."""
    haystack = fold(text) + fold_typed(text)
    best: tuple[int, str] | None = None
    for key, names in names_by_key.items():
        for name in names:
            needle = fold(name)
            if needle.strip() and needle in haystack and (best is None or len(needle) > best[0]):
                best = (len(needle), key)
    return best[1] if best else None


def format_time(value: dt.time) -> str:
    """07:30 -> 7h30, 13:00 -> 13h, 23:59 (end of day) -> minuit."""
    if (value.hour, value.minute) == (23, 59):
        return "minuit"
    return f"{value.hour}h{value.minute:02d}" if value.minute else f"{value.hour}h"


def time_range(opens: dt.time, closes: dt.time) -> str:
    return f"de {format_time(opens)} à {format_time(closes)}"


def join_words(words: Iterable[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b et c'."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def _days_phrase(days: list[int]) -> str:
    if len(days) == 7:
        return "tous les jours"
    if days == [5, 6]:
        return "le week-end"
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"du {WEEKDAYS[days[0]]} au {WEEKDAYS[days[-1]]}"
    return join_words(f"le {WEEKDAYS[d]}" for d in days)


def describe_week(hours: Iterable[tuple[int, dt.time, dt.time]]) -> str:
    """Opening periods -> 'du lundi au vendredi de 7h30 à 19h30, le samedi de 9h à 17h, fermé le dimanche'."""
    by_day = {day: (opens, closes) for day, opens, closes in hours}
    parts: list[str] = []
    # Consecutive days with the same hours read as one range; closed days are said last.
    runs = [(key, [day for day, _ in group]) for key, group in groupby(((d, by_day.get(d)) for d in range(7)), key=lambda x: x[1])]
    merged: dict[tuple[dt.time, dt.time] | None, list[list[int]]] = {}
    for key, days in runs:
        merged.setdefault(key, []).append(days)
    for key, day_runs in merged.items():
        if key is None:
            continue
        phrases = [_days_phrase(days) for days in day_runs]
        parts.append(f"{join_words(phrases)} {time_range(*key)}")
    closed = [day for day in range(7) if day not in by_day]
    if closed:
        parts.append(f"fermé {_days_phrase(closed)}")
    return ", ".join(parts)


def format_date(value: dt.date) -> str:
    months = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {months[value.month - 1]} {value.year}"


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


# A period that ends at this time ends at midnight (the knowledge base has no 24:00).
END_OF_DAY = dt.time(23, 59)

# The gender of the first noun of a place's name; other nouns are guessed from their ending.
MASCULINE_NOUNS = {"accueil", "bureau", "service", "laboratoire", "labo", "standard", "secretariat", "hall", "centre", "pole", "guichet",
                   "parking", "point", "espace", "cabinet", "hopital", "plateau", "relais", "self", "restaurant", "kiosque", "magasin",
                   "departement", "poste", "local", "musee", "lycee"}
FEMININE_NOUNS = {"cafeteria", "caisse", "boutique", "salle", "maison", "unite", "permanence", "creche", "banque", "consultation",
                  "consultations", "urgences", "imagerie", "radiologie", "pharmacie", "maternite", "direction", "facturation", "chapelle"}
MUTE_H_NOUNS = {"hopital", "hotel", "hebergement", "hospitalisation", "hopitaux"}  # "l'hôpital", but "le hall"
FEMININE_ENDINGS = ("ie", "ion", "te", "ee", "ure", "ette", "ance", "ence", "ine", "ique", "ade", "ise")


@dataclass(frozen=True)
class NounPhrase:
    """A name with its article, to make a sentence agree: 'le bureau des admissions', 'les consultations externes'."""

    text: str
    feminine: bool
    plural: bool

    def agree(self, adjective: str) -> str:
        """'ouvert' -> 'ouvert', 'ouverte', 'ouverts' or 'ouvertes'."""
        return adjective + ("e" if self.feminine else "") + ("s" if self.plural else "")

    def verb(self, singular: str, plural: str) -> str:
        return plural if self.plural else singular

    @property
    def pronoun(self) -> str:
        return ("elle" if self.feminine else "il") + ("s" if self.plural else "")


def noun_phrase(name: str) -> NounPhrase:
    """'bureau des admissions' -> 'le bureau des admissions'; "laboratoire d'analyses (prises de sang)" ->
    "le laboratoire d'analyses"; 'consultations externes' -> 'les consultations externes' (feminine, plural)."""
    bare = re.sub(r"\s*\(.*?\)", "", name).strip()
    head = fold(bare).split()[0] if fold(bare).split() else ""
    plural = head.endswith(("s", "x")) and head not in ("relais", "parcours")
    noun = head[:-1] if plural and head[:-1] in MASCULINE_NOUNS | FEMININE_NOUNS else head
    feminine = noun in FEMININE_NOUNS or head in FEMININE_NOUNS or (noun not in MASCULINE_NOUNS and noun.endswith(FEMININE_ENDINGS))
    if plural:
        article = "les "
    elif strip_accents(bare[:1].lower()) in "aeiouy" or head in MUTE_H_NOUNS:
        article = "l'"
    else:
        article = "la " if feminine else "le "
    return NounPhrase(article + bare, feminine, plural)
