"""Rasa's side of `core.degraded`: an action that fails in Rasa (its action server away) gives the polite answer.

`install` (called by `accueil.rasa_launch` before `rasa run` starts) wraps every action Rasa runs; the
switchboard's number in the answer is read from the knowledge base once, when Rasa starts.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from core.degraded import answer_while_away, previous_bot_response
from core.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def switchboard_phone(settings: Settings, wait_seconds: float = 5.0) -> Optional[str]:
    """The organisation's switchboard number from the knowledge base, else ACCUEIL_SWITCHBOARD_PHONE (blocking)."""
    from pathlib import Path

    from sqlalchemy import select
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from kb_sync.models import Organisation
    from store.engine import get_engine

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
            from core.metrics import count_error

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
