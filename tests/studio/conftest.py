"""Studio fixtures: settings on copies of the editors' files, the Flask app, and clients logged in through the real form."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from accueil.release import studio_flow
from core.settings import PROJECT_ROOT, Settings
from studio.accounts import create_user
from studio.app import create_app
from studio.db import session_scope

PASSWORDS = {"editor": "mot-de-passe-redac", "callback": "mot-de-passe-rappels", "admin": "mot-de-passe-admin"}


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def settings_on_copies(tmp: Path, secret_key: str = "test-secret") -> Settings:
    """Settings on copies, under `tmp`, of the files the studio writes (NLU data, bot, knowledge base sources)."""
    project = tmp / "project"
    for name in ("nlu_data", "bot"):
        shutil.copytree(PROJECT_ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PROJECT_ROOT / "kb_content" / "valmont", project / "kb_content" / "valmont")
    var = tmp / "var"
    return Settings(
        db_url=f"sqlite:///{var / 'accueil.db'}",
        tracker_db_url=f"sqlite:///{var / 'conversations.db'}",
        var_dir=var,
        nlu_dir=project / "nlu_data",
        bot_dir=project / "bot",
        kb_source=str(project / "kb_content" / "valmont"),
        models_dir=tmp / "models",
        studio_secret_key=secret_key,
    )


@pytest.fixture
def studio_settings(tmp_path: Path) -> Settings:
    """Settings on a tmp copy of the files the studio writes (NLU data, bot, knowledge base sources)."""
    return settings_on_copies(tmp_path)


@pytest.fixture
def studio_app(studio_settings: Settings):
    app = create_app(studio_settings, studio_flow())
    app.config["TESTING"] = True
    with session_scope(studio_settings) as db:
        create_user(db, "redactrice", PASSWORDS["editor"], "editor")
        create_user(db, "admin", PASSWORDS["admin"], "admin")
    return app


def login(client, username: str, password: str):
    token = csrf_from(client.get("/connexion").get_data(as_text=True))
    return client.post("/connexion", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def editor_client(studio_app):
    client = studio_app.test_client()
    assert login(client, "redactrice", PASSWORDS["editor"]).status_code == 302
    return client


@pytest.fixture
def callback_user(studio_app, studio_settings) -> str:
    """A « rappels » account (the staff who call patients back)."""
    with session_scope(studio_settings) as db:
        create_user(db, "standard", PASSWORDS["callback"], "callback")
    return "standard"


@pytest.fixture
def callback_client(studio_app, callback_user):
    client = studio_app.test_client()
    assert login(client, "standard", PASSWORDS["callback"]).status_code == 302
    return client


@pytest.fixture
def admin_client(studio_app):
    client = studio_app.test_client()
    assert login(client, "admin", PASSWORDS["admin"]).status_code == 302
    return client
