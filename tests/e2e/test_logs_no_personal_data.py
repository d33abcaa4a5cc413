"""No personal data left in VAR_DIR: a web conversation and a phone call give a name, a phone number, an e-mail
and a NIR; the logs never hold them, and once everything is past the retention, `accueil purge` leaves none anywhere."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from accueil.retention import PURGES, _purge_logs, purge
from core.settings import Settings
from tests.voice.sip_clients import SCENARIOS, Sipp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NAME, PHONE, EMAIL, NIR = "Bérénice Tartempion", "06 12 34 56 78", "berenice.tartempion@example.org", "2 84 05 75 112 233 44"
# Every way they may be written down: as typed, without separators, international (+33 6…), JSON-escaped.
NEEDLES = ["Tartempion", "B\\u00e9r\\u00e9nice", "Bérénice", "612345678", "6 12 34 56 78", "tartempion@", "2 84 05 75 112 233 44", "2840575112233"]
DATABASE = re.compile(r"\.(db|sqlite3?)(-wal|-shm|-journal)?$")


def found(var_dir: Path, databases: bool) -> dict[str, list[str]]:
    """The files under var_dir (databases or all the others) that hold any of the needles, case-insensitively."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in var_dir.rglob("*") if p.is_file()):
        if bool(DATABASE.search(path.name)) != databases:
            continue
        data = path.read_bytes().lower()
        present = [n for n in NEEDLES if n.lower().encode() in data or n.lower().encode("utf-16-le") in data]
        if present:
            hits[str(path.relative_to(var_dir))] = present
    return hits


def chat(rasa_url: str, sender: str, text: str) -> list[dict]:
    reply = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    reply.raise_for_status()
    return reply.json()


def call_as(tmp_path: Path, settings: Settings) -> None:
    """A SIP call from « Bérénice Tartempion » <sip:0612345678@…>, who presses 0 and waits for the callback questions."""
    scenario = (SCENARIOS / "uac_dtmf.xml").read_text(encoding="utf-8")
    scenario = scenario.replace('"Patient" <sip:patient[call_number]@', f'"{NAME}" <sip:{PHONE.replace(" ", "")}@')
    scenario = scenario.replace("<sip:patient[call_number]@", f"<sip:{PHONE.replace(' ', '')}@")
    head, _, tail = scenario.rpartition('<pause milliseconds="1000"/>')
    (tmp_path / "caller.xml").write_text(head + '<pause milliseconds="6000"/>' + tail, encoding="utf-8")
    result = asyncio.run(Sipp(tmp_path / "sipp").run(str(tmp_path / "caller.xml"), settings.sip_port))
    assert result.returncode == 0, result.explain()
    assert NAME in result.messages  # the gateway was really given the name and number


def test_no_name_number_email_nor_nir_in_the_logs_nor_after_the_purge(e2e_settings, rasa_url, voice_url, tmp_path) -> None:
    sender = f"logs-{uuid.uuid4().hex[:8]}"
    chat(rasa_url, sender, f"bonjour, je m'appelle {NAME}, mon numéro est {PHONE}, mail {EMAIL}, sécu {NIR}")
    # The callback form, past office hours (the session's clock): the name, the number, the reason (the handover summary).
    for text in ("je veux être rappelé par quelqu'un", NAME, PHONE, f"mon dossier, écrivez à {EMAIL}, sécu {NIR}"):
        chat(rasa_url, sender, text)
    events = requests.get(
        f"{rasa_url}/conversations/{sender}/tracker", params={"token": e2e_settings.rasa_api_token}, timeout=10
    ).json()["events"]
    assert any(e["event"] == "user" and EMAIL in e["text"] for e in events)  # it did reach the conversation store
    call_as(tmp_path, e2e_settings)
    time.sleep(1.0)  # the last lines of the call reach the log files

    var_dir = e2e_settings.var_dir
    logs = sorted(p.name for p in (var_dir / "log").iterdir())
    assert {"rasa.log", "actions.log", "voice.log", f"pjsip-{e2e_settings.sip_port}.log"} <= set(logs), logs
    assert found(var_dir, databases=False) == {}

    # Everything past the retention: the purge leaves none of it in the databases (nor any log file).
    assert found(var_dir, databases=True)  # before the purge, the conversation store and the callback request hold them
    # The session's servers keep their log files (purged by tests/test_logs.py) for the diagnosis of later tests.
    purge(e2e_settings, dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1), purges=[p for p in PURGES if p is not _purge_logs])
    assert found(var_dir, databases=True) == {}
