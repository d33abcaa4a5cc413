"""Studio doors: the « rappels » role, session revocation seen by a real HTTP client, HTTPS cookie flags, local-only redirects."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text
from waitress import create_server

from core.settings import Settings
from studio.accounts import AREAS, ROLE_DESCRIPTIONS, find_user
from studio.app import create_app
from studio.db import session_scope
from tests.studio.conftest import PASSWORDS, csrf_from, login

FORBIDDEN = "Votre rôle ne donne pas accès à cette page"
AREA_PAGES = {
    "inbox": "/inbox/",
    "intents": "/intents/",
    "pipeline": "/pipeline/",
    "knowledge": "/knowledge/",
    "dashboard": "/tableau-de-bord/",
    "audit": "/journal/",
    "handovers": "/rappels/",
    "users": "/utilisateurs/",
}


def nav_links(page: str) -> set[str]:
    nav = page.split('<nav aria-label="Navigation principale">')[1].split("</nav>")[0]
    return set(re.findall(r'href="([^"]+)"', nav))


def test_every_area_of_the_studio_has_its_roles() -> None:
    assert set(AREA_PAGES) == set(AREAS)


@pytest.mark.parametrize("role", ["editor", "callback"])
def test_each_role_opens_only_its_pages_and_sees_only_their_links(request, role: str) -> None:
    client = request.getfixturevalue(f"{role}_client")
    allowed = {area for area, roles in AREAS.items() if role in roles}
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"] == ("/inbox/" if role == "editor" else "/rappels/")
    landing = client.get("/journal/" if role == "editor" else "/rappels/").get_data(as_text=True)
    assert nav_links(landing) - {"/"} == {AREA_PAGES[area] for area in allowed}
    for area, path in AREA_PAGES.items():
        if area in allowed:
            continue
        response = client.get(path)
        assert response.status_code == 403, path
        assert FORBIDDEN in response.get_data(as_text=True)
    token = csrf_from(landing)
    assert client.post("/utilisateurs/", data={"username": "x-y", "password": "p" * 12, "role": "admin", "csrf_token": token}).status_code == 403


def test_the_admin_sees_everything_says_what_each_role_gives_and_gives_the_rappels_role(admin_client, studio_app, studio_settings) -> None:
    page = admin_client.get("/utilisateurs/").get_data(as_text=True)
    assert nav_links(page) - {"/"} == set(AREA_PAGES.values())
    for label, description in (("Rédacteur", ROLE_DESCRIPTIONS["editor"]), ("Rappels", ROLE_DESCRIPTIONS["callback"])):
        assert f"<dt>{label}</dt>" in page and description.replace("'", "&#39;") in page
    assert '<option value="callback"' in page
    token = csrf_from(page)
    with session_scope(studio_settings) as db:
        user_id = find_user(db, "redactrice").id
    admin_client.post(f"/utilisateurs/{user_id}", data={"action": "role", "role": "callback", "csrf_token": token})
    client = studio_app.test_client()
    login(client, "redactrice", PASSWORDS["editor"])
    assert client.get("/rappels/").status_code == 200 and client.get("/inbox/").status_code == 403


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_existing_database_is_upgraded_and_admins_keep_everything(request, tmp_path, database: str) -> None:
    """A studio_users table from before session revocation: the column is added, accounts and roles are kept."""
    from studio.accounts import password_hasher

    url = f"sqlite:///{tmp_path / 'old.db'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            f"CREATE TABLE studio_users (id {'SERIAL' if database == 'postgresql' else 'INTEGER'} PRIMARY KEY,"
            " username VARCHAR(64) NOT NULL UNIQUE, password_hash VARCHAR(255) NOT NULL, role VARCHAR(20) NOT NULL,"
            " active BOOLEAN NOT NULL, failed_logins INTEGER NOT NULL, locked_until TIMESTAMP, created_at TIMESTAMP NOT NULL,"
            " last_login_at TIMESTAMP)"
        ))  # fmt: skip
        for username, role in (("ancienne-admin", "admin"), ("ancien-redacteur", "editor")):
            connection.execute(
                text("INSERT INTO studio_users (username, password_hash, role, active, failed_logins, created_at) VALUES (:u, :h, :r, true, 0, '2025-01-01 00:00:00')"),
                {"u": username, "h": password_hasher().hash("un-mot-de-passe-long"), "r": role},
            )
    engine.dispose()
    app = create_app(Settings(db_url=url, var_dir=tmp_path / "var", studio_secret_key="k"))
    admin, editor = app.test_client(), app.test_client()
    assert login(admin, "ancienne-admin", "un-mot-de-passe-long").status_code == 302
    assert login(editor, "ancien-redacteur", "un-mot-de-passe-long").status_code == 302
    assert admin.get("/rappels/").status_code == 200 and admin.get("/utilisateurs/").status_code == 200
    assert editor.get("/journal/").status_code == 200 and editor.get("/rappels/").status_code == 403


# Session revocation, through a real HTTP server and a second client replaying the first one's cookie.


@pytest.fixture
def studio_server(studio_app):
    server = create_server(studio_app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


def http_login(base: str, username: str, password: str) -> requests.Session:
    client = requests.Session()
    token = csrf_from(client.get(f"{base}/connexion").text)
    response = client.post(f"{base}/connexion", data={"username": username, "password": password, "csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302
    return client


def copy_of(client: requests.Session) -> requests.Session:
    thief = requests.Session()
    thief.cookies.update(client.cookies.get_dict())
    return thief


def opens(client: requests.Session, url: str) -> bool:
    response = client.get(url, allow_redirects=False)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def user_id(settings: Settings, username: str) -> int:
    with session_scope(settings) as db:
        return find_user(db, username).id


def admin_action(base: str, admin: requests.Session, target: int, **data: str) -> None:
    token = csrf_from(admin.get(f"{base}/utilisateurs/").text)
    response = admin.post(f"{base}/utilisateurs/{target}", data={"csrf_token": token, **data}, allow_redirects=False)
    assert response.status_code == 302


def test_logout_revokes_a_copied_cookie(studio_server) -> None:
    editor = http_login(studio_server, "redactrice", PASSWORDS["editor"])
    stolen = copy_of(editor)
    assert opens(stolen, f"{studio_server}/journal/")
    token = csrf_from(editor.get(f"{studio_server}/journal/").text)
    assert editor.post(f"{studio_server}/deconnexion", data={"csrf_token": token}, allow_redirects=False).status_code == 302
    assert not opens(stolen, f"{studio_server}/journal/")
    assert opens(http_login(studio_server, "redactrice", PASSWORDS["editor"]), f"{studio_server}/journal/")  # a new login works


def test_a_password_change_revokes_the_sessions_opened_before(studio_server, studio_settings) -> None:
    editor = http_login(studio_server, "redactrice", PASSWORDS["editor"])
    admin = http_login(studio_server, "admin", PASSWORDS["admin"])
    admin_copy = copy_of(admin)
    admin_action(studio_server, admin, user_id(studio_settings, "redactrice"), action="password", password="un-tout-nouveau-mot")
    assert not opens(editor, f"{studio_server}/journal/")
    assert opens(http_login(studio_server, "redactrice", "un-tout-nouveau-mot"), f"{studio_server}/journal/")
    # The admin changes their own password: this session goes on, the other copies end.
    admin_action(studio_server, admin, user_id(studio_settings, "admin"), action="password", password="encore-un-autre-mot")
    assert opens(admin, f"{studio_server}/utilisateurs/") and not opens(admin_copy, f"{studio_server}/utilisateurs/")


def test_deactivation_revokes_the_sessions_even_after_reactivation(callback_user, studio_server, studio_settings) -> None:
    caller = http_login(studio_server, "standard", PASSWORDS["callback"])
    admin = http_login(studio_server, "admin", PASSWORDS["admin"])
    target = user_id(studio_settings, "standard")
    admin_action(studio_server, admin, target, action="deactivate")
    assert not opens(caller, f"{studio_server}/rappels/")
    admin_action(studio_server, admin, target, action="activate")
    assert not opens(caller, f"{studio_server}/rappels/")
    assert opens(http_login(studio_server, "standard", PASSWORDS["callback"]), f"{studio_server}/rappels/")


# Cookies and HTTPS.


def test_plain_http_cookie_is_httponly_and_lax_without_hsts(studio_app) -> None:
    client = studio_app.test_client()
    response = login(client, "redactrice", PASSWORDS["editor"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in client.get("/journal/").headers


def test_over_https_the_cookie_is_secure_and_pages_carry_hsts(studio_settings) -> None:
    app = create_app(studio_settings.copy(update={"studio_https": True}))
    with session_scope(studio_settings) as db:
        from studio.accounts import create_user

        create_user(db, "redactrice", PASSWORDS["editor"], "editor")
    client = app.test_client()
    login_page = client.get("/connexion", headers={"X-Forwarded-Proto": "https"})
    assert login_page.headers["Strict-Transport-Security"] == "max-age=31536000"
    response = client.post(
        "/connexion",
        data={"username": "redactrice", "password": PASSWORDS["editor"], "csrf_token": csrf_from(login_page.get_data(as_text=True))},
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# The page asked before the login, and nothing else.


HOSTILE_TARGETS = [
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    " //evil.example",
    "https://evil.example",
    "HTTPS://evil.example/",
    "https:/evil.example",
    "//evil.example@studio/",
    "javascript:alert(1)",
    "/%5Cevil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/%09/evil.example",
    "///evil.example",
    "http:evil.example",
    "evil.example",
    "",
]


def assert_local(location: str) -> None:
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith("//"), location
    assert not parts.scheme and not parts.netloc and not re.search(r"[\x00-\x20\\\\]", location), location
    assert "evil.example" not in location or location.startswith("/%"), location  # at most a path of the studio


def test_every_hostile_redirect_target_becomes_a_local_page(studio_app) -> None:
    from studio.views.auth import _safe_next

    with studio_app.test_request_context():
        for target in HOSTILE_TARGETS:
            assert_local(_safe_next(target))


def test_the_redirect_after_a_real_login_stays_on_the_studio(studio_app) -> None:
    for target in ("/\\evil.example", "/\t/evil.example", "/%5Cevil.example"):
        client = studio_app.test_client()
        token = csrf_from(client.get(f"/connexion?next={quote(target)}").get_data(as_text=True))
        response = client.post(
            "/connexion", data={"username": "redactrice", "password": PASSWORDS["editor"], "next": target, "csrf_token": token}
        )
        assert response.status_code == 302
        assert_local(response.headers["Location"])


def test_a_local_page_asked_before_the_login_is_kept(studio_app) -> None:
    client = studio_app.test_client()
    first = client.get("/intents/?page=2")
    assert first.status_code == 302
    token = csrf_from(client.get(first.headers["Location"]).get_data(as_text=True))
    next_page = re.search(r"next=([^&]+)", first.headers["Location"]).group(1)
    response = client.post(
        "/connexion", data={"username": "redactrice", "password": PASSWORDS["editor"], "next": unquote(next_page), "csrf_token": token}
    )
    assert response.headers["Location"] == "/intents/?page=2"


def test_odd_logins_and_accounts_on_postgresql(pg_url: str, tmp_path) -> None:
    """The column sizes of PostgreSQL: a refused login with a long name is recorded, not a 500."""
    settings = Settings(db_url=pg_url, var_dir=tmp_path / "var", studio_secret_key="k")
    app = create_app(settings)
    app.config["TESTING"] = True
    with session_scope(settings) as db:
        from studio.accounts import create_user

        create_user(db, "admin", PASSWORDS["admin"], "admin")
    client = app.test_client()
    for username in ("é" * 300, "x" * 5000, "\x00nul"):
        response = login(client, username, "un-mot-de-passe")
        assert response.status_code == 401 and "Identifiant ou mot de passe incorrect." in response.get_data(as_text=True)
    assert login(client, "admin", PASSWORDS["admin"]).status_code == 302
    token = csrf_from(client.get("/utilisateurs/").get_data(as_text=True))
    for data in ({"username": "y" * 500, "password": "p" * 20, "role": "editor"}, {"username": "ok-name", "password": "p" * 20, "role": "r" * 500}):
        assert client.post("/utilisateurs/", data={**data, "csrf_token": token}).status_code == 400
    assert client.post("/utilisateurs/2147483648", data={"action": "deactivate", "csrf_token": token}).status_code == 404
