"""Background jobs of the studio: a thread each, their state in the `studio_jobs` table.

A job is a function given a `JobContext` (its settings, its folder VAR_DIR/studio/jobs/<id>, and `step`/`log`
to report progress: the `accueil.training.Progress` protocol). It returns its result (a JSON-able dict), or an
`Outcome` with another status (refused, failed); an exception fails it with its message. Jobs (train, deploy,
roll back) run one at a time: a second one is refused with a French message. A job still pending or running
in the table but not in this process (the studio stopped meanwhile) is shown as failed, "interrompu".
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import select

from core.logs import content_logged, mask, open_private, private_dir
from core.settings import Settings
from store import tables
from store.tables import Base
from studio.db import session_scope

logger = logging.getLogger(__name__)

STATUS_LABELS = {
    "pending": "En attente",
    "running": "En cours",
    "succeeded": "Réussi",
    "failed": "Échoué",
    "refused": "Refusé",
}
ACTIVE = ("pending", "running")
INTERRUPTED = "Interrompu : le studio s'est arrêté pendant la tâche. Relancez-la."
LOG_TAIL_LINES = 40
WRITE_INTERVAL = 0.5  # seconds between two writes of the progress to the table


class JobBusy(RuntimeError):
    """Another pipeline job is pending or running; the message is French."""


class Job(Base):
    __table__ = tables.studio_jobs

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE

    def folder(self, settings: Settings) -> Path:
        return job_folder(settings, self.id)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "status_label": self.status_label,
            "finished": self.finished,
            "step": self.step,
            "percent": self.percent,
            "log_tail": self.log_tail,
            "error": self.error,
            "username": self.username,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass
class Outcome:
    """What a job returns when its result comes with a status other than "succeeded" ("refused", "failed")."""

    result: dict = field(default_factory=dict)
    status: str = "succeeded"
    error: str | None = None


def job_folder(settings: Settings, job_id: int) -> Path:
    return settings.var_dir / "studio" / "jobs" / str(job_id)


def _now() -> dt.datetime:
    return dt.datetime.utcnow().replace(microsecond=0)


def local_time(settings: Settings, moment: dt.datetime) -> dt.datetime:
    """A UTC time of the tables as the hospital's local time."""
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(settings.timezone))


# Jobs whose thread runs in this process, by (database, id).
_live: set[tuple[str, int]] = set()
_lock = threading.RLock()  # guards _live and the creation of jobs


class JobContext:
    """Given to a job's function: where it writes, and how it reports its progress (throttled)."""

    def __init__(self, settings: Settings, job_id: int) -> None:
        self.settings = settings
        self.job_id = job_id
        self.folder = job_folder(settings, job_id)
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._step = ""
        self._percent = 0
        self._written = 0.0
        self._log_file = self.folder / "job.log"

    def step(self, text: str, percent: float | None = None) -> None:
        changed = text != self._step
        self._step = text
        if percent is not None:
            self._percent = max(self._percent, min(100, int(percent)))
        self._append(f"— {text}" if changed else None)
        self._write(force=changed)

    def log(self, line: str) -> None:
        self._append(line)
        self._write()

    def _append(self, line: str | None) -> None:
        if line is None:
            return
        if not content_logged():  # Rasa's output while training on patients' messages from the inbox
            line = mask(line)
        self._tail.append(line)
        with open_private(self._log_file) as handle:
            handle.write(line + "\n")

    def _write(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._written < WRITE_INTERVAL:
            return
        self.flush()

    def flush(self) -> None:
        self._written = time.monotonic()
        with session_scope(self.settings) as db:
            job = db.get(Job, self.job_id)
            job.step, job.percent, job.log_tail = self._step, self._percent, "\n".join(self._tail)


def _reconcile(settings: Settings) -> None:
    """Jobs left pending or running by a studio that stopped: failed, "interrompu"."""
    with _lock, session_scope(settings) as db:
        for job in db.scalars(select(Job).where(Job.status.in_(ACTIVE))):
            if (settings.db_url, job.id) not in _live:
                job.status, job.error, job.finished_at = "failed", INTERRUPTED, _now()


def mark_interrupted(settings: Settings) -> None:
    """At the studio's start: the jobs a stopped or killed studio left pending or running are marked "interrompu" at once."""
    _reconcile(settings)


def _detached(job: Job | None, db) -> Job | None:
    if job is not None:
        db.expunge(job)
    return job


def get_job(settings: Settings, job_id: int) -> Job | None:
    _reconcile(settings)
    with session_scope(settings) as db:
        return _detached(db.get(Job, job_id), db)


def latest_job(settings: Settings, kinds: tuple[str, ...] | None = None) -> Job | None:
    _reconcile(settings)
    with session_scope(settings) as db:
        query = select(Job).order_by(Job.id.desc()).limit(1)
        if kinds:
            query = query.where(Job.kind.in_(kinds))
        return _detached(db.scalars(query).first(), db)


def active_job(settings: Settings) -> Job | None:
    _reconcile(settings)
    with session_scope(settings) as db:
        return _detached(db.scalars(select(Job).where(Job.status.in_(ACTIVE)).order_by(Job.id)).first(), db)


def start_job(settings: Settings, kind: str, username: str, work: Callable[[JobContext], dict | Outcome], label: str = "") -> Job:
    """Creates the job and starts its thread; raises JobBusy while another job is pending or running."""
    with _lock:
        busy = active_job(settings)
        if busy is not None:
            started = local_time(settings, busy.created_at).strftime("%H:%M")
            raise JobBusy(
                f"Une tâche est déjà en cours (n° {busy.id}, lancée par {busy.username} à {started}) : "
                "attendez qu'elle se termine avant d'en lancer une autre."
            )
        with session_scope(settings) as db:
            job = Job(kind=kind, status="pending", step=label or "En attente", username=username, created_at=_now())
            db.add(job)
            db.flush()
            db.expunge(job)
        _live.add((settings.db_url, job.id))
    private_dir(job.folder(settings))
    threading.Thread(target=_run, args=(settings, job.id, work), name=f"studio-job-{job.id}", daemon=True).start()
    return job


def _finish(settings: Settings, job_id: int, status: str, result: dict | None = None, error: str | None = None) -> None:
    with session_scope(settings) as db:
        job = db.get(Job, job_id)
        job.status, job.result, job.error, job.finished_at = status, result, error, _now()
        if status == "succeeded":
            job.percent = 100


def _run(settings: Settings, job_id: int, work: Callable[[JobContext], dict | Outcome]) -> None:
    context = JobContext(settings, job_id)
    try:
        with session_scope(settings) as db:
            job = db.get(Job, job_id)
            job.status, job.started_at = "running", _now()
        try:
            outcome = work(context)
        except Exception as exc:  # the job fails with its message; the traceback goes to its log
            logger.exception("studio job %s failed", job_id)
            context.log(traceback.format_exc().rstrip().splitlines()[-1])
            with open_private(context.folder / "job.log") as handle:
                handle.write(traceback.format_exc() if content_logged() else mask(traceback.format_exc()))
            context.flush()
            _finish(settings, job_id, "failed", error=str(exc) or exc.__class__.__name__)
            return
        context.flush()
        if isinstance(outcome, Outcome):
            _finish(settings, job_id, outcome.status, outcome.result, outcome.error)
        else:
            _finish(settings, job_id, "succeeded", outcome or {})
    finally:
        with _lock:
            _live.discard((settings.db_url, job_id))


def wait(settings: Settings, job_id: int, timeout: float = 30.0) -> Job:
    """Blocks until the job has finished (for the command line and the tests)."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(settings, job_id)
        if job.finished or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
