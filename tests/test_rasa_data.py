"""Rasa's own checks and Accueil's (accueil.data_checks) on the real domain, stories, rules and NLU data."""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from accueil.data_checks import check_article_rules, check_example_counts, check_held_out_never_trained, load_examples
from accueil.deployment import rasa_validate_command, rasa_validate_problems
from core.settings import PROJECT_ROOT, Settings


@pytest.mark.slow
def test_rasa_data_validate_passes() -> None:
    settings = Settings()
    command = rasa_validate_command(settings)
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=settings.rasa_environment(), capture_output=True, text=True)
    assert rasa_validate_problems(result.stdout + result.stderr, result.returncode) == [], result.stdout[-3000:] + result.stderr[-3000:]


def test_every_intent_has_enough_training_and_held_out_examples() -> None:
    training = load_examples(PROJECT_ROOT / "nlu_data")
    held_out = load_examples(PROJECT_ROOT / "tests" / "nlu_holdout")
    assert len(Counter(intent for intent, _ in training)) >= 40
    assert check_example_counts(training, held_out) == []


def test_held_out_sentences_are_never_trained_on() -> None:
    training = load_examples(PROJECT_ROOT / "nlu_data")
    assert check_held_out_never_trained(training, load_examples(PROJECT_ROOT / "tests" / "nlu_holdout")) == []


def test_every_call_reason_with_an_article_is_answered_by_a_rule() -> None:
    settings = Settings(kb_source=str(PROJECT_ROOT / "kb_content" / "valmont"), bot_dir=PROJECT_ROOT / "bot")
    assert check_article_rules(settings) == []
