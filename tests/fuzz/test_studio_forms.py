"""Bad input to the studio's forms, through the Flask test client (real login, CSRF on, real files and SQLite).

Login, account creation and changes, intents and examples, the article form, the inbox decision, searches and
filters get odd unicode, control characters, huge strings, missing fields, hostile ids and raw bytes; a request
without its CSRF token is refused with a French message. Each answer is a clear 4xx, a page or a redirect, never
a 500 (TESTING propagates any exception); the accounts, examples and articles already stored stay as they were.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from accueil.release import studio_flow
from core.settings import Settings
from studio.accounts import User, create_user
from studio.app import create_app
from studio.audit import AuditEntry
from studio.db import session_scope
from studio.nlu_files import examples, intents
from tests.studio.conftest import PASSWORDS, csrf_from, login, settings_on_copies

FUZZ = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
FEW = settings(FUZZ, max_examples=6)

characters = st.characters(codec="utf-8") | st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Mn"], codec="utf-8")
texts = st.text(characters, max_size=40)
huge = st.builds(lambda c, n: c * n, st.sampled_from(["é", "a", "\x00", "😀", "\u202e", "\\", "{{ 7*7 }}", "<script>"]), st.integers(2_000, 60_000))
values = texts | huge
field = st.none() | values  # None: the field is left out
ACCOUNTS = {"redactrice": "editor", "admin": "admin", "standard": "callback"}
INTENT = "ask_parking"
ARTICLE = "preop-jeune"


def form(**fields) -> dict:
    return {name: value for name, value in fields.items() if value is not None}


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio on copies of the editors' files, with three accounts, a throwaway one and a synced knowledge base."""
    tmp = tmp_path_factory.mktemp("studio_fuzz")
    studio_settings = settings_on_copies(tmp, "fuzz-secret")
    app = create_app(studio_settings, studio_flow())
    app.config["TESTING"] = True
    with session_scope(studio_settings) as db:
        create_user(db, "redactrice", PASSWORDS["editor"], "editor")
        create_user(db, "admin", PASSWORDS["admin"], "admin")
        create_user(db, "standard", PASSWORDS["callback"], "callback")
        throwaway = create_user(db, "jetable", "un-mot-de-passe-jetable", "editor").id
    clients = {}
    for username, role in ACCOUNTS.items():
        clients[role] = app.test_client()
        assert login(clients[role], username, PASSWORDS[role]).status_code == 302
    tokens = {role: csrf_from(client.get("/" if role != "callback" else "/rappels/", follow_redirects=True).get_data(as_text=True)) for role, client in clients.items()}
    page = clients["editor"].get("/knowledge/synchronisation").get_data(as_text=True)
    checksum = re.search(r'name="checksum" value="([0-9a-f]{64})"', page).group(1)
    assert clients["editor"].post("/knowledge/synchronisation", data={"csrf_token": tokens["editor"], "checksum": checksum}).status_code == 302
    articles = Path(studio_settings.kb_source) / "articles"
    state = Studio(
        app=app,
        settings=studio_settings,
        clients=clients,
        tokens=tokens,
        throwaway=throwaway,
        accounts=_accounts(studio_settings),
        examples={i.name: set(examples(studio_settings, i.name)) for i in intents(studio_settings)},
        articles={p.name: p.read_bytes() for p in articles.iterdir() if p.stem != ARTICLE},
    )
    yield state
    # Nothing already stored was lost: the accounts (and their passwords), every example, every other article.
    assert _accounts(studio_settings) == state["accounts"]
    for username, role in ACCOUNTS.items():
        assert login(app.test_client(), username, PASSWORDS[role]).status_code == 302
    now = {i.name: set(examples(studio_settings, i.name)) for i in intents(studio_settings)}
    assert all(kept <= now.get(name, set()) for name, kept in state["examples"].items())
    assert {p.name: p.read_bytes() for p in articles.iterdir() if p.stem != ARTICLE} == state["articles"]


class Studio(dict):
    """The studio under test and what it held at the start (a short repr in Hypothesis' reports)."""

    def __repr__(self) -> str:
        return "<studio>"


def _accounts(studio_settings: Settings) -> dict[str, tuple]:
    with session_scope(studio_settings) as db:
        return {
            u.username: (u.role, u.active, u.password_hash)
            for u in db.scalars(select(User).where(User.username.in_(ACCOUNTS)))
        }


