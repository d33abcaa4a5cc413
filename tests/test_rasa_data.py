"""Rasa's own checks of the domain, stories, rules and NLU data."""

from __future__ import annotations

import subprocess
import sys

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
