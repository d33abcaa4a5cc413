"""The fault suite: under a steady load of patients' conversations, each part of Accueil fails in turn
(kill -9 of each child, PostgreSQL cut for 20 s, var/ full) and the assistant must keep answering.

Measured for each fault, and written to reports/faults.json (docs/operations.md shows the figures):
the seconds until real answers resume, what the patients got meanwhile (never an empty reply, an
error page or a stack trace: French text only) and the messages lost (answered but missing from
Rasa's conversation store: 0).

The servers are this module's own (free ports, under `accueil run`'s supervisor), on the production
setup: the knowledge base and the conversations in PostgreSQL, reached through a TCP proxy the suite
cuts (the machine's shared PostgreSQL server is never stopped), and var/ on a small tmpfs the suite fills.
Rerun: `uv run --frozen pytest tests/faults -v`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import requests
from sqlalchemy.engine import make_url

from accueil.supervision import Supervisor
from core.settings import PROJECT_ROOT, Settings
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE, PG_ADMIN_URL, free_port, free_port_run
from tests.faults.load import ConversationLoad, Exchange, bad_replies, summary
from tests.faults.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

REPORT = PROJECT_ROOT / "reports" / "faults.json"
CONVERSATIONS = 4  # patients chatting at once, one message every 0.3 s each
PG_CUT_SECONDS = 20.0
DISK_FULL_SECONDS = 8.0
# The bars: a killed part of the conversation path is answering again within these seconds. A killed Rasa server
# takes a minute or two to load its model again; meanwhile the other replica answers (ACCUEIL_RASA_REPLICAS=2).
RESUME_BAR = {"action server": 15.0, "Rasa server": 5.0, "PostgreSQL": 15.0, "var/ full": 10.0}
RASA_RESTART_MARGIN = 60.0  # the killed Rasa server's own return: the first start, the backoff, a busier machine
SERVER_BACK_BAR = 30.0  # a killed web server, studio or voice gateway process answers its health check again

results: dict[str, dict] = {}


@dataclass
class Stack:
    settings: Settings
    processes: dict  # name: ManagedProcess
    conversations_url: str  # the conversation store, straight (not through the proxy)
    supervisor: Supervisor
    startup_seconds: float  # the first start of every server, until all answered


def _pg_database(admin, name: str) -> str:
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    return name


@pytest.fixture(scope="module")
def pg_proxy():
    with TcpProxy(("127.0.0.1", make_url(PG_ADMIN_URL).port or 5432), free_port()) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def databases(pg_proxy: TcpProxy):
    """Throwaway knowledge base and conversation store: (URL through the proxy, direct URL) of each."""
    admin = psycopg2.connect(PG_ADMIN_URL)
    admin.autocommit = True
    names = [_pg_database(admin, f"accueil_faults_{kind}_{uuid.uuid4().hex[:8]}") for kind in ("kb", "conv")]
    base = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg2")
    urls = {
        name: (str(base.set(database=name, host="127.0.0.1", port=pg_proxy.port)), str(base.set(database=name)))
        for name in names
    }
    yield [urls[n] for n in names]
    from store.engine import get_engine

    get_engine.cache_clear()
    with admin.cursor() as cursor:
        for name in names:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="module")
def var_tmpfs(tmp_path_factory: pytest.TempPathFactory):
    """var/ on a 64 MB tmpfs, so that the suite can fill it (needs root, as the suite's machines have)."""
    path = tmp_path_factory.mktemp("faults-var")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(path)], capture_output=True, text=True)
    assert mounted.returncode == 0, f"the fault suite mounts a tmpfs for var/ (run as root): {mounted.stderr}"
    yield path
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def stack(e2e_settings: Settings, trained_model: Path, databases, var_tmpfs: Path, tmp_path_factory: pytest.TempPathFactory):
    """Every server `accueil run` starts (two Rasa servers, two voice gateway processes on the test models), under its
    supervisor."""
    from accueil.servers import action_server, rasa_servers, studio_server, voice_gateway, web_server
    from core.metrics import reset

    (kb_url, _), (conv_url, _) = databases
    settings = e2e_settings.copy(
        update=dict(
            db_url=kb_url,
            tracker_db_url=conv_url,
            var_dir=var_tmpfs,
            rasa_port=free_port(),
            rasa_replicas=2,
            rasa_replica_port=free_port_run(2),
            public_rasa_port=free_port(),
            actions_port=free_port(),
            web_port=free_port(),
            studio_port=free_port(),
            sip_port=free_port_run(3, step=2),
            voice_ws_port=free_port_run(2),
            voice_processes=2,
            rate_limit_sender=0,
            rate_limit_address=0,
        )
    )
    sync(FolderSource(DEMO_SOURCE), databases[0][1])
    reset(settings.metrics_dir)
    processes = [
        action_server(settings, settings.log_dir),
        *rasa_servers(settings, trained_model, settings.log_dir),
        web_server(settings, settings.log_dir),
        studio_server(settings, settings.log_dir),
        *voice_gateway(settings, settings.log_dir),
    ]
    for process in processes:  # both Rasa servers load at once: the suite's time, not the machine's comfort
        process.deferred = False
    started = time.monotonic()
    try:
        with Supervisor(processes, startup_timeout=settings.startup_timeout) as supervisor:
            stop = threading.Event()
            watcher = threading.Thread(target=supervisor.watch, args=(stop,), daemon=True)
            watcher.start()
            try:
                yield Stack(settings, {p.name: p for p in processes}, databases[1][1], supervisor, time.monotonic() - started)
            finally:
                stop.set()
                watcher.join(10)
    finally:  # the servers' logs outlive the tmpfs, for a failure's diagnosis
        logs = tmp_path_factory.mktemp("faults-logs")
        shutil.copytree(settings.log_dir, logs, dirs_exist_ok=True)
        print(f"fault suite: the servers' logs are in {logs}")


