"""Opening hours of the hospital's places (reception, laboratory, emergency department…)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import SPECIFIC_MATCH, offer_found_articles
from actions.base import Events, KnowledgeAction, latest_entity
from actions.french_text import capitalize_first, describe_week
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.resolve import resolve

DEFAULT_PLACE = "accueil"


def describe_place_hours(place: PlaceInfo) -> str:
    where = f" ({place.location})" if place.location else ""
    name = capitalize_first(place.name) + where
    if place.always_open:
        text = f"{name} : ouvert 24h/24, 7 jours sur 7."
    else:
        text = f"{name} : ouvert {describe_week(place.hours)}."
    if place.note and place.note not in text:
        text = f"{text[:-1]}, {place.note}."
    if place.phone:
        text += f" Téléphone : {place.phone}."
    return text


class ActionOpeningHours(KnowledgeAction):
    """Needs intent `ask_opening_hours` and entity `place` (optional)."""

    def name(self) -> str:
        return "action_opening_hours"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        places = kb.places()
        message = tracker.latest_message.get("text") or ""
        place = resolve(places, latest_entity(tracker, "place"), message)
        if place is not None:
            dispatcher.utter_message(text=describe_place_hours(place))
            return []
        # No place named: the main reception and the emergency department, then a choice.
        shown = [p for p in places if p.slug == DEFAULT_PLACE] + [p for p in places if p.always_open and not p.phone]
        lines = [describe_place_hours(p) for p in shown]
        others = [p for p in places if p not in shown]
        dispatcher.utter_message(
            text="\n".join(lines + ["Pour un autre lieu, lequel ?"]),
            buttons=[
                {"title": capitalize_first(p.name.split(" (")[0]), "payload": f'/ask_opening_hours{{"place":"{p.slug}"}}'}
                for p in others
            ],
        )
        offer_found_articles(dispatcher, kb, message, "Votre question porte peut-être sur :", min_matched=SPECIFIC_MATCH)
        return []
