"""Supervision of `accueil run`'s servers: one that dies is restarted, the others keep serving.

Public API (also used by the fault suite, tests/faults/, and the soak bench, bench/):

    policy = RestartPolicy()                      # 1 s doubling to 30 s; 5 deaths in 5 min = "failing"
    with Supervisor(processes, startup_timeout=300, policy=policy, notify=print_fn) as supervisor:
        supervisor.watch()                        # blocks; Ctrl-C / SIGTERM (as KeyboardInterrupt) ends it
    # leaving the `with` stops every server, in the reverse order of `processes`, signals held meanwhile

    supervisor.watch(stop_event)                  # or in a thread of a test, until `stop_event` is set
    supervisor.check()                            # one pass of the watch loop (what `watch` repeats)
    supervisor.states()                           # {name: ChildState} (state, restarts, failing, pid, last exit)
    supervisor.wait_serving(name, timeout)        # until that child is up again (True) or the timeout (False)

`processes` are `accueil.servers.ManagedProcess` (their `ready_url` is the readiness check). Entering the
`with` starts them all and waits until each answers; a failure there raises `accueil.servers.StartupError`
after stopping those already started, as `accueil.servers.running` does. A `deferred` process (a spare Rasa
server) is started only then, and not waited for: it is "starting" until it answers, as after a restart.

A child that exits (crash, `kill -9`, the OOM killer) is reported with its exit code or signal, what is left
of its process group is killed (a leftover grandchild would hold its port), and it is started again after a
backoff delay; it counts as up again once its `ready_url` answers. The delay doubles at each death that comes
before the child has stayed up `policy.stable_after` seconds, and goes back to `policy.first_delay` after.
A child that died `policy.failing_deaths` times within `policy.failing_window` seconds is reported as failing
(console and log) and retried at the slowest pace, `policy.max_delay`; the others are never touched.
A restarted child that does not answer within `startup_timeout` is stopped and counted as a death.

A child that is alive but hung (deadlocked, stopped by SIGSTOP, its event loop blocked) is noticed by a
liveness probe, as Kubernetes' livenessProbe does: every `policy.probe_interval` seconds (5) a child that is up
gets a GET of its `ready_url`, which must answer 200 within `policy.probe_timeout` seconds (3). After
`policy.probe_failures` failed probes in a row (3) its process group is killed (SIGKILL) and it goes the way of
a crash ("not answering for 13 s (hung)"): backoff, restart, failing count, log and metrics. Probes run in a
thread pool (one thread per child), so a probe that hangs never holds up the watch loop; a child is probed
only while it is up, never while it waits for its restart or starts again.

Before each restart, a child's `restart_command` (if set) gives its command line again: the Rasa server's
gives the model in production now (`accueil.deployment.current`), so a deployment made from the studio since
`accueil run` started is kept.

Deaths and restarts go to the logger `accueil.supervision` (no personal data: names, pids, exit codes) and to
`/metrics` (`core.metrics.supervisor_*`): `accueil_process_restarts_total{process}`,
`accueil_process_up{process}` and `accueil_process_failing{process}`.

In production the same processes run under systemd instead (deploy/systemd/, docs/deployment.md), whose
`Restart=on-failure`, `RestartSec=` and `WatchdogSec=` (fed by `accueil serve`'s health check) do this job;
this module is the embedded default of `make run`.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests

from accueil.servers import ManagedProcess, _signals_held, wait_until_ready
from core import metrics

logger = logging.getLogger("accueil.supervision")

# notify(level, message): how the supervisor speaks to the operator (cmd_run prints it on the console).
Notify = Callable[[int, str], None]


@dataclass(frozen=True)
class RestartPolicy:
    """When a dead child is started again."""

    first_delay: float = 1.0  # seconds before the first restart
    max_delay: float = 30.0  # the delay doubles up to this
    stable_after: float = 60.0  # up this long: the next death starts from first_delay again
    failing_deaths: int = 5  # this many deaths…
    failing_window: float = 300.0  # …within this many seconds: the child is failing
    interval: float = 0.25  # seconds between two passes of the watch loop
    probe_interval: float = 5.0  # seconds between two liveness probes of a child that is up
    probe_timeout: float = 3.0  # a probe not answered 200 within this many seconds fails
    probe_failures: int = 3  # this many failed probes in a row: the child is hung, killed and restarted

    def delay(self, quick_deaths: int, failing: bool) -> float:
        """The wait before a restart, after `quick_deaths` deaths in a row (1 for the first)."""
        if failing:
            return self.max_delay
        return min(self.max_delay, self.first_delay * 2 ** max(0, quick_deaths - 1))


@dataclass
class ChildState:
    """What the supervisor knows of one child; `state` is "up", "waiting" (backoff) or "starting" (not ready yet)."""

    name: str
    state: str = "up"
    pid: int | None = None
    restarts: int = 0
    failing: bool = False
    last_exit: str | None = None  # "exit code 1", "signal SIGKILL"


def exit_description(returncode: int | None) -> str:
    """`returncode` of a child as words: "exit code 3" or "signal SIGKILL"."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class _Child:
    proc: ManagedProcess
    state: ChildState
    deaths: deque = field(default_factory=deque)  # monotonic times of the deaths within the failing window
    quick_deaths: int = 0
    up_since: float = 0.0
    restart_at: float = 0.0
    started_at: float = 0.0
    probe: Future | None = None  # the liveness probe under way, if any
    probe_sent: float = 0.0  # when it was sent
    next_probe_at: float = 0.0
    failed_probes: int = 0
    first_failed_at: float = 0.0  # when the first of the failed probes in a row was sent