@pytest.fixture(scope="module")
def load(stack: Stack):
    webhook = f"http://127.0.0.1:{stack.settings.public_rasa_port}/webhooks/rest/webhook"
    with ConversationLoad(webhook, conversations=CONVERSATIONS, interval=0.3) as running_load:
        assert running_load.wait_for_answers(time.monotonic() - 60, CONVERSATIONS, timeout=60) is not None, "no answer before any fault"
        yield running_load
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def stored_messages(conversations_url: str) -> Counter:
    """(conversation, text) of every patient's message in Rasa's tracker store."""
    connection = psycopg2.connect(make_url(conversations_url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, data FROM events WHERE type_name = 'user'")
            return Counter((sender, json.loads(data).get("text")) for sender, data in cursor.fetchall())
    finally:
        connection.close()


def lost(exchanges: list[Exchange], conversations_url: str) -> list[Exchange]:
    """The messages the patients got a reply to that are not in the conversation store."""
    stored = stored_messages(conversations_url)
    missing = []
    for exchange in exchanges:
        if exchange.acknowledged:
            key = (exchange.conversation, exchange.message)
            if stored[key] > 0:
                stored[key] -= 1
            else:
                missing.append(exchange)
    return missing


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_healthy(url: str, since: float, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return round(time.monotonic() - since, 2)
        time.sleep(0.1)
    return None


def kill(process) -> float:
    """kill -9, as a crash or the kernel's OOM killer would; the time it happened."""
    os.kill(process.process.pid, signal.SIGKILL)
    return time.monotonic()


def all_serving(stack: Stack, timeout: float | None = None) -> None:
    """Before a fault: every server up (a previous fault's failure must not be measured again; the second Rasa server
    starts once the first answers)."""
    timeout = timeout or stack.settings.startup_timeout
    for name in stack.processes:
        assert stack.supervisor.wait_serving(name, timeout), f"{name} not serving before the fault: {stack.supervisor.states()[name]}"


def record(name: str, stack: Stack, load: ConversationLoad, start: float, end: float, resumed: float | None, **extra) -> dict:
    """Measures a fault (from `start`; over at `end`, answers resumed `resumed` s later) and keeps its figures for the report."""
    window = load.between(start, end + (resumed if resumed is not None else 60.0))
    missing = lost(load.between(start), stack.conversations_url)
    figures = {
        "seconds_to_resume": resumed,
        "replies_during": summary(window),
        "lost": sum(e.kind == "answer" for e in missing),
        # Messages that got the polite notice are recorded too (while the store is away: through the local journal).
        "notices_not_recorded": sum(e.kind == "notice" for e in missing),
        **extra,
    }
    figures["_bad"] = bad_replies(window)
    figures["_missing"] = [f"{e.kind} at {e.sent - start:+.1f} s, {e.conversation[:8]}: {e.message}" for e in missing]
    results[name] = {k: v for k, v in figures.items() if not k.startswith("_")}
    return figures


def check(figures: dict, bar: float | None) -> None:
    assert figures["seconds_to_resume"] is not None, f"answers did not resume: {figures}"
    if bar is not None:
        assert figures["seconds_to_resume"] <= bar, f"answers resumed after {figures['seconds_to_resume']} s (bar {bar} s)"
    assert not figures["_bad"], f"patients got: {figures['_bad']}"
    assert figures["lost"] == 0 and figures["notices_not_recorded"] == 0, (
        f"replied to but not in the conversation store: {figures['_missing'][:20]}"
    )


@pytest.mark.parametrize("name", ["action server", "Rasa server"])
def test_conversation_path_child_killed(stack: Stack, load: ConversationLoad, name: str) -> None:
    all_serving(stack)
    bar = RESUME_BAR[name]
    process = stack.processes[name]
    killed = kill(process)
    resumed = load.wait_for_answers(killed, CONVERSATIONS, timeout=bar + 30)
    extra = {}
    if name == "Rasa server":  # the other one answered meanwhile; the killed one is back once its model is loaded
        back = wait_healthy(process.ready_url, killed, timeout=stack.startup_seconds + RASA_RESTART_MARGIN)
        extra = {"seconds_first_start": round(stack.startup_seconds, 1), "replicas": stack.settings.rasa_replicas}
    else:
        back = wait_healthy(process.ready_url, killed, timeout=5)
    check(record(name, stack, load, killed, killed, resumed, seconds_server_back=back, **extra), bar)


def test_side_children_killed(stack: Stack, load: ConversationLoad) -> None:
    """The web server, the studio and a voice gateway process killed one after the other (a second apart): the patients'
    conversations go on as if nothing happened, the other voice process keeps serving, each killed server is back on its own."""
    all_serving(stack)
    names = ["web server", "studio", "voice gateway 2"]
    killed = {}
    for name in names:
        killed[name] = kill(stack.processes[name])
        time.sleep(1.0)
    with ThreadPoolExecutor(len(names)) as pool:
        back = dict(zip(names, pool.map(lambda n: wait_healthy(stack.processes[n].ready_url, killed[n], SERVER_BACK_BAR + 10), names)))
    untouched = [p for n, p in stack.processes.items() if n not in names]
    still = {p.name: healthy(p.ready_url) for p in untouched}
    first = killed[names[0]]
    resumed = load.wait_for_answers(first, CONVERSATIONS, timeout=10)
    for name in names:
        figures = record(name, stack, load, killed[name], killed[name], resumed, seconds_server_back=back[name])
    assert all(b is not None and b <= SERVER_BACK_BAR for b in back.values()), f"seconds until each answered again: {back}"
    assert all(still.values()), f"other servers not answering: {still}"
    check(figures, bar=2.0)  # the patients did not notice


def test_postgresql_cut(stack: Stack, load: ConversationLoad, pg_proxy: TcpProxy) -> None:
    """PostgreSQL away for 20 s (knowledge base and conversation store): polite answers, then recovery without a restart.
    The seconds to resume count from PostgreSQL's return."""
    all_serving(stack)
    pids = {n: p.process.pid for n, p in stack.processes.items()}
    cut = time.monotonic()
    pg_proxy.cut()
    try:
        time.sleep(PG_CUT_SECONDS)
    finally:
        pg_proxy.restore()
    restored = time.monotonic()
    resumed = load.wait_for_answers(restored, CONVERSATIONS, timeout=RESUME_BAR["PostgreSQL"] + 30)
    figures = record("PostgreSQL", stack, load, cut, restored, resumed, fault_seconds=PG_CUT_SECONDS)
    assert {n: p.process.pid for n, p in stack.processes.items()} == pids, "a server was restarted: recovery must not need one"
    check(figures, RESUME_BAR["PostgreSQL"])


def test_var_full(stack: Stack, load: ConversationLoad) -> None:
    """var/ (logs, metrics, runtime state) full: the patients still get answers, and everything is fine once space is freed.
    The seconds to resume count from the moment space was freed."""
    all_serving(stack)
    filler = stack.settings.var_dir / "filler"
    start = time.monotonic()
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 2**20)
                handle.flush()
        except OSError:
            pass
    time.sleep(DISK_FULL_SECONDS)
    filler.unlink()
    freed = time.monotonic()
    resumed = load.wait_for_answers(freed, CONVERSATIONS, timeout=RESUME_BAR["var/ full"] + 20)
    down = [p.name for p in stack.processes.values() if not healthy(p.ready_url)]
    figures = record("var/ full", stack, load, start, freed, resumed, fault_seconds=DISK_FULL_SECONDS)
    assert not down, f"not answering once space was freed: {down}"
    check(figures, RESUME_BAR["var/ full"])


def test_voice_process_stopped_during_calls(stack: Stack, load: ConversationLoad) -> None:
    """A voice gateway process told to stop (SIGTERM: a restart, `systemctl stop`) while a caller is on the line:
    the caller hears the apology and the line is hung up; a call on the other process goes on; the supervisor starts
    the stopped one again. (A process killed outright cannot apologise: its callers' side notices the dead line.)"""
    import asyncio

    from voice_gateway import messages
    from voice_gateway.caller import WebSocketCaller
    from voice_gateway.gateway import SHUTDOWN_GRACE_SECONDS

    all_serving(stack)
    process = stack.processes["voice gateway 2"]
    figures: dict = {}

    async def calls() -> None:
        stopped_line = stack.settings.voice_line(1).voice_ws_url
        other_line = stack.settings.voice_line(0).voice_ws_url
        async with WebSocketCaller(stopped_line) as caller, WebSocketCaller(other_line) as other:
            for each in (caller, other):  # both greeted: the calls are in progress
                await each.wait_for(lambda e: e.get("type") == "bot", timeout=60)
            os.kill(process.process.pid, signal.SIGTERM)
            stopped = time.monotonic()
            await asyncio.wait_for(caller.hung_up.wait(), 15)
            figures["seconds_to_hang_up"] = round(time.monotonic() - stopped, 2)
            figures["apology"] = messages.SHUTDOWN in caller.texts("bot")
            figures["other_call_on"] = not other.hung_up.is_set()
            figures["stopped_at"] = stopped

    stopped_pid = process.process.pid
    asyncio.run(calls())
    back = None
    while back is None and time.monotonic() - figures["stopped_at"] < SERVER_BACK_BAR + 10:
        state = stack.supervisor.states()[process.name]  # a new process, answering (the old one answers until it exits)
        if state.pid != stopped_pid and state.state == "up":
            back = round(time.monotonic() - figures["stopped_at"], 2)
        time.sleep(0.1)
    results["voice gateway 2 stopped during a call"] = {
        "seconds_to_hang_up": figures["seconds_to_hang_up"],
        "apology_heard": figures["apology"],
        "other_process_call_went_on": figures["other_call_on"],
        "seconds_server_back": back,
    }
    assert figures["apology"], "the caller did not hear the apology"
    assert figures["seconds_to_hang_up"] < SHUTDOWN_GRACE_SECONDS, "hung up by the deadline, not after the apology"
    assert figures["other_call_on"], "the call on the other voice process was cut"
    assert back is not None and back <= SERVER_BACK_BAR, f"the stopped voice process answered again after {back} s"
