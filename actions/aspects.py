"""The aspects of a topic a short follow-up asks about: cost, delay, address, who, a minor, documents, online, hours.

"ça coûte quelque chose ?" after the medical record asks the cost of the same
topic; the sentences of that topic's answer that speak of a cost answer it.
Each aspect has the words that ask it and the words that answer it, matched on
folded text (lowercase, no accents, punctuation as spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actions.french_text import fold


@dataclass(frozen=True)
class Aspect:
    name: str
    asked: re.Pattern
    answered: re.Pattern


def _pattern(alternatives: str) -> re.Pattern:
    return re.compile(rf" (?:{alternatives}) ")


ASPECTS = (
    Aspect(
        "cost",
        _pattern(
            r"coute\w*|couter|cout|payant\w*|payer|gratuit\w*|prix|tarifs?|cher|rembourse\w*|combien ca|faut il payer|frais"
            r"|(?:prendre|prend|prise|pris) en charge|mutuelle"
        ),
        _pattern(r"€|gratuit\w*|payant\w*|rembourse\w*|pris en charge|tarifs?|coute\w*|\d+ \d+ €|\d+ €"),
    ),
    Aspect(
        "delay",
        _pattern(
            r"combien de temps|delais?|dans combien|ca prend|ca met|sous combien|attendre|quand est ce que je (?:l|les|la|le) \w+"
            r"|je (?:l|les|la|le) (?:aurai|aurais|recevrai|reçois|recois|aurait)|(?:l|les|la|le) (?:aurai|recevrai) quand|vite|rapide\w*"
        ),
        _pattern(r"\d+ (?:jours?|heures?|mois|semaines?)|delais?|jour meme|comptez"),
    ),
    Aspect(
        "address",
        _pattern(r"adresse|courrier|envoyer|envoie|poste|poster|ecrire|lettre"),
        _pattern(r"adresse|avenue|courrier|direction|directeur"),
    ),
    Aspect(
        "who",
        _pattern(r"a qui|quel service|qui (?:dois|faut|contacter|appeler)|adresse a|adressee a|a quel|contacter|joindre|appeler|numero|num|telephone|tel|ki|j appelle qui|appelle qui"),
        _pattern(r"secretariat|service|directeur|bureau|medecin|02 \d\d"),
    ),
    Aspect(
        "minor",
        _pattern(r"enfants?|fils|fille|mineure?s?|ado|adolescente?|bebe|petite?|\d+ ans|seize ans|quinze ans|dix sept ans"),
        _pattern(r"mineure?s?|enfants?|parents|livret"),
    ),
    Aspect(
        "documents",
        _pattern(r"piece d identite|carte d identite|papiers?|apporter|justificatifs?|copie de (?:ma|mon)|carte vitale|documents?|pieces?"),
        _pattern(r"piece d identite|carte vitale|mutuelle|livret|copie|documents?|ordonnances?"),
    ),
    Aspect(
        "online",
        _pattern(r"internet|en ligne|site|web|portail|espace patient|mail|e mail|ordi|ordinateur|application|appli"),
        _pattern(r"en ligne|espace patient|formulaire|e mail|internet"),
    ),
    Aspect(
        "place",
        _pattern(r"guichet|sur place|au bureau|en personne|directement|direct|passer|passe|aller"),
        _pattern(r"guichet|sur place|bureau|jour meme|accueil"),
    ),
    Aspect(
        "number",
        _pattern(r"on est \d+|nous sommes \d+|on sera \d+|a \d+|a plusieurs|combien de (?:personnes|visiteurs)|nombre"),
        _pattern(r"\d+ visiteurs|au maximum|a la fois"),
    ),
    Aspect(
        "hours",
        _pattern(r"heures?|\d+ ?h\d*|matin|soir|apres midi|midi|ouvert|ouverte|horaires?|quand|rester|venir"),
        _pattern(r"\d+h\d*|24h 24|ouvert|fermee?"),
    ),
)


def asked_aspects(text: str) -> list[Aspect]:
    """The aspects a message asks about, in the order of `ASPECTS`."""
    folded = fold(text)
    return [aspect for aspect in ASPECTS if aspect.asked.search(folded)]


def sentences(text: str) -> list[str]:
    """The sentences and list items of an answer (a list item stays whole)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip(" -") for p in parts if p.strip(" -")]


def lines_about(lines: list[str], aspects: list[Aspect]) -> list[str]:
    """The lines that answer at least one of `aspects`, in their order (an e-mail address answers "online")."""
    return [
        line for line in lines if any(a.answered.search(fold(line)) or (a.name == "online" and "@" in line) for a in aspects)
    ]
