"""The main test traffic: conversations with known outcomes, and the indicators they must give."""

from __future__ import annotations

from tests.analytics.tracker_data import action, answered, at, bot, feedback, save, session_start, slot, user

PHONE = "06 12 34 56 78"  # the caller of D, E, F and K, written three ways by the PBX
CALLBACK_PHONE = "06 98 76 54 32"
SENDERS = [
    "web-alice",
    "web-bob",
    "web-carol",
    "web-dan",
    "web-eve",
    "web-frank",
    "call-1",
    "call-2",
    "call-3",
    "call-4",
    "call-5",
]
TEXTS = ["Jean Dupont", "je me gare où", "horaires de visite", "mon compte rendu"]


def voice(text: str, intent: str, confidence: float = 0.95, caller: str | None = None):
    return answered(text, intent, confidence, channel="voice", caller=caller)


def write_traffic(url: str) -> None:
    """November 2026 (Tuesday 17th = T0), plus one conversation before and two after the period."""
    # A: answered, "oui" to the feedback: contained.
    save(
        url,
        "web-alice",
        [*session_start(), user("bonjour", "greet", 0.99), *answered("je me gare où", "ask_parking", 0.95), *feedback("affirm")],
        at(2026, 11, 17, 9, 30),
    )
    # B: answered, "non"; the same person asks again 3 days later (C): a recontact, not contained.
    save(
        url,
        "web-bob",
        [*session_start(), *answered("horaires de visite", "ask_visiting_hours", 0.9), *feedback("deny")],
        at(2026, 11, 17, 10, 15),
    )
    # C: a new session of the same conversation; one message falls back after a confident intent: contained.
    save(
        url,
        "web-bob",
        [
            *session_start(),
            *answered("horaires de visite ?", "ask_visiting_hours", 0.85),
            user("et le truc", "inform", 0.92),
            action("action_fallback_suggestions"),
        ],
        at(2026, 11, 20, 9, 0),
    )
    # D: phone, asks for a human and is transferred to imaging.
    save(
        url,
        "call-1",
        [
            *session_start(),
            *voice("mon compte rendu", "request_report", 0.8, caller=PHONE),
            user("je veux parler à quelqu'un", "request_human", 0.97, channel="voice", caller=PHONE),
            action("action_handover"),
            slot("handover_service", "imagerie"),
            action("action_transfer"),
            bot("Je vous mets en relation avec l'imagerie.", None),
            bot(None, None, handover={"service": "imagerie", "summary": "compte rendu"}),
        ],
        at(2026, 11, 18, 9, 5),
    )
    # E: the same caller (another format) the next day, same topic: D was recontacted; E answered, contained
    # (F comes 11 days later: beyond 7 days).
    save(
        url,
        "call-2",
        [*session_start(), *voice("mon compte rendu", "request_report", 0.9, caller="+33 6 12 34 56 78")],
        at(2026, 11, 19, 9, 45),
    )
    # F: the same caller on Sunday 29th; K (December 2nd, after the period) recontacts it: not contained.
    save(
        url,
        "call-3",
        [*session_start(), *voice("mon compte rendu", "request_report", 0.9, caller="sip:0612345678@pbx.local")],
        at(2026, 11, 29, 9, 10),
    )
    # G: never understood, then a callback request (the phone number given in the form).
    save(
        url,
        "web-carol",
        [
            *session_start(),
            user("blabla", "nlu_fallback", 0.3),
            action("action_fallback_suggestions"),
            user("euh truc", "nlu_fallback", 0.2),
            action("action_fallback_suggestions"),
            user("bidule", "nlu_fallback", 0.25),
            action("action_fallback_suggestions"),
            user("un humain", "request_human", 0.9),
            action("action_handover"),
            slot("handover_service", "admissions"),
            action("callback_form"),
            user("Jean Dupont", "inform", 0.6),
            slot("callback_name", "Jean Dupont"),
            user(CALLBACK_PHONE, "inform", 0.7),
            slot("callback_phone", CALLBACK_PHONE),
            action("action_save_callback"),
        ],
        at(2026, 11, 17, 11, 20),
    )
    # H: an emergency on the phone, anonymous caller.
    save(
        url,
        "call-4",
        [
            *session_start(),
            user("il ne respire plus", "emergency", 0.99, channel="voice"),
            action("action_emergency"),
            bot("Appelez le 15.", "utter_emergency"),
        ],
        at(2026, 11, 17, 12, 0),
    )
    # I: only small talk: abandoned.
    save(
        url,
        "web-dan",
        [*session_start(), user("bonjour", "greet", 0.99), user("au revoir", "goodbye", 0.99)],
        at(2026, 11, 17, 13, 40),
    )
    # Outside the period (local time): October 31st at 23:30, December 1st at 00:30 (still November 30th in UTC), and K.
    save(url, "web-eve", [*session_start(), *answered("je me gare où", "ask_parking")], at(2026, 10, 31, 23, 30))
    save(url, "web-frank", [*session_start(), *answered("je me gare où", "ask_parking")], at(2026, 12, 1, 0, 30))
    save(
        url, "call-5", [*session_start(), *voice("mon compte rendu", "request_report", 0.9, caller=PHONE)], at(2026, 12, 2, 10, 0)
    )
