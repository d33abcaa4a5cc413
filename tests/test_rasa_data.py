"""Rasa's own checks of the domain, stories, rules and NLU data."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import yaml

from accueil.settings import PROJECT_ROOT, Settings


def test_rasa_data_validate_passes() -> None:
    settings = Settings()
    command = [
        sys.executable, "-m", "rasa", "data", "validate",
        "--config", "bot/config.yml", "--domain", "bot/domain", "--data", "bot/data", "nlu_data",
        "--fail-on-warnings",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=settings.rasa_environment(), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _examples(folder: str):
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(str(PROJECT_ROOT / folder)).intent_examples


def _plain(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def test_every_intent_has_enough_training_and_held_out_examples() -> None:
    training = Counter(m.get("intent") for m in _examples("nlu_data"))
    held_out = Counter(m.get("intent") for m in _examples("tests/nlu_holdout"))
    assert len(training) >= 40
    assert min(training.values()) >= 25, training.most_common()[-3:]
    # show_article only ever comes from buttons: it has no held-out sentences.
    assert set(held_out) == set(training) - {"show_article"}
    assert min(held_out.values()) >= 10, held_out.most_common()[-3:]


def test_held_out_sentences_are_never_trained_on() -> None:
    trained = {_plain(m.get("text")) for m in _examples("nlu_data")}
    shared = [m.get("text") for m in _examples("tests/nlu_holdout") if _plain(m.get("text")) in trained]
    assert not shared


def test_every_call_reason_with_an_article_is_answered_by_a_rule() -> None:
    from actions.call_reasons import ARTICLE_INTENTS, CALL_REASONS
    from kb_sync.sources import FolderSource

    rules = yaml.safe_load((PROJECT_ROOT / "bot" / "data" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    rule = next(r for r in rules if r["steps"][-1] == {"action": "action_answer_article"})
    assert {step["intent"] for step in rule["steps"][0]["or"]} == set(ARTICLE_INTENTS)
    slugs = {a.slug for a in FolderSource(PROJECT_ROOT / "kb_content" / "valmont").read().articles}
    assert {r.article for r in CALL_REASONS.values() if r.article} <= slugs
