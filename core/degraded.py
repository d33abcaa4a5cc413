"""While a part is away, the patient still gets an answer.

What the patient gets when the action server is down or restarting (Rasa side, `accueil.action_guard`, installed
by `accueil.rasa_launch`), or when the database is down or locked for long (action server side, `actions.base`):

- On the website: « Je suis désolé, le service est momentanément indisponible. Merci de réessayer dans quelques
  instants. Si votre demande ne peut pas attendre, le standard de l'hôpital est joignable au 02 38 00 00 00. »
  (the message is named `utter_service_unavailable`; never an empty reply, never a stack trace).
- On the phone: the same apology and number, then « Voulez-vous que je vous passe le standard ? Dites oui, ou
  appuyez sur la touche 0. ». A « oui » right after that offer, or the key 0 (`/request_human`) while the part is
  still away, gets « Je vous passe le standard de l'hôpital. Ne quittez pas. » (`utter_switchboard_transfer`) and
  the `handover` payload of the `standard` service, which the voice gateway turns into a transfer (to the
  switchboard's extension, or its default target).
- The failed action changes nothing but the apology, and Rasa listens (`FollowupAction("action_listen")`): the
  patient's message and the apology are in the tracker store, an open form stays open on the same question, the
  slots keep their values, so once the part is back the conversation goes on from where it was (the patient says
  it again). The turn is not rewound (`UserUtteranceReverted`): inside a form, Rasa's replay of the events would
  rewind to before the form started.

The switchboard's number is read from the knowledge base's organisation row when Rasa starts and kept for the
process's life (the action server keeps the first one it reads); ACCUEIL_SWITCHBOARD_PHONE when it cannot be read.
The texts live here, not in the domain: they must be said without the action server, and a domain change would
mean training the model again.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from core.catalogue import AFFIRM, HUMAN_INTENT, VOICE_CHANNEL as VOICE

UNAVAILABLE = "utter_service_unavailable"
TRANSFER = "utter_switchboard_transfer"
SWITCHBOARD_SERVICE = "standard"
TRANSFER_INTENTS = (HUMAN_INTENT,)  # the key 0 on the phone, « un conseiller »
YES_INTENTS = (AFFIRM,)


def unavailable_text(phone: Optional[str], voice: bool) -> str:
    """The apology, with the switchboard's number, and on the phone the offer of a transfer."""
    switchboard = f"le standard de l'hôpital est joignable au {phone}" if phone else "le standard de l'hôpital reste joignable"
    text = (
        "Je suis désolé, le service est momentanément indisponible. Merci de réessayer dans quelques instants. "
        f"Si votre demande ne peut pas attendre, {switchboard}."
    )
    if voice:
        text += " Voulez-vous que je vous passe le standard ? Dites oui, ou appuyez sur la touche 0."
    return text


def callback_not_saved_text(phone: Optional[str]) -> str:
    """A callback request that could not be written: the patient is told so, never « c'est noté »."""
    switchboard = f"appeler le standard de l'hôpital au {phone}" if phone else "appeler le standard de l'hôpital"
    return (
        "Je suis désolé, je n'ai pas pu enregistrer votre demande de rappel : le service est momentanément indisponible. "
        f"Merci de réessayer dans quelques instants, ou d'{switchboard}."
    )


def answer_while_away(
    phone: Optional[str], channel: Optional[str], intent: Optional[str], previous_response: Optional[str], text: Optional[str] = None
) -> list[dict[str, Any]]:
    """The messages (Rasa's REST format: `text`, `custom`; `utter_action` names them) for a turn a part failed.

    `previous_response` is the name of the bot's last message before the patient's: a « oui » is a yes to the
    transfer only right after the offer. `text` replaces the apology (a callback request not saved)."""
    voice = channel == VOICE
    if voice and (intent in TRANSFER_INTENTS or (intent in YES_INTENTS and previous_response == UNAVAILABLE)):
        handover = {
            "service": SWITCHBOARD_SERVICE,
            "service_name": "standard",
            "phone": phone or "",
            "summary": "Canal téléphone · assistant momentanément indisponible : appel passé au standard",
        }
        return [
            {"text": "Je vous passe le standard de l'hôpital. Ne quittez pas.", "utter_action": TRANSFER},
            {"custom": {"handover": handover}},
        ]
    if text is not None and voice:
        text += " Voulez-vous que je vous passe le standard ? Dites oui, ou appuyez sur la touche 0."
    return [{"text": text if text is not None else unavailable_text(phone, voice), "utter_action": UNAVAILABLE}]


def previous_bot_response(events: Iterable[tuple[str, Optional[str]]]) -> Optional[str]:
    """The name of the bot's last message before the patient's latest one. `events` are (type, name) pairs,
    oldest first: ("user", None), ("action", "action_listen"), ("bot", its `utter_action`)…"""
    last_bot: Optional[str] = None
    before_user: Optional[str] = None
    for kind, name in events:
        if kind == "bot":
            last_bot = name
        elif kind == "user":
            before_user = last_bot
    return before_user
