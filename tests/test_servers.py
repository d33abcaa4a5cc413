"""Starting and stopping Accueil's servers: a second stop signal during the stopping leaves no server behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import free_port

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from accueil.servers import ManagedProcess, running

    class Forwarded(ManagedProcess):
        # What `uv run` does when it gets SIGTERM: it sends it on, here while the first server is stopping.
        def stop(self, timeout=15.0):
            os.kill(os.getpid(), signal.SIGTERM)
            super().stop(timeout)

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    log_dir = Path(sys.argv[1])
    servers = []
    for index, (kind, port) in enumerate(((ManagedProcess, sys.argv[2]), (Forwarded, sys.argv[3]))):
        command = [sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1"]
        servers.append(kind(f"server {index}", command, f"http://127.0.0.1:{port}/", log_dir / f"{index}.log", dict(os.environ), log_dir))
    try:
        with running(servers, timeout=30):
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    print(" ".join(str(server.process.pid) for server in servers))
    """
)


def test_a_second_sigterm_while_stopping_still_stops_every_server(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), str(free_port()), str(free_port())], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for pid in done.stdout.split():
        state = subprocess.run(["ps", "-o", "stat=", "-p", pid], capture_output=True, text=True).stdout.strip()
        assert state in ("", "Z"), f"server {pid} still running ({state})"
