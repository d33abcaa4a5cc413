"""Accueil under systemd: the same servers as `accueil run`, each one a unit that systemd restarts.

    accueil prepare           what `accueil run` does before it starts the servers (API token, knowledge base,
                              model, metrics folder), once, as the oneshot unit accueil-prepare.service
    accueil serve PART        one server in the foreground (PART: actions, rasa, rasa-2…, web, studio, voice-0, voice-1…),
                              as the unit accueil@PART.service: it tells systemd READY=1 once the server answers,
                              pings the watchdog while it answers, and exits non-zero when the server stops,
                              so that `Restart=on-failure` starts it again; SIGTERM stops it cleanly
    python -m accueil.service --user accueil --out DIR
                              writes the units (deploy/systemd/*, filled in with this checkout's paths and settings)

The server's output goes to its private log file in VAR_DIR/log, masked, exactly as under `accueil run`
(accueil.servers.ManagedProcess); the journal gets one line per start and stop. `accueil serve rasa` serves
the model in production (accueil.deployment.current), so a restart keeps the studio's last deployment.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings, get_settings

TEMPLATES = PROJECT_ROOT / "deploy" / "systemd"
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
PARTS = ("actions", "rasa", "web", "studio")
HEALTH_INTERVAL = 10.0  # seconds between two health checks (and watchdog pings) of `accueil serve`


def sd_notify(state: str) -> bool:
    """Sends `state` (READY=1, WATCHDOG=1, STOPPING=1…) to systemd when it runs us as Type=notify; False otherwise."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.connect(address)
        sock.sendall(state.encode())
    return True


def served_settings(settings: Settings) -> Settings:
    """The settings of a server run alone: the Rasa API token `accueil prepare` wrote, unless one is configured."""
    from accueil.rasa_api import api_token

    token = settings.rasa_api_token or api_token(settings)
    return settings.copy(update={"rasa_api_token": token}) if token else settings


def managed_process(settings: Settings, part: str):
    """The `accueil.servers.ManagedProcess` of PART, as `accueil run` builds it."""
    from accueil import servers

    log_dir = settings.log_dir
    if part == "actions":
        return servers.action_server(settings, log_dir)
    rasa = re.fullmatch(r"rasa(?:-(\d+))?", part)
    if rasa and 1 < int(rasa.group(1) or 2) <= settings.rasa_replicas:
        from accueil.deployment import current

        production = current(settings)
        if production is None or not production.model.exists():
            raise SystemExit("No model in production: run `accueil prepare` first.")
        return servers.rasa_server(settings, production.model, log_dir, replica=int(rasa.group(1) or 1) - 1)
    if part == "web":
        return servers.web_server(settings, log_dir)
    if part == "studio":
        return servers.studio_server(settings, log_dir)
    match = re.fullmatch(r"voice-(\d+)", part)
    if match and int(match.group(1)) < settings.voice_processes:
        return servers.voice_gateway(settings, log_dir)[int(match.group(1))]
    raise SystemExit(
        f"Unknown part {part!r}: {', '.join(PARTS)}, rasa-2 … rasa-{settings.rasa_replicas} (RASA_REPLICAS) "
        f"or voice-0 … voice-{settings.voice_processes - 1}."
    )


def serve(part: str, settings: Settings | None = None) -> int:
    """Runs PART until SIGTERM (exit 0) or until it stops by itself (exit 1, for systemd to restart it)."""
    from accueil.servers import StartupError, wait_until_ready
    from accueil.supervision import exit_description

    settings = served_settings(settings or get_settings())
    proc = managed_process(settings, part)
    for name in ("NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC"):  # systemd speaks with us, not with the server
        proc.env.pop(name, None)

    def interrupt(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        proc.start()
        wait_until_ready([proc], settings.startup_timeout)
        print(f"{proc.name} answers (pid {proc.process.pid}).", flush=True)
        sd_notify(f"READY=1\nMAINPID={os.getpid()}")
        checked = time.monotonic()
        while proc.process.poll() is None:
            time.sleep(0.5)
            if time.monotonic() - checked >= HEALTH_INTERVAL:
                checked = time.monotonic()
                if proc.is_ready():  # no ping while it does not answer: systemd's watchdog then restarts it
                    sd_notify("WATCHDOG=1")
        stopped = exit_description(proc.process.returncode)
        print(f"{proc.name} (pid {proc.process.pid}) stopped: {stopped}. See {proc.log_path}.", file=sys.stderr, flush=True)
        return 1
    except StartupError as exc:
        print(f"{proc.name} did not start: {str(exc).splitlines()[0]} See {proc.log_path}.", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        sd_notify("STOPPING=1")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stopping is not cut short by a second signal
        proc.stop()


def units(settings: Settings, user: str, python: str = sys.executable) -> dict[str, str]:
    """The unit files (name → text): deploy/systemd/* with this checkout's paths and settings filled in."""
    from accueil.servers import voice_problem

    voice = voice_problem(settings) is None
    replicas = [f"rasa-{replica}" for replica in range(2, settings.rasa_replicas + 1)]
    parts = [*PARTS, *replicas, *(f"voice-{line}" for line in range(settings.voice_processes) if voice)]
    values = {
        "USER": user,
        "PROJECT_DIR": str(PROJECT_ROOT),
        "VAR_DIR": str(settings.var_dir.resolve()),
        "ACCUEIL": f"{python} -m accueil.cli",
        "WANTS": " ".join([*(f"accueil@{part}.service" for part in parts), *(["accueil-purge.timer"] if settings.purge_daily else [])]),
        "PURGE_TIME": f"{settings.purge_time:%H:%M}:00 {settings.timezone}",
        "STARTUP_SECONDS": str(int(settings.startup_timeout) + 30),
    }
    for name, value in values.items():
        if not value or "\n" in value:
            raise ValueError(f"{name}: {value!r} is not a value a unit file can take")

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise KeyError(f"unknown placeholder {match.group(0)} in {TEMPLATES}")
        return values[match.group(1)]

    files = {path.name: PLACEHOLDER.sub(fill, path.read_text(encoding="utf-8")) for path in sorted(TEMPLATES.iterdir()) if path.is_file()}
    if not settings.purge_daily:
        files = {name: text for name, text in files.items() if not name.startswith("accueil-purge.")}
    return files


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m accueil.service", description="Writes Accueil's systemd units.")
    parser.add_argument("--user", required=True, help="the system account the servers run as (it owns VAR_DIR)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the units to, e.g. /etc/systemd/system")
    args = parser.parse_args(arguments)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in units(get_settings(), args.user).items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(args.out / name)


if __name__ == "__main__":
    main()
