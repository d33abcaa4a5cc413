"""Full-text search fallback: 40 French questions that match no intent find their article (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.kb_repository import KnowledgeBase
from kb_sync.search_index import stems, words
from kb_sync.sources import FolderSource
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE

QUESTIONS = yaml.safe_load((Path(__file__).parent / "kb_search" / "questions.yml").read_text(encoding="utf-8"))


@pytest.fixture
def searchable_kb(any_db_url: str) -> KnowledgeBase:
    sync(FolderSource(DEMO_SOURCE), any_db_url)
    return KnowledgeBase(any_db_url)


def test_french_normalisation() -> None:
    assert stems("Résultats") == stems("resultat")
    assert stems("les factures") == stems("facture")
    assert "preadmission" in [w.replace("é", "e") for w in words("la pré-admission")]
    assert words("mon rdv") == words("mon rendez-vous")[:1] == ["rendez"]


def test_each_question_finds_its_article_in_the_top_three(searchable_kb: KnowledgeBase) -> None:
    assert len(QUESTIONS) >= 20
    misses = []
    for item in QUESTIONS:
        hits = [hit.slug for hit in searchable_kb.search(item["question"])]
        if item["expected"] not in hits:
            misses.append((item["question"], item["expected"], hits))
    assert not misses, misses


def test_best_answer_is_first_for_most_questions(searchable_kb: KnowledgeBase) -> None:
    first = sum(1 for item in QUESTIONS if searchable_kb.search(item["question"], limit=1)[0].slug == item["expected"])
    assert first >= 0.9 * len(QUESTIONS)


@pytest.mark.parametrize("question", ["quel temps fait-il à Paris demain", "bonjour", "euh ben en fait"])
def test_unrelated_question_finds_nothing(searchable_kb: KnowledgeBase, question: str) -> None:
    assert searchable_kb.search(question) == []
