"""Visiting hours and rules of the wards (general wards, intensive care, maternity, paediatrics).

Children and the number of visitors get the named ward's rules; with no ward
named, children get the editors' article and the number the general rules.
"""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.articles import say_article
from actions.base import Events, ask_feedback
from actions.call_reasons import CALL_REASONS
from actions.french_text import capitalize_first, join_words, time_range
from actions.kb_repository import KnowledgeBase, VisitingRuleInfo, WardInfo
from actions.named_items import NamedItemAction
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


class ActionVisitingHours(NamedItemAction):
    """Needs intent `ask_visiting_hours` and entity `ward` (optional)."""

    intent = "ask_visiting_hours"
    entity = "ward"
    follows = frozenset({"ask_visiting_hours", "ask_visit_children", "ask_visit_flowers", "ask_visit_number"})

    def name(self) -> str:
        return "action_visiting_hours"

    def items(self, kb: KnowledgeBase) -> list[WardInfo]:
        return kb.wards()

    def describe(self, item: WardInfo, day: str | None = None) -> str:
        return describe_ward_visits(item)

    def general(self, items: list[WardInfo]) -> tuple[str, list[WardInfo]]:
        default = next(w for w in items if w.is_default)
        others = [w for w in items if not w.is_default]
        names = join_words(f"en {w.name}" for w in others)
        return f"{describe_ward_visits(default)}\nLes règles sont différentes {names} : quel service vous intéresse ?", others

    def button_title(self, item: WardInfo) -> str:
        return capitalize_first(item.name)


class ActionVisitNumber(ActionVisitingHours):
    """Needs intent `ask_visit_number` and entity `ward` (optional)."""

    intent = "ask_visit_number"

    def name(self) -> str:
        return "action_visit_number"


class ActionVisitChildren(ActionVisitingHours):
    """Needs intent `ask_visit_children` and entity `ward` (optional).

    A ward with an age limit: its rules; any other ward, or none: the editors' article on children.
    """

    intent = "ask_visit_children"

    def name(self) -> str:
        return "action_visit_children"

    def answer_about(self, dispatcher: CollectingDispatcher, kb: KnowledgeBase, value: str | None, message: str, day: str | None) -> Events:
        ward = resolve(self.items(kb), value, message)
        if ward is not None and any(rule.min_age for rule in ward.rules):
            return super().answer_about(dispatcher, kb, value, message, day)
        if not say_article(dispatcher, kb, CALL_REASONS[self.intent].article):
            raise LookupError("children visiting article missing")
        return ask_feedback(dispatcher)
