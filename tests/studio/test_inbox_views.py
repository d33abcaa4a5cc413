"""The inbox pages: a real tracker store, masked messages, decisions written to the tmp copy of nlu_data/ and audited."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.settings import Settings
from studio.audit import AuditEntry
from studio.db import session_scope
from studio.inbox import InboxDecision
from tests.studio.conftest import csrf_from
from tests.studio.test_conversations import T0, ActionExecuted, feedback_question, save_conversation, session_start, user

PARKING_RANKING = [("nlu_fallback", 0.5), ("ask_parking", 0.42), ("ask_address", 0.3), ("ask_transport", 0.1)]


def tracker_path(settings: Settings) -> Path:
    return Path(settings.conversations_db_url.removeprefix("sqlite:///"))


@pytest.fixture
def one_message(studio_settings: Settings) -> str:
    """A misunderstood parking question with a phone number; returns its key."""
    save_conversation(
        tracker_path(studio_settings),
        "patient-1",
        [
            *session_start(),
            user("je gare ma trottinette où ? rappelez moi au 06 12 34 56 78", "nlu_fallback", 0.5, ranking=PARKING_RANKING),
            ActionExecuted("action_fallback_suggestions"),
        ],
    )
    return "patient-1:4"


def rows(page: str) -> list[str]:
    return re.findall(r'data-message-key="([^"]+)"', page)


def decide(client, keys: list[str], decision: str, intent: str | None = None, **extra):
    token = csrf_from(client.get("/inbox/").get_data(as_text=True))
    data = {"csrf_token": token, "key": keys, "decision": decision, **extra}
    if intent:
        data["intent"] = intent
    return client.post("/inbox/decision", data=data)


def audit_entries(settings: Settings) -> list[AuditEntry]:
    with session_scope(settings) as db:
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.action.like("message%") | AuditEntry.action.like("intention%"))))
        db.expunge_all()
    return entries


def test_a_misunderstood_message_is_shown_masked_with_its_suggestions(editor_client, one_message: str) -> None:
    page = editor_client.get("/inbox/").get_data(as_text=True)
    assert rows(page) == [one_message]
    assert "je gare ma trottinette où ? rappelez moi au [téléphone]" in html.unescape(page)
    assert "06 12 34 56 78" not in page
    assert "confiance faible" in page and "non compris (repli)" in page
    assert '<label for="intent-1-1">Intention</label>' in page
    assert ">Attribuer</button>" in page and ">Hors sujet</button>" in page and ">Ignorer</button>" in page
    # The model's top 3 first (without nlu_fallback), then every intent.
    suggestions = re.search(r'<optgroup label="Suggestions du modèle">(.*?)</optgroup>', page, re.S).group(1)
    assert re.findall(r'<option value="([^"]+)"', suggestions) == ["ask_parking", "ask_address", "ask_transport"]
    assert "ask_parking (42 %)" in suggestions


def test_assigning_writes_the_example_audits_and_empties_the_inbox(editor_client, studio_settings: Settings, one_message: str) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    response = decide(editor_client, [one_message], "assigned", "ask_parking")
    assert response.status_code == 302
    after = path.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - je gare ma trottinette où ? rappelez moi au [téléphone]"]

    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert rows(page) == []
    assert "Aucun message à traiter" in page
    assert "1 message rattaché à l&#39;intention « ask_parking » : exemple ajouté dans nlu_data/access.yml." in page
    assert 'href="/pipeline/"' in page and "Un entraînement est nécessaire" in page

    [entry] = audit_entries(studio_settings)
    assert (entry.username, entry.action, entry.target) == ("redactrice", "message attribué", one_message)
    assert entry.detail["fichier"] == "nlu_data/access.yml"
    with session_scope(studio_settings) as db:
        decision = db.scalars(select(InboxDecision)).one()
        assert (decision.key, decision.kind, decision.intent, decision.username) == (one_message, "assigned", "ask_parking", "redactrice")


def test_a_decision_needs_the_csrf_token(editor_client, studio_settings: Settings, one_message: str) -> None:
    response = editor_client.post("/inbox/decision", data={"key": one_message, "decision": "ignored"})
    assert response.status_code == 400
    assert rows(editor_client.get("/inbox/").get_data(as_text=True)) == [one_message]


def test_ignoring_writes_nothing_and_out_of_scope_goes_to_its_intent(editor_client, studio_settings: Settings) -> None:
    save_conversation(
        tracker_path(studio_settings),
        "p",
        [*session_start(), user("azertyuiop", "greet", 0.2), user("qui a gagné le match de rugby hier soir", "ask_visit_number", 0.3)],
    )
    nlu_before = {p.name: p.read_text(encoding="utf-8") for p in studio_settings.nlu_dir.glob("*.yml")}
    assert decide(editor_client, ["p:4"], "ignored").status_code == 302
    assert {p.name: p.read_text(encoding="utf-8") for p in studio_settings.nlu_dir.glob("*.yml")} == nlu_before
    assert decide(editor_client, ["p:5"], "out_of_scope").status_code == 302
    out_of_scope = (studio_settings.nlu_dir / "out_of_scope.yml").read_text(encoding="utf-8")
    assert out_of_scope.endswith("    - qui a gagné le match de rugby hier soir\n")
    assert rows(editor_client.get("/inbox/").get_data(as_text=True)) == []
    assert [e.action for e in audit_entries(studio_settings)] == ["message ignoré", "message hors sujet"]


def test_a_group_of_similar_messages_is_decided_at_once(editor_client, studio_settings: Settings) -> None:
    save_conversation(tracker_path(studio_settings), "a", [*session_start(), user("horaires de la cafétéria svp", "ask_opening_hours", 0.4)])
    save_conversation(
        tracker_path(studio_settings), "b", [*session_start(), user("quels sont les horaires de la cafétéria", "ask_opening_hours", 0.5)], T0 + 60
    )
    page = editor_client.get("/inbox/").get_data(as_text=True)
    assert rows(page) == ["b:8", "a:4"]
    assert "2 messages semblables" in page and "Attribuer au groupe" in page
    path = studio_settings.nlu_dir / "opening_hours.yml"
    before = path.read_text(encoding="utf-8").splitlines()
    assert decide(editor_client, ["b:8", "a:4"], "assigned", "ask_opening_hours").status_code == 302
    added = [line for line in path.read_text(encoding="utf-8").splitlines() if line not in before]
    assert added == ["    - quels sont les horaires de la cafétéria", "    - horaires de la cafétéria svp"]
    assert rows(editor_client.get("/inbox/").get_data(as_text=True)) == []


def test_a_nearly_identical_example_asks_for_a_confirmation_first(editor_client, studio_settings: Settings) -> None:
    save_conversation(tracker_path(studio_settings), "p", [*session_start(), user("Le parking est-il gratuit pour les patientes ?", "ask_parking", 0.6)])
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    response = decide(editor_client, ["p:4"], "assigned", "ask_parking")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Presque identique à « Le parking est-il gratuit pour les patients ? »" in html.unescape(page)
    assert path.read_text(encoding="utf-8") == before
    assert decide(editor_client, ["p:4"], "assigned", "ask_parking", confirm="1").status_code == 302
    assert "    - Le parking est-il gratuit pour les patientes ?" in path.read_text(encoding="utf-8").splitlines()


def test_an_example_of_another_intent_is_refused_with_an_explanation(editor_client, studio_settings: Settings) -> None:
    save_conversation(tracker_path(studio_settings), "p", [*session_start(), user("quels sont les horaires de visite", "ask_opening_hours", 0.55)])
    before = (studio_settings.nlu_dir / "opening_hours.yml").read_text(encoding="utf-8")
    response = decide(editor_client, ["p:4"], "assigned", "ask_opening_hours", confirm="1")
    assert response.status_code == 409
    page = html.unescape(response.get_data(as_text=True))
    assert "est déjà un exemple de l'intention « ask_visiting_hours »" in page
    assert (studio_settings.nlu_dir / "opening_hours.yml").read_text(encoding="utf-8") == before
    assert rows(page) == ["p:4"]


def test_an_already_decided_message_cannot_be_decided_again(editor_client, studio_settings: Settings, one_message: str) -> None:
    assert decide(editor_client, [one_message], "ignored").status_code == 302
    response = decide(editor_client, [one_message], "assigned", "ask_parking")
    assert response.status_code == 400
    assert "déjà été traités" in html.unescape(response.get_data(as_text=True))


def test_a_new_intent_is_created_from_a_message(editor_client, studio_settings: Settings) -> None:
    save_conversation(
        tracker_path(studio_settings),
        "p",
        [*session_start(), user("y a le wifi dans les chambres ? mon mail jean@exemple.fr", "ask_single_room", 0.35)],
    )
    form = editor_client.get("/inbox/nouvelle-intention?key=p:4").get_data(as_text=True)
    assert "y a le wifi dans les chambres ? mon mail [e-mail]</textarea>" in html.unescape(form)
    token = csrf_from(form)
    data = {
        "csrf_token": token,
        "key": "p:4",
        "name": "Wifi !",
        "file": "access.yml",
        "examples": "y a le wifi dans les chambres ? mon mail [e-mail]\ncode du wifi svp",
        "answer": "Le wifi est gratuit : demandez le code à l'accueil.",
    }
    refused = editor_client.post("/inbox/nouvelle-intention", data=data)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "Nom d'intention invalide" in page
    assert 'value="Wifi !"' in page and "code du wifi svp" in page and "demandez le code à l'accueil" in page  # nothing lost
    assert not (studio_settings.bot_dir / "domain" / "studio.yml").exists()

    response = editor_client.post("/inbox/nouvelle-intention", data={**data, "name": "ask_wifi"})
    assert response.status_code == 302
    assert "- intent: ask_wifi" in (studio_settings.nlu_dir / "access.yml").read_text(encoding="utf-8")
    assert "utter_ask_wifi" in (studio_settings.bot_dir / "domain" / "studio.yml").read_text(encoding="utf-8")
    assert "action: utter_ask_wifi" in (studio_settings.bot_dir / "data" / "studio_rules.yml").read_text(encoding="utf-8")
    page = html.unescape(editor_client.get("/inbox/").get_data(as_text=True))
    assert rows(page) == [] and "Intention « ask_wifi » créée" in page
    assert [e.action for e in audit_entries(studio_settings)] == ["intention créée depuis la boîte"]


def test_the_feedback_no_flags_the_judged_question(editor_client, studio_settings: Settings) -> None:
    save_conversation(
        tracker_path(studio_settings),
        "p",
        [*session_start(), user("combien pour la chambre seule", "ask_single_room", 0.95), feedback_question(), user("non", "deny", 0.99)],
    )
    page = html.unescape(editor_client.get("/inbox/").get_data(as_text=True))
    assert rows(page) == ["p:4"] and "réponse jugée inutile" in page


def test_the_empty_inbox_says_so(editor_client) -> None:
    page = editor_client.get("/inbox/").get_data(as_text=True)
    assert "Aucun message à traiter" in page and rows(page) == []


def test_inbox_pages_have_no_inline_script_or_style(editor_client, one_message: str) -> None:
    for url in ("/inbox/", f"/inbox/nouvelle-intention?key={one_message}"):
        page = editor_client.get(url).get_data(as_text=True)
        assert " style=" not in page and "onclick" not in page and "<script>" not in page
