"""The `accueil` command: knowledge base sync exit codes and messages, training fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accueil import cli
from accueil.training import fingerprint, model_path, train_if_needed
from actions.kb_repository import KnowledgeBase
from core.settings import PROJECT_ROOT, Settings
from tests.conftest import DEMO_SOURCE


def test_kb_sync_loads_the_demo_and_says_so_in_french(db_url, use_db, capsys) -> None:
    use_db(db_url)
    assert cli.main(["kb", "sync", "--source", str(DEMO_SOURCE)]) == 0
    assert "9 lieux, 4 services, 32 articles" in capsys.readouterr().out
    assert len(KnowledgeBase(db_url).wards()) == 4


def test_kb_sync_refuses_a_bad_source_and_exits_non_zero(db_url, use_db, capsys, tmp_path) -> None:
    use_db(db_url)
    source = tmp_path / "src"
    shutil.copytree(DEMO_SOURCE, source)
    (source / "organisation.yml").write_text("name: [pas fermé\n", encoding="utf-8")
    assert cli.main(["kb", "sync", "--source", str(source)]) == 1
    out = capsys.readouterr().out
    assert "organisation.yml, ligne 2" in out and "rien n'a été écrit" in out and "reste en service" in out


@pytest.fixture
def project_copy(tmp_path: Path) -> Settings:
    for folder in ("bot", "nlu_data"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    return Settings(bot_dir=tmp_path / "bot", nlu_dir=tmp_path / "nlu_data", models_dir=tmp_path / "models")


def test_fingerprint_changes_with_training_data_and_config_only(project_copy: Settings) -> None:
    before = fingerprint(project_copy)
    (project_copy.bot_dir / "endpoints.yml").write_text("action_endpoint:\n  url: http://x\n")
    assert fingerprint(project_copy) == before
    with open(project_copy.nlu_dir / "conversation.yml", "a", encoding="utf-8") as f:
        f.write("    - coucou la compagnie\n")
    after_nlu = fingerprint(project_copy)
    assert after_nlu != before
    config = project_copy.bot_dir / "config.yml"
    config.write_text(config.read_text().replace("random_seed: 42", "random_seed: 43"))
    assert fingerprint(project_copy) not in (before, after_nlu)


def test_up_to_date_model_is_not_trained_again(project_copy: Settings) -> None:
    target = model_path(project_copy)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"model")
    result = train_if_needed(project_copy)
    assert (result.model, result.trained) == (target, False)


def test_kb_export_then_sync_from_the_workbook_is_the_same_content(db_url, use_db, capsys, tmp_path) -> None:
    use_db(db_url)
    workbook = tmp_path / "valmont.xlsx"
    assert cli.main(["kb", "export", str(workbook), "--source", str(DEMO_SOURCE)]) == 0
    assert cli.main(["kb", "sync", "--source", str(workbook)]) == 0
    assert cli.main(["kb", "sync", "--source", str(DEMO_SOURCE)]) == 0
    out = capsys.readouterr().out
    assert "exportée" in out and "Version 1" in out and "aucun changement" in out


def test_users_add_creates_the_first_admin_then_editors(db_url, use_db, capsys, monkeypatch, tmp_path) -> None:
    import io

    from studio.accounts import authenticate, find_user
    from studio.db import session_scope

    monkeypatch.setenv("ACCUEIL_VAR_DIR", str(tmp_path / "var"))
    use_db(db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("un-mot-de-passe-long\n"))
    assert cli.main(["users", "add", "Chef.Standard", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("un-autre-mot-de-passe\n"))
    assert cli.main(["users", "add", "marie", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("court\n"))
    assert cli.main(["users", "add", "paul", "--password-stdin"]) == 1
    out = capsys.readouterr().out
    assert "Compte « chef.standard » créé (administrateur)" in out and "Compte « marie » créé (rédacteur)" in out
    assert "au moins 12 caractères" in out
    with session_scope(cli.get_settings()) as db:
        assert authenticate(db, "chef.standard", "un-mot-de-passe-long").role == "admin"
        assert find_user(db, "marie").role == "editor" and find_user(db, "paul") is None
