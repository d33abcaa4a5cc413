"""Validate → train a candidate → evaluate → gate → deploy → roll back; the history of the models in production.

Used by the studio's pipeline jobs and by `accueil deploy`, `accueil rollback` and `accueil run`:
  * `validate`: `rasa data validate` (as `make validate`) and Accueil's own checks (accueil.data_checks);
  * `build_candidate`: fine-tunes the production model when only examples of existing intents changed, else
    trains in full (or reuses an up-to-date model file); evaluates it on the held-out set, and checks that
    every emergency sentence is still recognised, with one model load (accueil.evaluation); then puts the
    held-out conversations to it (accueil.conversations);
  * `production_figures`: the production model's figures, measured again only when the held-out set changed;
  * `deploy`: the gate (accueil.gate) unless forced, then `PUT /model` to the running Rasa server;
  * `rollback`: the previous model back into production;
  * `model_to_serve`: what `accueil run` starts Rasa with.

Two tables of their own on ACCUEIL_DB_URL (`store.tables`, the schema upgraded on first use): `model_deployments` (one row per change of the
production model: initial, deploy or rollback; the production model is the latest row) and `model_evaluations`
(each model's figures on each version of the held-out set, so a model is evaluated once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from accueil import rasa_api
from accueil.gate import EmergencyMiss, ModelFigures, Verdict, gate
from accueil.training import NoProgress, Progress
from core.catalogue import EMERGENCY_INTENT
from core.settings import Settings
from store import tables
from store.engine import session_factory
from store.migrate import migrate
from store.tables import Base

KIND_LABELS = {"initial": "premier modèle", "deploy": "déploiement", "rollback": "retour en arrière"}


class DeploymentError(RuntimeError):
    """A deployment or rollback that cannot be done; the message is French."""


class Deployment(Base):
    __table__ = tables.model_deployments

    @property
    def model(self) -> Path:
        return Path(self.model_file)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def model_figures(self) -> ModelFigures | None:
        return ModelFigures.from_dict(self.figures) if self.figures else None


class ModelEvaluation(Base):
    __table__ = tables.model_evaluations


def _session(settings: Settings):
    migrate(settings.db_url)
    return session_factory(settings.db_url)()


def _utcnow() -> dt.datetime:
    return dt.datetime.utcnow().replace(microsecond=0)


# --- The history of the production model -----------------------------------------------------------


def history(settings: Settings, limit: int | None = None) -> list[Deployment]:
    """Every change of the production model, newest first."""
    with _session(settings) as session:
        query = select(Deployment).order_by(Deployment.id.desc())
        return list(session.scalars(query.limit(limit) if limit else query))


def _stack(settings: Settings) -> list[Deployment]:
    """The models in production one after the other, as rollbacks unwind them (the last one serves)."""
    stack: list[Deployment] = []
    for row in reversed(history(settings)):
        if row.kind == "rollback" and stack:
            stack.pop()
            if stack:
                stack[-1] = row  # the same model, brought back: shown with who and when
                continue
        stack.append(row)
    return stack


def current(settings: Settings) -> Deployment | None:
    """The production model (the latest row), or None before the first deployment."""
    rows = history(settings, limit=1)
    return rows[0] if rows else None


def previous(settings: Settings) -> Deployment | None:
    """The model a rollback would bring back: the one in production before the current one."""
    stack = _stack(settings)
    return stack[-2] if len(stack) > 1 else None


def record(
    settings: Settings,
    model: Path,
    kind: str,
    by: str,
    figures: ModelFigures | None = None,
    holdout: str | None = None,
    forced: bool = False,
    loaded: bool = False,
    note: str = "",
) -> Deployment:
    emergency_ok = None
    if figures is not None and figures.emergency_misses is not None:
        emergency_ok = not figures.emergency_misses
    row = Deployment(
        model_file=str(Path(model).resolve()),
        kind=kind,
        intent_macro_f1=figures.intent_macro_f1 if figures else None,
        entity_macro_f1=figures.entity_macro_f1 if figures else None,
        emergency_ok=emergency_ok,
        forced=forced,
        by=by,
        at=_utcnow(),
        holdout_fingerprint=holdout if figures else None,
        figures=figures.as_dict() if figures else None,
        loaded=loaded,
        note=note,
    )
    with _session(settings) as session, session.begin():
        session.add(row)
    return row


# --- Evaluations, kept per model and held-out set ------------------------------------------------------


def holdout_fingerprint(settings: Settings, conversations: bool | None = None) -> str:
    """The version of what a model is measured on: the NLU held-out set and, when the gate measures them
    (or `conversations` says so), the held-out conversations."""
    from accueil.conversations import CONVERSATIONS_DIR

    if conversations is None:
        conversations = settings.gate_conversations
    digest = hashlib.sha256()
    for folder in (settings.nlu_holdout_dir, *([CONVERSATIONS_DIR] if conversations else [])):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".md", ".json")):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def stored_evaluation(settings: Settings, model: Path | str, holdout: str) -> ModelEvaluation | None:
    """The figures measured on this model file and held-out set; None if the file was rewritten since (a forced retraining)."""
    with _session(settings) as session:
        row = session.scalars(
            select(ModelEvaluation).where(ModelEvaluation.model == Path(model).name, ModelEvaluation.holdout_fingerprint == holdout)
        ).first()
    if row is not None and Path(model).exists() and dt.datetime.utcfromtimestamp(int(Path(model).stat().st_mtime)) > row.at:
        return None
    return row


def store_evaluation(settings: Settings, figures: ModelFigures, holdout: str, report_dir: Path | None = None) -> None:
    with _session(settings) as session, session.begin():
        row = session.scalars(
            select(ModelEvaluation).where(ModelEvaluation.model == figures.model, ModelEvaluation.holdout_fingerprint == holdout)
        ).first()
        if row is None:
            row = ModelEvaluation(model=figures.model, holdout_fingerprint=holdout)
            session.add(row)
        row.figures = figures.as_dict()
        row.report_dir = str(report_dir or "")
        row.at = _utcnow()


def _store_measured(settings: Settings, figures: ModelFigures, holdout: str, report_dir: Path) -> None:
    """Keeps figures just measured on `holdout`; those with the conversations also serve a gate that leaves them
    out (their NLU figures are the same), so turning the conversation rule off measures nothing again."""
    store_evaluation(settings, figures, holdout, report_dir)
    if figures.conversations is not None:
        nlu_only = replace(figures, conversations=None, conversations_ok=None)
        store_evaluation(settings, nlu_only, holdout_fingerprint(settings, conversations=False), report_dir)


def emergency_sentences(settings: Settings) -> list[tuple[str, str]]:
    """(sentence, source) of every emergency example: the training data's, then the held-out set's."""
    from accueil.data_checks import load_examples

    sentences = []
    for folder, source in ((settings.nlu_dir, "entraînement"), (settings.nlu_holdout_dir, "test réservé")):
        sentences += [(text, source) for intent, text in load_examples(folder) if intent == EMERGENCY_INTENT]
    return sentences


def figures_from_evaluation(evaluation, sentences: list[tuple[str, str]] | None) -> ModelFigures:
    """A model's figures from its `accueil.evaluation.Evaluation` (with predictions for `sentences`, when given)."""
    misses = None
    if sentences is not None:
        predicted = {p["text"]: p["intent"] for p in evaluation.predictions}
        misses = tuple(
            EmergencyMiss(text, predicted.get(text), source) for text, source in sentences if predicted.get(text) != EMERGENCY_INTENT
        )
    summary = evaluation.summary
    return ModelFigures(
        model=summary["model"],
        intent_macro_f1=summary["intent_macro_f1"],
        entity_macro_f1=summary.get("entity_macro_f1"),
        intent_accuracy=summary.get("intent_accuracy"),
        per_intent_f1={intent: round(values["f1-score"], 4) for intent, values in sorted(evaluation.per_intent.items())},
        emergency_checked=None if sentences is None else len(sentences),
        emergency_misses=misses,
    )


