"""The intents pages: list, examples added, edited and deleted in the tmp copy of nlu_data/, warnings, new intents."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from core.settings import Settings
from studio.audit import AuditEntry
from studio.db import session_scope
from tests.studio.conftest import csrf_from


def page_of(client, url: str) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def post(client, url: str, page_url: str, **data):
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def audit_actions(settings: Settings) -> list[tuple[str, str, dict]]:
    with session_scope(settings) as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action.like("%exemple%") | AuditEntry.action.like("intention%")))
        return [(e.action, e.target, e.detail) for e in entries]


def test_the_list_links_each_intent_with_its_count_and_file(editor_client) -> None:
    page = editor_client.get("/intents/").get_data(as_text=True)
    assert '<a href="/intents/ask_parking">ask_parking</a>' in page
    row = re.search(r'<tr data-intent="ask_parking">(.*?)</tr>', page, re.S).group(1)
    count = int(re.search(r'<td class="number">(\d+)</td>', row).group(1))
    assert count >= 25 and "nlu_data/access.yml" in row
    assert 'href="/intents/nouvelle"' in page


def test_an_intent_page_lists_its_examples_with_edit_and_delete(editor_client) -> None:
    page = page_of(editor_client, "/intents/ask_parking")
    assert "<h1>Intention « ask_parking »</h1>" in page
    assert "Le parking est-il gratuit pour les patients ?" in page
    assert page.count(">Modifier</summary>") == page.count('<button class="button danger" type="submit">Supprimer') >= 25
    assert '<label for="new-example">Nouvel exemple</label>' in page
    assert editor_client.get("/intents/ask_nothing").status_code == 404


def test_adding_an_example_writes_it_and_audits(editor_client, studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8").splitlines()
    response = post(editor_client, "/intents/ask_parking/exemples", "/intents/ask_parking", text="y a des places pour les motos")
    assert response.status_code == 302 and response.headers["Location"] == "/intents/ask_parking"
    assert [line for line in path.read_text(encoding="utf-8").splitlines() if line not in before] == ["    - y a des places pour les motos"]
    page = page_of(editor_client, "/intents/ask_parking")
    assert "Exemple « y a des places pour les motos » ajouté dans nlu_data/access.yml." in page
    assert 'href="/pipeline/"' in page
    assert audit_actions(studio_settings) == [("exemple ajouté", "ask_parking", {"fichier": "nlu_data/access.yml", "texte": "y a des places pour les motos"})]


def test_adding_needs_the_csrf_token(editor_client, studio_settings: Settings) -> None:
    before = (studio_settings.nlu_dir / "access.yml").read_text(encoding="utf-8")
    assert editor_client.post("/intents/ask_parking/exemples", data={"text": "une place moto ?"}).status_code == 400
    assert (studio_settings.nlu_dir / "access.yml").read_text(encoding="utf-8") == before


def test_an_exact_duplicate_of_another_intent_is_refused_and_the_text_kept(editor_client, studio_settings: Settings) -> None:
    before = (studio_settings.nlu_dir / "access.yml").read_text(encoding="utf-8")
    response = post(editor_client, "/intents/ask_parking/exemples", "/intents/ask_parking", text="Quels sont les horaires de visite", confirm="1")
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "est déjà un exemple de l'intention « ask_visiting_hours » (visiting_hours.yml)" in page
    assert 'value="Quels sont les horaires de visite"' in page
    assert (studio_settings.nlu_dir / "access.yml").read_text(encoding="utf-8") == before
    assert audit_actions(studio_settings) == []


def test_a_nearly_identical_example_is_written_only_once_confirmed(editor_client, studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    text = "Le parking est-il gratuit pour les patientes ?"
    response = post(editor_client, "/intents/ask_parking/exemples", "/intents/ask_parking", text=text)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and "Presque identique à « Le parking est-il gratuit pour les patients ? »" in page
    assert f'value="{text}"' in page and "Je confirme : l'ajouter quand même" in page
    assert path.read_text(encoding="utf-8") == before
    assert post(editor_client, "/intents/ask_parking/exemples", "/intents/ask_parking", text=text, confirm="1").status_code == 302
    assert f"    - {text}" in path.read_text(encoding="utf-8").splitlines()


def test_the_live_check_reports_warnings_before_writing(editor_client) -> None:
    near = editor_client.get("/intents/ask_parking/verifier?texte=Le parking est-il gratuit pour les patientes ?").get_json()
    assert [(f["kind"], f["blocking"]) for f in near["findings"]] == [("near", False)] and near["error"] is None
    other = editor_client.get("/intents/ask_parking/verifier?texte=quels sont les horaires de visite").get_json()
    assert [(f["kind"], f["blocking"]) for f in other["findings"]] == [("other_intent", True)]
    assert "réservé aux boutons" in editor_client.get("/intents/ask_parking/verifier?texte=/greet").get_json()["error"]
    # Editing an example into itself plus a letter is not a warning about itself.
    itself = editor_client.get(
        "/intents/ask_parking/verifier",
        query_string={"texte": "Le parking est-il gratuit pour les patients ?", "remplace": "Le parking est-il gratuit pour les patients ?"},
    ).get_json()
    assert itself["findings"] == []


def test_editing_and_deleting_an_example(editor_client, studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    old = "Le parking est-il gratuit pour les patients ?"
    response = post(editor_client, "/intents/ask_parking/exemples/modifier", "/intents/ask_parking", old=old, text="Le parking est-il gratuit pour les personnes hospitalisées ?")
    assert response.status_code == 302
    lines = path.read_text(encoding="utf-8").splitlines()
    assert f"    - {old}" not in lines and "    - Le parking est-il gratuit pour les personnes hospitalisées ?" in lines

    refused = post(editor_client, "/intents/ask_parking/exemples/modifier", "/intents/ask_parking", old="Le parking est-il gratuit pour les personnes hospitalisées ?", text="quels sont les horaires de visite")
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409 and "<details open>" in page and 'value="quels sont les horaires de visite"' in page

    response = post(editor_client, "/intents/ask_parking/exemples/supprimer", "/intents/ask_parking", text="Le parking est-il gratuit pour les personnes hospitalisées ?")
    assert response.status_code == 302
    assert "Le parking est-il gratuit pour les personnes hospitalisées ?" not in path.read_text(encoding="utf-8")
    assert [a[0] for a in audit_actions(studio_settings)] == ["exemple modifié", "exemple supprimé"]


def test_creating_an_intent_from_the_intents_page(editor_client, studio_settings: Settings) -> None:
    data = {"name": "ask_wifi", "file": "", "examples": "le wifi est gratuit ?\ncode wifi svp", "answer": "Le wifi est gratuit."}
    refused = post(editor_client, "/intents/nouvelle", "/intents/nouvelle", **data)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Choisissez le fichier" in page
    assert 'value="ask_wifi"' in page and "code wifi svp</textarea>" in page and "Le wifi est gratuit.</textarea>" in page
    response = post(editor_client, "/intents/nouvelle", "/intents/nouvelle", **{**data, "file": "access.yml"})
    assert response.status_code == 302 and response.headers["Location"] == "/intents/ask_wifi"
    page = page_of(editor_client, "/intents/ask_wifi")
    assert "Intention « ask_wifi » créée (nlu_data/access.yml, bot/domain/studio.yml, bot/data/studio_rules.yml)." in page
    assert "code wifi svp" in page
    assert '<a href="/intents/ask_wifi">ask_wifi</a>' in editor_client.get("/intents/").get_data(as_text=True)
    assert [a[:2] for a in audit_actions(studio_settings)] == [("intention créée", "ask_wifi")]


def test_pages_have_no_inline_script_or_style(editor_client) -> None:
    for url in ("/intents/", "/intents/ask_parking", "/intents/nouvelle"):
        page = editor_client.get(url).get_data(as_text=True)
        assert " style=" not in page and "onclick" not in page
        assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", page))
