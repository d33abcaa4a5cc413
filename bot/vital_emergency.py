"""NLU safety net: a message describing a vital emergency is always read as `emergency`.

The `emergency` intent learnt by DIET is the first line. This component, last
in the pipeline, is the second: whatever the classifier or the fallback
decided, chest pain, breathing trouble, stroke signs, loss of consciousness,
heavy bleeding or suicidal thoughts make the very first answer "call the 15
or the 112" (rule `vital emergency comes first`).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.vital_signs import looks_like_vital_emergency
from core.catalogue import EMERGENCY_INTENT


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
