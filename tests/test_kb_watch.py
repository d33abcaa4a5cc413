"""`accueil kb watch` syncs again and again, recording a version only when the sources changed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kb_sync.versions import all_versions
from store.engine import session_factory
from tests.conftest import DEMO_SOURCE


def wait_for_versions(db_url: str, count: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with session_factory(db_url)() as session:
                found = all_versions(session)
                if len(found) >= count:
                    return found
        except Exception:  # the schema may not exist yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"fewer than {count} versions after {timeout} s")


def test_watch_records_each_change_once(tmp_path: Path, db_url: str) -> None:
    source = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, source)
    env = dict(os.environ, ACCUEIL_DB_URL=db_url)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "accueil.cli", "kb", "watch", "--source", str(source), "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_versions(db_url, 1)
        time.sleep(2.5)  # two more unchanged syncs: no new version
        assert len(wait_for_versions(db_url, 1)) == 1
        places = source / "places.yml"
        places.write_text(places.read_text(encoding="utf-8").replace('closes: "12:00"', 'closes: "12:30"'), encoding="utf-8")
        newest = wait_for_versions(db_url, 2)[0]
        assert newest.changes["changed"] == ["lieu laboratoire"]
    finally:
        watcher.send_signal(signal.SIGINT)
        output, _ = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, output
    assert "Version 2" in output and "aucun changement" in output
