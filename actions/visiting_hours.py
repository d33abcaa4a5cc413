"""Visiting hours and rules of the wards (general wards, intensive care, maternity, paediatrics)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.articles import SPECIFIC_MATCH, offer_found_articles
from actions.base import Events, KnowledgeAction, latest_entity
from actions.french_text import capitalize_first, join_words, time_range
from actions.kb_repository import KnowledgeBase, VisitingRuleInfo, WardInfo
from actions.resolve import resolve


def describe_rule(rule: VisitingRuleInfo) -> str:
    when = "24h/24" if rule.all_day else f"tous les jours {time_range(rule.opens, rule.closes)}"
    details = []
    if rule.max_visitors:
        details.append(f"{rule.max_visitors} visiteurs au maximum à la fois")
    if rule.min_age:
        details.append(f"pas d'enfants de moins de {rule.min_age} ans")
    return f"{rule.audience} : {when}" + "".join(f", {d}" for d in details)


def describe_ward_visits(ward: WardInfo) -> str:
    intro = f"Visites en {ward.name}" if not ward.is_default else f"Visites dans les {ward.name}"
    if len(ward.rules) == 1:
        text = f"{intro} — {describe_rule(ward.rules[0])}."
    else:
        text = f"{intro} :\n" + "\n".join(f"- {capitalize_first(describe_rule(r))}" for r in ward.rules)
    if ward.note:
        text += f"\n{ward.note}"
    return text


class ActionVisitingHours(KnowledgeAction):
    """Needs intent `ask_visiting_hours` and entity `ward` (optional)."""

    def name(self) -> str:
        return "action_visiting_hours"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        wards = kb.wards()
        message = tracker.latest_message.get("text") or ""
        ward = resolve(wards, latest_entity(tracker, "ward"), message)
        if ward is not None:
            dispatcher.utter_message(text=describe_ward_visits(ward))
            return []
        default = next(w for w in wards if w.is_default)
        others = [w for w in wards if not w.is_default]
        names = join_words(f"en {w.name}" for w in others)
        dispatcher.utter_message(
            text=f"{describe_ward_visits(default)}\nLes règles sont différentes {names} : quel service vous intéresse ?",
            buttons=[
                {"title": capitalize_first(w.name), "payload": f'/ask_visiting_hours{{"ward":"{w.slug}"}}'} for w in others
            ],
        )
        offer_found_articles(dispatcher, kb, message, "Votre question porte peut-être sur :", min_matched=SPECIFIC_MATCH)
        return []
