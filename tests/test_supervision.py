"""`accueil run`'s supervisor on real servers (the web server, small HTTP servers): a server killed is restarted
while the others keep answering, one that keeps dying is reported, SIGTERM stops everything in order with no
process left behind."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from accueil.servers import ManagedProcess, web_server
from accueil.supervision import RestartPolicy, Supervisor, exit_description, supervisor_log
from core import metrics
from core.settings import Settings
from tests.conftest import alive, free_port

# A tiny real HTTP server: answers 200 on every path, writes its name to a file when SIGTERM stops it, and
# exits with code 3 at once when the file `broken` exists (a server that can no longer start). Given a delay, it
# answers that many seconds late and prints "answered" for each request.
SERVER = textwrap.dedent(
    """
    import http.server, os, signal, sys, time
    name, port, out, broken = sys.argv[1:5]
    delay = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    if os.path.exists(broken):
        sys.exit(3)
    def stopped(*_):
        with open(out, "a") as handle:
            handle.write(name + "\\n")
        sys.exit(0)
    signal.signal(signal.SIGTERM, stopped)
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if delay:
                time.sleep(delay)
                print("answered", flush=True)
            self.send_response(200); self.end_headers(); self.wfile.write(name.encode())
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
    """
)

FAST = RestartPolicy(first_delay=0.1, max_delay=0.5, stable_after=30.0, failing_deaths=3, failing_window=60.0, interval=0.05)
PROBED = dataclasses.replace(FAST, probe_interval=0.2, probe_timeout=0.5, probe_failures=3)


def small_server(folder: Path, name: str, grandchild: bool = False, delay: float = 0.0) -> ManagedProcess:
    port = free_port()
    command = [sys.executable, "-c", SERVER, name, str(port), str(folder / "stopped.txt"), str(folder / f"{name}.broken"), str(delay)]
    if grandchild:  # a shell that leaves a sleeping grandchild in the server's process group
        command = ["sh", "-c", 'sleep 300 & echo "grandchild $!"; exec "$@"', "sh", *command]
    return ManagedProcess(name, command, f"http://127.0.0.1:{port}/", folder / f"{name}.log", dict(os.environ), folder)


@pytest.fixture
def metrics_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "metrics"
    metrics.reset(folder)
    monkeypatch.setenv(metrics.MULTIPROC_ENV, str(folder))
    return folder


def value(folder: Path, name: str, **labels: str) -> float:
    """A sample of the metrics the studio's /metrics serves from `folder`, 0 when absent."""
    for family in text_string_to_metric_families(metrics.render(folder).decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


class Watching:
    """The supervisor's watch loop in a thread, as `accueil run` runs it in its main thread."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.stop = threading.Event()
        self.thread = threading.Thread(target=supervisor.watch, args=(self.stop,), daemon=True)

    def __enter__(self) -> Supervisor:
        self.thread.start()
        return self.supervisor

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_server_answers_again_within_seconds_while_the_other_never_stops(tmp_path: Path, metrics_dir: Path) -> None:
    settings = Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path / "var", web_port=free_port())
    web, studio = web_server(settings, settings.log_dir), small_server(tmp_path, "studio")
    supervisor_log(settings)
    with Supervisor([web, studio], startup_timeout=60) as supervisor, Watching(supervisor):
        first_pid = web.process.pid
        os.kill(first_pid, signal.SIGKILL)
        killed = time.monotonic()
        studio_misses = 0
        while not answers(web.ready_url):
            studio_misses += not answers(studio.ready_url)
            assert time.monotonic() - killed < 15, "the web server did not answer again"
            time.sleep(0.1)
        back_after = time.monotonic() - killed
        assert studio_misses == 0
        assert web.process.pid != first_pid and studio.process.poll() is None
        state = supervisor.wait_serving("web server", 5) and supervisor.states()["web server"]
        assert state and state.restarts == 1 and state.last_exit == "signal SIGKILL" and not state.failing
    assert back_after < 10
    assert value(metrics_dir, "accueil_process_restarts_total", process="web server") == 1
    assert value(metrics_dir, "accueil_process_restarts_total", process="studio") == 0
    log = (settings.log_dir / "supervisor.log").read_text()
    assert f"web server (pid {first_pid}) stopped: signal SIGKILL" in log and "web server answers again" in log
    assert "restarted after signal SIGKILL" in web.log_path.read_text()  # the crash's lines kept, not rotated away


def test_a_server_that_keeps_dying_is_reported_and_retried_slowly_while_the_other_serves(tmp_path: Path, metrics_dir: Path) -> None:
    steady, flaky = small_server(tmp_path, "steady"), small_server(tmp_path, "flaky")
    said: list[tuple[int, str]] = []
    with Supervisor([steady, flaky], startup_timeout=10, policy=FAST, notify=lambda level, text: said.append((level, text))) as supervisor:
        (tmp_path / "flaky.broken").touch()  # from now on it exits with code 3 as soon as it starts
        flaky.process.kill()
        with Watching(supervisor):
            deadline = time.monotonic() + 10
            while not supervisor.states()["flaky"].failing:
                assert answers(steady.ready_url)
                assert time.monotonic() < deadline, said
                time.sleep(0.05)
            time.sleep(1.2)  # at the slowest pace (0.5 s): two or three more tries
            state = supervisor.states()["flaky"]
            assert answers(steady.ready_url) and supervisor.states()["steady"].state == "up"
    assert state.last_exit == "exit code 3" and 3 <= state.restarts <= 6
    failing = [text for level, text in said if "keeps stopping" in text]
    assert len(failing) == 1 and "the other servers keep serving" in failing[0]
    assert value(metrics_dir, "accueil_process_failing", process="flaky") == 1
    assert value(metrics_dir, "accueil_process_up", process="steady") == 0  # stopped at the end


def test_a_spare_starts_once_the_others_answer_and_serves_once_it_answers(tmp_path: Path, metrics_dir: Path) -> None:
    """A second Rasa server is `deferred`: the start does not wait for it, it does not share the cores with the first."""
    first = small_server(tmp_path, "first")
    spare = dataclasses.replace(small_server(tmp_path, "spare"), deferred=True)
    said: list[tuple[int, str]] = []
    with Supervisor([first, spare], startup_timeout=10, policy=FAST, notify=lambda level, text: said.append((level, text))) as supervisor:
        assert supervisor.states()["first"].state == "up" and supervisor.states()["spare"].state == "starting"
        assert any("spare started" in text for _, text in said)
        with Watching(supervisor):
            assert supervisor.wait_serving("spare", 10), said
        assert answers(spare.ready_url) and answers(first.ready_url)
    assert any(text == "spare answers." for _, text in said), said
    assert supervisor.states()["spare"].restarts == 0


def test_sigterm_stops_every_server_in_reverse_order_and_leaves_no_process(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import signal, sys
        sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        from pathlib import Path
        from accueil.supervision import Supervisor
        from tests.test_supervision import small_server

        def interrupt(*_):
            raise KeyboardInterrupt
        signal.signal(signal.SIGTERM, interrupt)
        folder = Path(sys.argv[1])
        servers = [small_server(folder, "first"), small_server(folder, "second", grandchild=True), small_server(folder, "third")]
        try:
            with Supervisor(servers, startup_timeout=20) as supervisor:
                print(" ".join(str(s.process.pid) for s in servers), flush=True)
                supervisor.watch()
        except KeyboardInterrupt:
            pass
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    grandchild = grandchild_pid(tmp_path / "second.log")
    assert len(pids) == 3 and all(alive(pid) for pid in (*pids, grandchild))
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(30) == 0
    assert (tmp_path / "stopped.txt").read_text().split() == ["third", "second", "first"]
    for pid in (*pids, grandchild):
        assert not alive(pid, settle=5), f"process {pid} left behind"


def test_a_dead_servers_leftover_grandchild_is_killed_before_the_restart(tmp_path: Path, metrics_dir: Path) -> None:
    server = small_server(tmp_path, "parent", grandchild=True)
    with Supervisor([server], startup_timeout=10, policy=FAST) as supervisor, Watching(supervisor):
        grandchild = grandchild_pid(server.log_path)
        os.kill(server.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervisor.states()["parent"].restarts == 0:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert supervisor.wait_serving("parent", 10)
        assert not alive(grandchild, settle=5) and answers(server.ready_url)


def test_a_hung_server_is_killed_and_restarted_and_answers_again(tmp_path: Path, metrics_dir: Path) -> None:
    hung, other = small_server(tmp_path, "hung"), small_server(tmp_path, "other")
    supervisor_log(Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path / "var"))
    with Supervisor([hung, other], startup_timeout=10, policy=PROBED) as supervisor, Watching(supervisor):
        first_pid = hung.process.pid
        time.sleep(0.5)  # answered probes: nothing happens
        assert supervisor.states()["hung"].restarts == 0
        os.kill(first_pid, signal.SIGSTOP)  # alive, but answers nothing any more
        stopped = time.monotonic()
        while supervisor.states()["hung"].restarts == 0:
            assert time.monotonic() - stopped < 8, "the hung server was not restarted"
            time.sleep(0.05)
        assert supervisor.wait_serving("hung", 10) and answers(hung.ready_url)
        state = supervisor.states()["hung"]
        assert hung.process.pid != first_pid and not alive(first_pid, settle=5)
        assert state.last_exit.startswith("not answering for ") and state.last_exit.endswith(" s (hung)")
        assert supervisor.states()["other"].restarts == 0 and answers(other.ready_url)
    assert value(metrics_dir, "accueil_process_restarts_total", process="hung") == 1
    assert value(metrics_dir, "accueil_process_restarts_total", process="other") == 0
    log = (tmp_path / "var" / "log" / "supervisor.log").read_text()
    assert f"hung (pid {first_pid}) stopped: not answering for " in log and "hung answers again" in log


def test_a_server_answering_slowly_within_the_probe_timeout_is_left_alone(tmp_path: Path) -> None:
    slow = small_server(tmp_path, "slow", delay=0.6)
    policy = dataclasses.replace(PROBED, probe_timeout=2.0, probe_failures=2)
    with Supervisor([slow], startup_timeout=10, policy=policy) as supervisor, Watching(supervisor):
        pid = slow.process.pid
        time.sleep(3.5)
        state = supervisor.states()["slow"]
    probes = slow.log_path.read_text().split().count("answered") - 1  # the first one was the readiness check
    assert probes >= 3, "the slow server was not probed"
    assert state.state == "up" and state.restarts == 0 and state.pid == pid and state.last_exit is None


def test_a_server_allowed_a_longer_silence_is_left_alone_during_it_and_killed_after(tmp_path: Path) -> None:
    """As the Rasa server loading a model: its event loop is held for longer than the policy's probes allow."""
    loading = dataclasses.replace(small_server(tmp_path, "loading"), hung_after=3.0)
    with Supervisor([loading], startup_timeout=10, policy=PROBED) as supervisor, Watching(supervisor):
        pid = loading.process.pid
        os.kill(pid, signal.SIGSTOP)
        time.sleep(1.5)  # twice what the policy alone allows (3 probes, 0.2 s apart, 0.5 s each)
        os.kill(pid, signal.SIGCONT)
        time.sleep(1.0)
        assert supervisor.states()["loading"].restarts == 0 and answers(loading.ready_url)
        os.kill(pid, signal.SIGSTOP)  # now for good
        stopped = time.monotonic()
        while supervisor.states()["loading"].restarts == 0:
            assert time.monotonic() - stopped < 10, "the hung server was not restarted"
            time.sleep(0.05)
        assert time.monotonic() - stopped >= 2.5, "killed before its own allowance"
        assert supervisor.wait_serving("loading", 10) and loading.process.pid != pid


def test_the_rasa_server_is_allowed_the_time_of_a_model_load(tmp_path: Path) -> None:
    from accueil.servers import RASA_HUNG_AFTER, rasa_server

    settings = Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path / "var")
    assert rasa_server(settings, tmp_path / "model.tar.gz", tmp_path / "log").hung_after == RASA_HUNG_AFTER >= 120


