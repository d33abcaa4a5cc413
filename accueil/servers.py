"""Starting, watching and stopping the action server and the Rasa server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import requests

from accueil.public_door import READY_PATH
from accueil.rasa_endpoints import replica_suffix, write_endpoints
from accueil.rasa_launch import TOKEN_ENV
from core.logs import CONTENT_WARNING, LogCopy, private_file, rotate
from core.metrics import MULTIPROC_ENV, process_stopped
from core.secret_files import voice_webhook_secret
from core.settings import Settings, connect_host

# The Rasa server's tolerance of unanswered liveness probes: loading a model on 2 cores takes up to a minute or two.
RASA_HUNG_AFTER = 180.0


class StartupError(RuntimeError):
    """A server exited or did not answer in time; the message ends with its log."""


@dataclass
class ManagedProcess:
    name: str
    command: list[str]
    ready_url: str
    log_path: Path
    env: dict[str, str]
    cwd: Path
    process: subprocess.Popen | None = None
    _log: LogCopy | None = field(default=None, repr=False)
    # The log file: rotated at each start and at this size, 0600 in a 0700 folder, personal data masked unless log_content.
    log_max_bytes: int = 10 * 2**20
    log_backups: int = 5
    log_content: bool = False
    # The command line of a restart by the supervisor (accueil/supervision.py), when it may differ from the first one.
    restart_command: Callable[[], list[str]] | None = field(default=None, repr=False)
    # Seconds it may leave its liveness probes unanswered before the supervisor takes it for hung (None: its policy's).
    hung_after: float | None = None
    # Started by the supervisor once the others answer, and not waited for: a spare (a second Rasa server).
    deferred: bool = False

    def start(self, rotate_log: bool = True) -> None:
        """Starts the process; a restart (`rotate_log=False`) appends to the log, which keeps what came before the crash."""
        if rotate_log:
            rotate(self.log_path, self.log_backups)
        private_file(self.log_path)
        # A session of its own: Ctrl-C reaches Accueil, which stops children in order.
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._log = LogCopy(self.process.stdout, self.log_path, self.log_max_bytes, self.log_backups, content=self.log_content)
        if self.log_content:
            self._log.write(f"WARNING {CONTENT_WARNING}")
        self._log.start()

    def log_line(self, line: str) -> None:
        """Adds a line of Accueil's own to the process's log (while its copy runs)."""
        if self._log is not None:
            self._log.write(line)

    def _log_copied(self, timeout: float = 5.0) -> None:
        """Once the process has exited, waits until its last lines are in its log file."""
        if self._log is not None and self.process is not None and self.process.poll() is not None:
            self._log.join(timeout)

    def is_ready(self) -> bool:
        try:
            return requests.get(self.ready_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 30) -> str:
        self._log_copied()
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process is not None:
            process_stopped(self.process.pid, self.env.get(MULTIPROC_ENV))
        if self._log is not None:
            self._log_copied()
            if not self._log.is_alive():  # else a leftover grandchild still writes: the copy ends with it
                self.process.stdout.close()
            self._log = None


def wait_until_ready(processes: list[ManagedProcess], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(processes)
    while pending:
        for proc in list(pending):
            if proc.process is not None and proc.process.poll() is not None:
                raise StartupError(f"{proc.name} exited with code {proc.process.returncode}.\n{proc.log_tail()}")
            if proc.is_ready():
                pending.remove(proc)
        if pending and time.monotonic() > deadline:
            names = ", ".join(p.name for p in pending)
            raise StartupError(f"{names} not ready after {timeout:.0f} s.\n{pending[0].log_tail()}")
        if pending:
            time.sleep(0.5)


def log_options(settings: Settings) -> dict:
    """How a server's log file is kept: its rotation and whether it may hold patients' words."""
    return {"log_max_bytes": settings.log_max_mb * 2**20, "log_backups": settings.log_backups, "log_content": settings.log_content}


def action_server(settings: Settings, log_dir: Path) -> ManagedProcess:
    # Every setting: the actions share the analytics' pseudonym secret (VAR_DIR) and the contact history's settings.
    env = settings.rasa_environment()
    env.update(settings.as_environment())
    env["SANIC_HOST"] = settings.host
    return ManagedProcess(
        name="action server",
        command=[sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(settings.actions_port)],
        ready_url=f"http://{connect_host(settings.host)}:{settings.actions_port}/health",
        log_path=log_dir / "actions.log",
        env=env,
        cwd=settings.bot_dir.parent,
        **log_options(settings),
    )


def rasa_server(settings: Settings, model: Path, log_dir: Path, replica: int = 0) -> ManagedProcess:
    """`rasa run` through `accueil.rasa_launch`, which opens the API with the token it finds in its environment:
    a command line is readable by every local user (`ps`), a process's environment by the same user only.
    The voice channel gets the secret only the voice gateway knows.

    Replica `replica` listens on its own port (RASA_REPLICA_PORT + replica) and shares two doors with the other
    replicas (accueil/public_door.py): the private API on RASA_PORT and the web channels, and nothing else, on the
    public bind. It is ready once its shared doors are open."""
    ports = {"RASA_PORT": settings.rasa_port, "PUBLIC_RASA_PORT": settings.public_rasa_port}
    ports.update({f"RASA_REPLICA_PORT + {i}": settings.rasa_replica_port + i for i in range(settings.rasa_replicas)})
    if len(set(ports.values())) < len(ports):
        raise ValueError(f"Rasa's ports must all differ: {', '.join(f'{name} = {port}' for name, port in ports.items())}.")
    env = settings.rasa_environment()
    env.pop(TOKEN_ENV, None)
    if settings.rasa_api_token:
        env[TOKEN_ENV] = settings.rasa_api_token
    env["ACCUEIL_VOICE_WEBHOOK_SECRET"] = voice_webhook_secret(settings)
    endpoints = write_endpoints(settings, replica)

    def command(model: Path) -> list[str]:
        return [
            sys.executable, "-m", "accueil.rasa_launch", "run",
            "--model", str(model),
            "--endpoints", str(endpoints),
            "--credentials", str(settings.bot_dir / "credentials.yml"),
            "--interface", settings.host,
            "--port", str(settings.rasa_replica_port + replica),
            "--shared-api-port", str(settings.rasa_port),
            "--public-interface", settings.public_host,
            "--public-port", str(settings.public_rasa_port),
            "--cors", *settings.allowed_origins,
        ]  # fmt: skip

    def restart_command() -> list[str]:
        """A restart serves the model in production now: a deployment from the studio since the start is kept."""
        from accueil.deployment import current

        production = current(settings)
        return command(production.model if production is not None and production.model.exists() else model)

    return ManagedProcess(
        name="Rasa server" + (f" {replica + 1}" if replica else ""),
        command=command(model),
        restart_command=restart_command,
        # Loading a model (a deployment's `PUT /model`) holds Rasa's event loop: it does not answer meanwhile.
        hung_after=RASA_HUNG_AFTER,
        ready_url=f"{settings.rasa_replica_url(replica)}{READY_PATH}",
        log_path=log_dir / f"rasa{replica_suffix(replica)}.log",
        env=env,
        cwd=settings.bot_dir.parent,
        # The first one serves as soon as it answers; the others start then, rather than share the cores with it.
        deferred=replica > 0,
        **log_options(settings),
    )


def shared_ports_taken(settings: Settings) -> list[str]:
    """The ports the Rasa replicas share that something already listens on (another Accueil still running?).

    The replicas open them with SO_REUSEPORT, which a process of the same user listening there the same way would
    not refuse: the kernel would share the connections with it. So `accueil run` checks them first."""
    taken = []
    for name, host, port in (("RASA_PORT", settings.host, settings.rasa_port), ("PUBLIC_RASA_PORT", settings.public_host, settings.public_rasa_port)):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a last run's TIME_WAIT connections are no listener
            try:
                probe.bind((host, port))
            except OSError:
                taken.append(f"{name} {host}:{port}")
    return taken


def rasa_servers(settings: Settings, model: Path, log_dir: Path) -> list[ManagedProcess]:
    """The RASA_REPLICAS Rasa servers, serving `model` side by side."""
    return [rasa_server(settings, model, log_dir, replica) for replica in range(settings.rasa_replicas)]


def _python_server(settings: Settings, log_dir: Path, name: str, module: str, ready_url: str, log_name: str) -> ManagedProcess:
    """A server of ours run as `python -m MODULE`, given every setting through its environment."""
    env = settings.rasa_environment()
    env.update(settings.as_environment())
    return ManagedProcess(
        name=name,
        command=[sys.executable, "-m", module],
        ready_url=ready_url,
        log_path=log_dir / log_name,
        env=env,
        cwd=settings.bot_dir.parent,
        **log_options(settings),
    )


def web_server(settings: Settings, log_dir: Path) -> ManagedProcess:
    """The widget's files and the demo page (web/server.py)."""
    return _python_server(settings, log_dir, "web server", "web.server", f"{settings.web_url}/health", "web.log")


