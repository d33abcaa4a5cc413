"""Training the Rasa model: in full only when its inputs changed, or by fine-tuning the production model.

The model file is named after a fingerprint of everything training reads
(config, domain, stories, rules, NLU data), so an up-to-date model is found
by its name and training is skipped: `accueil-<fingerprint>.tar.gz` for a full
training, `accueil-<fingerprint>-ft.tar.gz` for a model fine-tuned on those inputs
(Rasa's incremental training, `rasa train --finetune`), which the studio uses
when only examples of existing intents changed.

Beside each model trained here, `<model>.inputs.json` records the signature of
its inputs (digests of config, domain and dialogues, the NLU labels), from which
`finetune_decision` tells whether the next model may be a fine-tuning of it.
Rasa's output is turned into a percentage and a French step by `TrainingProgress`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from accueil.nlu_reading import read_nlu
from core.logs import open_private
from core.settings import Settings

MODEL_PREFIX = "accueil-"
FINETUNED_SUFFIX = "-ft"
SIGNATURE_SUFFIX = ".inputs.json"


class Progress(Protocol):
    """Where long operations report: a French step with a percentage, and lines for the log."""

    def step(self, text: str, percent: float | None = None) -> None: ...

    def log(self, line: str) -> None: ...


class NoProgress:
    def step(self, text: str, percent: float | None = None) -> None:
        pass

    def log(self, line: str) -> None:
        pass


class TrainingError(RuntimeError):
    """Rasa training failed; the message ends with the tail of its output."""


class FinetuneRefused(TrainingError):
    """Rasa refused to fine-tune the given model (its labels, domain or config differ)."""


def training_inputs(settings: Settings) -> list[Path]:
    files = [settings.bot_dir / "config.yml"]
    for folder in (settings.bot_dir / "domain", settings.bot_dir / "data", settings.nlu_dir):
        files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".txt"))
    return files


def _input_name(settings: Settings, path: Path) -> str:
    """A training input's name in the fingerprint: relative to the project, the NLU data relative to their folder's
    parent (the same in the project's layout), so that a copy of the NLU data kept elsewhere (the studio's) gives
    the same fingerprint as the same files in the project."""
    if path.is_relative_to(settings.nlu_dir):
        return str(path.relative_to(settings.nlu_dir.parent))
    return str(path.relative_to(settings.bot_dir.parent))


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(settings):
        digest.update(_input_name(settings, path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings, out_dir: Path | None = None) -> Path:
    return (out_dir or settings.rasa_models_dir) / f"{MODEL_PREFIX}{fingerprint(settings)}.tar.gz"


def finetuned_model_path(settings: Settings, out_dir: Path | None = None) -> Path:
    return (out_dir or settings.rasa_models_dir) / f"{MODEL_PREFIX}{fingerprint(settings)}{FINETUNED_SUFFIX}.tar.gz"


def model_fingerprint(model: Path | str) -> str | None:
    """The fingerprint of the inputs a model of ours was trained on, read from its name (None for other names)."""
    match = re.fullmatch(rf"{MODEL_PREFIX}([0-9a-f]{{16}})(?:{FINETUNED_SUFFIX})?\.tar\.gz", Path(model).name)
    return match.group(1) if match else None


# --- Signatures: may the next model be a fine-tuning of this one? ---------------------------------


def _digest(files: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))


def nlu_labels(nlu_dir: Path) -> dict[str, list[str]]:
    """The labels Rasa's fine-tuning must find unchanged: intents, entities, entity roles and groups."""
    data = read_nlu(nlu_dir)
    return {
        "intents": sorted(data.intents),
        "entities": sorted(data.entities),
        "entity_roles": sorted(data.entity_roles),
        "entity_groups": sorted(data.entity_groups),
    }


def training_signature(settings: Settings) -> dict:
    root = settings.bot_dir
    return {
        "fingerprint": fingerprint(settings),
        "config": _digest([root / "config.yml"], root),
        "domain": _digest(_yaml_files(root / "domain"), root),
        "dialogues": _digest(_yaml_files(root / "data"), root),
        "labels": nlu_labels(settings.nlu_dir),
    }


def signature_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + SIGNATURE_SUFFIX)


def write_signature(model: Path, signature: dict) -> None:
    signature_path(model).write_text(json.dumps(signature, indent=2, ensure_ascii=False), encoding="utf-8")


def model_signature(settings: Settings, model: Path) -> dict | None:
    """The signature of a model's inputs: its `.inputs.json`, or the current one when it was trained on the current inputs."""
    path = signature_path(model)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    if model_fingerprint(model) == fingerprint(settings):
        return training_signature(settings)
    return None


@dataclass(frozen=True)
class FinetuneDecision:
    finetune: bool
    reason: str  # French, shown to the editors


