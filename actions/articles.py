"""Answers that are an editor's article, read as written (pre-operative instructions…)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, KnowledgeAction, with_update_date
from actions.kb_repository import KnowledgeBase


class ArticleAction(KnowledgeAction):
    """Says the article `article_slug`; a subclass sets it and its `name()`."""

    article_slug: str

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        article = kb.article(self.article_slug)
        if article is None:
            raise LookupError(f"article {self.article_slug!r} missing from the knowledge base")
        dispatcher.utter_message(text=with_update_date(article.body, article))
        return []


class ActionPreopFasting(ArticleAction):
    """Needs intent `ask_preop_fasting`."""

    article_slug = "preop-jeune"

    def name(self) -> str:
        return "action_preop_fasting"
