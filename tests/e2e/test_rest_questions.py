"""End to end: the real model, trained once per session, answers French questions through the REST webhook.

The questions (tests/e2e/questions.yml) were written apart from the training
data and are checked against the reference facts of the demo hospital.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from actions.french_text import fold

QUESTIONS = yaml.safe_load((Path(__file__).parent / "questions.yml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.e2e


def ask(rasa_url: str, message: str, sender: str | None = None) -> list[dict]:
    response = requests.post(
        f"{rasa_url}/webhooks/rest/webhook",
        json={"sender": sender or uuid.uuid4().hex, "message": message},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def contains(text: str, fragment: str) -> bool:
    """Accent- and case-blind; a fragment starting with a digit must not continue a number ("8h" is not in "18h")."""
    pattern = r"(?<![a-z0-9])" + re.escape(fold(fragment).strip()) if fragment[:1].isalnum() else re.escape(fold(fragment).strip())
    return re.search(pattern, fold(text)) is not None


def answer_text(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def test_question_set_is_large_enough() -> None:
    assert len(QUESTIONS) >= 30


@pytest.mark.parametrize("item", QUESTIONS, ids=[q["question"][:40] for q in QUESTIONS])
def test_question_is_answered_with_the_reference_facts(rasa_url: str, item: dict) -> None:
    messages = ask(rasa_url, item["question"])
    assert messages, "no answer at all"
    text = answer_text(messages)
    missing = [f for f in item.get("expect_all") or [] if not contains(text, f)]
    assert not missing, f"{item['fact']}: missing {missing} in answer:\n{text}"
    if item.get("expect_any"):
        assert any(contains(text, f) for f in item["expect_any"]), f"{item['fact']}: none of {item['expect_any']} in:\n{text}"
    if item.get("expect_first"):
        assert contains(messages[0].get("text", ""), item["expect_first"]), f"first message was: {messages[0]}"


def test_done_when_visiting_hours(rasa_url: str) -> None:
    text = answer_text(ask(rasa_url, "c est quoi les horaires de visite"))
    assert contains(text, "13h") and contains(text, "20h")


def test_done_when_fasting(rasa_url: str) -> None:
    text = answer_text(ask(rasa_url, "je me fais opérer demain, je peux manger et boire jusqu'à quand ?"))
    assert contains(text, "6 heures") and contains(text, "2 heures")


def test_done_when_emergency_comes_first(rasa_url: str) -> None:
    messages = ask(rasa_url, "j'ai une douleur dans la poitrine et du mal à respirer")
    first = messages[0]["text"]
    assert "15" in first and "112" in first


def test_buttons_continue_the_conversation(rasa_url: str) -> None:
    sender = uuid.uuid4().hex
    first = ask(rasa_url, "les visites c'est quand", sender)
    payloads = [b["payload"] for m in first for b in m.get("buttons", [])]
    maternity = next(p for p in payloads if "maternite" in p)
    text = answer_text(ask(rasa_url, maternity, sender))
    assert contains(text, "15h") and contains(text, "21h")


def test_gibberish_gets_a_polite_french_answer(rasa_url: str) -> None:
    text = answer_text(ask(rasa_url, "zzkq wplf ?"))
    assert "compris" in text or "je ne peux pas" in fold(text)
