"""Log files without personal data: the masking filter, the content switch, the servers' rotated 0600 logs and their purge."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from accueil.retention import purge
from accueil.servers import ManagedProcess, log_options
from core import logs
from core.logs import CONTENT_WARNING, PersonalDataFilter, mask, shown
from core.settings import PROJECT_ROOT, Settings

NAME, PHONE, EMAIL, NIR = "Bérénice Tartempion", "06 12 34 56 78", "berenice.tartempion@example.org", "2 84 05 75 112 233 44"
SENTENCE = f"je m'appelle {NAME}, mon numéro est {PHONE}, mail {EMAIL}, sécu {NIR}"
SECRETS = (PHONE, PHONE.replace(" ", ""), EMAIL, NIR, "0612345678")


@pytest.fixture(autouse=True)
def content_off():
    logs.set_content_logged(False)
    yield
    logs.set_content_logged(False)


def record(msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, exc_info)


def formatted(rec: logging.LogRecord) -> str:
    PersonalDataFilter().filter(rec)
    return logging.Formatter("%(message)s").format(rec)


def test_the_filter_masks_message_arguments_and_traceback() -> None:
    try:
        raise ValueError(f"INSERT failed [parameters: ('{PHONE}', '{EMAIL}')]")
    except ValueError:
        rec = record("call %s from %s heard %r", "c1", "sip:0612345678@pbx.local", SENTENCE, exc_info=sys.exc_info())
    text = formatted(rec)
    assert "c1" in text and "[téléphone]" in text and "[e-mail]" in text and "@pbx.local" in text
    assert not any(secret in text for secret in SECRETS), text


def test_the_filter_leaves_ordinary_lines_alone() -> None:
    line = "2026-12-06 07:01:16,123 INFO rasa: model 20261206-070116-brisk.tar.gz loaded on 127.0.0.1:5005 in 12.5 s"
    assert mask(line) == line
    assert formatted(record("call %s: turn %s", "ab12", {"turn": 3, "total": 812})) == "call ab12: turn {'turn': 3, 'total': 812}"


@hypothesis_settings(max_examples=60, deadline=None, derandomize=True)
@given(
    digits=st.lists(st.integers(0, 99), min_size=4, max_size=4),
    first=st.integers(1, 9),
    separator=st.sampled_from(["", " ", ".", "-"]),
    prefix=st.sampled_from(["0", "+33 ", "0033"]),
    around=st.sampled_from(["rappelez-moi au {}", "{}", "tél:{} merci", "sip:{}@10.0.0.1"]),
)
def test_any_french_phone_number_is_masked(digits, first, separator, prefix, around) -> None:
    number = prefix + str(first) + separator + separator.join(f"{d:02d}" for d in digits)
    masked = mask(around.format(number))
    assert number not in masked and "".join(f"{d:02d}" for d in digits) not in masked.replace(separator or " ", "")


def test_content_is_shown_only_in_a_debugging_session() -> None:
    assert shown(SENTENCE) == f"({len(SENTENCE)} characters)" and shown(None) == "(empty)"
    logs.set_content_logged(True)
    assert shown(SENTENCE) == repr(SENTENCE)
    rec = record("heard %s", SENTENCE)
    assert formatted(rec) == f"heard {SENTENCE}"  # the filter lets a debugging session see everything
    assert PHONE not in logging.Formatter().format(_filtered_always(record("heard %s", SENTENCE)))


def _filtered_always(rec: logging.LogRecord) -> logging.LogRecord:
    PersonalDataFilter(always=True).filter(rec)
    return rec


def test_settings_default_to_no_content_and_a_debugging_session_says_so_loudly() -> None:
    assert Settings().log_content is False
    assert Settings(log_content=True).as_environment()["ACCUEIL_LOG_CONTENT"] == "true"
    child = (
        "import logging; from core.logs import configure, shown; from core.settings import get_settings;"
        "configure(get_settings()); logging.getLogger('x').info('heard %s', shown('06 12 34 56 78'))"
    )
    env = {**os.environ, "ACCUEIL_LOG_CONTENT": "true", "ACCUEIL_LOG_LEVEL": "INFO"}
    loud = subprocess.run([sys.executable, "-c", child], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert f"WARNING accueil: {CONTENT_WARNING}" in loud.stderr and "heard '06 12 34 56 78'" in loud.stderr
    env["ACCUEIL_LOG_CONTENT"] = "false"
    quiet = subprocess.run([sys.executable, "-c", child], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert "WARNING" not in quiet.stderr and "heard (14 characters)" in quiet.stderr


CHILD = f"""
import sys
for i in range(400):
    print("line", i, "x" * 60)
print({SENTENCE!r}, flush=True)
print("the last words before the crash", file=sys.stderr)
sys.exit(3)
"""


def child(tmp_path: Path, settings: Settings) -> ManagedProcess:
    log_dir = tmp_path / "var" / "log"
    return ManagedProcess("child", [sys.executable, "-c", CHILD], "http://unused", log_dir / "child.log", dict(os.environ), tmp_path, **log_options(settings))


def finished(proc: ManagedProcess) -> ManagedProcess:
    proc.start()
    proc.process.wait(30)
    return proc


def test_a_server_log_is_private_masked_rotated_and_still_tells_why_it_stopped(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", log_max_mb=1, log_backups=2)
    proc = child(tmp_path, settings)
    proc.log_max_bytes = 8 * 1024  # ~28 kB of output: rotated during the run
    finished(proc)
    tail = proc.log_tail()
    assert tail.endswith("the last words before the crash") and "[téléphone]" in tail
    proc.stop()
    folder = tmp_path / "var" / "log"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["child.log", "child.log.1", "child.log.2"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert not any(secret in path.read_text(encoding="utf-8") for secret in SECRETS)
    first_run = (folder / "child.log").read_text(encoding="utf-8")
    proc.log_max_bytes = settings.log_max_mb * 2**20
    finished(proc).stop()  # a new start begins a new file; the previous one is kept
    assert (folder / "child.log.1").read_text(encoding="utf-8") == first_run


def test_a_debugging_session_logs_the_content_after_a_warning(tmp_path: Path) -> None:
    proc = finished(child(tmp_path, Settings(var_dir=tmp_path / "var", log_content=True)))
    proc.stop()
    text = proc.log_path.read_text(encoding="utf-8")
    assert text.startswith(f"WARNING {CONTENT_WARNING}\n") and SENTENCE in text


def test_the_purge_deletes_the_log_files_older_than_the_retention(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", db_url=f"sqlite:///{tmp_path / 'none.db'}", tracker_db_url=f"sqlite:///{tmp_path / 'no.db'}")
    old_time = time.time() - 100 * 86400
    files = {
        "log/rasa.log": False,
        "log/rasa.log.3": True,
        "log/pjsip-5060.log": True,
        "studio/jobs/7/job.log": True,
        "eval/holdout.log": False,
        "log/notes.txt": True,  # not a log file: kept whatever its age
    }
    for name, old in files.items():
        path = settings.var_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SENTENCE, encoding="utf-8")
        if old:
            os.utime(path, (old_time, old_time))
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=90)
    assert [c.rows for c in purge(settings, cutoff, dry_run=True) if c.table == "log files"] == [3]
    assert all((settings.var_dir / name).exists() for name in files)
    counts = purge(settings, cutoff)
    assert [c.rows for c in counts if c.table == "log files"] == [3]
    kept = sorted(str(p.relative_to(settings.var_dir)) for p in settings.var_dir.rglob("*") if p.is_file())
    assert kept == ["eval/holdout.log", "log/notes.txt", "log/rasa.log"]