def test_a_dead_server_is_noticed_at_once_while_the_probe_of_a_hung_one_hangs(tmp_path: Path) -> None:
    hung, dying = small_server(tmp_path, "hung"), small_server(tmp_path, "dying")
    policy = dataclasses.replace(PROBED, probe_timeout=5.0, probe_failures=100)  # the hung one is never killed here
    with Supervisor([hung, dying], startup_timeout=10, policy=policy) as supervisor, Watching(supervisor):
        os.kill(hung.process.pid, signal.SIGSTOP)
        try:
            time.sleep(0.6)  # a probe of the hung server is under way, for 5 s
            dying.process.kill()
            killed = time.monotonic()
            while supervisor.states()["dying"].last_exit != "signal SIGKILL":
                assert time.monotonic() - killed < 5
                time.sleep(0.02)
            assert time.monotonic() - killed < 1.5, "the death waited for the hung server's probe"
            assert supervisor.wait_serving("dying", 10) and answers(dying.ready_url)
            assert supervisor.states()["hung"].restarts == 0
        finally:
            os.kill(hung.process.pid, signal.SIGCONT)


def grandchild_pid(log: Path) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if line.startswith("grandchild")]
        if lines:
            return int(lines[-1].split()[1])
        time.sleep(0.05)
    raise AssertionError("no grandchild in the log")


def test_the_delay_doubles_from_the_first_delay_up_to_the_slowest_pace_which_a_failing_server_gets() -> None:
    policy = RestartPolicy()
    delays = [policy.delay(n, failing=False) for n in range(1, 10)]
    assert delays[:6] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0] and set(delays[5:]) == {30.0}
    assert policy.delay(1, failing=True) == 30.0


def test_exit_descriptions_name_the_signal_or_the_code() -> None:
    assert exit_description(-9) == "signal SIGKILL" and exit_description(-15) == "signal SIGTERM"
    assert exit_description(1) == "exit code 1" and exit_description(0) == "exit code 0"
