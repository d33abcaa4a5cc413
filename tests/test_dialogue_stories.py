"""The test stories (tests/stories/), run by `rasa test core` against the session's model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT

STORIES = PROJECT_ROOT / "tests" / "stories"

pytestmark = pytest.mark.e2e


def test_there_are_at_least_twenty_test_stories() -> None:
    stories = [s for f in STORIES.glob("*.yml") for s in yaml.safe_load(f.read_text(encoding="utf-8"))["stories"]]
    assert len(stories) >= 20


def test_rasa_test_core_passes_every_story(e2e_settings, trained_model: Path, tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "rasa", "test", "core",
        "--model", str(trained_model), "--stories", str(STORIES), "--out", str(tmp_path),
        "--fail-on-prediction-errors", "--no-plot",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=e2e_settings.rasa_environment(), capture_output=True, text=True)
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else result.stdout[-4000:] + result.stderr[-4000:]
    assert result.returncode == 0, details
