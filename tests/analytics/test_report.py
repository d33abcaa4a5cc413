"""The monthly report (CSV and HTML) and `accueil report`, on the known test traffic."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from accueil import cli
from analytics.indicators import indicators
from analytics.projection import project
from analytics.report import PeriodError, report_csv, report_html, report_period
from core.settings import Settings, get_settings
from tests.analytics.scenario import CALLBACK_PHONE, SENDERS, write_traffic

NOVEMBER = (dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1))
# Every way the test traffic writes an identifier of a person.
CLEAR_IDENTIFIERS = [
    "06 12 34 56 78",
    "+33 6 12 34 56 78",
    "0612345678",
    "612345678",
    CALLBACK_PHONE,
    "0698765432",
    "Jean Dupont",
    *SENDERS,
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(
        db_url=f"sqlite:///{tmp_path / 'accueil.db'}",
        tracker_db_url=f"sqlite:///{tmp_path / 'conversations.db'}",
        var_dir=tmp_path,
        analytics_secret="test-secret",
    )
    write_traffic(settings.conversations_db_url)
    project(settings)
    return settings


def rows(text: str) -> dict[str, str]:
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == ["indicateur", "valeur", "définition"]
    assert all(len(row) == 3 for row in table)
    return {row[0]: row[1] for row in table[1:]}


def assert_no_clear_identifier(text: str) -> None:
    for identifier in CLEAR_IDENTIFIERS:
        assert identifier not in text


def test_the_csv_report_has_one_french_indicator_per_row(settings: Settings) -> None:
    text = report_csv(indicators(settings, *NOVEMBER))
    values = rows(text)
    assert values["Début de la période"] == "01/11/2026" and values["Fin de la période"] == "30/11/2026"
    assert values["Canal"] == "tous les canaux"
    assert values["Conversations"] == "9"
    assert values["Taux de résolution"] == "42,9 %"  # 3 / 7
    assert values["Taux de recontact"] == "42,9 %"
    assert values["Taux d'incompréhension"] == "20,0 %"  # 4 / 20
    assert values["Taux de transfert"] == "22,2 %"  # 2 / 9
    assert values["Satisfaction"] == "50,0 %"
    assert values["Appels évités"] == "3"
    assert values["Heures économisées"] == "0,20"  # 3 × 4 min
    assert values["ETP économisés"] == "0,0001"  # 0.2 h / 1607 h
    assert values["Motif : Compte rendu d'hospitalisation"] == "3" and values["Motif : Horaires de visite"] == "2"
    assert values["Issue : répondu"] == "5" and values["Issue : rappel demandé"] == "1"
    assert values["Transferts vers le service : imagerie"] == "1"
    assert values["Satisfaction du motif : Horaires de visite"] == "0,0 %"
    assert values["Irritant : (sans motif)"].startswith("4 (3 incompréhensions")
    assert values["Conversations le mardi"] == "5" and values["Conversations entre 9 h et 10 h"] == "5"
    assert_no_clear_identifier(text)


def test_the_etp_parameters_change_the_arithmetic(settings: Settings) -> None:
    values = rows(report_csv(indicators(settings, *NOVEMBER, handling_minutes=10, etp_hours=1)))
    assert values["Heures économisées"] == "0,50"  # 3 × 10 min
    assert values["ETP économisés"] == "0,5000"
    assert values["Durée de traitement d'un appel (min)"] == "10,0"


def test_the_html_report_is_french_and_self_contained(settings: Settings) -> None:
    html = report_html(indicators(settings, *NOVEMBER, channel="voice"), generated=dt.datetime(2026, 12, 1, 8, 0))
    assert '<html lang="fr">' in html
    assert "du 01/11/2026 au 30/11/2026 inclus · téléphone · rapport produit le 01/12/2026 à 08:00" in html
    assert re.search(r'<p class="label">Conversations</p><p class="value">4</p>', html)  # D, E, F, H
    assert re.search(r'<p class="label">Taux de résolution</p><p class="value">25,0 %</p>', html)  # E of D, E, F, H
    assert '<td>Compte rendu d&#39;hospitalisation</td><td class="n">3</td>' in html
    assert "<td>imagerie</td>" in html
    # No external resource: no src/href other than data: URIs, no script.
    assert re.findall(r'(?:src|href)="(?!data:)', html) == []
    assert "<script" not in html and "url(" not in html
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)">', html)
    assert len(images) == 5
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data, _ in images)
    assert images[0][1].startswith("Histogramme des conversations par heure. 9 h : 3")
    assert_no_clear_identifier(html)


def test_the_default_period_is_the_last_full_month_and_bad_dates_are_refused() -> None:
    assert report_period(dt.date(2026, 12, 10), None, None) == NOVEMBER
    assert report_period(dt.date(2026, 1, 5), None, None) == (dt.datetime(2025, 12, 1), dt.datetime(2026, 1, 1))
    assert report_period(dt.date(2026, 12, 10), "2026-01-31", None) == (dt.datetime(2026, 1, 31), dt.datetime(2026, 2, 28))
    with pytest.raises(PeriodError, match="Date invalide pour --from : « 2026-13-01 »"):
        report_period(dt.date(2026, 12, 10), "2026-13-01", None)
    with pytest.raises(PeriodError, match="doit être après son début"):
        report_period(dt.date(2026, 12, 10), "2026-11-10", "2026-11-01")


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The environment of `accueil report` on the test traffic, on December 10th, not yet projected."""
    monkeypatch.setenv("ACCUEIL_DB_URL", f"sqlite:///{tmp_path / 'accueil.db'}")
    monkeypatch.setenv("ACCUEIL_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'conversations.db'}")
    monkeypatch.setenv("ACCUEIL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("ACCUEIL_ANALYTICS_SECRET", "test-secret")
    monkeypatch.setenv("ACCUEIL_CLOCK", "2026-12-10T10:00:00")
    get_settings.cache_clear()
    write_traffic(f"sqlite:///{tmp_path / 'conversations.db'}")
    yield tmp_path
    get_settings.cache_clear()


def test_cli_report_projects_then_writes_last_month_by_default(configured: Path, capsys) -> None:
    out = configured / "novembre.csv"
    assert cli.main(["report", "--format", "csv", "--out", str(out)]) == 0
    assert "Rapport du 01/11/2026 au 30/11/2026 inclus (9 conversations) écrit dans" in capsys.readouterr().out
    values = rows(out.read_text(encoding="utf-8-sig"))
    assert values["Conversations"] == "9" and values["Appels évités"] == "3"

    assert cli.main(["report", "--from", "2026-11-01", "--to", "2026-12-01", "--channel", "web", "--handling-minutes", "6"]) == 0
    html = capsys.readouterr().out
    assert html.startswith("<!doctype html>") and "site web" in html
    assert '<p class="label">Conversations</p><p class="value">5</p>' in html  # A, B, C, G, I
    assert "Appels évités × 6,0 min" in html


def test_cli_report_refuses_a_bad_date_in_french(configured: Path, capsys) -> None:
    out = configured / "rapport.html"
    assert cli.main(["report", "--from", "1er novembre", "--out", str(out)]) == 1
    assert "Date invalide pour --from : « 1er novembre » (format attendu AAAA-MM-JJ" in capsys.readouterr().out
    assert not out.exists()
    assert cli.main(["report", "--etp-hours", "0"]) == 1
    assert "doivent être des nombres positifs" in capsys.readouterr().out
