"""Contact history: who called before, about what, and how it ended, so that nobody makes the patient repeat himself.

A person is identified by a phone number: the caller's number on the phone (the `metadata.caller` the voice
channel sets, which only the voice gateway may use: `bot.voice_channel`; the metadata a web client sends is
dropped, and the caller is read only in a call, from the voice channel's own messages), or the number given in a callback request (recorded, and shown to the staff
only: a typed number proves nothing, so the patient is never told the history of one). Each Rasa session of an identified
person is one contact (`records.ContactRecord`): its call reasons, its channel, and whether it ended
with a transfer or a callback. Only keyed hashes of the number and of the sender id are stored
(`core.pseudonyms`), and reasons are intent names, never the patient's words.

The greeting of a known caller recalls his last contact ("Vous nous avez appelés mardi au sujet de
votre compte rendu d'hospitalisation."), and the handover summary lists the previous contacts for
the human who takes over. Contacts older than `settings.contact_history_days` are not recalled;
`accueil purge` deletes them with the other traces past the retention period.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from actions import records
from actions.french_text import WEEKDAYS, format_date, join_words
from core.catalogue import CALL_REASONS, CALLBACK_KIND as CALLBACK, NOT_A_CALL_REASON, TRANSFER_KIND as TRANSFER, VOICE_CHANNEL as VOICE, channel_label
from core.pseudonyms import phone_pseudonym, sender_pseudonym
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

MAX_RECALLED = 3  # contacts listed in the handover summary


@dataclass(frozen=True)
class Contact:
    """A previous contact, in the hospital's local time."""

    at: dt.datetime
    channel: str | None
    reasons: tuple[str, ...]  # intents of CALL_REASONS
    outcome: str | None
    service: str | None


def caller_number(tracker: Tracker, typed: bool = True) -> str | None:
    """The phone number the person is known by in this conversation: the caller's (given by the telephone network),
    else, with `typed`, the number he gave for a callback.

    The caller's number counts only in a call (the latest message came through the voice channel) and only from
    the voice channel's messages: a message of any other channel may carry whatever metadata its client made up.
    """
    if tracker.get_latest_input_channel() == VOICE:
        for event in tracker.events:
            if event.get("event") == "user" and event.get("input_channel") == VOICE:
                caller = (event.get("metadata") or {}).get("caller")
                if isinstance(caller, str) and caller:
                    return caller
    phone = tracker.get_slot("callback_phone") if typed else None
    return str(phone) if phone else None


def person_key(settings: Settings, tracker: Tracker, typed: bool = True) -> str | None:
    """The pseudonym of the person's phone number; None for an anonymous caller or a web patient not yet identified."""
    return phone_pseudonym(settings, caller_number(tracker, typed))


def session_start(tracker: Tracker) -> dt.datetime:
    """The UTC start of the current Rasa session (the tracker the action server gets holds this session only)."""
    starts = [e for e in tracker.events if e.get("event") == "session_started"]
    first = starts[-1] if starts else (tracker.events[0] if tracker.events else {})
    timestamp = first.get("timestamp") or dt.datetime.now(dt.timezone.utc).timestamp()
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def utc_now(settings: Settings) -> dt.datetime:
    """Now in UTC (naive); the fixed clock of tests and demos, when set, is the hospital's local time."""
    return settings.now().replace(tzinfo=ZoneInfo(settings.timezone)).astimezone(dt.timezone.utc).replace(tzinfo=None)


def _reasons(tracker: Tracker) -> list[str]:
    """The call reasons asked in this session, in order; answers typed inside a form (a name, a reason) are not questions."""
    reasons: list[str] = []
    in_form = False
    for event in tracker.applied_events():
        if event.get("event") == "active_loop":
            in_form = bool(event.get("name"))
        elif event.get("event") == "user" and not in_form:
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in CALL_REASONS and intent not in NOT_A_CALL_REASON:
                reasons.append(intent)
    return list(dict.fromkeys(reasons))


def remember(tracker: Tracker, outcome: str | None = None, service: str | None = None) -> None:
    """Records (or updates) the current contact of an identified person; does nothing for an unidentified one.

    Blocking: call it from a worker thread. A transfer or callback outcome, once recorded, stays.
    """
    settings = get_settings()
    person = person_key(settings, tracker)
    reasons = _reasons(tracker)
    if person is None or not (reasons or outcome):
        return
    records.record_contact(
        settings.db_url,
        settings.db_wait_seconds,
        conversation_key=sender_pseudonym(settings, tracker.sender_id),
        session_start=session_start(tracker),
        person_key=person,
        channel=tracker.get_latest_input_channel(),
        reasons=reasons,
        outcome=outcome,
        service=service,
        now=utc_now(settings),
    )


