"""The NLU safety net turns any description of a vital emergency into the `emergency` intent."""

from __future__ import annotations

import pytest

from bot.vital_signs import looks_like_vital_emergency


@pytest.mark.parametrize(
    "text",
    [
        "quels sont les horaires des urgences ma femme a une douleur dans la poitrine",
        "mon pere ne respire plus",
        "j'ai du mal à respirer",
        "je pense a mettre fin a mes jours ce soir",
        "j'ai envie d'en finir",
        "mon mari a la bouche de travers et n'arrive plus à parler",
        "ma mère a perdu connaissance",
        "il saigne beaucoup",
        "Ma fille s'étouffe !",
        "je crois que je fais un infarctus",
    ],
)
def test_vital_signs_are_recognised(text: str) -> None:
    assert looks_like_vital_emergency(text)


@pytest.mark.parametrize(
    "text",
    [
        "horaires des urgences",
        "c'est quoi les horaires de visite en réanimation",
        "je dois passer une radio du thorax",
        "on peut respirer un peu dans le parc ?",
        "je voudrais finir mon dossier d'admission",
        "bonjour",
    ],
)
def test_ordinary_questions_are_not_emergencies(text: str) -> None:
    assert not looks_like_vital_emergency(text)


def test_guard_overrides_the_classifier_and_the_fallback() -> None:
    # Imported here: Rasa's component registry loads TensorFlow, which only this test needs.
    from rasa.shared.nlu.training_data.message import Message

    from bot.vital_emergency import VitalEmergencyGuard

    guard = VitalEmergencyGuard()
    emergency = Message(data={"text": "je veux en finir", "intent": {"name": "out_of_scope", "confidence": 0.97}})
    ordinary = Message(data={"text": "horaires du labo", "intent": {"name": "ask_opening_hours", "confidence": 0.9}})
    guard.process([emergency, ordinary])
    assert emergency.get("intent") == {"name": "emergency", "confidence": 1.0}
    assert ordinary.get("intent")["name"] == "ask_opening_hours"
