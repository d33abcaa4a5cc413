"""Accueil's own data checks and the French reading of `rasa data validate`, on broken copies of the real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accueil.data_checks import (
    check_article_rules,
    check_example_counts,
    check_held_out_never_trained,
    load_examples,
    run_checks,
)
from accueil.deployment import rasa_validate_problems
from core.settings import PROJECT_ROOT, Settings

RASA_OUTPUT = Path(__file__).parent / "rasa_output"


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    for folder in ("bot", "nlu_data", "tests/nlu_holdout", "kb_content/valmont"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return Settings(
        bot_dir=tmp_path / "bot",
        nlu_dir=tmp_path / "nlu_data",
        nlu_holdout_dir=tmp_path / "tests" / "nlu_holdout",
        kb_source=str(tmp_path / "kb_content" / "valmont"),
        var_dir=tmp_path / "var",
    )


def test_the_real_data_passes_every_check(project: Settings) -> None:
    assert run_checks(project) == []


def test_an_intent_with_too_few_examples_or_held_out_sentences_is_reported() -> None:
    training = [("greet", f"bonjour {i}") for i in range(30)] + [("ask_wifi", "le wifi"), ("show_article", "x")]
    held_out = [("greet", f"salut {i}") for i in range(10)] + [("ask_wifi", "le code wifi"), ("ask_fax", "un fax")]
    problems = check_example_counts(training, held_out)
    assert "L'intention « ask_wifi » n'a que 1 exemple d'entraînement : il en faut au moins 25." in problems
    assert "L'intention « ask_wifi » a 1 phrase dans le jeu de test réservé : il en faut au moins 10 pour l'évaluer." in problems
    assert "L'intention « ask_fax » du jeu de test réservé n'a aucun exemple d'entraînement." in problems
    assert not any("greet" in problem for problem in problems)
    assert not any("show_article" in problem and "test réservé" in problem for problem in problems)


def test_a_held_out_sentence_copied_into_the_training_data_is_reported(project: Settings) -> None:
    held_out_sentence = next(text for intent, text in load_examples(project.nlu_holdout_dir) if intent == "emergency")
    with open(project.nlu_dir / "safety.yml", "a", encoding="utf-8") as handle:
        handle.write(f"    - {held_out_sentence.upper()}\n")  # another case and punctuation are still the same sentence
    problems = check_held_out_never_trained(load_examples(project.nlu_dir), load_examples(project.nlu_holdout_dir))
    assert problems == [
        f"La phrase « {held_out_sentence} » (emergency) est à la fois dans le jeu de test réservé et dans les exemples "
        "d'entraînement : retirez-la de l'un des deux."
    ]


def test_an_article_intent_missing_from_the_rule_and_a_missing_article_are_reported(project: Settings) -> None:
    rules = project.bot_dir / "data" / "rules.yml"
    lines = rules.read_text(encoding="utf-8").splitlines(keepends=True)
    rules.write_text("".join(line for line in lines if line.strip() != "- intent: ask_parking"), encoding="utf-8")
    (Path(project.kb_source) / "articles" / "preop-tabac.md").unlink()
    problems = check_article_rules(project)
    assert any(p.startswith("L'intention « ask_parking » renvoie à un article mais la règle") for p in problems), problems
    assert "L'intention « ask_preop_smoking » renvoie à l'article « preop-tabac », absent de la base de connaissances." in problems


def test_rasa_data_validate_output_becomes_french_problems() -> None:
    """Captured from `rasa data validate --fail-on-warnings` on a copy with a new intent and an example under two intents."""
    output = (RASA_OUTPUT / "validate_errors.txt").read_text(encoding="utf-8")
    problems = rasa_validate_problems(output, exit_code=1)
    assert problems == [
        "L'intention « ask_wifi » a des exemples mais n'est pas déclarée dans le domaine (bot/domain) : une nouvelle intention "
        "demande aussi une réponse, à faire ajouter par l'équipe technique.",
        "L'exemple « Merci beaucoup. » est rangé sous plusieurs intentions (greet, thank) : gardez-le sous une seule.",
    ]
    # Rasa warns about utterances only actions use, without failing: never shown to the editors.
    assert rasa_validate_problems(output, exit_code=0) == []


def test_an_unknown_failure_of_rasa_data_validate_still_says_something() -> None:
    output = "2026-11-24 13:11:32 INFO rasa.validator - Validating intents...\nProject validation completed with errors.\n"
    assert rasa_validate_problems(output, exit_code=1) == [
        "La validation des données par Rasa a échoué (code 1) : Project validation completed with errors."
    ]
    conflict = (
        "2026-11-24 13:11:32 WARNING  rasa.validator  - Story structure conflict after intent 'greet':\n"
        "  utter_greet predicted in 'salut'\n  utter_bye predicted in 'au revoir'\n\n"
        "2026-11-24 13:11:33 INFO     rasa.validator  - done\n"
    )
    problems = rasa_validate_problems(conflict, exit_code=1)
    assert problems == [
        "Conflit entre histoires ou règles : after intent 'greet': utter_greet predicted in 'salut' utter_bye predicted in 'au revoir'"
    ]


def test_a_conversation_sentence_copied_into_the_training_data_is_reported(project: Settings) -> None:
    from accueil.conversations import load
    from accueil.data_checks import check_conversations_never_trained

    conversations = load()
    assert check_conversations_never_trained(load_examples(project.nlu_dir), conversations) == []
    copied = conversations[0]["turns"][0]["user"]
    [problem] = check_conversations_never_trained([("request_medical_record", copied.upper() + " !")], conversations[:1])
    assert conversations[0]["id"] in problem and "retirez-la" in problem
