"""Answers that are an editor's article, read as written, and articles found by search."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, KnowledgeAction, latest_entity, with_update_date
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


def say_article(dispatcher: CollectingDispatcher, kb: KnowledgeBase, slug: str) -> bool:
    """Say the article and offer its related ones; False when it does not exist."""
    article = kb.article(slug)
    if article is None:
        return False
    related = kb.titles(list(article.related)) if article.related else {}
    dispatcher.utter_message(text=with_update_date(article.body, article))
    if related:
        dispatcher.utter_message(text="À voir aussi :", buttons=article_buttons(related))
    return True


class ArticleAction(KnowledgeAction):
    """Says the article `article_slug`; a subclass sets it and its `name()`."""

    article_slug: str

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        if not say_article(dispatcher, kb, self.article_slug):
            raise LookupError(f"article {self.article_slug!r} missing from the knowledge base")
        return []


class ActionPreopFasting(ArticleAction):
    """Needs intent `ask_preop_fasting`."""

    article_slug = "preop-jeune"

    def name(self) -> str:
        return "action_preop_fasting"


class ActionShowArticle(KnowledgeAction):
    """Needs intent `show_article` with entity `article` (a slug, sent by the buttons of a search)."""

    def name(self) -> str:
        return "action_show_article"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        slug = latest_entity(tracker, "article")
        if not slug or not say_article(dispatcher, kb, slug):
            dispatcher.utter_message(text="Je ne retrouve pas cette fiche : elle a peut-être été retirée. Pouvez-vous reformuler votre question ?")
        return []
