"""Answers that are an editor's article, read as written, and articles found by search."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, KnowledgeAction, ask_feedback, latest_entity, no_question, with_update_date
from actions.call_reasons import CALL_REASONS
from actions.kb_repository import KnowledgeBase
from kb_sync.search_index import SearchHit


def article_buttons(hits: list[SearchHit] | dict[str, str]) -> list[dict]:
    """Buttons that open articles: from search hits, or from {slug: title}."""
    pairs = [(h.slug, h.title) for h in hits] if isinstance(hits, list) else list(hits.items())
    return [{"title": title, "payload": f'/show_article{{"article":"{slug}"}}'} for slug, title in pairs]


# When the intent's own answer stayed general, an article is offered only if it holds
# at least this many terms of the question: one shared word is too often chance.
SPECIFIC_MATCH = 2


def offer_found_articles(dispatcher: CollectingDispatcher, kb: KnowledgeBase, question: str, intro: str, min_matched: int = 1) -> bool:
    """Offer, as buttons, the articles a search finds holding `min_matched` terms of the question."""
    hits = [hit for hit in kb.search(question) if hit.matched >= min_matched]
    if hits:
        dispatcher.utter_message(text=intro, buttons=article_buttons(hits))
    return bool(hits)


def say_article(dispatcher: CollectingDispatcher, kb: KnowledgeBase, slug: str, related: bool = True, addendum: str | None = None) -> bool:
    """Say the article (and `addendum`), then offer its related ones; False when it does not exist."""
    article = kb.article(slug)
    if article is None:
        return False
    others = kb.titles(list(article.related)) if related and article.related else {}
    text = with_update_date(article.body, article)
    dispatcher.utter_message(text=f"{text}\n\n{addendum}" if addendum else text)
    if others:
        dispatcher.utter_message(text="À voir aussi :", buttons=article_buttons(others))
    return True


class ActionAnswerArticle(KnowledgeAction):
    """The article of the latest intent's call reason (`actions.call_reasons.ARTICLE_INTENTS`),
    and the hours of a place the question names ("régler à la caisse" → the billing office's hours)."""

    def name(self) -> str:
        return "action_answer_article"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reason = CALL_REASONS.get(intent)
        if reason is None or reason.article is None:
            raise LookupError(f"no article for intent {intent!r}")
        from actions.opening_hours import named_place_hours  # opening_hours builds on this module

        hours = named_place_hours(kb, latest_entity(tracker, "place"))
        if not say_article(dispatcher, kb, reason.article, addendum=f"Horaires : {hours}" if hours else None):
            raise LookupError(f"article {reason.article!r} missing from the knowledge base")
        return ask_feedback(dispatcher)


class ActionShowArticle(KnowledgeAction):
    """Needs intent `show_article` with entity `article` (a slug, sent by the buttons of a search)."""

    def name(self) -> str:
        return "action_show_article"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        slug = latest_entity(tracker, "article")
        if not slug or not say_article(dispatcher, kb, slug):
            dispatcher.utter_message(text="Je ne retrouve pas cette fiche : elle a peut-être été retirée. Pouvez-vous reformuler votre question ?")
            return no_question()
        return ask_feedback(dispatcher)
