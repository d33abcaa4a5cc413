"""A folder of Rasa NLU files read as Rasa reads it, once per content: the training signature, the data checks
and the deployment read the same folders again and again, and Rasa's reader takes seconds for them."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.training_data import TrainingData


def read_nlu(folder: Path) -> "TrainingData":
    """Rasa's training data of `folder` (shared between callers: read it, never change it)."""
    return _read(str(folder), _content_digest(folder))


def _content_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _read(folder: str, _digest: str) -> "TrainingData":
    from rasa.shared.nlu.training_data.loading import load_data

    return load_data(folder)
