"""The dashboard page: login, the indicators of the known test traffic, the plots, the report downloads, bad input."""

from __future__ import annotations

import csv
import datetime as dt
import html as htmllib
import io
import re

import pytest

from core.settings import Settings
from tests.analytics.scenario import CALLBACK_PHONE, write_traffic

NOVEMBER = "du=2026-11-01&au=2026-11-30"


@pytest.fixture
def studio_settings(studio_settings: Settings) -> Settings:
    """The studio's settings on December 10th, 2026, with the known traffic in its tracker store."""
    settings = studio_settings.copy(update={"clock": dt.datetime(2026, 12, 10, 10, 0)})
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    write_traffic(settings.conversations_db_url)
    return settings


def figure(page: str, key: str) -> str:
    match = re.search(rf'id="chiffre-{key}">\s*<dt>[^<]*</dt>\s*<dd class="db-value">([^<]*)</dd>', page)
    assert match, f"no key figure {key}"
    return htmllib.unescape(match.group(1))


def test_login_is_required(studio_app) -> None:
    client = studio_app.test_client()
    for path in ("/tableau-de-bord/", "/tableau-de-bord/graphique/heures.png", "/tableau-de-bord/rapport.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_dashboard_shows_the_indicators_of_the_test_traffic(editor_client) -> None:
    response = editor_client.get(f"/tableau-de-bord/?{NOVEMBER}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-current="page">Tableau de bord</a>' in page
    assert "Période du 01/11/2026 au 30/11/2026 inclus · tous les canaux" in page
    assert figure(page, "conversations") == "9"
    assert figure(page, "containment") == "42,9 %"
    assert figure(page, "recontact") == "42,9 %"
    assert figure(page, "fallback") == "20,0 %"
    assert figure(page, "handover") == "22,2 %"
    assert figure(page, "satisfaction") == "50,0 %"
    assert figure(page, "calls_avoided") == "3"
    assert figure(page, "etp_saved") == "0,0001"
    assert "Part des messages des patients que l&#39;assistant n&#39;a pas compris (4 sur 20)." in page
    irritants = page.split('id="irritants"')[1].split("</table>")[0]
    assert re.findall(r"<tr><td>([^<]+)</td>", irritants) == ["(sans motif)", "Horaires de visite", "Compte rendu d&#39;hospitalisation"]
    assert "<td>imagerie</td>" in page and "<td>rappel demandé</td>" in page
    # Five plots, each with a French text alternative giving its values, served with the same parameters.
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', page)
    assert len(images) == 5
    assert htmllib.unescape(images[1][1]) == (
        "Histogramme des conversations par jour de la semaine. mardi : 5 ; mercredi : 1 ; jeudi : 1 ; vendredi : 1 ; dimanche : 1"
    )
    assert all("du=2026-11-01" in htmllib.unescape(src) for src, _ in images)
    assert "Télécharger le rapport" in page and "/tableau-de-bord/rapport.csv?" in page
    # No inline script or style (the CSP forbids them), and no identifier in clear.
    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == [] and "<style" not in page and " style=" not in page
    assert "06 12 34 56 78" not in page and CALLBACK_PHONE not in page and "web-alice" not in page


def test_the_form_and_its_defaults(editor_client) -> None:
    page = editor_client.get("/tableau-de-bord/").get_data(as_text=True)
    # The last 30 days, December 10th included; the configured ETP parameters.
    assert 'name="du" type="date" value="2026-11-11"' in page and 'name="au" type="date" value="2026-12-10"' in page
    assert 'name="duree" type="text" value="4"' in page and 'name="etp" type="text" value="1607"' in page
    assert figure(page, "conversations") == "11"  # all but October 31st's

    page = editor_client.get(f"/tableau-de-bord/?{NOVEMBER}&canal=voice&duree=10&etp=1").get_data(as_text=True)
    assert '<option value="voice" selected>' in page
    assert figure(page, "conversations") == "4" and figure(page, "containment") == "25,0 %"
    assert figure(page, "calls_avoided") == "1" and figure(page, "etp_saved") == "0,1667"  # 10 min / 60 / 1 h


def test_bad_input_is_explained_in_french_and_kept(editor_client) -> None:
    response = editor_client.get("/tableau-de-bord/?du=2026-13-01&au=2026-11-30&canal=fax&duree=quatre&etp=-5")
    assert response.status_code == 400
    page = htmllib.unescape(response.get_data(as_text=True))
    assert "Le formulaire contient 4 erreurs" in page
    assert "Date de début : « 2026-13-01 » n'est pas une date (format attendu AAAA-MM-JJ)." in page
    assert "Canal inconnu : « fax »." in page
    assert "Durée moyenne d'un appel : « quatre » n'est pas un nombre." in page
    assert "Heures annuelles d'un ETP doit être un nombre positif." in page
    assert 'value="2026-13-01"' in page and 'value="quatre"' in page and 'value="-5"' in page
    assert 'id="chiffre-conversations"' not in page and "<img" not in page
    response = editor_client.get("/tableau-de-bord/?du=2026-11-30&au=2026-11-01")
    assert "La date de fin doit être le même jour ou après la date de début." in htmllib.unescape(response.get_data(as_text=True))


def test_the_plots_are_pngs(editor_client) -> None:
    for name in ("heures", "jours", "motifs", "issues", "satisfaction"):
        response = editor_client.get(f"/tableau-de-bord/graphique/{name}.png?{NOVEMBER}")
        assert response.status_code == 200 and response.mimetype == "image/png"
        assert response.data.startswith(b"\x89PNG\r\n\x1a\n") and len(response.data) > 2000
    assert editor_client.get(f"/tableau-de-bord/graphique/camembert.png?{NOVEMBER}").status_code == 404
    assert editor_client.get("/tableau-de-bord/graphique/heures.png?du=hier").status_code == 400


def test_the_report_downloads(editor_client) -> None:
    response = editor_client.get(f"/tableau-de-bord/rapport.csv?{NOVEMBER}&duree=6")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="rapport-accueil-2026-11-01-2026-11-30.csv"' in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    values = {row[0]: row[1] for row in table[1:]}
    assert values["Conversations"] == "9" and values["Heures économisées"] == "0,30"  # 3 × 6 min
    response = editor_client.get(f"/tableau-de-bord/rapport.html?{NOVEMBER}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert response.get_data(as_text=True).count('<img src="data:image/png;base64,') == 5
