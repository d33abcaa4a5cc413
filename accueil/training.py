"""Training the Rasa model, only when its inputs changed.

The model file is named after a fingerprint of everything training reads
(config, domain, stories, rules, NLU data), so an up-to-date model is found
by its name and training is skipped.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from accueil.settings import Settings

MODEL_PREFIX = "accueil-"


def training_inputs(settings: Settings) -> list[Path]:
    files = [settings.bot_dir / "config.yml"]
    for folder in (settings.bot_dir / "domain", settings.bot_dir / "data", settings.nlu_dir):
        files += sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".txt"))
    return files


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(settings):
        digest.update(str(path.relative_to(settings.bot_dir.parent)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(settings: Settings, out_dir: Path | None = None) -> Path:
    return (out_dir or settings.rasa_models_dir) / f"{MODEL_PREFIX}{fingerprint(settings)}.tar.gz"


@dataclass(frozen=True)
class TrainingResult:
    model: Path
    trained: bool
    seconds: float


def rasa_train_command(settings: Settings, out_dir: Path, model_name: str) -> list[str]:
    return [
        sys.executable, "-m", "rasa", "train",
        "--config", str(settings.bot_dir / "config.yml"),
        "--domain", str(settings.bot_dir / "domain"),
        "--data", str(settings.bot_dir / "data"), str(settings.nlu_dir),
        "--out", str(out_dir),
        "--fixed-model-name", model_name,
    ]  # fmt: skip


def train_if_needed(settings: Settings, force: bool = False, out_dir: Path | None = None, quiet: bool = False) -> TrainingResult:
    """Train into `out_dir` (default models/rasa) unless a model of the same inputs is there."""
    out_dir = out_dir or settings.rasa_models_dir
    target = model_path(settings, out_dir)
    if target.exists() and not force:
        return TrainingResult(model=target, trained=False, seconds=0.0)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    command = rasa_train_command(settings, out_dir, target.name.removesuffix(".tar.gz"))
    output = subprocess.PIPE if quiet else None
    completed = subprocess.run(
        command, env=settings.rasa_environment(), cwd=settings.bot_dir.parent, stdout=output, stderr=subprocess.STDOUT if quiet else None, text=True
    )
    if completed.returncode != 0 or not target.exists():
        tail = (completed.stdout or "")[-4000:] if quiet else ""
        raise RuntimeError(f"Rasa training failed (exit {completed.returncode}).\n{tail}")
    return TrainingResult(model=target, trained=True, seconds=time.perf_counter() - started)
