"""The daily purge `accueil run` runs itself: retention (GDPR) without a cron job to remember.

A thread of the orchestrator looks at the hospital's clock (`settings.now()`) every half minute and purges
(`accueil.retention.purge`, the retention period of `ACCUEIL_RETENTION_DAYS`):

- once at start when the last purge is more than a day old, or never ran (a server off at PURGE_TIME);
- then every day at `ACCUEIL_PURGE_TIME` (03:30 local time by default).

When a purge ends, VAR_DIR/last_purge records its time. A failure is logged (its kind, never a row) and
tried again at the next day's PURGE_TIME; it never stops `accueil run`. `ACCUEIL_PURGE_DAILY=false`
switches the whole thing off (a hospital that runs `accueil purge` from its own scheduler).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Callable

from core.settings import Settings

log = logging.getLogger("accueil.purge")

DAY = dt.timedelta(days=1)


def _run_purge(settings: Settings, now: dt.datetime) -> list:
    """What `accueil purge` does: the cutoff from the real time (a demo's fixed clock only says when to purge)."""
    from accueil.retention import cutoff_for, purge

    return purge(settings, cutoff_for(dt.timedelta(days=settings.retention_days)))


class DailyPurge:
    """When to purge, and the purge itself; `tick()` does what is due at `now()` (naive local time)."""

    def __init__(
        self,
        settings: Settings,
        now: Callable[[], dt.datetime] | None = None,
        run: Callable[[Settings, dt.datetime], list] = _run_purge,
    ):
        self.settings = settings
        self.now = now or settings.now
        self.run = run
        self.stamp = settings.var_dir / "last_purge"
        self.next_at: dt.datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def last_purge(self) -> dt.datetime | None:
        """The local time the last purge ended, or None if none ever did (or the record is unreadable)."""
        try:
            return dt.datetime.fromisoformat(self.stamp.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def following(self, moment: dt.datetime) -> dt.datetime:
        """The first PURGE_TIME strictly after `moment`."""
        today = dt.datetime.combine(moment.date(), self.settings.purge_time)
        return today if today > moment else today + DAY

    def tick(self) -> bool:
        """Purges if due; True when a purge ran (successfully or not)."""
        now = self.now()
        if self.next_at is None:  # the first look, at start
            self.next_at = self.following(now)
            last = self.last_purge()
            if last is not None and now - last < DAY:
                return False
        elif now < self.next_at:
            return False
        else:
            self.next_at = self.following(now)
        self._purge(now)
        return True

    def _purge(self, now: dt.datetime) -> None:
        try:
            counts = self.run(self.settings, now)
        except Exception as exc:  # whatever goes wrong, `accueil run` goes on and tries again tomorrow
            reason = getattr(exc, "orig", None) or exc  # a database error without its SQL
            log.error(
                "Purge quotidienne échouée (%s : %s) ; nouvel essai le %s.",
                type(exc).__name__, reason, f"{self.next_at:%d/%m/%Y à %H:%M}",
            )  # fmt: skip
            return
        self.stamp.parent.mkdir(parents=True, exist_ok=True)
        self.stamp.write_text(self.now().isoformat(timespec="seconds"), encoding="utf-8")
        deleted = ", ".join(f"{count.table} {count.rows}" for count in counts if count.rows) or "rien à effacer"
        log.info(
            "Purge quotidienne (données de plus de %d jours) : %s. Prochaine le %s.",
            self.settings.retention_days, deleted, f"{self.next_at:%d/%m/%Y à %H:%M}",
        )  # fmt: skip

    def start(self, interval: float = 30.0) -> "DailyPurge":
        """Runs `tick()` every `interval` seconds in a daemon thread until `stop()`."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.tick()
                except Exception:  # never let the thread die: a clock or file problem is retried next time
                    log.exception("Purge quotidienne : erreur du planificateur")
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="daily-purge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


def start_daily_purge(settings: Settings) -> DailyPurge | None:
    """The daily purge of `accueil run`, started; None when ACCUEIL_PURGE_DAILY is off."""
    return DailyPurge(settings).start() if settings.purge_daily else None
