"""NLU safety net: a message describing a vital emergency is always read as `emergency`.

The `emergency` intent learnt by DIET is the first line. This component, last
in the pipeline, is the second: whatever the classifier or the fallback
decided, chest pain, breathing trouble, stroke signs, loss of consciousness,
heavy bleeding or suicidal thoughts make the very first answer "call the 15
or the 112" (rule `vital emergency comes first`).
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.catalogue import EMERGENCY_INTENT
from kb_sync.french import match_form

# Patterns on folded text (lowercase, no accents, punctuation as spaces).
_VITAL_SIGNS = [
    r"(douleur|mal|serre|serrement|oppression)\w* (\w+ ){0,3}(poitrine|thorax|thoracique|coeur)",
    r"(mal|du mal|difficulte\w*|peine|n arrive (plus|pas)) (\w+ ){0,2}(a )?respirer",
    r"(ne|n) (respire|respirons|respirent) (plus|pas|mal)",
    r"\b(etouffe|etouffer|etouffement|suffoque)\w*",
    r"\b(inconscient|inconsciente|perdu connaissance|perd connaissance|ne se reveille (plus|pas)|ne reagit (plus|pas))\b",
    r"\bavc\b|\bbouche de travers\b|\bvisage (de travers|paralyse)|\b(bras|jambe|cote) (\w+ )?paralyse",
    r"\b(n arrive plus a parler|ne peut plus parler|parle bizarrement)\b",
    r"\b(saigne|saignement|hemorragie)\w* (\w+ ){0,2}(beaucoup|abondant\w*|enormement|arrete pas|s arrete pas|fort)",
    r"\bhemorragie\b",
    r"\b(suicid\w*|me suicider|en finir|envie de mourir|me tuer|mettre fin a mes jours|plus envie de vivre)\b",
    r"\b(crise cardiaque|infarctus|arret cardiaque)\b",
    r"\b(fait|fais|faisait) un malaise\b",
    r"\bconvulse\w*|\bconvulsion\w*",
]
_PATTERN = re.compile("|".join(f"(?:{p})" for p in _VITAL_SIGNS))


def looks_like_vital_emergency(text: str | None) -> bool:
    return bool(text) and _PATTERN.search(match_form(text)) is not None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class VitalEmergencyGuard(GraphComponent):
    """Sets the intent to `emergency` (confidence 1.0) when the text shows vital signs."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VitalEmergencyGuard":
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if looks_like_vital_emergency(message.get(TEXT)):
                message.set(INTENT, {INTENT_NAME_KEY: EMERGENCY_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}, add_to_output=True)
        return messages