def previous(tracker: Tracker, typed: bool = False) -> list[Contact]:
    """The person's earlier contacts (not this session), newest first, within `settings.contact_history_days`.

    Only the caller's number identifies the person unless `typed`: anybody can type a number, so what is
    said or shown to the patient never comes from one; the staff's records may (a callback request).
    """
    settings = get_settings()
    person = person_key(settings, tracker, typed)
    if person is None:
        return []
    conversation = sender_pseudonym(settings, tracker.sender_id)
    start = session_start(tracker)
    since = utc_now(settings) - dt.timedelta(days=settings.contact_history_days)
    zone = ZoneInfo(settings.timezone)
    return [
        Contact(
            at=row.created_at.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None),
            channel=row.channel,
            reasons=tuple(r for r in row.reasons.split() if r in CALL_REASONS),
            outcome=row.outcome,
            service=row.service,
        )
        for row in records.contacts_since(settings.db_url, settings.db_wait_seconds, person, since)
        if not (row.conversation_key == conversation and row.session_start == start)
    ]


def say_day(moment: dt.datetime, now: dt.datetime) -> str:
    """'aujourd'hui', 'hier', 'mardi' (within the week), 'le 3 novembre 2026'."""
    days = (now.date() - moment.date()).days
    if days <= 0:
        return "aujourd'hui"
    if days == 1:
        return "hier"
    if days < 7:
        return WEEKDAYS[moment.weekday()]
    return f"le {format_date(moment.date())}"


def about(intent: str) -> str:
    """'au sujet de votre compte rendu d'hospitalisation', 'au sujet du parking', 'au sujet des horaires de visite'."""
    topic = CALL_REASONS[intent].topic or CALL_REASONS[intent].label
    if topic.startswith("le "):
        return "au sujet du " + topic[3:]
    if topic.startswith("les "):
        return "au sujet des " + topic[4:]
    if topic.startswith(("un ", "une ")):
        return "au sujet d'" + topic
    return "au sujet de " + topic


def recall(contact: Contact, now: dt.datetime) -> str:
    """The sentence of the greeting: 'Vous nous avez appelés mardi au sujet de …, et un rappel avait été demandé.'"""
    verb = "Vous nous avez appelés" if contact.channel == VOICE else "Vous nous avez écrit"
    topics = join_words(about(r)[len("au sujet ") :] for r in contact.reasons[:2])
    sentence = f"{verb} {say_day(contact.at, now)}"
    if topics:
        sentence += f" au sujet {topics}"
    if contact.outcome == CALLBACK:
        sentence += ", et vous aviez demandé à être rappelé"
    elif contact.outcome == TRANSFER:
        sentence += ", et vous aviez été mis en relation avec un conseiller"
    return sentence + "."


def summary_line(contacts: list[Contact]) -> str | None:
    """'contacts précédents : 17/11 téléphone (compte rendu d'hospitalisation ; rappel demandé), …' for the handover summary."""
    if not contacts:
        return None
    parts = []
    for contact in contacts[:MAX_RECALLED]:
        what = [CALL_REASONS[r].label for r in contact.reasons] or ["sans motif reconnu"]
        if contact.outcome == CALLBACK:
            what.append("rappel demandé")
        elif contact.outcome == TRANSFER:
            what.append("transféré")
        channel = channel_label(contact.channel) or "canal inconnu"
        parts.append(f"{contact.at:%d/%m} {channel} ({' ; '.join(what)})")
    more = len(contacts) - MAX_RECALLED
    return "contacts précédents : " + ", ".join(parts) + (f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else "")


def remember_safely(tracker: Tracker, outcome: str | None = None, service: str | None = None) -> None:
    """`remember`, but a database failure only loses the history, never the patient's answer."""
    try:
        remember(tracker, outcome, service)
    except Exception:
        log.exception("Contact history of %s not recorded", tracker.sender_id[:8])


def previous_safely(tracker: Tracker, typed: bool = False) -> list[Contact]:
    try:
        return previous(tracker, typed)
    except Exception:
        log.exception("Contact history of %s not read", tracker.sender_id[:8])
        return []
