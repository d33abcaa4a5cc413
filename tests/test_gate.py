"""The deployment gate: a worse model is refused (held-out macro-F1, emergencies), an equal or better one passes."""

from __future__ import annotations

from accueil.gate import EmergencyMiss, ModelFigures, gate, points


def figures(f1: float, misses: tuple[EmergencyMiss, ...] | None = (), checked: int = 83, name: str = "m.tar.gz") -> ModelFigures:
    per_intent = {"emergency": 1.0}
    return ModelFigures(name, f1, 0.93, per_intent_f1=per_intent, emergency_checked=checked, emergency_misses=misses)


def test_a_drop_of_more_than_one_point_of_macro_f1_is_refused_with_the_figures() -> None:
    verdict = gate(figures(0.942), figures(0.962))
    assert not verdict.passed
    assert "baisse trop" in verdict.reasons[0]
    assert "0,962 en production → 0,942 pour le nouveau modèle, -2,0 points" in verdict.reasons[0]
    assert "1,0 point au plus" in verdict.reasons[0]


def test_a_drop_of_exactly_one_point_passes() -> None:
    assert gate(figures(0.95), figures(0.96)).passed
    assert not gate(figures(0.9499), figures(0.96)).passed


def test_an_equal_or_better_model_passes_and_says_why() -> None:
    for f1 in (0.962, 0.97):
        verdict = gate(figures(f1), figures(0.962))
        assert verdict.passed
        assert any("83 phrases d'urgence vitale sont toutes reconnues" in reason for reason in verdict.reasons)
    assert "+0,8 point" in gate(figures(0.97), figures(0.962)).reasons[0]


def test_a_single_missed_emergency_refuses_even_a_better_model_and_is_listed() -> None:
    misses = (EmergencyMiss("Mon bébé ne respire plus !", "nlu_fallback", "test réservé"),)
    verdict = gate(figures(0.99, misses), figures(0.96))
    assert not verdict.passed
    emergency = next(reason for reason in verdict.reasons if "urgence" in reason)
    assert emergency.startswith("1 phrase d'urgence vitale n'est plus reconnue comme urgence (sur 83) :")
    assert "« Mon bébé ne respire plus ! » (test réservé, comprise comme « nlu_fallback »)" in emergency


def test_several_missed_emergencies_are_all_listed() -> None:
    misses = (EmergencyMiss("Je veux en finir.", "deny", "entraînement"), EmergencyMiss("il respire plus", None, "test réservé"))
    reason = next(r for r in gate(figures(0.97, misses), None).reasons if "urgence" in r)
    assert reason.startswith("2 phrases d'urgence vitale ne sont plus reconnues")
    assert "« Je veux en finir. » (entraînement, comprise comme « deny »)" in reason and "comprise comme « rien »" in reason


def test_first_deployment_only_the_emergency_rule_applies() -> None:
    first = gate(figures(0.40), None)
    assert first.passed
    assert any("Aucun modèle en production" in reason for reason in first.reasons)
    assert not gate(figures(0.99, (EmergencyMiss("au secours", "greet", "entraînement"),)), None).passed


def test_a_model_whose_emergencies_were_not_checked_is_refused() -> None:
    verdict = gate(figures(0.99, misses=None), figures(0.9))
    assert not verdict.passed and any("n'a pas été fait" in reason for reason in verdict.reasons)


def test_figures_survive_their_json_form() -> None:
    original = figures(0.951, (EmergencyMiss("il est tombé", "greet", "entraînement"),))
    assert ModelFigures.from_dict(original.as_dict()) == original
    unchecked = figures(0.9, misses=None)
    assert ModelFigures.from_dict(unchecked.as_dict()) == unchecked


def test_points_are_french_and_signed() -> None:
    assert (points(0.0123), points(-0.01), points(0.0), points(-0.025)) == ("+1,2 point", "-1,0 point", "0,0 point", "-2,5 points")


def _with_conversations(ok: int, total: int = 160, f1: float = 0.96) -> ModelFigures:
    from dataclasses import replace

    return replace(figures(f1), conversations=total, conversations_ok=ok)


def test_a_model_that_loses_conversations_is_refused() -> None:
    verdict = gate(_with_conversations(150), _with_conversations(153))
    assert not verdict.passed
    assert any("conversations de test" in r and "3 conversations perdues" in r for r in verdict.reasons)


def test_one_conversation_of_noise_or_a_gain_passes() -> None:
    assert gate(_with_conversations(152), _with_conversations(153)).passed
    verdict = gate(_with_conversations(158), _with_conversations(153))
    assert verdict.passed and any("158/160" in r for r in verdict.reasons)


def test_falling_below_the_target_is_refused_even_by_one_conversation() -> None:
    assert not gate(_with_conversations(143), _with_conversations(144)).passed  # 89,4 % after 90 %


def test_conversations_measured_on_another_set_are_not_compared() -> None:
    verdict = gate(_with_conversations(100, total=120), _with_conversations(153))
    assert verdict.passed and not any("conversations" in r for r in verdict.reasons)


def test_figures_keep_their_conversations_through_storage() -> None:
    stored = _with_conversations(150)
    assert ModelFigures.from_dict(stored.as_dict()).conversation_success == 150 / 160
