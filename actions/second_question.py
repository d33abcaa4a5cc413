"""Two questions in one message: "on vient voir ma mère à quelle heure, et c'est payant le parking ?".

The NLU gives one intent; its ranking often holds the other one. A runner-up
intent is taken as a second question when the message has several clauses and
one of them, not the one the first answer covers, names that intent's topic
(the words of its article, its place or ward, its document). Its answer is then
given after the first, from the knowledge base.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.call_reasons import DOCUMENT_INTENTS, DOCUMENTS
from actions.describe import describe_place_hours, describe_ward_visits
from actions.french_text import fold, fold_typed
from actions.kb_repository import KnowledgeBase
from actions.resolve import resolve
from actions.topic import VISIT_QUESTIONS, topic_words
from core.catalogue import CALL_REASONS, NOT_A_QUESTION, OUT_OF_SCOPE, REQUEST_DOCUMENT

# A runner-up below this confidence is noise, whatever words the message holds.
MIN_CONFIDENCE = 0.005
RUNNERS_UP = 6
CLAUSE_SEPARATORS = re.compile(r"[?;!]|(?<!\d)\.(?!\d)|,| et (?:aussi |puis |sinon )?| puis | aussi | sinon | ensuite ")
NEVER_SECOND = NOT_A_QUESTION | {OUT_OF_SCOPE, REQUEST_DOCUMENT}


# A part that starts with a preposition completes the question before it ("…, pour une journée ?").
COMPLEMENT = re.compile(r"^ (?:pour|de|du|des|d|avec|en|a|au|aux|dans|sur|par|chez|vers|sans) ")


def clauses(text: str) -> list[str]:
    """The parts of a message that could each be a question: folded, two words at least, not a complement."""
    parts = (fold(part) for part in CLAUSE_SEPARATORS.split(text))
    return [part + fold_typed(part)[1:] for part in parts if len(part.split()) >= 2 and not COMPLEMENT.match(part)]


def _names(clause: str, words: set[str]) -> bool:
    return any(f" {word} " in clause for word in words if word)


def _answer_of(kb: KnowledgeBase, intent: str, clause: str) -> tuple[str, str] | None:
    """(the article or item answered, its text) for `intent` asked in `clause`."""
    if intent == "ask_opening_hours":
        place = resolve(kb.places(), None, clause)
        return (f"place:{place.slug}", describe_place_hours(place)) if place else None
    if intent in VISIT_QUESTIONS and intent != "ask_visit_flowers":
        wards = kb.wards()
        ward = resolve(wards, None, clause) or next(w for w in wards if w.is_default)
        return f"ward:{ward.slug}", describe_ward_visits(ward)
    slug = DOCUMENTS[DOCUMENT_INTENTS[intent]].article if intent in DOCUMENT_INTENTS else (CALL_REASONS.get(intent) and CALL_REASONS[intent].article)
    article = kb.article(slug) if slug else None
    return (slug, article.body) if article else None


def answered_articles(intent: str | None) -> set[str]:
    """The articles the answer to `intent` said."""
    if intent in DOCUMENT_INTENTS:
        return {DOCUMENTS[DOCUMENT_INTENTS[intent]].article}
    reason = CALL_REASONS.get(intent or "")
    return {reason.article} if reason and reason.article else set()


def second_answer(tracker: Tracker, kb: KnowledgeBase, first: str | None, answered: set[str]) -> str | None:
    """The answer to a second question of the latest message, or None; `first`: the intent the answer was about,
    `answered`: the articles already said."""
    message = tracker.latest_message.get("text") or ""
    parts = clauses(message)
    if len(parts) < 2 or message.startswith("/"):
        return None
    ranking = [item for item in tracker.latest_message.get("intent_ranking") or [] if item.get("name") not in (first, "nlu_fallback")]
    if first in NEVER_SECOND or first not in CALL_REASONS:
        return None
    first_words = topic_words(kb, first)
    for candidate in ranking[:RUNNERS_UP]:
        intent, confidence = candidate.get("name"), candidate.get("confidence") or 0.0
        if intent in NEVER_SECOND or intent not in CALL_REASONS or confidence < MIN_CONFIDENCE:
            continue
        words = topic_words(kb, intent) - first_words
        # A part of its own: it names the second topic, and the first is named elsewhere or not in it.
        clause = next(
            (c for c in parts if _names(c, words) and (not _names(c, first_words) or any(_names(o, first_words) for o in parts if o != c))),
            None,
        )
        if clause is None:
            continue
        found = _answer_of(kb, intent, clause)
        if found and found[0] not in answered:
            return found[1]
    return None
