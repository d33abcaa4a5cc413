"""French names of the intents for the dashboard and the report: the call reasons' labels, then the other intents'.

A hospital director reads « Copie du dossier médical », not `request_medical_record`. An intent
created in the studio, which has no label yet, keeps its name.
"""

from __future__ import annotations

from actions.call_reasons import CALL_REASONS

OTHER_INTENTS = {
    "emergency": "urgence vitale",
    "request_human": "demande de conseiller",
    "nlu_fallback": "message non compris",
    "greet": "salutation",
    "goodbye": "au revoir",
    "thank": "remerciement",
    "affirm": "oui",
    "deny": "non",
    "inform": "précision",
    "insult": "insulte",
    "bot_challenge": "question sur l'assistant",
    "show_article": "article choisi parmi les suggestions",
}


def reason_label(intent: str | None) -> str:
    """'Copie du dossier médical' for `request_medical_record`; other names as they are ('(sans motif)' included)."""
    if not intent:
        return ""
    label = CALL_REASONS[intent].label if intent in CALL_REASONS else OTHER_INTENTS.get(intent)
    return label[:1].upper() + label[1:] if label else intent
