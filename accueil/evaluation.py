"""NLU evaluation: Rasa's `rasa test nlu` on the held-out set and in cross-validation, summarised.

Writes in the output folder (default reports/eval/):
    summary.json            intent_accuracy, intent_macro_f1, entity_macro_f1, n_intents, n_examples,
                            the targets, and the cross-validation figures when it ran
    per_intent.csv          precision, recall, F1 and support of each intent (held-out set)
    intent_confusion_matrix.png
    misclassified.json      the held-out examples whose intent or entities were wrong
    predictions.json        when asked for: the intent the model gives each of some extra sentences
    holdout/, cv/           Rasa's own reports

The held-out evaluation runs in one child process (`python -m accueil.evaluation holdout`) that loads the
model once, evaluates it with Rasa's own `rasa test nlu` code, then parses the extra sentences (the
deployment gate's emergency check), so the model is loaded once for both.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.logs import open_private
from core.settings import PROJECT_ROOT, Settings

TARGETS = {"intent_macro_f1": 0.95, "entity_macro_f1": 0.90}


class EvaluationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Evaluation:
    summary: dict
    out_dir: Path
    per_intent: dict = field(default_factory=dict)  # intent -> precision, recall, f1-score, support
    predictions: list = field(default_factory=list)  # {"text", "intent", "confidence"} of the `predict` sentences

    @property
    def meets_targets(self) -> bool:
        return all(self.summary[key] >= target for key, target in TARGETS.items())


def _run(settings: Settings, command: list[str], log: Path, what: str) -> None:
    with open_private(log, "w") as handle:
        completed = subprocess.run(command, env=settings.rasa_environment(), cwd=PROJECT_ROOT, stdout=handle, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        raise EvaluationError(f"{what} failed (exit {completed.returncode}); see {log}")


def _rasa_test_nlu(settings: Settings, arguments: list[str], out: Path, log: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _run(settings, [sys.executable, "-m", "rasa", "test", "nlu", "--out", str(out), *arguments], log, "`rasa test nlu`")


def _held_out(settings: Settings, model: Path, holdout_dir: Path, out_dir: Path, predict: list[str]) -> list[dict]:
    """Rasa's held-out evaluation into out_dir/holdout, and the model's intent for each `predict` sentence."""
    command = [
        sys.executable, "-m", "accueil.evaluation", "holdout",
        "--model", str(model), "--nlu", str(holdout_dir), "--out", str(out_dir / "holdout"),
    ]  # fmt: skip
    if predict:
        (out_dir / "predict.json").write_text(json.dumps(predict, ensure_ascii=False), encoding="utf-8")
        command += ["--predict", str(out_dir / "predict.json"), "--predictions", str(out_dir / "predictions.json")]
    _run(settings, command, out_dir / "holdout.log", "The held-out evaluation")
    if not predict:
        return []
    return json.loads((out_dir / "predictions.json").read_text(encoding="utf-8"))


def _entity_macro_f1(report_dir: Path) -> float:
    report = report_dir / "DIETClassifier_report.json"
    if not report.exists():
        return 1.0  # no entity in the test set: nothing was missed
    data = json.loads(report.read_text(encoding="utf-8"))
    scores = [v["f1-score"] for k, v in data.items() if isinstance(v, dict) and k not in ("micro avg", "macro avg", "weighted avg", "no_entity")]
    return sum(scores) / len(scores) if scores else 1.0


def _intent_figures(report_dir: Path) -> tuple[dict, dict]:
    report = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    per_intent = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and not k.endswith(" avg")}
    figures = {
        "intent_accuracy": round(report["accuracy"], 4),
        "intent_macro_f1": round(report["macro avg"]["f1-score"], 4),
        "n_intents": len(per_intent),
        "n_examples": int(report["macro avg"]["support"]),
    }
    return figures, per_intent


def evaluate(
    settings: Settings,
    model: Path,
    out_dir: Path,
    holdout_dir: Path | None = None,
    folds: int = 5,
    progress=None,
    predict: list[str] | None = None,
) -> Evaluation:
    """Held-out evaluation of `model` (default set: NLU_HOLDOUT_DIR), then (unless folds == 0) cross-validation.

    `predict`: sentences the model also classifies, with the same loaded model (`Evaluation.predictions`).
    """
    step = progress or (lambda _text: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    step("évaluation sur le jeu de test réservé")
    predictions = _held_out(settings, model, holdout_dir or settings.nlu_holdout_dir, out_dir, predict or [])
    figures, per_intent = _intent_figures(out_dir / "holdout")
    summary = {**figures, "entity_macro_f1": round(_entity_macro_f1(out_dir / "holdout"), 4), "model": model.name, "targets": TARGETS}
    if folds:
        step(f"validation croisée en {folds} plis (un entraînement par pli)")
        cv_dir = out_dir / "cv"
        _rasa_test_nlu(
            settings,
            ["--nlu", str(settings.nlu_dir), "--config", str(settings.bot_dir / "config.yml"), "--cross-validation", "--folds", str(folds)],
            cv_dir,
            out_dir / "cv.log",
        )
        cv_figures, _ = _intent_figures(cv_dir)
        summary["cross_validation"] = {"folds": folds, **cv_figures, "entity_macro_f1": round(_entity_macro_f1(cv_dir), 4)}
    _write_outputs(out_dir, summary, per_intent)
    return Evaluation(summary, out_dir, per_intent, predictions)


def _write_outputs(out_dir: Path, summary: dict, per_intent: dict) -> None:
    evaluation = Evaluation(summary, out_dir)
    summary["meets_targets"] = evaluation.meets_targets
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    with open(out_dir / "per_intent.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["intent", "precision", "recall", "f1", "support"])
        for intent, values in sorted(per_intent.items()):
            writer.writerow([intent, round(values["precision"], 4), round(values["recall"], 4), round(values["f1-score"], 4), values["support"]])
    holdout = out_dir / "holdout"
    shutil.copyfile(holdout / "intent_confusion_matrix.png", out_dir / "intent_confusion_matrix.png")
    errors = []
    for name, kind in (("intent_errors.json", "intent"), ("DIETClassifier_errors.json", "entities")):
        path = holdout / name
        if path.exists():
            errors += [{"kind": kind, **error} for error in json.loads(path.read_text(encoding="utf-8"))]
    (out_dir / "misclassified.json").write_text(json.dumps(errors, indent=2, ensure_ascii=False), encoding="utf-8")


def _undo_fallback_without_documents() -> None:
    """Makes Rasa's evaluation undo a fallback prediction without copying spaCy's documents.

    `rasa.nlu.test` deep-copies each prediction the FallbackClassifier took over, and the prediction holds the
    spaCy document of the sentence, which holds the whole vocabulary and its vectors: about a second a copy, a
    held-out evaluation spending most of its time there. The evaluation reads the intents, entities and tokens,
    never the document, so the copy leaves it out. Patched in the evaluation's own child process only.
    """
    from rasa.nlu.classifiers import fallback_classifier

    undo = fallback_classifier.undo_fallback_prediction
    if getattr(undo, "without_documents", False):
        return

    def undo_without_documents(prediction: dict) -> dict:
        return undo({key: value for key, value in prediction.items() if not key.endswith("_spacy_doc")})

    undo_without_documents.without_documents = True  # type: ignore[attr-defined]
    fallback_classifier.undo_fallback_prediction = undo_without_documents


async def _holdout_worker(model: str, nlu: str, out: str, predict: str | None, predictions: str | None) -> None:
    """What `rasa test nlu --model M --nlu D --out O` does, then the intent of each sentence of `predict`."""
    from rasa.core.agent import Agent
    from rasa.nlu.test import run_evaluation

    _undo_fallback_without_documents()
    agent = Agent.load(model_path=model)
    Path(out).mkdir(parents=True, exist_ok=True)
    await run_evaluation(nlu, agent.processor, output_directory=out, errors=True)
    if predict and predictions:
        results = []
        for text in json.loads(Path(predict).read_text(encoding="utf-8")):
            parsed = await agent.parse_message(text)
            intent = parsed.get("intent") or {}
            results.append({"text": text, "intent": intent.get("name"), "confidence": intent.get("confidence")})
        Path(predictions).write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


def _main(argv: list[str] | None = None) -> None:
    import logging

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    parser = argparse.ArgumentParser(prog="python -m accueil.evaluation")
    commands = parser.add_subparsers(dest="command", required=True)
    holdout = commands.add_parser("holdout", help="held-out evaluation, then predictions for extra sentences, one model load")
    holdout.add_argument("--model", required=True)
    holdout.add_argument("--nlu", required=True)
    holdout.add_argument("--out", required=True)
    holdout.add_argument("--predict", help="JSON list of sentences to classify")
    holdout.add_argument("--predictions", help="where to write their intents (JSON)")
    args = parser.parse_args(argv)
    configure_logging_and_warnings(logging.INFO)
    configure_structlog(logging.INFO)  # as `rasa test nlu`: no debug line per parsed message
    asyncio.run(_holdout_worker(args.model, args.nlu, args.out, args.predict, args.predictions))


if __name__ == "__main__":
    _main()
