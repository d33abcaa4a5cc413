"""Finds which place or ward the patient means: NLU entity first, then the words of the message.

Matching against the knowledge base's own synonyms means an editor can add a
new word for a place without retraining the model. Patients shorten words
("factu", "pédia") and mistype them ("cafétaria"): a word of the message
that starts a synonym, or nearly spells one, counts too.
"""

from __future__ import annotations

import difflib
from typing import Sequence, TypeVar

from actions.french_text import find_mention, fold

Named = TypeVar("Named")

MIN_PARTIAL_LENGTH = 4
TYPO_SIMILARITY = 0.85


def _names(item) -> tuple[str, ...]:
    return (item.slug, item.name, *item.synonyms)


def _partial_match(items: Sequence[Named], message: str) -> Named | None:
    """One item a word of whose names the message shortens or mistypes; None if none or several.

    Only distinctive words count: "service" names several places and says nothing.
    """
    words_of = {item.slug: {w for name in _names(item) for w in fold(name).split() if len(w) >= MIN_PARTIAL_LENGTH} for item in items}
    shared = {w for slug, words in words_of.items() for w in words if any(w in other for s, other in words_of.items() if s != slug)}
    words_of = {slug: words - shared for slug, words in words_of.items()}
    found = set()
    for token in fold(message).split():
        if len(token) < MIN_PARTIAL_LENGTH:
            continue
        for slug, words in words_of.items():
            if any(w.startswith(token) or difflib.SequenceMatcher(None, token, w).ratio() >= TYPO_SIMILARITY for w in words):
                found.add(slug)
    if len(found) == 1:
        return next(item for item in items if item.slug in found)
    return None


def resolve(items: Sequence[Named], entity_value: str | None, message: str | None) -> Named | None:
    """`items` have `slug`, `name` and `synonyms`; returns the one meant, or None."""
    by_slug = {item.slug: item for item in items}
    names = {item.slug: _names(item) for item in items}
    if entity_value:
        if entity_value in by_slug:
            return by_slug[entity_value]
        folded = fold(entity_value)
        for slug, candidates in names.items():
            if any(fold(name) == folded for name in candidates):
                return by_slug[slug]
    slug = find_mention(message or "", names)
    if slug:
        return by_slug[slug]
    return _partial_match(items, " ".join(filter(None, [entity_value, message])))
