"""Which document the patient names, in his own words, from the editors' articles (titles and keywords).

"le compte rendu de mon séjour", "une attestation d'hospitalisation", "mon arret
maladie": each document's article holds the words that name it, so an editor
adds a word without retraining, and a mistyped name still counts.
"""

from __future__ import annotations

import difflib

from actions.call_reasons import DOCUMENTS
from actions.french_text import fold
from actions.kb_repository import KnowledgeBase

# A document whose best name in the message is at least this share of the best one's is a close second.
CLOSE_SCORE = 0.8
TYPO_SIMILARITY = 0.8


def document_names(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Each document's names, folded: its label, its article's title and keywords, less the keywords that
    several documents share ("délai", "secrétariat", "employeur" name no document)."""
    names: dict[str, set[str]] = {}
    for key, kind in DOCUMENTS.items():
        article = kb.article(kind.article)
        words = [kind.label, key.replace("_", " ")]
        if article is not None:
            words += [article.title, *article.keywords]
        names[key] = {fold(word).strip() for word in words if fold(word).strip()}
    shared = {name for key, own in names.items() for name in own if any(name in other for k, other in names.items() if k != key)}
    return {key: sorted(own - shared, key=len, reverse=True) for key, own in names.items()}


def _nearly_said(name: str, tokens: list[str]) -> bool:
    """Whether some run of the message's words nearly spells `name`."""
    size = name.count(" ") + 1
    runs = (" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    return any(difflib.SequenceMatcher(None, run, name).ratio() >= TYPO_SIMILARITY for run in runs)


def documents_named(text: str, kb: KnowledgeBase) -> list[str]:
    """The documents `text` names, best first; several when they are named about as well (ambiguous)."""
    haystack = fold(text)
    tokens = haystack.split()
    names_of = document_names(kb)
    scores = {key: max((len(n) for n in names if f" {n} " in haystack), default=0) for key, names in names_of.items()}
    if not any(scores.values()):  # a mistyped name ("compte rendo", "bultin de situation")
        scores = {key: max((len(n) for n in names if len(n) >= 6 and _nearly_said(n, tokens)), default=0) for key, names in names_of.items()}
    scores = {key: score for key, score in scores.items() if score}
    if not scores:
        return []
    top = max(scores.values())
    return sorted((k for k, s in scores.items() if s >= CLOSE_SCORE * top), key=lambda k: -scores[k])