def studio_server(settings: Settings, log_dir: Path) -> ManagedProcess:
    """The editors' studio (studio/), which trains and deploys models through the deployment flow (accueil/release.py)."""
    return _python_server(settings, log_dir, "studio", "accueil.studio_serve", f"{settings.studio_url}/health", "studio.log")


def voice_problem(settings: Settings) -> str | None:
    """Why the voice gateway cannot start (its models are missing, or it is switched off), or None."""
    from voice_gateway.models import ModelError, piper_voice_file, vosk_model_dir

    if not settings.voice_enabled:
        return "switched off (ACCUEIL_VOICE_ENABLED=false)"
    try:
        vosk_model_dir(settings.vosk_model, settings.models_dir)
        piper_voice_file(settings.piper_voice, settings.models_dir)
    except ModelError as exc:
        return str(exc)
    return None


def voice_gateway(settings: Settings, log_dir: Path) -> list[ManagedProcess]:
    """The voice gateway's processes (SIP and WebSocket calls, voice_gateway/), with the hospital's words as phrase list."""
    from accueil.voice_vocabulary import write_phrase_list

    phrases = settings.var_dir / "voice_phrases.txt"
    write_phrase_list(settings.nlu_dir, settings.db_url, phrases)
    env = settings.rasa_environment()
    env.update(settings.as_environment())
    env["ACCUEIL_VOICE_WEBHOOK_SECRET"] = voice_webhook_secret(settings)  # the one the Rasa server gets
    return [
        ManagedProcess(
            name="voice gateway" + (f" {line + 1}" if line else ""),
            command=[sys.executable, "-m", "voice_gateway", "--phrases", str(phrases), "--line", str(line)],
            ready_url=f"http://{connect_host(settings.public_host)}:{settings.voice_line(line).voice_ws_port}/health",
            log_path=log_dir / ("voice.log" if line == 0 else f"voice-{line + 1}.log"),
            env=env,
            cwd=settings.bot_dir.parent,
            **log_options(settings),
        )
        for line in range(settings.voice_processes)
    ]


@contextmanager
def running(processes: list[ManagedProcess], timeout: float) -> Iterator[list[ManagedProcess]]:
    """Start every process, wait until all answer, and stop them all on the way out."""
    try:
        for proc in processes:
            proc.start()
        wait_until_ready(processes, timeout)
        yield processes
    finally:
        with _signals_held():
            for proc in reversed(processes):
                proc.stop()


@contextmanager
def _signals_held() -> Iterator[None]:
    """A second Ctrl-C or SIGTERM (`uv run` forwards the one it got) must not cut the stopping short and leave servers behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