def assert_clear(response, *allowed: int) -> str:
    """A clear answer in French, with no stack trace; returns the page."""
    page = response.get_data(as_text=True)
    assert response.status_code < 500 and (not allowed or response.status_code in allowed), (response.status_code, page[:300])
    assert "Traceback" not in page and 'File "' not in page
    if response.status_code >= 400 and response.mimetype == "text/html":
        assert '<html lang="fr">' in page
    return page


@settings(FUZZ, max_examples=10)  # each refused login costs an argon2 hash
@given(username=field, password=field, next_page=field, token=st.sampled_from(["valid", "missing", "forged"]))
def test_login_form(studio, username, password, next_page, token) -> None:
    if username and username.strip().lower() in ACCOUNTS:
        username = "x" + username
    client = studio["app"].test_client()
    data = form(username=username, password=password, next=next_page)
    if token == "valid":
        data["csrf_token"] = csrf_from(client.get("/connexion").get_data(as_text=True))
    elif token == "forged":
        data["csrf_token"] = "IjAwMDAi.forged.token"
    response = client.post("/connexion", data=data)
    page = assert_clear(response, 400, 401, 413)
    if token != "valid" and response.status_code != 413:  # a body over 2 MB is refused before the token is read
        assert response.status_code == 400 and "jeton CSRF manquant ou invalide" in page
    elif response.status_code == 401:
        assert "Identifiant ou mot de passe incorrect." in page


@FUZZ
@given(username=field, password=field, role=st.none() | st.sampled_from(["editor", "callback", "admin"]) | values)
def test_account_creation(studio, username, password, role) -> None:
    client = studio["clients"]["admin"]
    response = client.post("/utilisateurs/", data=form(username=username, password=password, role=role, csrf_token=studio["tokens"]["admin"]))
    page = assert_clear(response, 302, 400, 413)
    if response.status_code == 400:
        assert 'class="flash flash-error"' in page


@FUZZ
@given(
    target=st.sampled_from(["throwaway", 0, 2**31, 2**63, 10**30]) | st.integers(-(2**70), 2**70),
    action=st.none() | st.sampled_from(["password", "deactivate", "activate", "role"]) | values,
    role=field,
    password=field,
)
def test_account_changes(studio, target, action, role, password) -> None:
    """Password changes, (de)activation and role changes on a throwaway account or on ids that do not exist."""
    user_id = studio["throwaway"] if target == "throwaway" else target
    if 1 <= user_id <= 3:  # never one of the accounts the test watches
        user_id += 10
    response = studio["clients"]["admin"].post(
        f"/utilisateurs/{user_id}", data=form(action=action, role=role, password=password, csrf_token=studio["tokens"]["admin"])
    )
    assert_clear(response, 302, 404, 413)


@FUZZ
@given(text=field, confirm=st.none() | st.sampled_from(["1", "0"]) | texts, old=field, intent=st.sampled_from([INTENT]) | texts)
def test_intent_example_forms(studio, text, confirm, old, intent) -> None:
    client, token = studio["clients"]["editor"], studio["tokens"]["editor"]
    name = intent.replace("/", "") or INTENT
    if old is not None and old.strip() in studio["examples"].get(name, ()):
        old = "~" + old  # never a real example: replacing one is legitimate, not a loss
    assert_clear(client.post(f"/intents/{name}/exemples", data=form(text=text, confirm=confirm, csrf_token=token)), 200, 302, 400, 404, 409, 413)
    assert_clear(client.post(f"/intents/{name}/exemples/modifier", data=form(old=old, text=text, csrf_token=token)), 200, 302, 400, 404, 409, 413)
    assert_clear(client.get(f"/intents/{name}/verifier", query_string=form(texte=text, remplace=old)), 200, 404)


@FUZZ
@given(name=field, file=field, examples_=field, answer=field, confirm=st.none() | st.just("1"))
def test_new_intent_form(studio, name, file, examples_, answer, confirm) -> None:
    response = studio["clients"]["editor"].post(
        "/intents/nouvelle", data=form(name=name, file=file, examples=examples_, answer=answer, confirm=confirm, csrf_token=studio["tokens"]["editor"])
    )
    assert_clear(response, 200, 302, 400, 409, 413)


