"""Background jobs: real functions in real threads, their state in the real `studio_jobs` table."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from studio import jobs
from studio.db import session_scope


def test_a_job_runs_its_function_in_a_thread_and_keeps_its_progress_and_result(studio_settings) -> None:
    def work(context: jobs.JobContext) -> dict:
        context.step("Première étape", 10)
        for n in range(100):
            context.log(f"ligne {n}")
        (context.folder / "rapport.txt").write_text("fait", encoding="utf-8")
        context.step("Dernière étape", 90)
        return {"lignes": 100, "thread": threading.current_thread().name}

    job = jobs.start_job(studio_settings, "build", "marie", work)
    assert job.status == "pending" and job.username == "marie"
    done = jobs.wait(studio_settings, job.id)
    assert (done.status, done.status_label, done.percent, done.step) == ("succeeded", "Réussi", 100, "Dernière étape")
    assert done.result == {"lignes": 100, "thread": f"studio-job-{job.id}"}
    assert done.log_tail.splitlines()[-2:] == ["ligne 99", "— Dernière étape"]
    assert len(done.log_tail.splitlines()) == jobs.LOG_TAIL_LINES
    assert done.started_at is not None and done.finished_at >= done.started_at
    folder = studio_settings.var_dir / "studio" / "jobs" / str(job.id)
    assert (folder / "rapport.txt").read_text(encoding="utf-8") == "fait"
    assert "ligne 0\n" in (folder / "job.log").read_text(encoding="utf-8")


def test_status_goes_from_running_to_done_and_a_second_job_is_refused_meanwhile(studio_settings) -> None:
    release = threading.Event()

    def slow(context: jobs.JobContext) -> dict:
        context.step("J'attends", 50)
        release.wait(10)
        return {}

    first = jobs.start_job(studio_settings, "build", "marie", slow)
    deadline = time.monotonic() + 5
    while jobs.get_job(studio_settings, first.id).step != "J'attends" and time.monotonic() < deadline:
        time.sleep(0.02)
    running = jobs.get_job(studio_settings, first.id)
    assert (running.status_label, running.step, running.percent, running.finished) == ("En cours", "J'attends", 50, False)
    assert jobs.active_job(studio_settings).id == first.id
    with pytest.raises(jobs.JobBusy, match=r"Une tâche est déjà en cours \(n° \d+, lancée par marie à \d\d:\d\d\)"):
        jobs.start_job(studio_settings, "deploy", "paul", lambda context: {})
    release.set()
    finished = jobs.wait(studio_settings, first.id)
    assert finished.status == "succeeded", finished.error
    second = jobs.start_job(studio_settings, "deploy", "paul", lambda context: {"ok": True})
    assert jobs.wait(studio_settings, second.id).result == {"ok": True}
    assert jobs.latest_job(studio_settings, ("deploy",)).id == second.id


def test_a_failing_job_keeps_its_message_and_a_refused_one_its_result(studio_settings) -> None:
    def fails(context: jobs.JobContext) -> dict:
        context.step("Calcul", 20)
        raise ValueError("Le fichier du modèle a disparu.")

    failed = jobs.wait(studio_settings, jobs.start_job(studio_settings, "build", "marie", fails).id)
    assert (failed.status, failed.status_label, failed.error, failed.percent) == ("failed", "Échoué", "Le fichier du modèle a disparu.", 20)
    assert failed.log_tail.endswith("ValueError: Le fichier du modèle a disparu.")
    assert "Traceback" in (studio_settings.var_dir / "studio" / "jobs" / str(failed.id) / "job.log").read_text(encoding="utf-8")

    refused = jobs.start_job(studio_settings, "build", "marie", lambda context: jobs.Outcome({"verdict": "non"}, status="refused"))
    refused = jobs.wait(studio_settings, refused.id)
    assert (refused.status_label, refused.result, refused.finished) == ("Refusé", {"verdict": "non"}, True)


def test_a_job_left_running_by_a_stopped_studio_shows_as_interrupted(studio_settings) -> None:
    with session_scope(studio_settings) as db:
        orphan = jobs.Job(kind="build", status="running", step="Entraînement", percent=40, username="marie")
        orphan.created_at = dt.datetime.utcnow()
        db.add(orphan)
        db.flush()
        orphan_id = orphan.id
    job = jobs.get_job(studio_settings, orphan_id)
    assert (job.status, job.status_label, job.error, job.percent) == ("failed", "Échoué", jobs.INTERRUPTED, 40)
    assert job.error.startswith("Interrompu") and job.finished_at is not None
    assert jobs.active_job(studio_settings) is None  # and a new job may start
    assert jobs.wait(studio_settings, jobs.start_job(studio_settings, "build", "marie", lambda context: {}).id).status == "succeeded"


def test_a_job_reports_as_json_for_the_page(studio_settings) -> None:
    job = jobs.wait(studio_settings, jobs.start_job(studio_settings, "rollback", "marie", lambda context: {"x": 1}).id)
    data = job.as_dict()
    assert {k: data[k] for k in ("kind", "status", "status_label", "finished", "percent", "username")} == {
        "kind": "rollback",
        "status": "succeeded",
        "status_label": "Réussi",
        "finished": True,
        "percent": 100,
        "username": "marie",
    }
    assert dt.datetime.fromisoformat(data["finished_at"])
