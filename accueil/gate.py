"""The deployment gate: whether a candidate model may replace the production model, and why (in French).

A pure function of two models' figures on the held-out set: no file, no database, no Rasa.
Rules:
  * every emergency example (training data and held-out set) must still be recognised as `emergency`;
  * the held-out intent macro-F1 may not drop by more than `MAX_F1_DROP` (1 point) below production's;
  * the held-out conversations (accueil.conversations): the candidate may not lose more than
    `MAX_CONVERSATIONS_LOST` of those production gets right, nor fall below the target when production met it.
Without a production model, only the emergency rule applies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The figures compared on the held-out set, with their French names.
FIGURE_LABELS = (
    ("intent_macro_f1", "F1 macro des intentions"),
    ("entity_macro_f1", "F1 macro des entités"),
    ("intent_accuracy", "exactitude des intentions"),
)
MAX_F1_DROP = 0.01  # one point of macro-F1
# One conversation: two trainings of the same data differ by about that much; more is a model that got worse.
MAX_CONVERSATIONS_LOST = 1
TARGET_CONVERSATION_SUCCESS = 0.90
_EPSILON = 1e-9


@dataclass(frozen=True)
class EmergencyMiss:
    """An emergency sentence the model no longer recognises."""

    text: str
    predicted: str | None
    source: str  # "entraînement" or "test réservé"


@dataclass(frozen=True)
class ModelFigures:
    """A model's figures on the held-out set, and its emergency check (None: not checked)."""

    model: str
    intent_macro_f1: float
    entity_macro_f1: float | None = None
    intent_accuracy: float | None = None
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    emergency_checked: int | None = None
    emergency_misses: tuple[EmergencyMiss, ...] | None = None
    conversations: int | None = None  # held-out conversations put to the model (None: not measured)
    conversations_ok: int | None = None  # those whose every turn was right

    @property
    def conversation_success(self) -> float | None:
        return self.conversations_ok / self.conversations if self.conversations else None

    def as_dict(self) -> dict:
        data = asdict(self)
        if self.emergency_misses is not None:
            data["emergency_misses"] = [asdict(miss) for miss in self.emergency_misses]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModelFigures":
        misses = data.get("emergency_misses")
        return cls(
            model=data["model"],
            intent_macro_f1=float(data["intent_macro_f1"]),
            entity_macro_f1=data.get("entity_macro_f1"),
            intent_accuracy=data.get("intent_accuracy"),
            per_intent_f1={k: float(v) for k, v in (data.get("per_intent_f1") or {}).items()},
            emergency_checked=data.get("emergency_checked"),
            emergency_misses=None if misses is None else tuple(EmergencyMiss(**miss) for miss in misses),
            conversations=data.get("conversations"),
            conversations_ok=data.get("conversations_ok"),
        )


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str]

    def as_dict(self) -> dict:
        return {"passed": self.passed, "reasons": list(self.reasons)}


def french_number(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def points(delta: float) -> str:
    """A difference of F1 in points, signed: "+0,3 point", "-1,8 point"."""
    value = round(delta * 100, 1)
    sign = "+" if value > 0 else ("-" if value < 0 else "")
    return f"{sign}{french_number(abs(value), 1)} point{'s' if abs(value) >= 2 else ''}"


def _emergency_reasons(candidate: ModelFigures) -> tuple[bool, list[str]]:
    if candidate.emergency_misses is None:
        return False, ["Le contrôle des urgences vitales n'a pas été fait : le modèle ne peut pas être déployé sans lui."]
    misses = candidate.emergency_misses
    if not misses:
        return True, [f"Les {candidate.emergency_checked} phrases d'urgence vitale sont toutes reconnues comme urgence."]
    listed = "; ".join(
        f"« {miss.text} » ({miss.source}, comprise comme « {miss.predicted or 'rien'} »)" for miss in misses
    )
    count = len(misses)
    plural = "s" if count > 1 else ""
    verb = "ne sont" if count > 1 else "n'est"
    return False, [
        f"{count} phrase{plural} d'urgence vitale {verb} plus reconnue{plural} comme urgence "
        f"(sur {candidate.emergency_checked}) : {listed}."
    ]


def _tolerance() -> str:
    return points(MAX_F1_DROP).lstrip("+")


def _f1_reasons(candidate: ModelFigures, production: ModelFigures) -> tuple[bool, list[str]]:
    before, after = production.intent_macro_f1, candidate.intent_macro_f1
    drop = before - after
    figures = f"{french_number(before)} en production → {french_number(after)} pour le nouveau modèle, {points(after - before)}"
    if drop > MAX_F1_DROP + _EPSILON:
        return False, [
            f"Le F1 macro des intentions sur le jeu de test réservé baisse trop : {figures} "
            f"(baisse tolérée : {_tolerance()} au plus)."
        ]
    return True, [f"F1 macro des intentions sur le jeu de test réservé : {figures} (baisse tolérée : {_tolerance()} au plus)."]


def percent(value: float) -> str:
    return f"{french_number(value * 100, 1)} %"


def _conversation_reasons(candidate: ModelFigures, production: ModelFigures) -> tuple[bool, list[str]]:
    if candidate.conversations is None or production.conversations is None or candidate.conversations != production.conversations:
        return True, []
    lost = production.conversations_ok - candidate.conversations_ok
    figures = (
        f"{production.conversations_ok}/{production.conversations} ({percent(production.conversation_success)}) en production → "
        f"{candidate.conversations_ok}/{candidate.conversations} ({percent(candidate.conversation_success)}) pour le nouveau modèle"
    )
    below = candidate.conversation_success < TARGET_CONVERSATION_SUCCESS <= production.conversation_success
    if lost > MAX_CONVERSATIONS_LOST or below:
        why = "sous l'objectif de " + percent(TARGET_CONVERSATION_SUCCESS) if below else f"{lost} conversations perdues"
        return False, [f"Le nouveau modèle réussit moins de conversations de test : {figures}, {why} (perte tolérée : {MAX_CONVERSATIONS_LOST} au plus)."]
    return True, [f"Conversations de test réussies : {figures} (perte tolérée : {MAX_CONVERSATIONS_LOST} au plus)."]


def gate(candidate: ModelFigures, production: ModelFigures | None) -> Verdict:
    """Whether `candidate` may replace `production` (None: no model in production yet), with the reasons."""
    emergency_ok, reasons = _emergency_reasons(candidate)
    passed = emergency_ok
    if production is None:
        reasons.append("Aucun modèle en production : seule la règle des urgences vitales s'applique.")
    else:
        f1_ok, f1_reasons = _f1_reasons(candidate, production)
        conversations_ok, conversation_reasons = _conversation_reasons(candidate, production)
        passed = passed and f1_ok and conversations_ok
        reasons = f1_reasons + conversation_reasons + reasons
    return Verdict(passed=passed, reasons=reasons)
