"""While a part is away, the patient still gets an answer.

What the patient gets when the action server is down or restarting (Rasa side, installed by
`accueil.rasa_launch`), or when the database is down or locked for long (action server side, `actions.base`):

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

import logging
from typing import Any, Iterable, Optional

from accueil.settings import Settings, get_settings

logger = logging.getLogger(__name__)

UNAVAILABLE = "utter_service_unavailable"
TRANSFER = "utter_switchboard_transfer"
SWITCHBOARD_SERVICE = "standard"
VOICE = "voice"
TRANSFER_INTENTS = ("request_human",)  # the key 0 on the phone, « un conseiller »
YES_INTENTS = ("affirm",)


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


def switchboard_phone(settings: Settings, wait_seconds: float = 5.0) -> Optional[str]:
    """The organisation's switchboard number from the knowledge base, else ACCUEIL_SWITCHBOARD_PHONE (blocking)."""
    from pathlib import Path

    from sqlalchemy import select
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from kb_sync.db import get_engine
    from kb_sync.models import Organisation

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        return settings.switchboard_phone  # no knowledge base yet: not even an empty file is made
    engine = get_engine(settings.db_url, wait_seconds)
    try:
        with Session(engine) as session:
            phone = session.execute(select(Organisation.switchboard_phone)).scalars().first()
    except Exception as exc:  # no knowledge base yet, or the database is away
        logger.warning("Switchboard number not read from the knowledge base (%s): ACCUEIL_SWITCHBOARD_PHONE is used", type(exc).__name__)
        phone = None
    finally:
        engine.dispose()  # read once: no connection kept open for it
    return phone or settings.switchboard_phone


# --- Rasa side -------------------------------------------------------------------------------------------


def _rasa_events(tracker: Any) -> list[tuple[str, Optional[str]]]:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    pairs: list[tuple[str, Optional[str]]] = []
    for event in tracker.events:
        if isinstance(event, UserUttered):
            pairs.append(("user", None))
        elif isinstance(event, ActionExecuted):
            pairs.append(("action", event.action_name))
        elif isinstance(event, BotUttered):
            pairs.append(("bot", (event.metadata or {}).get("utter_action")))
    return pairs


def rasa_events_while_away(tracker: Any, phone: Optional[str]) -> list:
    """The events a failed action is replaced with in Rasa: the answer, then listening."""
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.events import FollowupAction

    intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
    messages = answer_while_away(phone, tracker.get_latest_input_channel(), intent, previous_bot_response(_rasa_events(tracker)))
    return [create_bot_utterance(dict(message)) for message in messages] + [FollowupAction("action_listen")]


class _Guarded:
    """An action whose failure (its action server unreachable, restarting or in error) gives the answer above."""

    def __init__(self, action: Any, phone: Optional[str]) -> None:
        self._action = action
        self._phone = phone

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list:
        from rasa.core.actions.action import ActionExecutionRejection

        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as exc:
            from accueil.metrics import count_error

            # The exception's text names the action and the action server's address, never the patient's words.
            logger.error("Action %s failed (%s: %s): the patient is told the service is briefly unavailable", self._action.name(), type(exc).__name__, exc)
            count_error("action_server")
            return rasa_events_while_away(tracker, self._phone)


def install(settings: Optional[Settings] = None) -> None:
    """Makes every action Rasa runs in this process answer politely when it fails (before `rasa run` starts)."""
    from rasa.core.processor import MessageProcessor

    phone = switchboard_phone(settings or get_settings())
    run_action = MessageProcessor._run_action
    if getattr(run_action, "accueil_guarded", False):
        return

    async def _run_action(self: MessageProcessor, action: Any, *args: Any, **kwargs: Any) -> bool:
        return await run_action(self, _Guarded(action, phone), *args, **kwargs)

    _run_action.accueil_guarded = True  # type: ignore[attr-defined]
    MessageProcessor._run_action = _run_action
