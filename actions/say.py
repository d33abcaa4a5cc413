"""Saying the editors' articles: one article with its related ones, the items of a directory a question names,
or the articles a search finds, as buttons."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.french_text import find_mention, fold, fold_typed, format_date
from actions.kb_repository import ArticleInfo, KnowledgeBase
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


def with_update_date(text: str, article: ArticleInfo) -> str:
    """Adds the date of the information when the editor asked for it in the article."""
    if article.show_updated_at:
        return f"{text}\n\nInformation mise à jour le {format_date(article.updated_at)}."
    return text


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


# An article listing at least this many items is a directory: a question about one of them gets that one.
DIRECTORY_ITEMS = 5


def directory_items(kb: KnowledgeBase, slug: str, message: str) -> list[str]:
    """The lines of a directory article (contacts) that the message names, after its first line; [] for another
    article, or a message naming none or most of them."""
    article = kb.article(slug)
    lines = article.body.splitlines() if article else []
    if sum(line.startswith("- ") for line in lines) < DIRECTORY_ITEMS:
        return []
    entries = [line for line in lines[1:] if line.strip()]
    named = {w for w in (fold(message) + fold_typed(message)).split() if len(w) >= 4}
    places_and_wards = [*kb.places(), *kb.wards()]
    words_of = [{w for name in (i.name, *i.synonyms) for w in fold(name).split() if len(w) >= 4} for i in places_and_wards]
    shared = {w for words in words_of for w in words if sum(w in other for other in words_of) > 1}  # "service"
    mentioned = find_mention(message, {i.slug: (i.name, *i.synonyms) for i in places_and_wards})
    for item, words in zip(places_and_wards, words_of):
        if item.slug == mentioned:
            named |= words - shared
    common = {w for w in named if f" {w} " in fold(lines[0]) or sum(f" {w} " in fold(e) for e in entries) > len(entries) // 2}
    chosen = [e for e in entries if any(f" {w} " in fold(e) for w in named - common)]
    return [lines[0], *chosen] if 0 < len(chosen) <= len(entries) // 2 else []


def contact_lines(kb: KnowledgeBase, directory: str | None, name: str) -> list[str]:
    """The directory's lines (phone, e-mail, hours) of the service called `name`."""
    return directory_items(kb, directory, name)[1:] if directory else []
