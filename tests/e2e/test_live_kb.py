"""End to end: an editor's change is answered by the running assistant at the next message, without restart."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from kb_sync.errors import ContentInvalid
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE
from tests.e2e.test_rest_questions import answer_text, ask, contains

pytestmark = pytest.mark.e2e


@pytest.fixture
def editor_copy(tmp_path: Path, e2e_settings):
    """A copy of the demo sources for the editor to change; the demo is synced back afterwards."""
    target = tmp_path / "sources"
    shutil.copytree(DEMO_SOURCE, target)
    yield target
    sync(FolderSource(DEMO_SOURCE), e2e_settings.db_url)


def edit_maternity(source: Path, old: str, new: str) -> None:
    path = source / "wards.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("slug: maternite")
    path.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")


def test_changed_visiting_hours_are_answered_at_the_next_message(rasa_url, e2e_settings, editor_copy) -> None:
    question = "quels sont les horaires de visite à la maternité ?"
    assert contains(answer_text(ask(rasa_url, question)), "15h")
    edit_maternity(editor_copy, 'opens: "15:00"', 'opens: "16:30"')
    report = sync(FolderSource(editor_copy), e2e_settings.db_url)
    assert report.changes.changed == ["service maternite"]
    answer = answer_text(ask(rasa_url, question))
    assert contains(answer, "16h30") and not contains(answer, "15h")


def test_malformed_file_is_refused_and_the_old_facts_are_still_answered(rasa_url, e2e_settings, editor_copy) -> None:
    edit_maternity(editor_copy, 'closes: "20:00"', 'closes: "20:00" horaires: [')
    with pytest.raises(ContentInvalid) as caught:
        sync(FolderSource(editor_copy), e2e_settings.db_url)
    assert "wards.yml, ligne" in str(caught.value)
    assert contains(answer_text(ask(rasa_url, "visites maternité")), "15h")


def test_question_without_a_specific_answer_offers_the_articles_a_search_finds(rasa_url) -> None:
    sender = uuid.uuid4().hex
    messages = ask(rasa_url, "est-ce que mes données de santé restent confidentielles ?", sender)
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    wanted = '/show_article{"article":"securite-donnees-sante"}'
    assert wanted in payloads, messages
    assert answer_text(ask(rasa_url, wanted, sender)).strip()


def test_an_article_a_search_finds_far_ahead_is_said_at_once(rasa_url) -> None:
    answer = answer_text(ask(rasa_url, "comment je me connecte à mon espace patient sur internet ?"))
    assert contains(answer, "portail patient du site internet") and contains(answer, "Cette réponse vous a-t-elle aidé")