class Supervisor:
    """Starts `processes`, keeps each one serving, stops them all in order (see the module's docstring)."""

    def __init__(
        self,
        processes: list[ManagedProcess],
        startup_timeout: float,
        policy: RestartPolicy | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.processes = list(processes)
        self.startup_timeout = startup_timeout
        self.policy = policy or RestartPolicy()
        self._notify = notify
        self._children = [_Child(proc, ChildState(proc.name)) for proc in self.processes]
        self._lock = threading.RLock()  # check() in a thread of a test, states() from another
        self._stopped = False
        # One thread per child at most: a probe is sent only once the child's previous one has ended.
        self._probes = ThreadPoolExecutor(max_workers=max(1, len(self._children)), thread_name_prefix="accueil-probe")

    # --- start and stop ------------------------------------------------------------------------------

    def __enter__(self) -> Supervisor:
        first = [child for child in self._children if not child.proc.deferred]
        try:
            for child in first:
                child.proc.start()
            wait_until_ready([child.proc for child in first], self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        now = time.monotonic()
        for child in self._children:
            if child.proc.deferred:  # a spare: started now, up once it answers, as after a restart
                self._start(child, now)
                self._say(logging.INFO, f"{child.proc.name} started (pid {child.proc.process.pid}), serving once it answers.")
            else:
                self._now_up(child, now)
                child.state.pid = child.proc.process.pid
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops every child, in the reverse order of their start; a second signal meanwhile changes nothing."""
        with self._lock, _signals_held():
            self._stopped = True
            self._probes.shutdown(wait=False, cancel_futures=True)
            for child in reversed(self._children):
                if child.proc.process is not None:
                    child.proc.stop()
                    metrics.supervisor_up(child.proc.name, False)

    # --- watching ------------------------------------------------------------------------------------

    def watch(self, stop: threading.Event | None = None) -> None:
        """Checks the children until `stop` is set (forever without one: Ctrl-C or SIGTERM ends it)."""
        while not self._stopped and not (stop is not None and stop.is_set()):
            self.check()
            if stop is not None:
                stop.wait(self.policy.interval)
            else:
                time.sleep(self.policy.interval)

    def check(self) -> None:
        """One pass: notices the children that died, restarts those whose delay is over, sees which answer again."""
        with self._lock:
            if self._stopped:
                return
            now = time.monotonic()
            for child in self._children:
                if child.state.state in ("up", "starting") and child.proc.process.poll() is not None:
                    self._died(child, now)
                elif child.state.state == "waiting" and now >= child.restart_at:
                    self._restart(child, now)
                elif child.state.state == "starting":
                    self._check_ready(child, now)
                elif child.state.state == "up":
                    self._probe(child, now)
            self._clear_failing()

    def states(self) -> dict[str, ChildState]:
        with self._lock:
            return {child.proc.name: ChildState(**vars(child.state)) for child in self._children}

    def wait_serving(self, name: str, timeout: float) -> bool:
        """Whether the child `name` is up (restarted and answering) within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.states()[name].state == "up":
                return True
            time.sleep(0.1)
        return False

    # --- one child's life ----------------------------------------------------------------------------

    def _say(self, level: int, message: str) -> None:
        logger.log(level, message)
        if self._notify is not None:
            self._notify(level, message)

    def _now_up(self, child: _Child, now: float) -> None:
        child.state.state, child.up_since = "up", now
        child.probe, child.failed_probes, child.next_probe_at = None, 0, now + self.policy.probe_interval
        metrics.supervisor_up(child.proc.name, True)

    def _probe(self, child: _Child, now: float) -> None:
        """Reads the answer to the child's last liveness probe and sends the next one when due; kills it once hung."""
        if child.probe is not None:
            if not child.probe.done():
                return
            answered, child.probe = child.probe.result(), None
            if answered:
                child.failed_probes = 0
            else:
                child.failed_probes += 1
                if child.failed_probes == 1:
                    child.first_failed_at = child.probe_sent
                failures = (child.failed_probes, self._probe_failures(child))
                logger.info("%s did not answer its liveness probe (%d/%d).", child.proc.name, *failures)
                if child.failed_probes >= failures[1]:
                    self._hung(child, now)
                    return
        if now >= child.next_probe_at:
            child.probe_sent, child.next_probe_at = now, now + self.policy.probe_interval
            child.probe = self._probes.submit(_answers, child.proc.ready_url, self.policy.probe_timeout)

    def _probe_failures(self, child: _Child) -> int:
        """The failed probes in a row after which this child is hung: its own `hung_after`, else the policy's."""
        if child.proc.hung_after is None:
            return self.policy.probe_failures
        return max(self.policy.probe_failures, math.ceil(child.proc.hung_after / self.policy.probe_interval))

    def _hung(self, child: _Child, now: float) -> None:
        silent = now - child.first_failed_at
        seconds = f"{silent:.0f}" if silent >= 10 else f"{silent:.1f}"
        _kill_group(child.proc.process.pid)
        try:
            child.proc.process.wait(1)  # SIGKILL ends even a stopped process at once
        except subprocess.TimeoutExpired:
            pass
        self._died(child, now, why=f"not answering for {seconds} s (hung)")

    def _died(self, child: _Child, now: float, why: str | None = None) -> None:
        proc, state = child.proc, child.state
        pid = proc.process.pid
        state.last_exit = why or exit_description(proc.process.returncode)
        _kill_group(pid)  # what the dead server left behind (a grandchild holding its port)
        proc.stop()  # reaps it, forgets its live gauges, ends its log copy
        metrics.supervisor_up(proc.name, False)
        was_stable = child.up_since and now - child.up_since >= self.policy.stable_after
        child.quick_deaths = 1 if was_stable else child.quick_deaths + 1
        child.deaths.append(now)
        while child.deaths and now - child.deaths[0] > self.policy.failing_window:
            child.deaths.popleft()
        newly_failing = not state.failing and len(child.deaths) >= self.policy.failing_deaths
        if newly_failing:
            state.failing = True
            metrics.supervisor_failing(proc.name, True)
        delay = self.policy.delay(child.quick_deaths, state.failing)
        child.restart_at = now + delay
        state.state, child.up_since, child.probe = "waiting", 0.0, None
        self._say(logging.WARNING, f"{proc.name} (pid {pid}) stopped: {state.last_exit}; restart in {delay:.0f} s.")
        if newly_failing:
            self._say(
                logging.ERROR,
                f"{proc.name} keeps stopping ({len(child.deaths)} times in {self.policy.failing_window / 60:.0f} min): "
                f"retried every {self.policy.max_delay:.0f} s, the other servers keep serving. See {proc.log_path}.",
            )

    def _restart(self, child: _Child, now: float) -> None:
        proc = child.proc
        if proc.restart_command is not None:
            try:
                proc.command = proc.restart_command()
            except Exception:  # the previous command line still serves
                logger.exception("%s: could not compute its command line again; restarting with the previous one.", proc.name)
        if not self._start(child, now, rotate_log=False):
            return
        child.state.restarts += 1
        metrics.supervisor_restart(proc.name)
        proc.log_line(f"--- accueil run: restarted after {child.state.last_exit} ---")
        self._say(logging.INFO, f"{proc.name} restarted (pid {proc.process.pid}), waiting until it answers.")

    def _start(self, child: _Child, now: float, rotate_log: bool = True) -> bool:
        """Starts the child, "starting" until it answers; whether it could be started."""
        try:
            child.proc.start(rotate_log=rotate_log)
        except OSError as exc:
            self._start_failed(child, now, exc)
            return False
        child.state.state, child.state.pid, child.started_at = "starting", child.proc.process.pid, now
        return True

    def _start_failed(self, child: _Child, now: float, exc: OSError) -> None:
        child.state.last_exit = f"could not start: {exc.strerror or exc}"
        child.quick_deaths += 1
        child.deaths.append(now)
        delay = self.policy.delay(child.quick_deaths, child.state.failing)
        child.state.state, child.restart_at = "waiting", now + delay
        self._say(logging.ERROR, f"{child.proc.name} {child.state.last_exit}; next try in {delay:.0f} s.")

    def _check_ready(self, child: _Child, now: float) -> None:
        proc = child.proc
        if proc.is_ready():
            self._now_up(child, time.monotonic())
            self._say(logging.INFO, f"{proc.name} answers{' again' if child.state.restarts else ''}.")
        elif now - child.started_at > self.startup_timeout:
            proc.stop()
            self._died(child, now, why=f"not answering after {self.startup_timeout:.0f} s")

    def _clear_failing(self) -> None:
        now = time.monotonic()
        for child in self._children:
            if child.state.failing and child.state.state == "up" and now - child.up_since >= self.policy.stable_after:
                child.state.failing = False
                child.deaths.clear()
                metrics.supervisor_failing(child.proc.name, False)
                self._say(logging.INFO, f"{child.proc.name} has been serving for {self.policy.stable_after:.0f} s: no longer failing.")


def supervisor_log(settings) -> Path:
    """Also writes the supervisor's reports to VAR_DIR/log/supervisor.log (rotated, 0600); returns its path."""
    from core.logs import LOG_FORMAT, PersonalDataFilter, PrivateRotatingFileHandler

    path = settings.log_dir / "supervisor.log"
    if not any(getattr(h, "baseFilename", None) == str(path.resolve()) for h in logger.handlers):
        handler = PrivateRotatingFileHandler(path, max_bytes=settings.log_max_mb * 2**20, backups=settings.log_backups)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(PersonalDataFilter(always=True))
        logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    return path


def _answers(url: str, timeout: float) -> bool:
    """A liveness probe: whether `url` answers 200 within `timeout` seconds."""
    try:
        return requests.get(url, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _kill_group(pgid: int) -> None:
    """Kills what is left of a dead child's process group (each child leads its own session)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
