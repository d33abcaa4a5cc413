"""A steady load of patients' conversations on the REST webhook, and what the patients got: the fault suite's measurements."""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

# French questions whose answers are in the demo knowledge base (the actions look them up in the database).
QUESTIONS = [
    "Quels sont les horaires d'ouverture de l'accueil principal du hall A ?",
    "A quelle heure ouvre le bureau des admissions ?",
    "Quelles sont les heures de visite dans les services d'hospitalisation ?",
    "c'est quoi les horaires de la cafet euh de la cafétéria",
    "Le laboratoire d'analyses est-il ouvert le samedi matin pour une prise de sang ?",
    "Quels sont les horaires de visite en réanimation ?",
    "le standard téléphonique est joignable à quelle heure",
    "Combien de temps avant l'opération dois-je arrêter de manger ?",
]
MESSAGES_PER_CONVERSATION = 8

# A reply a patient must never see: a stack trace, an English error, a server's error page.
_FORBIDDEN = re.compile(
    r"traceback|exception|error|erreur interne|internal server|stack|sorry|unavailable|failed|<html|\{\"", re.IGNORECASE
)
_FRENCH_WORDS = re.compile(r"\b(le|la|les|de|des|du|vous|est|et|à|au|pour|une|un|en|votre|nous|je)\b", re.IGNORECASE)
# The polite answer while a part is away (the service is briefly unavailable, call the switchboard).
_NOTICE = re.compile(r"désolé|indisponible|momentanément|quelques instants|réessayer", re.IGNORECASE)


def is_french_reply(text: str) -> bool:
    return bool(text.strip()) and not _FORBIDDEN.search(text) and bool(_FRENCH_WORDS.search(text))


@dataclass
class Exchange:
    """One message of a patient and what came back."""

    conversation: str
    message: str
    sent: float  # time.monotonic()
    received: float = 0.0
    status: int | None = None  # None: no HTTP answer at all (connection refused, timeout)
    texts: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """answer | notice (the polite unavailability answer) | unanswered (no HTTP reply) | http_error | empty | not_french"""
        if self.status is None:
            return "unanswered"
        if self.status != 200:
            return "http_error"
        if not self.texts or not any(t.strip() for t in self.texts):
            return "empty"
        text = "\n".join(self.texts)
        if not is_french_reply(text):
            return "not_french"
        return "notice" if _NOTICE.search(text) else "answer"

    @property
    def acknowledged(self) -> bool:
        """The patient got a reply: the message must then be in the conversation store."""
        return self.kind in ("answer", "notice")


class ConversationLoad:
    """`conversations` patients, each sending a message every `interval` seconds (after the previous reply)."""

    def __init__(self, webhook: str, conversations: int = 4, interval: float = 0.3, timeout: float = 20.0) -> None:
        self.webhook = webhook
        self.conversations = conversations
        self.interval = interval
        self.timeout = timeout
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> ConversationLoad:
        for i in range(self.conversations):
            thread = threading.Thread(target=self._patient, args=(i,), daemon=True, name=f"patient-{i}")
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)

    def _patient(self, index: int) -> None:
        session = requests.Session()
        questions = itertools.cycle(QUESTIONS[index % len(QUESTIONS):] + QUESTIONS[: index % len(QUESTIONS)])
        while not self._stop.is_set():
            sender = uuid.uuid4().hex
            for _ in range(MESSAGES_PER_CONVERSATION):
                if self._stop.is_set():
                    return
                exchange = Exchange(sender, next(questions), time.monotonic())
                try:
                    response = session.post(self.webhook, json={"sender": sender, "message": exchange.message}, timeout=self.timeout)
                    exchange.status = response.status_code
                    if response.status_code == 200:
                        exchange.texts = [m.get("text") or "" for m in response.json() if isinstance(m, dict)]
                except (requests.RequestException, ValueError):
                    session = requests.Session()
                exchange.received = time.monotonic()
                with self._lock:
                    self.exchanges.append(exchange)
                self._stop.wait(self.interval if exchange.status is not None else self.interval * 2)

    def between(self, start: float, end: float = float("inf")) -> list[Exchange]:
        """The exchanges whose reply came in [start, end)."""
        with self._lock:
            return [e for e in self.exchanges if start <= e.received < end]

    def wait_for_answers(self, after: float, count: int, timeout: float) -> float | None:
        """Waits until `count` real answers came to messages sent after `after`; the seconds from `after`
        to the first of them (the answers resumed), or None if they did not within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                answers = sorted(e.received for e in self.exchanges if e.sent >= after and e.kind == "answer")
            if len(answers) >= count:
                return round(answers[0] - after, 2)
            time.sleep(0.1)
        return None


def summary(exchanges: list[Exchange]) -> dict[str, int]:
    counts = {"answer": 0, "notice": 0, "unanswered": 0, "http_error": 0, "empty": 0, "not_french": 0}
    for exchange in exchanges:
        counts[exchange.kind] += 1
    return counts


def bad_replies(exchanges: list[Exchange]) -> list[str]:
    """What the patients must never get, for the assertion messages."""
    return [f"{e.kind} (HTTP {e.status}): {e.texts!r}"[:300] for e in exchanges if e.kind in ("http_error", "empty", "not_french")]
