"""Every intent of the domain has a French name on the dashboard and in the report."""

from __future__ import annotations

from pathlib import Path

import yaml

from analytics.labels import reason_label
from core.settings import PROJECT_ROOT


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in sorted(Path(PROJECT_ROOT / "bot" / "domain").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            intents.add(item if isinstance(item, str) else next(iter(item)))
    return intents


def test_every_intent_of_the_domain_has_a_french_name() -> None:
    intents = domain_intents()
    assert len(intents) > 40
    unnamed = sorted(i for i in intents if reason_label(i) == i)
    assert unnamed == []
    assert reason_label("request_medical_record") == "Copie du dossier médical"
    assert reason_label("emergency") == "Urgence vitale"
    assert reason_label("intention_creee_au_studio") == "intention_creee_au_studio"
