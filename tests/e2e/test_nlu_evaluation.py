"""The NLU of the session's model, evaluated with Rasa on the held-out set (tests/nlu_holdout/, never trained on)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accueil.deployment import evaluate_model
from accueil.evaluation import TARGETS

pytestmark = pytest.mark.e2e


def test_held_out_evaluation_meets_the_targets(e2e_settings, trained_model: Path, tmp_path: Path) -> None:
    """Evaluated as the deployment gate evaluates the model in production (its figures are kept for the gate)."""
    figures = evaluate_model(e2e_settings, trained_model, tmp_path / "eval")
    summary = json.loads((tmp_path / "eval" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["intent_macro_f1"], summary["model"]) == (figures.intent_macro_f1, trained_model.name)
    assert figures.emergency_misses == () and figures.emergency_checked > 50
    assert {"intent_accuracy", "intent_macro_f1", "entity_macro_f1", "n_intents", "n_examples"} <= summary.keys()
    assert summary["n_examples"] >= 10 * summary["n_intents"]
    for name in ("per_intent.csv", "intent_confusion_matrix.png", "misclassified.json"):
        assert (tmp_path / "eval" / name).stat().st_size > 0
    assert summary["intent_macro_f1"] >= TARGETS["intent_macro_f1"], summary
    assert summary["entity_macro_f1"] >= TARGETS["entity_macro_f1"], summary
