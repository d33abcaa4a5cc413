"""After a `kill -9` of every process and a new `accueil run`: the same deployed model (also when the supervisor
restarts Rasa alone), the same knowledge-base version (a rollback is not undone), and no studio job left « en cours »."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import select

from accueil import cli, deployment
from accueil.servers import rasa_server
from core.settings import Settings
from kb_sync.models import KbVersion
from kb_sync.sync import rollback
from store.engine import session_factory
from studio import jobs
from studio.app import create_app
from studio.db import init_db, session_scope
from tests.conftest import DEMO_SOURCE, free_port


def settings_in(tmp_path: Path, **values) -> Settings:
    return Settings(db_url=f"sqlite:///{tmp_path / 'accueil.db'}", var_dir=tmp_path / "var", **values)


def versions(settings: Settings) -> list[int]:
    with session_factory(settings.db_url)() as session:
        return list(session.scalars(select(KbVersion.id).order_by(KbVersion.id)))


def test_a_restart_serves_the_model_deployed_since_the_start_whether_rasa_alone_or_everything_restarts(tmp_path: Path) -> None:
    settings = settings_in(tmp_path, rasa_port=free_port(), public_rasa_port=free_port(), rasa_replica_port=free_port())
    first, deployed = tmp_path / "models" / "first.tar.gz", tmp_path / "models" / "deployed.tar.gz"
    first.parent.mkdir()
    first.write_bytes(b"model"), deployed.write_bytes(b"model")
    deployment.record(settings, first, "initial", "accueil run", loaded=True)
    rasa = rasa_server(settings, deployment.model_to_serve(settings), settings.log_dir)  # as `accueil run` starts it
    assert rasa.command[rasa.command.index("--model") + 1] == str(first.resolve())
    deployment.record(settings, deployed, "deploy", "marie", loaded=True)  # from the studio, while it runs
    restarted = rasa.restart_command()
    assert restarted[restarted.index("--model") + 1] == str(deployed.resolve())
    assert deployment.model_to_serve(settings) == deployed.resolve()  # a whole new `accueil run`
    deployed.unlink()  # its file gone: the supervisor keeps the model it started with
    restarted = rasa.restart_command()
    assert restarted[restarted.index("--model") + 1] == str(first.resolve())


def test_a_restart_keeps_the_knowledge_base_version_and_a_rollback_made_since(tmp_path: Path) -> None:
    source = tmp_path / "kb"
    shutil.copytree(DEMO_SOURCE, source)
    settings = settings_in(tmp_path, kb_source=str(source))
    assert cli._sync_kb(settings, None, only_if_changed=True) == 0
    [first] = versions(settings)
    assert cli._sync_kb(settings, None, only_if_changed=True) == 0 and versions(settings) == [first]  # kill -9, restart
    article = source / "articles" / "acces-parking.md"
    article.write_text(article.read_text(encoding="utf-8").replace("1,50 €", "1,80 €"), encoding="utf-8")
    assert cli._sync_kb(settings, None, only_if_changed=True) == 0
    second = versions(settings)[-1]
    restored = rollback(settings.db_url, first).version  # `accueil kb rollback`: the editors' folder still says 1,80 €
    assert cli._sync_kb(settings, None, only_if_changed=True) == 0
    assert versions(settings) == [first, second, restored]  # the restart did not undo the rollback
    article.write_text(article.read_text(encoding="utf-8").replace("1,80 €", "2,00 €"), encoding="utf-8")
    assert cli._sync_kb(settings, None, only_if_changed=True) == 0 and len(versions(settings)) == 4  # a new edit is synced


def test_the_studio_marks_the_jobs_a_killed_studio_left_running_as_interrupted_as_soon_as_it_starts(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    init_db(settings)
    with session_scope(settings) as db:
        left = [
            jobs.Job(kind=kind, status=status, step="Entraînement", username="marie", created_at=dt.datetime.utcnow())
            for kind, status in (("build", "running"), ("deploy", "pending"))
        ]
        db.add_all(left)
        db.flush()
        ids = [job.id for job in left]
    create_app(settings)  # what `python -m accueil.studio_serve` does as it starts, before it serves
    with session_scope(settings) as db:  # read straight from the table: no page of the studio was opened
        states = [(job.status, job.error) for job in db.scalars(select(jobs.Job).where(jobs.Job.id.in_(ids)))]
    assert states == [("failed", jobs.INTERRUPTED)] * 2
