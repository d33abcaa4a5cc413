"""Handing over to a human, with what the patient already said written down.

During the right service's office hours (its opening hours in the knowledge
base): the transfer is offered, with a one-line summary. Outside them: a
callback request (name, French phone number, reason) is taken by
`callback_form` and stored with the summary, and the patient is told when
the service will call back.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import contacts, records
from actions.base import Events, KnowledgeAction, no_question
from actions.call_reasons import DOCUMENTS
from actions.channel import is_voice
from actions.context import conversation_context
from actions.french_text import format_time
from actions.kb_repository import KnowledgeBase, PlaceInfo
from actions.office_hours import closing_time, is_open, next_opening, say_moment
from actions.spoken_numbers import french_phone
from core import degraded
from core.catalogue import CALL_REASONS, channel_label
from core.settings import get_settings

DEFAULT_SERVICE = "accueil"
DETAIL_LABELS = {"place": "lieu", "ward": "service", "day": "jour", "document_type": "document", "stay_type": "séjour"}
STAY_AGE_LABELS = {"recent": "séjour de moins de 5 ans", "old": "séjour de plus de 5 ans"}
MAX_QUOTED = 120


def _detail(kb: KnowledgeBase, entity: str, value: str) -> str:
    """'lieu laboratoire d'analyses (prises de sang)', 'document copie du dossier médical': names, not slugs."""
    names = {
        "place": lambda: {p.slug: p.name for p in kb.places()},
        "ward": lambda: {w.slug: w.name for w in kb.wards()},
        "document_type": lambda: {k: d.label for k, d in DOCUMENTS.items()},
    }
    readable = names[entity]().get(value, value) if entity in names else value
    return f"{DETAIL_LABELS[entity]} {readable}"


def handover_summary(tracker: Tracker, kb: KnowledgeBase) -> tuple[str, str]:
    """(one-line summary for the human who takes over, slug of the service that should)."""
    context = conversation_context(tracker, include_latest=True)
    document = tracker.get_slot("document_type")
    reason = CALL_REASONS.get(context.question) if context.question else None
    service = DOCUMENTS[document].service if document in DOCUMENTS else reason.service if reason else DEFAULT_SERVICE
    channel = tracker.get_latest_input_channel()
    parts = [f"Canal {channel_label(channel) or 'inconnu'}"]
    parts.append(f"motif : {reason.label if reason else 'demande de conseiller sans autre question'}")
    # A detail the reason already says ("motif : copie du dossier médical") is not repeated.
    details = [d for d in (_detail(kb, k, v) for k, v in context.details.items()) if d.split(" ", 1)[1] not in parts[-1]]
    if tracker.get_slot("stay_age") in STAY_AGE_LABELS:
        details.append(STAY_AGE_LABELS[tracker.get_slot("stay_age")])
    if details:
        parts.append("précisions : " + ", ".join(details))
    earlier = list(dict.fromkeys(CALL_REASONS[q].label for q in context.questions[:-1] if q in CALL_REASONS))
    if earlier:
        parts.append("questions précédentes : " + ", ".join(earlier))
    if tracker.get_slot("answer_helpful") is False:
        parts.append("réponse jugée insuffisante")
    if context.last_text:
        parts.append(f"dernier message : « {context.last_text[:MAX_QUOTED]} »")
    history = contacts.summary_line(contacts.previous_safely(tracker))
    if history:
        parts.append(history)
    return " · ".join(parts), service


def record_handover(tracker: Tracker, kind: str, service: PlaceInfo, summary: str, **details: Any) -> None:
    """Committed when this returns; raises otherwise."""
    settings = get_settings()
    records.save_handover(
        settings.db_url,
        settings.db_wait_seconds,
        sender_id=tracker.sender_id, channel=tracker.get_latest_input_channel(), kind=kind,
        service=service.slug, summary=summary, **details,
    )


def who(service: PlaceInfo) -> str:
    """'le secrétariat compétent (bureau des admissions)': place names carry no article."""
    return f"le secrétariat compétent ({service.name})"


def _service(kb: KnowledgeBase, slug: str) -> PlaceInfo:
    places = {p.slug: p for p in kb.places()}
    return places.get(slug) or places[DEFAULT_SERVICE]


