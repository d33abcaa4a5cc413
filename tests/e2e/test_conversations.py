"""End to end: the held-out patients' conversations (tests/conversations/) against the real model and actions.

`make test` fails below the target of conversation success; the report
(summary, failed conversations turn by turn) is kept in reports/conversations/.
"""

from __future__ import annotations

import pytest

from accueil.conversations import CLOCK, TARGET_SUCCESS, load, rest_asker, run_all, write_report
from core.settings import PROJECT_ROOT
from tests.conftest import E2E_CLOCK

pytestmark = pytest.mark.e2e

REPORT_DIR = PROJECT_ROOT / "reports" / "conversations"


def test_the_set_is_large_and_in_four_styles() -> None:
    conversations = load()
    assert len(conversations) >= 100
    assert {c["style"] for c in conversations} == {"ecrit", "oral", "sms", "voix"}
    assert sum(len(c["turns"]) > 1 for c in conversations) >= 30


@pytest.fixture(scope="module")
def session_summary(rasa_url: str) -> dict:
    return write_report(run_all(rest_asker(rasa_url), load()), REPORT_DIR)


def test_conversations_succeed_above_the_target(session_summary: dict) -> None:
    assert E2E_CLOCK == CLOCK, "the conversations were written for the servers' clock"
    summary = session_summary
    print(
        f"\nConversations: {summary['conversations_ok']}/{summary['conversations']} "
        f"({summary['conversation_success']:.1%}), turns {summary['turns_ok']}/{summary['turns']} "
        f"({summary['turn_accuracy']:.1%}); failed: {', '.join(summary['failed'])}"
    )
    assert summary["conversation_success"] >= TARGET_SUCCESS, f"see {REPORT_DIR / 'failed.md'}"


def test_the_gate_s_measure_runs_the_model_alone_and_finds_the_same(e2e_settings, trained_model, session_summary, tmp_path) -> None:
    """`accueil eval` and the gate start the model's own servers on a fresh knowledge base at the set's clock."""
    from accueil.conversations import measure

    summary = measure(e2e_settings, trained_model, tmp_path)
    assert (summary["conversations_ok"], summary["turns_ok"]) == (session_summary["conversations_ok"], session_summary["turns_ok"])
    assert (tmp_path / "failed.md").exists() and (tmp_path / "summary.json").exists()
