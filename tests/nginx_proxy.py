"""A real nginx, run as the test's user, with deploy/nginx/accueil.conf rendered for free ports and a
self-signed certificate made for the test (trusted by the test's clients only)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from accueil.reverse_proxy import render_nginx
from core.settings import Settings
from tests.certificates import self_signed_certificate

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"




@dataclass
class Proxy:
    https_url: str
    http_url: str
    certificate: Path
    error_log: Path


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running_nginx(settings: Settings, folder: Path, https_port: int, http_port: int) -> Iterator[Proxy]:
    """nginx in the foreground with its pid, logs and temporary files in `folder`, stopped on the way out."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed_certificate(folder)
    site = render_nginx(settings, "127.0.0.1", str(certificate), str(key), f"127.0.0.1:{https_port}", f"127.0.0.1:{http_port}")
    (folder / "accueil.conf").write_text(site, encoding="utf-8")
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # as root, nginx would hand its workers to nobody
    (folder / "nginx.conf").write_text(
        f"{user}daemon off;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        f"events {{ worker_connections 128; }}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {folder / 'accueil.conf'};\n}}\n",
        encoding="utf-8",
    )
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not (_answers(https_port) and _answers(http_port)):
            assert process.poll() is None, f"nginx exited: {process.stderr.read()}"
            assert time.monotonic() < deadline, "nginx did not listen"
            time.sleep(0.05)
        yield Proxy(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", certificate, folder / "error.log")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
