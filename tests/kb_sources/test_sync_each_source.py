"""Each source type, synced into a real SQLite and a real PostgreSQL database, serves the same facts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.kb_repository import KnowledgeBase
from kb_sync.sources import open_source
from kb_sync.sources.spreadsheet import export_folder_to_spreadsheet
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE
from tests.kb_sources.conftest import content_json


@pytest.fixture(params=["folder", "csv", "xlsx", "http"])
def source_spec(request, tmp_path: Path, demo_content) -> str:
    if request.param == "folder":
        return str(DEMO_SOURCE)
    if request.param == "csv":
        export_folder_to_spreadsheet(demo_content, tmp_path / "csv")
        return str(tmp_path / "csv")
    if request.param == "xlsx":
        export_folder_to_spreadsheet(demo_content, tmp_path / "valmont.xlsx")
        return str(tmp_path / "valmont.xlsx")
    server = request.getfixturevalue("json_server")
    server.body = content_json(demo_content.dict())
    return server.url


def test_source_synced_into_the_database_serves_the_demo_facts(source_spec: str, any_db_url: str, tmp_path: Path) -> None:
    report = sync(open_source(source_spec, tmp_path / "http-cache", allow_http=True), any_db_url)  # a loopback test server
    assert report.version == 1 and report.counts == {"places": 9, "wards": 4, "articles": 32}
    kb = KnowledgeBase(any_db_url)
    lab = next(p for p in kb.places() if p.slug == "laboratoire")
    assert lab.hours[5] == (5, dt.time(7, 30), dt.time(12, 0))
    assert "70 €" in kb.article("admission-chambre-individuelle").body
    assert kb.search("chambre individuelle")[0].slug == "admission-chambre-individuelle"
    # The same content from the same source again: nothing to record.
    assert sync(open_source(source_spec, tmp_path / "http-cache", allow_http=True), any_db_url).unchanged
