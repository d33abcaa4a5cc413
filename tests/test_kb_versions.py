"""Versions of the knowledge base: recorded on change only, dry run, history, rollback; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from actions.kb_repository import KnowledgeBase
from kb_sync.errors import ContentInvalid
from kb_sync.sources import FolderSource
from kb_sync.sync import UnknownVersion, rollback, sync
from kb_sync.versions import all_versions
from store.engine import session_factory
from tests.conftest import DEMO_SOURCE


@pytest.fixture
def source(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, target)
    return target


def set_maternity_opening(source: Path, opens: str) -> None:
    path = source / "wards.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("slug: maternite")
    head, tail = text[:start], text[start:]
    path.write_text(head + tail.replace('opens: "15:00"', f'opens: "{opens}"', 1), encoding="utf-8")


def maternity_opening(db_url: str) -> dt.time:
    return next(w for w in KnowledgeBase(db_url).wards() if w.slug == "maternite").rules[0].opens


def versions(db_url: str):
    with session_factory(db_url)() as session:
        return [(v.id, v.source, v.changes) for v in all_versions(session)]


def test_first_sync_records_everything_as_added(any_db_url: str) -> None:
    report = sync(FolderSource(DEMO_SOURCE), any_db_url)
    assert report.version == 1
    assert len(report.changes.added) == 1 + 9 + 4 + 32 and not report.changes.changed
    assert "article preop-jeune" in report.changes.added


def test_unchanged_sources_record_no_version(any_db_url: str) -> None:
    sync(FolderSource(DEMO_SOURCE), any_db_url)
    report = sync(FolderSource(DEMO_SOURCE), any_db_url)
    assert report.unchanged and report.version is None
    assert len(versions(any_db_url)) == 1


def test_change_is_recorded_with_its_diff(any_db_url: str, source: Path) -> None:
    sync(FolderSource(source), any_db_url)
    set_maternity_opening(source, "16:00")
    (source / "articles" / "preop-tabac.md").unlink()
    report = sync(FolderSource(source), any_db_url)
    assert report.version == 2
    assert (report.changes.added, report.changes.changed, report.changes.removed) == (
        [],
        ["service maternite"],
        ["article preop-tabac"],
    )
    assert maternity_opening(any_db_url) == dt.time(16, 0)


def test_dry_run_shows_the_diff_and_writes_nothing(any_db_url: str, source: Path) -> None:
    sync(FolderSource(source), any_db_url)
    set_maternity_opening(source, "16:00")
    report = sync(FolderSource(source), any_db_url, dry_run=True)
    assert report.dry_run and report.changes.changed == ["service maternite"]
    assert maternity_opening(any_db_url) == dt.time(15, 0)
    assert len(versions(any_db_url)) == 1


def test_rollback_restores_an_earlier_version_as_a_new_one(any_db_url: str, source: Path) -> None:
    sync(FolderSource(source), any_db_url)
    set_maternity_opening(source, "16:00")
    sync(FolderSource(source), any_db_url)
    report = rollback(any_db_url, 1)
    assert report.version == 3 and report.changes.changed == ["service maternite"]
    assert maternity_opening(any_db_url) == dt.time(15, 0)
    assert versions(any_db_url)[0][1] == "retour à la version 1"
    assert KnowledgeBase(any_db_url).search("chambre individuelle")[0].slug == "admission-chambre-individuelle"
    assert rollback(any_db_url, 1).unchanged
    with pytest.raises(UnknownVersion):
        rollback(any_db_url, 42)


def test_refused_sync_keeps_serving_the_previous_version(any_db_url: str, source: Path) -> None:
    sync(FolderSource(source), any_db_url)
    set_maternity_opening(source, "25:00")
    with pytest.raises(ContentInvalid) as caught:
        sync(FolderSource(source), any_db_url)
    assert "wards.yml" in str(caught.value) and "opens" in str(caught.value)
    assert maternity_opening(any_db_url) == dt.time(15, 0)
    assert len(versions(any_db_url)) == 1
