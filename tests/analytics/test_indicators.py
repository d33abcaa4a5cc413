"""The indicators of known test traffic, to the exact value, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analytics.indicators import NO_REASON, Irritant, indicators
from analytics.projection import project
from core.settings import Settings
from tests.analytics.scenario import write_traffic
from tests.conftest import sqlite_settings

NOVEMBER = (dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1))


def check_november(settings: Settings) -> None:
    result = indicators(settings, *NOVEMBER)
    assert result.conversations == 9 and result.with_reason == 7
    assert result.outcomes == {"answered": 5, "handed_over": 1, "callback": 1, "emergency": 1, "abandoned": 1}
    assert {h: n for h, n in result.volume_by_hour.items() if n} == {9: 5, 10: 1, 11: 1, 12: 1, 13: 1}
    assert result.volume_by_weekday == {0: 0, 1: 5, 2: 1, 3: 1, 4: 1, 5: 0, 6: 1}
    assert result.top_reasons == [("request_report", 3), ("ask_visiting_hours", 2), ("ask_parking", 1), ("emergency", 1)]
    # Recontacts: B (by C, 3 days later), D (by E, the same caller in another format), F (by K, after the period);
    # not E (F comes 10 days later).
    assert result.recontacts == 3 and result.recontact_rate == 3 / 7
    # Contained: A, C, E.
    assert result.contained == 3 and result.containment_rate == 3 / 7
    assert result.turns == 20 and result.fallbacks == 4 and result.fallback_rate == 0.2
    assert result.handovers == 2 and result.handover_rate == 2 / 9
    assert result.handovers_by_service == {"imagerie": 1, "admissions": 1}
    assert result.handovers_by_intent == {"request_report": 1, NO_REASON: 1}
    assert (result.satisfaction_yes, result.satisfaction_no, result.satisfaction_rate) == (1, 1, 0.5)
    assert result.satisfaction_by_intent == {"ask_parking": 1.0, "ask_visiting_hours": 0.0}
    assert result.irritants == [
        Irritant(NO_REASON, fallbacks=3, handovers=1),
        Irritant("ask_visiting_hours", fallbacks=1, negative_answers=1, recontacts=1),
        Irritant("request_report", recontacts=2, handovers=1),
    ]
    assert result.calls_avoided == 3
    assert result.hours_saved == 3 * 4 / 60 and result.etp_saved == (3 * 4 / 60) / 1607
    data = result.as_dict()
    assert data["irritants"][0] == {
        "intent": NO_REASON,
        "fallbacks": 3,
        "negative_answers": 0,
        "recontacts": 0,
        "handovers": 1,
        "total": 4,
    }
    assert data["containment_rate"] == 3 / 7 and data["top_reasons"][0] == ["request_report", 3]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sqlite_settings(tmp_path, analytics_secret="test-secret")


def test_the_indicators_of_the_test_traffic(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    report = project(settings)
    assert report.conversations == 12
    check_november(settings)


def test_the_same_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(db_url=pg_url, tracker_db_url=pg_url, var_dir=tmp_path)
    write_traffic(pg_url)
    assert project(settings).conversations == 12
    check_november(settings)


def test_one_channel(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    voice = indicators(settings, *NOVEMBER, channel="voice")
    assert voice.conversations == 4 and voice.with_reason == 4
    assert voice.outcomes == {"handed_over": 1, "answered": 2, "emergency": 1}
    assert voice.contained == 1 and voice.containment_rate == 0.25
    assert voice.recontacts == 2 and voice.recontact_rate == 0.5
    web = indicators(settings, *NOVEMBER, channel="web")
    assert web.conversations == 5 and web.contained == 2 and web.satisfaction_rate == 0.5


def test_etp_with_other_parameters(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    result = indicators(settings, *NOVEMBER, handling_minutes=6, etp_hours=1500)
    assert (result.calls_avoided, result.hours_saved) == (3, 0.3) and result.etp_saved == 0.3 / 1500
    configured = indicators(settings.copy(update={"analytics_handling_minutes": 10.0, "analytics_etp_hours": 1000.0}), *NOVEMBER)
    assert configured.hours_saved == 0.5 and configured.etp_saved == 0.0005


def test_a_recontact_is_looked_for_seven_days_after_each_conversation(settings: Settings) -> None:
    write_traffic(settings.conversations_db_url)
    project(settings)
    # Up to November 29th: F is no longer in the period, so E is followed by no recontact (F came 10 days later).
    result = indicators(settings, dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 29))
    assert result.conversations == 8 and result.recontacts == 2 and result.contained == 3
    # December: only K's period; the day of K with F's recontact is not counted in December.
    december = indicators(settings, dt.datetime(2026, 12, 1), dt.datetime(2027, 1, 1))
    assert december.conversations == 2 and december.recontacts == 0 and december.contained == 2


def test_an_empty_period_has_no_rates(settings: Settings) -> None:
    result = indicators(settings, *NOVEMBER)
    assert result.conversations == 0
    assert result.containment_rate is None and result.fallback_rate is None and result.satisfaction_rate is None
    assert result.calls_avoided == 0 and result.etp_saved == 0.0
