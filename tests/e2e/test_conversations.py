"""End to end: the held-out patients' conversations (tests/conversations/) against the real model and actions.

`make test` fails below the target of conversation success; the report
(summary, failed conversations turn by turn) is kept in reports/conversations/.
"""

from __future__ import annotations

import pytest

from accueil.conversations import CLOCK, TARGET_SUCCESS, load, rest_asker, run_all, write_report
from accueil.settings import PROJECT_ROOT
from tests.conftest import E2E_CLOCK

pytestmark = pytest.mark.e2e

REPORT_DIR = PROJECT_ROOT / "reports" / "conversations"


def test_the_set_is_large_and_in_four_styles() -> None:
    conversations = load()
    assert len(conversations) >= 100
    assert {c["style"] for c in conversations} == {"ecrit", "oral", "sms", "voix"}
    assert sum(len(c["turns"]) > 1 for c in conversations) >= 30


def test_conversations_succeed_above_the_target(rasa_url: str) -> None:
    assert E2E_CLOCK == CLOCK, "the conversations were written for the servers' clock"
    results = run_all(rest_asker(rasa_url), load())
    summary = write_report(results, REPORT_DIR)
    print(
        f"\nConversations: {summary['conversations_ok']}/{summary['conversations']} "
        f"({summary['conversation_success']:.1%}), turns {summary['turns_ok']}/{summary['turns']} "
        f"({summary['turn_accuracy']:.1%}); failed: {', '.join(summary['failed'])}"
    )
    assert summary["conversation_success"] >= TARGET_SUCCESS, f"see {REPORT_DIR / 'failed.md'}"