def _label_changes(kind: str, before: list[str], after: list[str]) -> list[str]:
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    changes = []
    if added:
        changes.append(f"{kind} ajoutée{'s' if len(added) > 1 else ''} : {', '.join(added)}")
    if removed:
        changes.append(f"{kind} retirée{'s' if len(removed) > 1 else ''} : {', '.join(removed)}")
    return changes


def finetune_decision(production: dict | None, current: dict, epoch_fraction: float) -> FinetuneDecision:
    """Fine-tune when only examples of existing intents changed (same config, domain, dialogues and labels)."""
    if production is None:
        return FinetuneDecision(False, "Entraînement complet : on ne sait pas sur quelles données le modèle en production a été entraîné.")
    for key, what in (
        ("config", "la configuration du modèle (bot/config.yml) a changé"),
        ("domain", "le domaine (bot/domain) a changé"),
        ("dialogues", "les histoires ou les règles (bot/data) ont changé"),
    ):
        if production.get(key) != current[key]:
            return FinetuneDecision(False, f"Entraînement complet : {what}.")
    changes = []
    kinds = {"intents": "intention", "entities": "entité", "entity_roles": "rôle d'entité", "entity_groups": "groupe d'entités"}
    for key, kind in kinds.items():
        changes += _label_changes(kind, production.get("labels", {}).get(key, []), current["labels"][key])
    if changes:
        return FinetuneDecision(False, f"Entraînement complet : {' ; '.join(changes)}.")
    share = f"{round(epoch_fraction * 100)} %"
    return FinetuneDecision(
        True,
        f"Ajustement du modèle en production (fine-tuning sur {share} des époques) : "
        "seuls des exemples d'intentions existantes ont changé.",
    )


# --- Rasa's output as progress ----------------------------------------------------------------------

_EPOCHS = re.compile(r"Epochs:\s*\d+%\|[^|]*\|\s*(\d+)/(\d+)")
_STARTING = re.compile(r"Starting to train component '(\w+)'")
_RESTORED = re.compile(r"Restored component '(\w+)' from cache")
_VALIDATING = "Started validating domain and training data"
_SAVED = "Your Rasa model is trained and saved"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

COMPONENT_STEPS = {
    "SpacyNLP": "chargement du modèle de langue spaCy",
    "SpacyTokenizer": "découpage des phrases en mots",
    "SpacyFeaturizer": "vecteurs de mots spaCy",
    "RegexFeaturizer": "expressions régulières et tables de correspondance",
    "LexicalSyntacticFeaturizer": "caractéristiques lexicales",
    "CountVectorsFeaturizer": "vocabulaire des exemples",
    "DIETClassifier": "apprentissage des intentions et des entités (DIET)",
    "EntitySynonymMapper": "synonymes des entités",
    "MemoizationPolicy": "dialogues mémorisés",
    "RulePolicy": "règles de dialogue",
    "TEDPolicy": "apprentissage des dialogues (TED)",
}
# Share of the whole training each phase takes (measured: DIET is nearly all of it).
_DIET_RANGE = (10.0, 88.0)
_TED_RANGE = (90.0, 98.0)
_CORE_COMPONENTS = {"MemoizationPolicy", "RulePolicy", "TEDPolicy", "UnexpecTEDIntentPolicy"}


class TrainingProgress:
    """Turns Rasa's training output, line by line (tqdm's carriage returns as line ends), into a percentage and a step."""

    def __init__(self) -> None:
        self.percent = 0.0
        self.step = "démarrage de Rasa"
        self.component: str | None = None

    def feed(self, line: str) -> bool:
        """Reads one line of output; True when the step or the percentage changed."""
        before = (self.step, round(self.percent))
        if _VALIDATING in line:
            self._set("validation du domaine et des données", 2)
        elif match := _STARTING.search(line):
            self.component = match.group(1)
            name = COMPONENT_STEPS.get(self.component, self.component)
            if self.component == "DIETClassifier":
                self._set(name, _DIET_RANGE[0])
            elif self.component in _CORE_COMPONENTS:
                self._set(name, _TED_RANGE[0] if self.component == "TEDPolicy" else _DIET_RANGE[1])
            else:
                self._set(name, max(self.percent, 5))
        elif match := _RESTORED.search(line):
            self._set(f"{COMPONENT_STEPS.get(match.group(1), match.group(1))} (repris du cache)", self.percent)
        elif match := _EPOCHS.search(line):
            done, total = int(match.group(1)), int(match.group(2))
            low, high = _TED_RANGE if self.component == "TEDPolicy" else _DIET_RANGE
            name = COMPONENT_STEPS.get(self.component or "", "apprentissage")
            self._set(f"{name} : époque {done}/{total}", low + (high - low) * done / max(total, 1))
        elif _SAVED in line:
            self._set("modèle enregistré", 100)
        return (self.step, round(self.percent)) != before

    def _set(self, step: str, percent: float) -> None:
        self.step = step
        self.percent = max(self.percent, min(percent, 100.0))


