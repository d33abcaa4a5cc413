"""Production under systemd: the units render and pass `systemd-analyze verify`, and `accueil serve` keeps
systemd's contract for real (READY=1 once the server answers, a non-zero exit when the server dies, a clean
stop on SIGTERM)."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from accueil.service import units
from core.settings import PROJECT_ROOT, Settings
from tests.conftest import alive, free_port


def test_the_units_render_with_the_settings_and_systemd_finds_nothing_to_say(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", voice_enabled=False, purge_time="04:15")
    files = units(settings, getpass.getuser())
    assert set(files) == {"accueil.target", "accueil-prepare.service", "accueil@.service", "accueil-purge.service", "accueil-purge.timer"}
    wanted = "accueil@actions.service accueil@rasa.service accueil@web.service accueil@studio.service accueil@rasa-2.service accueil-purge.timer"
    assert f"Wants={wanted}" in files["accueil.target"]  # and the second Rasa server
    single = units(settings.copy(update={"rasa_replicas": 1}), getpass.getuser())["accueil.target"]
    assert "accueil@rasa.service" in single and "rasa-2" not in single
    service = files["accueil@.service"]
    assert f"ExecStart={sys.executable} -m accueil.cli serve %i" in service and "Restart=on-failure" in service and "Type=notify" in service
    assert f"WorkingDirectory={PROJECT_ROOT}" in service and "{{" not in "".join(files.values())
    assert "OnCalendar=*-*-* 04:15:00 Europe/Paris" in files["accueil-purge.timer"]
    assert "accueil-purge" not in "".join(units(settings.copy(update={"purge_daily": False}), "accueil"))
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.glob("accueil*")))], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr


class Systemd:
    """systemd's end of the notification socket (NOTIFY_SOCKET) of a Type=notify service."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))

    def receive(self, timeout: float) -> str:
        self.sock.settimeout(timeout)
        return self.sock.recv(4096).decode()


def serve_web(tmp_path: Path, systemd: Systemd) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        ACCUEIL_VAR_DIR=str(tmp_path / "var"),
        ACCUEIL_DB_URL=f"sqlite:///{tmp_path / 'accueil.db'}",
        ACCUEIL_WEB_PORT=str(port),
        NOTIFY_SOCKET=str(systemd.path),
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "accueil.cli", "serve", "web"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return serve, f"http://127.0.0.1:{port}/health"


def test_accueil_serve_says_ready_then_exits_non_zero_when_its_server_is_killed(tmp_path: Path) -> None:
    systemd = Systemd(tmp_path)
    serve, health = serve_web(tmp_path, systemd)
    try:
        assert systemd.receive(60) == f"READY=1\nMAINPID={serve.pid}"
        assert requests.get(health, timeout=2).status_code == 200
        server_pid = int(serve.stdout.readline().split("(pid ")[1].split(")")[0])
        os.kill(server_pid, signal.SIGKILL)  # a crash, the OOM killer
        assert serve.wait(10) == 1  # systemd's Restart=on-failure starts it again
        assert "web server (pid %d) stopped: signal SIGKILL" % server_pid in serve.stderr.read()
    finally:
        serve.kill()


def test_accueil_serve_stops_its_server_cleanly_on_sigterm(tmp_path: Path) -> None:
    systemd = Systemd(tmp_path)
    serve, health = serve_web(tmp_path, systemd)
    try:
        assert systemd.receive(60).startswith("READY=1")
        server_pid = int(serve.stdout.readline().split("(pid ")[1].split(")")[0])
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(20) == 0 and systemd.receive(5) == "STOPPING=1"
        deadline = time.monotonic() + 5
        while alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server_pid, settle=5)
    finally:
        serve.kill()
