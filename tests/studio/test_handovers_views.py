"""The « Rappels » page: the callback requests and transfers the action server stored, for the staff who take over."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from actions.records import HandoverRequest, save
from core.settings import Settings

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def request(kind: str, service: str, age: dt.timedelta, **fields) -> HandoverRequest:
    return HandoverRequest(
        sender_id="x", kind=kind, service=service, created_at=NOW - age, summary=fields.pop("summary", "Canal rest"), **fields
    )


@pytest.fixture
def stored(studio_settings: Settings) -> Settings:
    studio_settings.var_dir.mkdir(parents=True, exist_ok=True)
    url = studio_settings.db_url
    save(url, request(
        "callback", "facturation", dt.timedelta(hours=2), channel="rest", name="Jeanne Martin", phone="06 98 76 54 32",
        reason="<b>ma facture</b>", callback_at=dt.datetime(2026, 11, 25, 9, 0),
        summary="Canal rest · motif : paiement d'une facture · contacts précédents : 24/11 téléphone (forfait journalier)",
    ))  # fmt: skip
    save(url, request("transfer", "admissions", dt.timedelta(hours=1), channel="voice", summary="Canal voice · motif : pré-admission"))
    save(url, request("callback", "facturation", dt.timedelta(days=20), channel="voice", name="Ancien Appel", phone="06 00 00 00 01"))
    return studio_settings


def rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("</tr>")[:-1]]


def test_login_is_required(studio_app) -> None:
    response = studio_app.test_client().get("/rappels/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_the_requests_of_the_period_newest_first_with_their_summary(stored, callback_client) -> None:
    page = callback_client.get("/rappels/").get_data(as_text=True)
    assert 'aria-current="page">Rappels</a>' in page and "2 demandes, les plus récentes en premier" in page
    newest, callback = rows(page)
    assert "Transfert admissions" in newest and "téléphone" in newest and "motif : pré-admission" in newest
    assert "Demande de rappel facturation Jeanne Martin 06 98 76 54 32" in callback
    assert "25/11/2026 à partir de 09:00" in callback and "contacts précédents : 24/11 téléphone (forfait journalier)" in callback
    assert 'href="tel:0698765432"' in page
    assert "&lt;b&gt;ma facture&lt;/b&gt;" in page and "<b>ma facture</b>" not in page
    assert "Ancien Appel" not in page


def test_period_and_service_filters(stored, callback_client) -> None:
    page = callback_client.get("/rappels/?jours=30&service=facturation").get_data(as_text=True)
    found = rows(page)
    assert len(found) == 2 and all("Demande de rappel facturation" in r for r in found) and "Ancien Appel" in found[1]
    assert "2 demandes" in callback_client.get("/rappels/?jours=365&service=inconnu").get_data(as_text=True)  # ignored: defaults


def test_no_request_yet(studio_settings, callback_client) -> None:
    assert "Aucune demande sur la période." in callback_client.get("/rappels/").get_data(as_text=True)


def test_summaries_are_masked_but_the_number_to_call_back_stays(studio_settings: Settings, callback_client) -> None:
    studio_settings.var_dir.mkdir(parents=True, exist_ok=True)
    save(studio_settings.db_url, request(
        "callback", "consultations", dt.timedelta(minutes=5), channel="voice", name="Paul Durand", phone="+44 20 7946 0958",
        reason="je suis Paul Durand né le 12/03/1984",
        summary="Canal voice · dernier message : « je m'appelle Paul Durand, IPP 123456789, rappelez-moi au 06 12 34 56 78 »",
    ))  # fmt: skip
    (row,) = rows(html.unescape(callback_client.get("/rappels/").get_data(as_text=True)))
    assert "Paul Durand +44 20 7946 0958" in row  # the columns: the name and number to call back, as given
    assert "« je suis [nom] né le [date de naissance] »" in row
    assert "je m'appelle [nom], IPP [n° patient], rappelez-moi au 06 12 34 56 78" in row
    assert "123456789" not in row and "12/03/1984" not in row
