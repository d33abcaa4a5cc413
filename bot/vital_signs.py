"""The signs of a vital emergency in a patient's message: chest pain, breathing trouble, stroke signs, loss of
consciousness, heavy bleeding, suicidal thoughts. Pure text matching; `bot.vital_emergency` applies it in the NLU."""

from __future__ import annotations

import re

from kb_sync.french import match_form

# Patterns on folded text (lowercase, no accents, punctuation as spaces).
_VITAL_SIGNS = [
    r"(douleur|mal|serre|serrement|oppression)\w* (\w+ ){0,3}(poitrine|thorax|thoracique|coeur)",
    r"(mal|du mal|difficulte\w*|peine|n arrive (plus|pas)) (\w+ ){0,2}(a )?respirer",
    r"(ne|n) (respire|respirons|respirent) (plus|pas|mal)",
    r"\b(etouffe|etouffer|etouffement|suffoque)\w*",
    r"\b(inconscient|inconsciente|perdu connaissance|perd connaissance|ne se reveille (plus|pas)|ne reagit (plus|pas))\b",
    r"\bavc\b|\bbouche de travers\b|\bvisage (de travers|paralyse)|\b(bras|jambe|cote) (\w+ )?paralyse",
    r"\b(n arrive plus a parler|ne peut plus parler|parle bizarrement)\b",
    r"\b(saigne|saignement|hemorragie)\w* (\w+ ){0,2}(beaucoup|abondant\w*|enormement|arrete pas|s arrete pas|fort)",
    r"\bhemorragie\b",
    r"\b(suicid\w*|me suicider|en finir|envie de mourir|me tuer|mettre fin a mes jours|plus envie de vivre)\b",
    r"\b(crise cardiaque|infarctus|arret cardiaque)\b",
    r"\b(fait|fais|faisait) un malaise\b",
    r"\bconvulse\w*|\bconvulsion\w*",
]
_PATTERN = re.compile("|".join(f"(?:{p})" for p in _VITAL_SIGNS))


def looks_like_vital_emergency(text: str | None) -> bool:
    return bool(text) and _PATTERN.search(match_form(text)) is not None