class ActionHandover(KnowledgeAction):
    """Sets `office_open`: the rules then wait for the answer to the transfer offer, or start `callback_form`."""

    def name(self) -> str:
        return "action_handover"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        summary, slug = handover_summary(tracker, kb)
        service = _service(kb, slug)
        now = get_settings().now()
        remembered = [SlotSet("handover_service", service.slug), SlotSet("handover_summary", summary)]
        if is_open(service, now):
            closes = closing_time(service, now)
            until = f" (ouvert jusqu'à {format_time(closes)})" if closes else ""
            # On the phone the summary is not read out: it is only passed on.
            passed_on = "le résumé de notre échange" if is_voice(tracker) else f"ce résumé : « {summary} »"
            dispatcher.utter_message(
                text=f"Je peux vous mettre en relation avec {who(service)}{until}, en lui transmettant {passed_on}. Le souhaitez-vous ?",
                buttons=[{"title": "Oui", "payload": "/affirm"}, {"title": "Non", "payload": "/deny"}],
            )
            return [SlotSet("office_open", True), SlotSet("pending_question", "transfer"), *remembered]
        reopens = next_opening(service, now)
        when = f" Il rouvre {say_moment(reopens, now)}." if reopens else ""
        organisation = kb.organisation()
        dispatcher.utter_message(
            text=f"{who(service)[:1].upper()}{who(service)[1:]} est fermé en ce moment.{when} Je prends votre demande de rappel : "
            f"un conseiller vous rappellera dès l'ouverture. Si votre demande ne peut pas attendre, le standard est joignable "
            f"au {organisation.switchboard_phone} ({organisation.switchboard_hours})."
        )
        return [SlotSet("office_open", False), *no_question(), *remembered]


class ActionTransfer(KnowledgeAction):
    """The patient accepted the transfer: recorded, and the channel gets the handover as a custom payload."""

    def name(self) -> str:
        return "action_transfer"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        service = _service(kb, tracker.get_slot("handover_service") or DEFAULT_SERVICE)
        summary = tracker.get_slot("handover_summary") or handover_summary(tracker, kb)[0]
        organisation = kb.organisation()
        phone = service.phone or organisation.switchboard_phone
        record_handover(tracker, "transfer", service, summary)
        contacts.remember_safely(tracker, contacts.TRANSFER, service.slug)
        if is_voice(tracker):
            dispatcher.utter_message(text=f"Je vous mets en relation avec {who(service)}. Ne quittez pas.")
        else:
            dispatcher.utter_message(
                text=f"Je transmets votre demande au secrétariat compétent ({service.name}), avec le résumé de notre échange. "
                f"Vous pouvez les joindre au {phone} ; donnez-leur ce résumé : « {summary} »."
            )
        dispatcher.utter_message(json_message={"handover": {"service": service.slug, "service_name": service.name, "phone": phone, "summary": summary}})
        return no_question()


class ValidateCallbackForm(FormValidationAction):
    """Name, a French phone number, and the reason of a callback request."""

    def name(self) -> str:
        return "validate_callback_form"

    def validate_callback_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        name = " ".join(str(value or "").split())
        for prefix in ("je m'appelle ", "je suis ", "c'est ", "moi c'est ", "mon nom est ", "mon nom c'est "):
            if name.lower().startswith(prefix):
                name = name[len(prefix):]
        if 2 <= len(name) <= 80 and any(c.isalpha() for c in name):
            return {"callback_name": name}
        dispatcher.utter_message(response="utter_callback_name_unclear")
        return {"callback_name": None}

    def validate_callback_phone(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        phone = french_phone(str(value or ""))
        if phone:
            return {"callback_phone": phone}
        dispatcher.utter_message(response="utter_callback_phone_invalid")
        return {"callback_phone": None}

    def validate_callback_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        reason = " ".join(str(value or "").split())
        if len(reason) >= 3:
            return {"callback_reason": reason[:500]}
        dispatcher.utter_message(response="utter_callback_reason_unclear")
        return {"callback_reason": None}


class ActionSaveCallback(KnowledgeAction):
    """After `callback_form`: the request is stored with the summary, and the patient told when to expect the call.

    « C'est noté » is said only once the row is committed; when it cannot be written (the database away), the
    patient is told so, with the switchboard's number; the slots are kept, so a new request for a callback finds
    the form already filled and tries again."""

    def name(self) -> str:
        return "action_save_callback"

    def failure_text(self, phone: str | None) -> str | None:
        return degraded.callback_not_saved_text(phone)

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, kb: KnowledgeBase) -> Events:
        service = _service(kb, tracker.get_slot("handover_service") or DEFAULT_SERVICE)
        summary = tracker.get_slot("handover_summary") or handover_summary(tracker, kb)[0]
        # The number he typed: for the staff's record only (the patient is shown nothing of it).
        history = contacts.summary_line(contacts.previous_safely(tracker, typed=True))
        if history and history not in summary:
            summary = f"{summary} · {history}"
        now = get_settings().now()
        when = next_opening(service, now)
        record_handover(
            tracker, "callback", service, summary, callback_at=when,
            **{field: tracker.get_slot(f"callback_{field}") for field in ("name", "phone", "reason")},
        )
        contacts.remember_safely(tracker, contacts.CALLBACK, service.slug)
        moment = f" dès l'ouverture, {say_moment(when, now)}" if when else " dès que possible"
        dispatcher.utter_message(
            text=f"C'est noté, {tracker.get_slot('callback_name')}. Le secrétariat compétent ({service.name}) vous rappellera au "
            f"{tracker.get_slot('callback_phone')}{moment}, avec le résumé de votre demande."
        )
        return [SlotSet(s, None) for s in ("callback_name", "callback_phone", "callback_reason")] + no_question()