def evaluate_model(
    settings: Settings, model: Path, out_dir: Path, check_emergencies: bool = True, progress: Progress | None = None
) -> ModelFigures:
    """The model's figures on the held-out set (and its emergency check), from the store or measured now."""
    from accueil.evaluation import EvaluationError, evaluate

    holdout = holdout_fingerprint(settings)
    stored = stored_evaluation(settings, model, holdout)
    if stored is not None:
        figures = ModelFigures.from_dict(stored.figures)
        if figures.emergency_misses is not None or not check_emergencies:
            return figures
    sentences = emergency_sentences(settings) if check_emergencies else None
    try:
        evaluation = evaluate(
            settings,
            model,
            out_dir,
            folds=0,
            progress=lambda text: (progress or NoProgress()).log(text),
            predict=[text for text, _ in sentences] if sentences else None,
        )
    except EvaluationError as exc:
        (progress or NoProgress()).log(str(exc))
        raise DeploymentError(f"L'évaluation du modèle {model.name} a échoué : sa sortie est dans {out_dir / 'holdout.log'}.") from exc
    figures = figures_from_evaluation(evaluation, sentences)
    if settings.gate_conversations:
        from accueil.conversations import measure

        (progress or NoProgress()).log(f"Conversations de test avec {model.name}…")
        summary = measure(settings, model, out_dir / "conversations")
        figures = replace(figures, conversations=summary["conversations"], conversations_ok=summary["conversations_ok"])
    _store_measured(settings, figures, holdout, out_dir)
    return figures