def is_finetune_refusal(output: str) -> bool:
    """Whether Rasa's output says it cannot fine-tune the given model (labels, domain or config changed)."""
    return "Cannot finetune" in output or "No model for finetuning found" in output


def is_progress_bar(line: str) -> bool:
    return bool(re.match(r"\s*(Epochs|Processed \w+|Processed trackers|Processed story blocks)\b.*\|", line)) or "it/s]" in line


# --- Running `rasa train` --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingResult:
    model: Path
    trained: bool
    seconds: float
    finetuned: bool = False


def rasa_train_command(settings: Settings, out_dir: Path, model_name: str) -> list[str]:
    return [
        sys.executable, "-m", "rasa", "train",
        "--config", str(settings.bot_dir / "config.yml"),
        "--domain", str(settings.bot_dir / "domain"),
        "--data", str(settings.bot_dir / "data"), str(settings.nlu_dir),
        "--out", str(out_dir),
        "--fixed-model-name", model_name,
    ]  # fmt: skip


def rasa_finetune_command(settings: Settings, out_dir: Path, model_name: str, base_model: Path) -> list[str]:
    return [
        *rasa_train_command(settings, out_dir, model_name),
        "--finetune", str(base_model),
        "--epoch-fraction", str(settings.finetune_epoch_fraction),
    ]


def _run_streaming(settings: Settings, command: list[str], progress: Progress, log_path: Path | None) -> tuple[int, str]:
    """Runs Rasa, reporting its progress; returns its exit code and the tail of its output."""
    tracker = TrainingProgress()
    tail: deque[str] = deque(maxlen=60)
    log = open_private(log_path, "w") if log_path else None
    try:
        with subprocess.Popen(
            command,
            env=settings.rasa_environment(),
            cwd=settings.bot_dir.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,  # universal newlines: tqdm's carriage returns end lines too
            errors="replace",
            bufsize=1,
        ) as process:
            for raw in process.stdout:
                line = _ANSI.sub("", raw).rstrip()
                if not line:
                    continue
                bar = is_progress_bar(line)
                if log and not bar:
                    log.write(line + "\n")
                if not bar:
                    tail.append(line)
                    progress.log(line)
                if tracker.feed(line):
                    progress.step(tracker.step, tracker.percent)
            code = process.wait()
    finally:
        if log:
            log.close()
    return code, "\n".join(tail)


def _train(settings: Settings, command: list[str], target: Path, quiet: bool, progress: Progress | None, log_path: Path | None) -> float:
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress is None and not quiet:  # Rasa's own output in the terminal
        code, tail = subprocess.run(command, env=settings.rasa_environment(), cwd=settings.bot_dir.parent).returncode, ""
    else:
        code, tail = _run_streaming(settings, command, progress or NoProgress(), log_path)
    if code != 0 or not target.exists():
        if "--finetune" in command and is_finetune_refusal(tail):
            raise FinetuneRefused(tail.splitlines()[-1] if tail else "fine-tuning refusé")
        raise TrainingError(f"Rasa training failed (exit {code}).\n{tail[-4000:]}")
    return time.perf_counter() - started


def train_if_needed(
    settings: Settings,
    force: bool = False,
    out_dir: Path | None = None,
    quiet: bool = False,
    progress: Progress | None = None,
    log_path: Path | None = None,
) -> TrainingResult:
    """Full training into `out_dir` (default models/rasa) unless a model of the same inputs is there.

    Rasa's output goes to the terminal, or, when `quiet` or given a `progress`, to `progress` and `log_path`.
    """
    out_dir = out_dir or settings.rasa_models_dir
    target = model_path(settings, out_dir)
    if target.exists() and not force:
        return TrainingResult(model=target, trained=False, seconds=0.0)
    signature = training_signature(settings)
    command = rasa_train_command(settings, out_dir, target.name.removesuffix(".tar.gz"))
    seconds = _train(settings, command, target, quiet, progress, log_path)
    write_signature(target, signature)
    return TrainingResult(model=target, trained=True, seconds=seconds)


def finetune(settings: Settings, base_model: Path, progress: Progress | None = None, log_path: Path | None = None) -> TrainingResult:
    """Fine-tunes `base_model` on the current inputs (FINETUNE_EPOCH_FRACTION of the epochs); raises FinetuneRefused."""
    target = finetuned_model_path(settings)
    if target.exists():
        return TrainingResult(model=target, trained=False, seconds=0.0, finetuned=True)
    signature = training_signature(settings)
    command = rasa_finetune_command(settings, target.parent, target.name.removesuffix(".tar.gz"), base_model)
    seconds = _train(settings, command, target, True, progress, log_path)
    write_signature(target, signature)
    return TrainingResult(model=target, trained=True, seconds=seconds, finetuned=True)
