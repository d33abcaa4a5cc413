"""The knowledge base pages through the Flask test client (real login, CSRF on, real files and SQLite)."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path

from core.settings import Settings
from kb_sync.sources import FolderSource, export_folder_to_spreadsheet
from studio.app import create_app
from studio.audit import recent
from studio.db import session_scope
from tests.studio.conftest import PASSWORDS, csrf_from, login

ARTICLE = "/knowledge/articles/preop-jeune"


def audit_rows(settings: Settings) -> list[tuple[str, str, str, dict | None]]:
    with session_scope(settings) as db:
        return [(e.username, e.action, e.target, e.detail) for e in reversed(recent(db))]


def kb_rows(settings: Settings) -> list[tuple[str, str, str, dict | None]]:
    return [row for row in audit_rows(settings) if row[1] not in ("connexion", "connexion refusée")]


def text(response) -> str:
    """The page as the editor reads it (entities such as &#39; decoded)."""
    return html_module.unescape(response.get_data(as_text=True))


def confirm_sync(client) -> object:
    page = text(client.get("/knowledge/synchronisation"))
    checksum = re.search(r'name="checksum" value="([0-9a-f]{64})"', page).group(1)
    return client.post("/knowledge/synchronisation", data={"csrf_token": csrf_from(page), "checksum": checksum})


def assert_no_inline_code(html: str) -> None:
    """The pages run under a strict Content-Security-Policy."""
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html and " onclick=" not in html


def test_pages_need_a_login(studio_app) -> None:
    response = studio_app.test_client().get("/knowledge/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_index_before_any_sync(editor_client) -> None:
    response = editor_client.get("/knowledge/")
    html = text(response)
    assert response.status_code == 200
    assert "n'a encore jamais été synchronisée" in html and "Synchroniser maintenant" in html
    assert html.count('href="/knowledge/articles/') == 32 and "articles/preop-jeune.md" in html
    assert_no_inline_code(html)


def test_dry_run_then_confirmed_sync_with_audit(editor_client, studio_settings: Settings) -> None:
    preview = text(editor_client.get("/knowledge/synchronisation"))
    assert "Simulation : ce que la synchronisation changerait" in preview and "Ajouts (46)" in preview
    assert "Confirmer la synchronisation" in preview
    assert_no_inline_code(preview)
    assert audit_rows(studio_settings)[-1][1] == "connexion"  # the dry run changes nothing, records nothing

    # Without the CSRF token the sync is refused.
    checksum = re.search(r'name="checksum" value="([0-9a-f]{64})"', preview).group(1)
    assert editor_client.post("/knowledge/synchronisation", data={"checksum": checksum}).status_code == 400
    assert "n'a encore jamais été synchronisée" in text(editor_client.get("/knowledge/"))

    response = confirm_sync(editor_client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/knowledge/versions/1")
    version = text(editor_client.get("/knowledge/versions/1"))
    assert "Base de connaissances synchronisée : version 1" in version and "première version" in version
    assert "Article « Être à jeun avant une opération » <span class=\"muted\">(preop-jeune)</span>" in version

    requested, synced = kb_rows(studio_settings)
    assert requested[:2] == ("redactrice", "synchronisation demandée")
    assert synced[:3] == ("redactrice", "base de connaissances synchronisée", "version 1")
    assert len(synced[3]["ajouts"]) == 46 and "article preop-jeune" in synced[3]["ajouts"]

    index = text(editor_client.get("/knowledge/"))
    assert "9 lieux, 4 services, 32 articles" in index and "en service" in index
    assert "Aucun changement" in text(editor_client.get("/knowledge/synchronisation"))


def test_invalid_sources_are_shown_with_their_french_errors(editor_client, studio_settings: Settings) -> None:
    places = Path(studio_settings.kb_source) / "places.yml"
    places.write_text(places.read_text(encoding="utf-8").replace('opens: "07:30"', 'opens: "25:00"', 1), encoding="utf-8")
    page = text(editor_client.get("/knowledge/synchronisation"))
    assert "1 erreur dans les sources" in page and "places.yml, ligne 11, champ « places[0].hours[0].opens »" in page
    assert "Confirmer la synchronisation" not in page

    response = editor_client.post("/knowledge/synchronisation", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 422 and "heure « 25:00 » invalide" in text(response)
    assert [row[1] for row in kb_rows(studio_settings)] == ["synchronisation demandée", "synchronisation refusée : sources invalides"]
    assert "n'a encore jamais été synchronisée" in text(editor_client.get("/knowledge/"))


def test_article_edit_is_written_synced_and_audited(editor_client, studio_settings: Settings) -> None:
    confirm_sync(editor_client)
    path = Path(studio_settings.kb_source) / "articles" / "preop-jeune.md"
    before = path.read_text(encoding="utf-8")
    form_page = text(editor_client.get(ARTICLE))
    assert 'value="Être à jeun avant une opération"' in form_page and "pas de chewing-gum ni de bonbons." in form_page
    assert_no_inline_code(form_page)
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', form_page).group(1)
    body = re.search(r'<textarea id="kb-body"[^>]*>(.*?)</textarea>', form_page, re.S).group(1)
    new_body = body.replace("6 heures", "8 heures")
    keywords = re.search(r'<textarea id="kb-keywords"[^>]*>(.*?)</textarea>', form_page, re.S).group(1)

    data = {"csrf_token": csrf_from(form_page), "fingerprint": fingerprint, "title": "Être à jeun avant une opération"}
    response = editor_client.post(ARTICLE, data={**data, "keywords": keywords, "body": new_body.replace("\n", "\r\n")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/knowledge/versions/2")
    assert path.read_text(encoding="utf-8") == before.replace("6 heures", "8 heures")
    version = text(editor_client.get("/knowledge/versions/2"))
    assert "enregistré dans articles/preop-jeune.md et synchronisé (version 2)" in version
    assert "<del>6</del>" in version and "<ins>8</ins>" in version

    user, action, target, detail = kb_rows(studio_settings)[-1]
    assert (user, action, target) == ("redactrice", "article modifié", "articles/preop-jeune.md")
    assert detail["champs"] == ["texte"] and detail["version"] == 2 and "+- ne mangez plus rien de solide pendant les 8 heures" in detail["diff"]


def test_invalid_form_keeps_what_was_typed(editor_client, studio_settings: Settings) -> None:
    path = Path(studio_settings.kb_source) / "articles" / "preop-jeune.md"
    before = path.read_bytes()
    page = text(editor_client.get(ARTICLE))
    response = editor_client.post(ARTICLE, data={"csrf_token": csrf_from(page), "title": "Mon nouveau titre", "keywords": "jeûne", "body": "  "})
    html = text(response)
    assert response.status_code == 422 and "Le texte de l'article est obligatoire." in html
    assert 'value="Mon nouveau titre"' in html and path.read_bytes() == before


def test_edit_refused_by_the_sync_restores_the_file_and_keeps_the_text(editor_client, studio_settings: Settings) -> None:
    confirm_sync(editor_client)
    folder = Path(studio_settings.kb_source)
    path = folder / "articles" / "preop-jeune.md"
    before = path.read_bytes()
    wards = folder / "wards.yml"  # another editor left an error in the sources
    wards.write_text(wards.read_text(encoding="utf-8").replace("max_visitors: 2", "max_visitors: deux", 1), encoding="utf-8")
    page = text(editor_client.get(ARTICLE))
    typed = "Un texte entièrement réécrit par la rédactrice."
    response = editor_client.post(ARTICLE, data={"csrf_token": csrf_from(page), "title": "Être à jeun", "keywords": "jeûne", "body": typed})
    html = text(response)
    assert response.status_code == 422 and "La synchronisation a refusé le contenu" in html
    assert "wards.yml, ligne 14, champ « wards[0].rules[0].max_visitors » : un nombre entier est attendu" in html
    assert typed in html and 'value="Être à jeun"' in html
    assert path.read_bytes() == before
    assert kb_rows(studio_settings)[-1][1:3] == ("modification d'article refusée", "articles/preop-jeune.md")


def test_edit_of_a_file_changed_meanwhile_is_refused(editor_client, studio_settings: Settings) -> None:
    path = Path(studio_settings.kb_source) / "articles" / "preop-jeune.md"
    page = text(editor_client.get(ARTICLE))
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)
    path.write_text(path.read_text(encoding="utf-8").replace("6 heures", "7 heures"), encoding="utf-8")
    before = path.read_bytes()
    data = {"csrf_token": csrf_from(page), "fingerprint": fingerprint, "title": "Titre", "keywords": "", "body": "Mon texte."}
    response = editor_client.post(ARTICLE, data=data)
    html = text(response)
    assert response.status_code == 409 and "Texte actuel du fichier" in html and "7 heures" in html and "Mon texte." in html
    assert path.read_bytes() == before


def test_unknown_version_and_article_are_404(editor_client) -> None:
    assert editor_client.get("/knowledge/versions/7").status_code == 404
    assert editor_client.get("/knowledge/articles/nexiste-pas").status_code == 404
    assert editor_client.get("/knowledge/articles/..%2Forganisation").status_code == 404


def test_spreadsheet_source_articles_are_edited_in_the_source(studio_app, studio_settings: Settings, tmp_path: Path) -> None:
    workbook = tmp_path / "base.xlsx"
    export_folder_to_spreadsheet(FolderSource(Path(studio_settings.kb_source)).read(), workbook)
    client = create_app(studio_settings.copy(update={"kb_source": str(workbook)})).test_client()
    assert login(client, "redactrice", PASSWORDS["editor"]).status_code == 302
    confirm_sync(client)
    html = text(client.get("/knowledge/"))
    assert "classeur Excel" in html and "ils se modifient dans cette source, pas dans le studio" in html
    assert "Être à jeun avant une opération" in html and 'href="/knowledge/articles/' not in html
    response = client.get(ARTICLE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/knowledge/")
