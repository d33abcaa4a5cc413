"""Accounts: argon2 hashes, roles, CSRF, session expiry, lock-out and the audit log."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import select

from studio.accounts import User, authenticate, create_user, find_user
from studio.audit import AuditEntry
from studio.db import session_scope
from tests.studio.conftest import PASSWORDS, csrf_from, login


def test_passwords_are_stored_as_argon2_hashes(studio_app, studio_settings) -> None:
    with session_scope(studio_settings) as db:
        user = find_user(db, "redactrice")
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORDS["editor"] not in user.password_hash
        assert authenticate(db, "redactrice", PASSWORDS["editor"]).username == "redactrice"


def test_the_default_cost_is_rfc_9106s_and_a_changed_cost_rehashes_at_the_next_login(
    studio_app, studio_settings, monkeypatch
) -> None:
    from core.settings import Settings, get_settings

    for name in ("ACCUEIL_STUDIO_PASSWORD_MEMORY_KIB", "ACCUEIL_STUDIO_PASSWORD_PASSES"):
        monkeypatch.delenv(name)
    assert (Settings().studio_password_memory_kib, Settings().studio_password_passes) == (65536, 3)
    get_settings.cache_clear()
    try:
        with session_scope(studio_settings) as db:
            assert not find_user(db, "redactrice").password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
            authenticate(db, "redactrice", PASSWORDS["editor"])
        with session_scope(studio_settings) as db:
            user = find_user(db, "redactrice")
            assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
            assert authenticate(db, "redactrice", PASSWORDS["editor"]).username == "redactrice"
    finally:
        get_settings.cache_clear()


def test_every_page_needs_a_login(studio_app) -> None:
    client = studio_app.test_client()
    for path in ("/inbox/", "/intents/", "/pipeline/", "/knowledge/", "/journal/", "/utilisateurs/"):
        response = client.get(path)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"], path
    assert client.get("/health").status_code == 200


def test_a_wrong_password_is_refused_in_french_and_audited(studio_app, studio_settings) -> None:
    client = studio_app.test_client()
    response = login(client, "redactrice", "pas-le-bon-mot-de-passe")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.get_data(as_text=True)
    assert client.get("/inbox/").status_code == 302
    with session_scope(studio_settings) as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).where(AuditEntry.username == "redactrice"))]
    assert actions == ["connexion refusée"]


def test_five_failed_logins_lock_the_account(studio_app, studio_settings) -> None:
    client = studio_app.test_client()
    for _ in range(5):
        login(client, "redactrice", "mauvais-mot-de-passe")
    response = login(client, "redactrice", PASSWORDS["editor"])
    assert response.status_code == 401
    assert "Compte bloqué" in response.get_data(as_text=True)


def test_an_editor_cannot_create_users(editor_client, studio_settings) -> None:
    assert editor_client.get("/utilisateurs/").status_code == 403
    token = csrf_from(editor_client.get("/journal/").get_data(as_text=True))
    response = editor_client.post(
        "/utilisateurs/", data={"username": "intrus", "password": "un-mot-de-passe-long", "role": "admin", "csrf_token": token}
    )
    assert response.status_code == 403
    with session_scope(studio_settings) as db:
        assert find_user(db, "intrus") is None
    assert "Utilisateurs" not in editor_client.get("/journal/").get_data(as_text=True)


def test_an_admin_creates_an_editor_and_it_is_audited(admin_client, studio_settings) -> None:
    token = csrf_from(admin_client.get("/utilisateurs/").get_data(as_text=True))
    response = admin_client.post(
        "/utilisateurs/", data={"username": "Standard.Nuit", "password": "un-mot-de-passe-long", "role": "editor", "csrf_token": token}
    )
    assert response.status_code == 302
    with session_scope(studio_settings) as db:
        assert find_user(db, "standard.nuit").role == "editor"
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "compte créé")).one()
        assert (entry.username, entry.target, entry.detail) == ("admin", "standard.nuit", {"rôle": "editor"})
        assert abs(entry.at - dt.datetime.utcnow()) < dt.timedelta(minutes=1)
    short = admin_client.post("/utilisateurs/", data={"username": "court", "password": "court", "role": "editor", "csrf_token": token})
    assert short.status_code == 400 and "au moins 12 caractères" in short.get_data(as_text=True)
    assert 'value="court"' in short.get_data(as_text=True)  # what was typed is kept


def test_the_last_admin_cannot_be_deactivated(admin_client, studio_settings) -> None:
    with session_scope(studio_settings) as db:
        admin_id = find_user(db, "admin").id
    token = csrf_from(admin_client.get("/utilisateurs/").get_data(as_text=True))
    response = admin_client.post(f"/utilisateurs/{admin_id}", data={"action": "deactivate", "csrf_token": token}, follow_redirects=True)
    assert "dernier administrateur" in response.get_data(as_text=True)
    with session_scope(studio_settings) as db:
        assert db.get(User, admin_id).active


def test_a_post_without_its_csrf_token_is_refused(admin_client, studio_settings) -> None:
    response = admin_client.post("/utilisateurs/", data={"username": "sans-jeton", "password": "un-mot-de-passe-long", "role": "editor"})
    assert response.status_code == 400
    assert "jeton CSRF" in response.get_data(as_text=True)
    forged = admin_client.post(
        "/utilisateurs/", data={"username": "sans-jeton", "password": "un-mot-de-passe-long", "role": "editor", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    with session_scope(studio_settings) as db:
        assert find_user(db, "sans-jeton") is None


def test_a_session_expires(studio_app, studio_settings) -> None:
    studio_app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=1)
    client = studio_app.test_client()
    login(client, "redactrice", PASSWORDS["editor"])
    assert client.get("/journal/").status_code == 200
    time.sleep(2.1)
    assert client.get("/journal/").status_code == 302


def test_logout_ends_the_session(editor_client) -> None:
    token = csrf_from(editor_client.get("/journal/").get_data(as_text=True))
    assert editor_client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert editor_client.get("/journal/").status_code == 302


def test_no_open_redirect_after_login(studio_app) -> None:
    client = studio_app.test_client()
    token = csrf_from(client.get("/connexion").get_data(as_text=True))
    response = client.post(
        "/connexion", data={"username": "redactrice", "password": PASSWORDS["editor"], "next": "//evil.example/x", "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_pages_carry_a_strict_content_security_policy(editor_client) -> None:
    policy = editor_client.get("/journal/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_usernames_and_roles_are_validated(studio_app, studio_settings) -> None:
    import pytest

    from studio.accounts import AccountError

    with session_scope(studio_settings) as db:
        with pytest.raises(AccountError, match="Rôle inconnu"):
            create_user(db, "nouvelle", "un-mot-de-passe-long", "superuser")
        with pytest.raises(AccountError, match="existe déjà"):
            create_user(db, "REDACTRICE", "un-mot-de-passe-long", "editor")
        with pytest.raises(AccountError, match="Identifiant invalide"):
            create_user(db, "a b", "un-mot-de-passe-long", "editor")


def test_accounts_and_audit_on_postgresql(pg_url: str, tmp_path) -> None:
    """The studio's tables live in the knowledge base's database, PostgreSQL in production."""
    from core.settings import Settings
    from studio.audit import recent, record

    settings = Settings(db_url=pg_url, var_dir=tmp_path)
    with session_scope(settings) as db:
        create_user(db, "admin", "un-mot-de-passe-long", "admin")
    with session_scope(settings) as db:
        user = authenticate(db, "admin", "un-mot-de-passe-long")
        record(db, user.username, "connexion")
    with session_scope(settings) as db:
        assert [(e.username, e.action) for e in recent(db)] == [("admin", "connexion")]
