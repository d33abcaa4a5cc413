"""Log files and log records without patients' words, names or numbers.

At the default level the logs hold ids, intents, timings and errors only. `shown(value)` is what a
log line may print of a transcript, a bot sentence or a caller's address: the value itself in a
debugging session (ACCUEIL_LOG_CONTENT=true, announced by a WARNING line), its length otherwise.

Defence in depth: `PersonalDataFilter` masks phone numbers, e-mail addresses, NIR and the user part
of SIP URIs in every record our processes log, and `LogCopy` applies the same masking to each line
a child process writes (Rasa, the action server) while copying it into the child's log file.

Log files are created 0600 in 0700 folders and rotated by size (`PrivateRotatingFileHandler`);
`purge_logs` deletes the log files older than the retention period (`accueil purge`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from core.masking import mask_personal_data

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTENT_WARNING = (
    "ACCUEIL_LOG_CONTENT=true: the logs hold what patients say and write (names, numbers, health data). "
    "For a debugging session only: switch it off and purge the logs (accueil purge) afterwards."
)

# A caller's number or name in a SIP URI: sip:0612345678@pbx, sips:jean.dupont@host.
_SIP_USER = re.compile(r"\b(sips?:)[^@\s;>\"']+@", re.IGNORECASE)

_content = False  # set by configure() from settings.log_content


def content_logged() -> bool:
    """Whether this process logs patients' words (ACCUEIL_LOG_CONTENT), as configured by `configure()`."""
    return _content


def set_content_logged(enabled: bool) -> None:
    global _content
    _content = bool(enabled)


def shown(value: Any) -> str:
    """What a log line shows of a patient's or the bot's words, or of a caller's address."""
    if _content:
        return repr(value)
    if value is None or value == "":
        return "(empty)"
    length = len(str(value))
    return f"({length} character{'s' if length > 1 else ''})"


def mask(text: str) -> str:
    """`text` with its phone numbers, e-mail addresses, NIR and SIP user names masked."""
    if not text:
        return text
    return mask_personal_data(_SIP_USER.sub(r"\1[masqué]@", text))


class PersonalDataFilter(logging.Filter):
    """Masks personal data in every record it sees (message, arguments, traceback), unless content logging is on.

    Installed on handlers, so it also covers records of libraries (Rasa, Sanic, SQLAlchemy errors with their parameters).
    """

    def __init__(self, always: bool = False) -> None:
        super().__init__()
        self.always = always  # mask even in a debugging session (the tests)

    def filter(self, record: logging.LogRecord) -> bool:
        if _content and not self.always:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it later, without our help
            return True
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install_filter(logger: logging.Logger | None = None) -> None:
    """Adds a PersonalDataFilter to every handler of `logger` (the root logger by default) that has none."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())


def configure(settings, **basic_config: Any) -> None:
    """Logging of a process of Accueil: `logging.basicConfig(level=settings.log_level, …)`, the personal-data filter on
    every root handler, and a WARNING line when the logs hold patients' words (ACCUEIL_LOG_CONTENT)."""
    basic_config.setdefault("level", settings.log_level)
    basic_config.setdefault("format", LOG_FORMAT)
    logging.basicConfig(**basic_config)
    set_content_logged(settings.log_content)
    install_filter()
    if settings.log_content:
        logging.getLogger("accueil").warning(CONTENT_WARNING)


def private_dir(path: Path) -> Path:
    """`path` created if needed, readable by Accueil's user only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path, truncate: bool = False) -> Path:
    """`path` created if needed (its folder 0700), readable and writable by Accueil's user only (0600)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def open_private(path: Path, mode: str = "a") -> IO[str]:
    """A log file opened for writing as a text file, 0600 in a 0700 folder."""
    private_file(path, truncate="w" in mode)
    return open(path, mode, encoding="utf-8")


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the current one and each new one after a rollover) are 0600 in a 0700 folder."""

    def __init__(self, filename: Path, max_bytes: int, backups: int) -> None:
        private_dir(Path(filename).parent)
        super().__init__(filename, mode="a", maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)

    def _open(self):
        private_file(Path(self.baseFilename))
        return super()._open()


def rotate(path: Path, backups: int) -> None:
    """Moves a non-empty log file aside (path.1, path.2, … up to `backups`) so that a new start writes a fresh one."""
    if not path.exists() or path.stat().st_size == 0:
        return
    handler = PrivateRotatingFileHandler(path, max_bytes=1, backups=max(backups, 1))
    try:
        handler.doRollover()
    finally:
        handler.close()


class LogCopy(threading.Thread):
    """Copies a child's output, line by line, into its rotated log file, masking personal data unless `content`."""

    MAX_LINE = 64 * 1024

    def __init__(self, stream: IO[bytes], path: Path, max_bytes: int, backups: int, content: bool = False) -> None:
        super().__init__(name=f"log copy {path.name}", daemon=True)
        self.stream = stream
        self.handler = PrivateRotatingFileHandler(path, max_bytes=max_bytes, backups=backups)
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        if not content:
            self.handler.addFilter(PersonalDataFilter(always=True))

    def write(self, line: str) -> None:
        self.handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"}))

    def run(self) -> None:
        try:
            for raw in iter(lambda: self.stream.readline(self.MAX_LINE), b""):
                self.write(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        except (OSError, ValueError):  # the pipe was closed under us at shutdown
            pass
        finally:
            self.handler.close()


# Log files: *.log and their rotated copies *.log.1, *.log.2, …
_LOG_NAME = re.compile(r"\.log(\.\d+)?$")


def log_files(var_dir: Path) -> list[Path]:
    """Every log file under `var_dir` (the servers' logs, pjsip.log, the studio's job logs, the evaluations' logs)."""
    if not var_dir.exists():
        return []
    return sorted(p for p in var_dir.rglob("*") if _LOG_NAME.search(p.name) and p.is_file() and not p.is_symlink())


def purge_logs(settings, cutoff: dt.datetime, dry_run: bool):
    """`accueil purge`: deletes the log files under VAR_DIR last written before the cutoff."""
    from core.purging import PurgeCount

    files = log_files(settings.var_dir)
    if not files:  # like a table that does not exist yet
        return []
    old = [p for p in files if p.stat().st_mtime < cutoff.timestamp()]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return [PurgeCount("log files", len(old), f"{len(old)} fichier{'s' if len(old) > 1 else ''} de journal")]
