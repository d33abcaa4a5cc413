"""A short follow-up on another aspect of the previous topic: "ça coûte quelque chose ?", "je les aurai quand ?".

After the medical record, "et l'adresse pour le courrier ?" is about where to
post the request, not the hospital's address in general. A message is taken as
such a follow-up when it is short, asks an aspect (`actions.aspects`), and does
not name a topic of its own; the answer is the lines of the previous topic's
answer that speak of that aspect. The topic's answer is read from the knowledge
base (articles, wards' rules), so a new article knows its aspects at once.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.aspects import ASPECTS, asked_aspects, lines_about, sentences
from actions.call_reasons import DOCUMENT_INTENTS, DOCUMENTS, RECORD_DELAY_ARTICLES
from actions.context import DETAIL_ENTITIES, Context, conversation_context
from actions.describe import describe_ward_visits, record_address
from actions.document_names import document_names
from actions.french_text import fold, fold_typed
from actions.kb_repository import KnowledgeBase
from actions.resolve import resolve
from actions.say import contact_lines
from actions.time_expressions import stay_age
from core.catalogue import CALL_REASONS, EMERGENCY_INTENT, NOT_A_QUESTION, OUT_OF_SCOPE
from core.settings import get_settings

MEDICAL_RECORD = "dossier_medical"
# A follow-up is short; a longer message says what it is about.
MAX_FOLLOW_UP_WORDS = 14
VISIT_QUESTIONS = ("ask_visiting_hours", "ask_visit_children", "ask_visit_number", "ask_visit_flowers")
HOURS_WORDS = ("ouvre", "ouvert", "ouverte", "ouverts", "ouvertes", "ferme", "fermee", "horaires", "horaire")
VISIT_WORDS = ("visite", "visites", "visiter", "visiteurs", "venir voir", "rendre visite", "voir mon", "voir ma", "voir mes")
# Messages the NLU could not place: any topic may be theirs.
UNPLACED = NOT_A_QUESTION | {OUT_OF_SCOPE, None}


def _document_of(question: str | None, details: dict[str, str]) -> str | None:
    value = details.get("document_type") or DOCUMENT_INTENTS.get(question or "")
    return value if value in DOCUMENTS else None


def topic_lines(kb: KnowledgeBase, context: Context) -> list[str]:
    """The lines of the answer to the context's question, from the knowledge base."""
    question, details = context.question, context.details
    document = _document_of(question, details)
    slugs: list[str] = []
    lines: list[str] = []
    if document:
        slugs.append(DOCUMENTS[document].article)
    elif question in VISIT_QUESTIONS:
        wards = kb.wards()
        ward = resolve(wards, details.get("ward"), None) or next(w for w in wards if w.is_default)
        lines += sentences(describe_ward_visits(ward))
        if CALL_REASONS[question].article:
            slugs.append(CALL_REASONS[question].article)
    elif question in CALL_REASONS and CALL_REASONS[question].article:
        slugs.append(CALL_REASONS[question].article)
    for slug in slugs:
        article = kb.article(slug)
        if article is not None:
            lines += sentences(article.body)
    if document == MEDICAL_RECORD:
        lines.append(record_address(kb.organisation()))
    return lines + _service_contact(kb, question, document)


def _service_contact(kb: KnowledgeBase, question: str | None, document: str | None) -> list[str]:
    """The contact line (phone, e-mail, hours) of the service that handles the topic, from the contacts' directory."""
    service = DOCUMENTS[document].service if document else CALL_REASONS[question].service if question in CALL_REASONS else None
    place = next((p for p in kb.places() if p.slug == service), None)
    return contact_lines(kb, CALL_REASONS["ask_service_contact"].article, place.name) if place else []


def _is_aspect_word(word: str) -> bool:
    return any(aspect.asked.search(f" {word} ") for aspect in ASPECTS)


def _keywords(kb: KnowledgeBase, intent: str | None) -> set[str]:
    """The words naming `intent`'s topic: its document's names, or its article's keywords."""
    document = DOCUMENT_INTENTS.get(intent or "")
    if document:
        return set(document_names(kb)[document])
    if intent in CALL_REASONS and CALL_REASONS[intent].article:
        article = kb.article(CALL_REASONS[intent].article)
        return {fold(k).strip() for k in article.keywords} if article else set()
    return set()


def topic_words(kb: KnowledgeBase, intent: str | None) -> set[str]:
    """The words that show a message asks about `intent`'s topic: its document's names or article's keywords,
    for visits the visiting words and the wards, for opening hours the opening words (the place itself is
    found by `resolve`)."""
    if intent in UNPLACED:
        return set()
    if intent == "ask_opening_hours":
        return set(HOURS_WORDS)
    if intent in VISIT_QUESTIONS:
        wards = {fold(n).strip() for w in kb.wards() if not w.is_default for n in (w.name, *w.synonyms)}
        return set(VISIT_WORDS) | wards | _keywords(kb, intent)
    return _keywords(kb, intent)


def own_topic_words(kb: KnowledgeBase, intent: str | None, context: Context) -> set[str]:
    """The words that show a message is about `intent`'s topic rather than another aspect of the previous one's:
    its topic's words, less the words that ask an aspect and the previous topic's own."""
    if intent == "ask_opening_hours":
        words = {fold(n).strip() for place in kb.places() for n in (place.name, *place.synonyms)}
    elif intent in VISIT_QUESTIONS:
        words = {"visite", "visites", "visiter", "visiteurs"}
    else:
        words = topic_words(kb, intent)
    previous = _keywords(kb, context.question)
    return {w for w in words if w and not _is_aspect_word(w) and w not in previous}


def _named_details(tracker: Tracker) -> bool:
    """Whether the message names a place, a ward, a day or a document: the usual follow-ups handle those."""
    return any(e.get("entity") in DETAIL_ENTITIES for e in tracker.latest_message.get("entities") or [])


def names_topic(text: str, words: set[str]) -> bool:
    """Whether `text` holds one of `words` (folded), elisions typed without apostrophe included ("ladresse")."""
    folded = fold(text) + fold_typed(text)
    return any(f" {word} " in folded for word in words if word)


def aspect_follow_up(tracker: Tracker, kb: KnowledgeBase) -> tuple[str, list[str]] | None:
    """(the previous topic's intent, the lines that answer the latest message as a follow-up on it), or None."""
    message = tracker.latest_message.get("text") or ""
    if not message or message.startswith("/") or len(message.split()) > MAX_FOLLOW_UP_WORDS:
        return None
    context = conversation_context(tracker)
    if context.question is None:
        return None
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == context.question or intent == EMERGENCY_INTENT:
        return None
    if _document_of(context.question, context.details) == MEDICAL_RECORD:  # "mon hospitalisation date de dix ans"
        age = stay_age(message, get_settings().now().date())
        article = kb.article(RECORD_DELAY_ARTICLES[age]) if age else None
        if article is not None:
            return context.question, sentences(article.body)
    if _named_details(tracker):
        return None
    if (intent == "ask_opening_hours" and "place" in context.details) or (intent in VISIT_QUESTIONS and "ward" in context.details):
        return None  # the place or ward named before is the one asked about
    reason, previous = CALL_REASONS.get(intent), CALL_REASONS.get(context.question)
    if reason and previous and reason.article and reason.article == previous.article:
        return None  # the same article answers both
    aspects = asked_aspects(message)
    if not aspects:
        return None
    if names_topic(message, own_topic_words(kb, intent, context)):
        return None
    lines = lines_about(topic_lines(kb, context), aspects)
    return (context.question, lines) if lines else None
