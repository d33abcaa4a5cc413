"""French names of the intents for the dashboard and the report (`core.catalogue`), capitalised.

A hospital director reads « Copie du dossier médical », not `request_medical_record`. An intent
created in the studio, which has no label yet, keeps its name.
"""

from __future__ import annotations

from core.catalogue import intent_label


def reason_label(intent: str | None) -> str:
    """'Copie du dossier médical' for `request_medical_record`; other names as they are ('(sans motif)' included)."""
    if not intent:
        return ""
    label = intent_label(intent)
    return label[:1].upper() + label[1:] if label else intent