def production_figures(settings: Settings, out_dir: Path, progress: Progress | None = None) -> ModelFigures | None:
    """The production model's figures on the current held-out set (None without production model or file)."""
    production = current(settings)
    if production is None or not production.model.exists():
        return None
    holdout = holdout_fingerprint(settings)
    if production.figures and production.holdout_fingerprint == holdout:
        return production.model_figures()
    return evaluate_model(settings, production.model, out_dir, check_emergencies=False, progress=progress)


# --- Validation ----------------------------------------------------------------------------------------

_WARNING = re.compile(r"UserWarning: (.*)$", re.M)
_CONFLICT = re.compile(r"WARNING\s+rasa\.validator\s+-\s+(Story structure conflict.*?)(?=^\d{4}-\d\d-\d\d |\Z)", re.S | re.M)
_ERROR = re.compile(r"^(\w*(?:Exception|Error)\b:.*)$", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Warnings `rasa data validate --fail-on-warnings` prints without failing.
_HARMLESS = (re.compile(r"The utterance '.*' is not used in any story or rule"), re.compile(r"The config file is missing"))
_TRANSLATIONS = (
    (
        re.compile(r"The intent '(.+?)' is listed in the domain file, but is not found in the NLU training data"),
        "L'intention « {0} » est déclarée dans le domaine mais n'a aucun exemple d'entraînement.",
    ),
    (
        re.compile(r"There is a message in the training data labeled with intent '(.+?)'\. This intent is not listed in your domain"),
        "L'intention « {0} » a des exemples mais n'est pas déclarée dans le domaine (bot/domain) : "
        "une nouvelle intention demande aussi une réponse, à faire ajouter par l'équipe technique.",
    ),
    (
        re.compile(r"The example '(.+?)' was found labeled with multiple different intents.*labeled with: (.+?)\.?$", re.S),
        "L'exemple « {0} » est rangé sous plusieurs intentions ({1}) : gardez-le sous une seule.",
    ),
    (
        re.compile(r"The intent '(.+?)' is used in your stories, but it is not listed in the domain file"),
        "L'intention « {0} » est utilisée dans les histoires ou les règles mais n'est pas déclarée dans le domaine.",
    ),
    (
        re.compile(r"The intent '(.+?)' is not used in any story or rule"),
        "L'intention « {0} » n'est utilisée dans aucune histoire ni règle : l'assistant ne saurait pas quoi y répondre.",
    ),
    (
        re.compile(r"The action '(.+?)' is used in the (?:stories|'.+?' block), but"),
        "L'action « {0} » est utilisée dans les histoires ou les règles mais n'est pas déclarée dans le domaine.",
    ),
    (re.compile(r"Story structure conflict(.*)", re.S), "Conflit entre histoires ou règles :{0}"),
)


def _translate(message: str) -> str | None:
    message = " ".join(_ANSI.sub("", message).split())
    if any(pattern.search(message) for pattern in _HARMLESS):
        return None
    for pattern, french in _TRANSLATIONS:
        if match := pattern.search(message):
            return french.format(*match.groups())
    return f"Rasa signale : {message}"


def rasa_validate_problems(output: str, exit_code: int) -> list[str]:
    """The problems of a `rasa data validate --fail-on-warnings` run, in French (none when it passed)."""
    if exit_code == 0:
        return []
    output = _ANSI.sub("", output)
    messages = [m.group(1) for m in _WARNING.finditer(output)] + [m.group(1) for m in _CONFLICT.finditer(output)]
    messages += [m.group(1) for m in _ERROR.finditer(output)]
    problems = [p for p in dict.fromkeys(_translate(m) for m in messages) if p]
    if not problems:
        last = next((line for line in reversed(output.splitlines()) if line.strip()), "")
        problems = [f"La validation des données par Rasa a échoué (code {exit_code}) : {last.strip()}"]
    return problems


def rasa_validate_command(settings: Settings) -> list[str]:
    """The command of `make validate`, on the settings' files."""
    return [
        sys.executable, "-m", "rasa", "data", "validate",
        "--config", str(settings.bot_dir / "config.yml"),
        "--domain", str(settings.bot_dir / "domain"),
        "--data", str(settings.bot_dir / "data"), str(settings.nlu_dir),
        "--fail-on-warnings",
    ]  # fmt: skip


def validate(settings: Settings, progress: Progress | None = None) -> list[str]:
    """Every problem of the training data, in French: `rasa data validate`, then Accueil's own checks."""
    from accueil.data_checks import run_checks

    progress = progress or NoProgress()
    completed = subprocess.run(
        rasa_validate_command(settings), cwd=settings.bot_dir.parent, env=settings.rasa_environment(), capture_output=True, text=True
    )
    progress.log(f"rasa data validate : code de sortie {completed.returncode}")
    problems = rasa_validate_problems(completed.stdout + "\n" + completed.stderr, completed.returncode)
    return problems + run_checks(settings)


# --- The candidate model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    model: Path
    training: str  # "finetune", "full" or "reused"
    reason: str  # French: which training, and why
    seconds: float
    figures: ModelFigures


class _Scaled:
    """Reports a sub-task's 0–100 % as low–high % of the whole."""

    def __init__(self, progress: Progress, low: float, high: float, prefix: str = "") -> None:
        self.progress, self.low, self.high, self.prefix = progress, low, high, prefix

    def step(self, text: str, percent: float | None = None) -> None:
        scaled = None if percent is None else self.low + (self.high - self.low) * percent / 100
        self.progress.step(f"{self.prefix}{text}", scaled)

    def log(self, line: str) -> None:
        self.progress.log(line)


@dataclass(frozen=True)
class TrainingPlan:
    kind: str  # "reused", "finetune" or "full"
    reason: str  # French: which training, and why
    base: Path | None = None  # the production model to fine-tune


def training_plan(settings: Settings, full: bool = False) -> TrainingPlan:
    """Reuse an up-to-date model; else fine-tune the production model when only examples of existing intents
    changed (not when `full`); else train in full."""
    from accueil.training import finetune_decision, finetuned_model_path, model_path, model_signature, training_signature

    if model_path(settings).exists():
        return TrainingPlan("reused", "Aucun entraînement : un modèle entraîné en entier sur ces mêmes données existe déjà.")
    if full:
        return TrainingPlan("full", "Entraînement complet, demandé.")
    production = current(settings)
    if production is None or not production.model.exists():
        return TrainingPlan("full", "Entraînement complet : aucun modèle en production à ajuster.")
    signature = model_signature(settings, production.model)
    decision = finetune_decision(signature, training_signature(settings), settings.finetune_epoch_fraction)
    if not decision.finetune:
        return TrainingPlan("full", decision.reason)
    if finetuned_model_path(settings).exists():
        return TrainingPlan("reused", "Aucun entraînement : un modèle ajusté sur ces mêmes données existe déjà.", production.model)
    return TrainingPlan("finetune", decision.reason, production.model)


def train_candidate(settings: Settings, progress: Progress, log_path: Path | None = None, full: bool = False):
    """Trains (or reuses) the candidate model as `training_plan` says; a fine-tuning Rasa refuses becomes a full training.

    Returns (TrainingResult, kind, French reason); kind is "finetune", "full" or "reused".
    """
    from accueil.training import FinetuneRefused, finetune, train_if_needed

    plan = training_plan(settings, full)
    progress.step(plan.reason)
    scaled = _Scaled(progress, 5, 75, "Entraînement : ")
    if plan.base is not None:
        try:
            return finetune(settings, plan.base, progress=scaled, log_path=log_path), plan.kind, plan.reason
        except FinetuneRefused as exc:
            reason = f"Entraînement complet : Rasa a refusé d'ajuster le modèle en production ({exc})."
            progress.step(reason)
            return train_if_needed(settings, quiet=True, progress=scaled, log_path=log_path), "full", reason
    return train_if_needed(settings, quiet=True, progress=scaled, log_path=log_path), plan.kind, plan.reason


def build_candidate(settings: Settings, out_dir: Path, progress: Progress | None = None, full: bool = False) -> Candidate:
    """Trains the candidate (5–75 %), then evaluates it and checks the emergencies (75–95 %)."""
    from accueil.training import TrainingError

    progress = progress or NoProgress()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result, kind, reason = train_candidate(settings, progress, out_dir / "training.log", full=full)
    except TrainingError as exc:
        for line in str(exc).splitlines():
            progress.log(line)
        raise DeploymentError(f"L'entraînement par Rasa a échoué : la fin de sa sortie est dans le journal ({out_dir / 'training.log'}).") from exc
    progress.step(f"Évaluation de {result.model.name} sur le jeu de test réservé et contrôle des urgences vitales (une à deux minutes)", 75)
    figures = evaluate_model(settings, result.model, out_dir / "candidate", progress=progress)
    return Candidate(model=result.model, training=kind, reason=reason, seconds=result.seconds, figures=figures)


# --- Deploying and rolling back -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployResult:
    deployed: bool
    verdict: Verdict | None  # None when forced without a gate
    loaded: bool  # the running Rasa server serves it now; otherwise from the next `accueil run`
    message: str  # French
    deployment: Deployment | None = None


def _load(settings: Settings, model: Path) -> tuple[bool, str]:
    """Loads the model into the running Rasa server: (loaded, French message)."""
    try:
        rasa_api.load_model(settings, model)
    except rasa_api.RasaNotRunning as exc:
        return False, f"{exc} Le modèle sera servi au prochain « accueil run »."
    except rasa_api.RasaApiError as exc:
        raise DeploymentError(f"Le serveur Rasa n'a pas pu charger {model.name} : {exc} Le modèle précédent reste en service.") from exc
    return True, f"Le serveur Rasa sert maintenant {model.name} ; les conversations en cours continuent."


def deploy(
    settings: Settings,
    model: Path,
    by: str,
    force: bool = False,
    out_dir: Path | None = None,
    progress: Progress | None = None,
) -> DeployResult:
    """Puts `model` into production if the gate lets it (or `force`), loading it into the running Rasa server."""
    progress = progress or NoProgress()
    model = Path(model).resolve()
    if not model.exists():
        raise DeploymentError(f"Le modèle {model} n'existe pas.")
    out_dir = out_dir or settings.var_dir / "deployments" / model.name.removesuffix(".tar.gz")
    holdout = holdout_fingerprint(settings)
    verdict = None
    figures = None
    try:
        progress.step("Chiffres du nouveau modèle", 10)
        figures = evaluate_model(settings, model, out_dir / "candidate", progress=progress)
        progress.step("Chiffres du modèle en production", 40)
        production = production_figures(settings, out_dir / "production", progress=progress)
        verdict = gate(figures, production)
    except DeploymentError:
        if not force:
            raise
    if verdict is not None and not verdict.passed and not force:
        return DeployResult(False, verdict, False, "Déploiement refusé : " + " ".join(verdict.reasons))
    progress.step(f"Chargement de {model.name} dans le serveur Rasa", 70)
    loaded, message = _load(settings, model)
    forced = force and (verdict is None or not verdict.passed)
    note = message if not forced else "Déploiement forcé malgré le contrôle. " + message
    row = record(settings, model, "deploy", by, figures=figures, holdout=holdout, forced=forced, loaded=loaded, note=note)
    progress.step("Déployé", 100)
    return DeployResult(True, verdict, loaded, note, row)


def rollback(settings: Settings, by: str, progress: Progress | None = None) -> DeployResult:
    """Brings the previous model back into production (loaded into the running Rasa server)."""
    progress = progress or NoProgress()
    target = previous(settings)
    if target is None:
        raise DeploymentError("Aucun modèle précédent : il n'y a pas eu de déploiement avant le modèle en production.")
    if not target.model.exists():
        raise DeploymentError(f"Le fichier du modèle précédent a disparu : {target.model}. Retour en arrière impossible.")
    progress.step(f"Chargement de {target.name} dans le serveur Rasa", 30)
    loaded, message = _load(settings, target.model)
    row = record(
        settings,
        target.model,
        "rollback",
        by,
        figures=target.model_figures(),
        holdout=target.holdout_fingerprint,
        loaded=loaded,
        note=message,
    )
    progress.step("Modèle précédent remis en service", 100)
    return DeployResult(True, None, loaded, message, row)


def model_to_serve(settings: Settings, by: str = "accueil run") -> Path:
    """The model `accueil run` serves: the production model if its file exists, else the up-to-date model
    (trained now if needed, silently), recorded as the first deployment."""
    from accueil.training import train_if_needed

    production = current(settings)
    if production is not None and production.model.exists():
        return production.model
    model = train_if_needed(settings, quiet=True).model
    note = "Modèle servi au démarrage."
    if production is not None:
        note = f"Le modèle en production ({production.name}) a disparu : remplacé au démarrage."
    record(settings, model, "initial", by, loaded=True, note=note)
    return model


def data_changed_since_deployment(settings: Settings) -> bool:
    """Whether the training data differ from the production model's (editors' changes not deployed yet)."""
    from accueil.training import fingerprint, model_fingerprint

    production = current(settings)
    return production is not None and model_fingerprint(production.model) != fingerprint(settings)


def result_summary(candidate: Candidate, production: ModelFigures | None, verdict: Verdict) -> dict:
    """What the studio keeps of a pipeline run (JSON): the candidate, the comparison and the verdict."""
    return {
        "model": str(candidate.model),
        "model_name": candidate.model.name,
        "training": candidate.training,
        "training_reason": candidate.reason,
        "training_seconds": round(candidate.seconds),
        "candidate": candidate.figures.as_dict(),
        "production": production.as_dict() if production else None,
        "verdict": verdict.as_dict(),
    }


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
