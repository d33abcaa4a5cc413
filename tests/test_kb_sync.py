"""The demo sources load into a real SQLite database; bad sources are refused with file, line and field."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from actions.kb_repository import KnowledgeBase
from kb_sync import sync as sync_module
from kb_sync.content import parse_days
from kb_sync.errors import ContentInvalid
from kb_sync.models import Place
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from store.engine import session_factory
from tests.conftest import DEMO_SOURCE


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(ContentInvalid) as caught:
        FolderSource(folder).read()
    return [str(error) for error in caught.value.errors]


def test_demo_sources_load_every_place_ward_and_article(db_url: str) -> None:
    result = sync(FolderSource(DEMO_SOURCE), db_url)
    assert result.counts == {"places": 9, "wards": 4, "articles": 32}
    kb = KnowledgeBase(db_url)
    places = {p.slug: p for p in kb.places()}
    assert places["laboratoire"].hours == tuple((day, dt.time(7, 30), dt.time(12, 0)) for day in range(6))
    assert places["urgences"].always_open and not places["urgences"].hours
    assert [day for day, *_ in places["accueil"].hours] == [0, 1, 2, 3, 4, 5]
    wards = {w.slug: w for w in kb.wards()}
    assert wards["general"].is_default
    assert (wards["reanimation"].rules[0].min_age, wards["reanimation"].rules[0].max_visitors) == (15, 2)
    assert wards["pediatrie"].rules[0].all_day
    fasting = kb.article("preop-jeune")
    assert "6 heures" in fasting.body and "2 heures" in fasting.body
    assert kb.organisation().switchboard_phone == "02 38 00 00 00"


def test_sync_twice_replaces_rather_than_duplicates(db_url: str) -> None:
    sync(FolderSource(DEMO_SOURCE), db_url)
    sync(FolderSource(DEMO_SOURCE), db_url)
    with session_factory(db_url)() as session:
        assert session.execute(select(func.count()).select_from(Place)).scalar_one() == 9


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("lundi-vendredi", [0, 1, 2, 3, 4]),
        ("Lundi au Samedi", [0, 1, 2, 3, 4, 5]),
        ("tous les jours", list(range(7))),
        ("lundi, mercredi et vendredi", [0, 2, 4]),
        ("samedi", [5]),
    ],
)
def test_days_are_read_as_editors_write_them(days: str, expected: list[int]) -> None:
    assert parse_days(days) == expected


def test_closing_before_opening_names_file_line_and_field(source_copy: Path) -> None:
    edit(source_copy / "places.yml", 'closes: "12:00"', 'closes: "06:00"')
    [error] = errors_of(source_copy)
    line = next(i for i, text in enumerate((source_copy / "places.yml").read_text().splitlines(), 1) if '"06:00"' in text)
    assert error.startswith(f"places.yml, ligne {line}, champ « places[3].hours[0].closes »")
    assert "doit être après" in error


def test_malformed_yaml_names_file_and_line(source_copy: Path) -> None:
    edit(source_copy / "wards.yml", "    name: maternité\n", "    name: maternité: bâtiment C\n")
    [error] = errors_of(source_copy)
    line = next(i for i, text in enumerate((source_copy / "wards.yml").read_text().splitlines(), 1) if "bâtiment C" in text)
    assert error.startswith(f"wards.yml, ligne {line}")
    assert "YAML mal formé" in error and "guillemets" in error


def test_unknown_topic_in_article_front_matter(source_copy: Path) -> None:
    edit(source_copy / "articles" / "preop-tabac.md", "topic: preoperatoire", "topic: cuisine")
    [error] = errors_of(source_copy)
    assert error.startswith("articles/preop-tabac.md, ligne 3, champ « topic »")
    assert "valeurs permises" in error


def test_missing_field_and_unknown_day(source_copy: Path) -> None:
    edit(source_copy / "organisation.yml", "switchboard_phone: 02 38 00 00 00\n", "")
    edit(source_copy / "places.yml", "days: samedi", "days: samdi")
    errors = errors_of(source_copy)
    assert any(e.startswith("organisation.yml") and "switchboard_phone" in e and "manquant" in e for e in errors)
    assert any("places.yml" in e and "places[0].hours[1].days" in e and "« samdi » inconnu" in e for e in errors)


def test_duplicate_slug_is_refused(source_copy: Path) -> None:
    edit(source_copy / "wards.yml", "slug: pediatrie", "slug: maternite")
    [error] = errors_of(source_copy)
    assert "wards.yml" in error and "« maternite » déjà utilisé" in error


def test_refused_sync_keeps_the_previous_knowledge_base(source_copy: Path, db_url: str) -> None:
    sync(FolderSource(source_copy), db_url)
    edit(source_copy / "wards.yml", 'opens: "15:00"\n        closes: "20:00"', 'opens: "16:00"\n        closes: "25:00"')
    with pytest.raises(ContentInvalid):
        sync(FolderSource(source_copy), db_url)
    maternity = next(w for w in KnowledgeBase(db_url).wards() if w.slug == "maternite")
    assert maternity.rules[0].opens == dt.time(15, 0)


def test_failure_while_writing_rolls_everything_back(source_copy: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sync(FolderSource(DEMO_SOURCE), db_url)
    edit(source_copy / "places.yml", 'closes: "12:00"', 'closes: "12:30"')

    def replace_then_fail(session, content, progress=None):
        session.execute(delete(Place))
        session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(sync_module, "replace_content", replace_then_fail)
    with pytest.raises(RuntimeError):
        sync(FolderSource(source_copy), db_url)
    assert len(KnowledgeBase(db_url).places()) == 9


def test_broken_internal_reference_is_refused(source_copy: Path) -> None:
    (source_copy / "articles" / "visites-fleurs.md").unlink()
    [error] = errors_of(source_copy)
    assert error.startswith("articles/visites-enfants.md, ligne 6, champ « related »")
    assert "« visites-fleurs » n'existe pas" in error
