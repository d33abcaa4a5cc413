"""French text as Accueil compares it: without accents, and in a plain form for whole-word matching."""

from __future__ import annotations

import re
import unicodedata


def strip_accents(text: str) -> str:
    """'Réanimation' -> 'Reanimation' (case kept)."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def match_form(text: str) -> str:
    """Lowercase, no accents, apostrophes and punctuation as spaces, padded: ' c est la rea '."""
    return f" {re.sub(r'[^a-z0-9]+', ' ', strip_accents(text.lower())).strip()} "