@FEW
@given(
    title=field,
    keywords=field,
    body=field,
    touch_date=st.none() | st.just("1") | texts,
    fingerprint=st.none() | st.just("0" * 64) | texts,
)
def test_article_form(studio, title, keywords, body, touch_date, fingerprint) -> None:
    response = studio["clients"]["editor"].post(
        f"/knowledge/articles/{ARTICLE}",
        data=form(title=title, keywords=keywords, body=body, touch_date=touch_date, fingerprint=fingerprint, csrf_token=studio["tokens"]["editor"]),
    )
    assert_clear(response, 200, 302, 409, 413, 422)
    assert studio["clients"]["editor"].get(f"/knowledge/articles/{ARTICLE}").status_code == 200  # still readable


@FUZZ
@given(keys=st.lists(values, max_size=3), decision=field, intent=field, page=field)
def test_inbox_decision(studio, keys, decision, intent, page) -> None:
    data = form(decision=decision, intent=intent, page=page, csrf_token=studio["tokens"]["editor"])
    data["key"] = keys
    assert_clear(studio["clients"]["editor"].post("/inbox/decision", data=data), 200, 302, 400, 404, 409, 413)
    assert_clear(studio["clients"]["editor"].get("/inbox/nouvelle-intention", query_string={"key": keys}), 200, 302, 400, 404)


@FUZZ
@given(
    user=field,
    days=field | st.integers().map(str),
    service=field,
    page=field,
    period=st.fixed_dictionaries({}, optional={"du": values, "au": values, "canal": values, "duree": values, "etp": values}),
)
def test_searches_and_filters(studio, user, days, service, page, period) -> None:
    editor, caller = studio["clients"]["editor"], studio["clients"]["callback"]
    assert_clear(editor.get("/journal/", query_string=form(utilisateur=user)), 200)
    assert_clear(caller.get("/rappels/", query_string=form(jours=days, service=service)), 200)
    assert_clear(editor.get("/inbox/", query_string=form(page=page)), 200)
    assert_clear(editor.get("/tableau-de-bord/", query_string=period), 200, 400)


@FUZZ
@given(body=st.binary(max_size=400), path=st.sampled_from(["/connexion", "/utilisateurs/", "/intents/nouvelle", "/inbox/decision"]))
def test_raw_bytes_as_a_form(studio, body, path) -> None:
    """Bytes that are not a form (invalid UTF-8, stray '%'), with or without a valid token in front."""
    token = studio["tokens"]["admin"]
    for data in (body, f"csrf_token={token}&".encode() + body):
        response = studio["clients"]["admin"].post(path, data=data, content_type="application/x-www-form-urlencoded")
        assert_clear(response, 200, 302, 400, 401, 409, 413)


def test_every_form_refuses_a_request_without_its_csrf_token_in_french(studio) -> None:
    app, client = studio["app"], studio["clients"]["admin"]
    posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert len(posts) >= 12
    filled = {"user_id": studio["throwaway"], "name": INTENT, "job_id": 1, "version_id": 1}
    for rule in posts:
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[^:>]+:)?{argument}>", str(filled.get(argument, "x")), url)
        response = client.post(url, data={"password": "un-mot-de-passe-long", "action": "password"})
        page = assert_clear(response, 400)
        assert "jeton CSRF manquant ou invalide" in page, url
    with session_scope(studio["settings"]) as db:
        assert db.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "mot de passe changé")) == 0


def test_a_body_over_the_limit_gets_a_french_413(studio) -> None:
    response = studio["clients"]["editor"].post(
        "/intents/nouvelle", data={"csrf_token": studio["tokens"]["editor"], "examples": "a" * (3 * 1024 * 1024)}
    )
    assert response.status_code == 413 and "Envoi trop volumineux." in response.get_data(as_text=True)


def test_ids_beyond_the_database_range_are_not_found(studio) -> None:
    editor, admin = studio["clients"]["editor"], studio["clients"]["admin"]
    for number in (2**31, 2**63, 10**30):
        assert_clear(editor.get(f"/knowledge/versions/{number}"), 404)
        assert_clear(editor.get(f"/pipeline/taches/{number}.json"), 404)
        assert_clear(admin.post(f"/utilisateurs/{number}", data={"action": "deactivate", "csrf_token": studio["tokens"]["admin"]}), 404)
        deploy = editor.post("/pipeline/deployer", data={"job": str(number), "csrf_token": studio["tokens"]["editor"]})
        assert_clear(deploy, 302)
