"""Editing nlu_data/ with ruamel.yaml: formats and comments kept, duplicates warned, new intents valid for Rasa."""

from __future__ import annotations

import difflib
import threading
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from studio import nlu_files
from studio.nlu_files import (
    DuplicateExample,
    NluError,
    add_example,
    add_examples,
    check_example,
    clean_example,
    create_intent,
    delete_example,
    edit_example,
    examples,
    intents,
)


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.yml"))}


def diff(before: str, after: str) -> list[str]:
    """The changed lines, '+' or '-' first."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize(
    "path",
    sorted((PROJECT_ROOT / "nlu_data").glob("*.yml")) + sorted((PROJECT_ROOT / "bot" / "domain").glob("*.yml")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_an_unchanged_load_and_dump_gives_back_the_same_bytes(path: Path) -> None:
    document = nlu_files._Document.load(path)
    assert document.dumped() == path.read_text(encoding="utf-8")


def test_intents_are_listed_with_counts_and_files(studio_settings: Settings) -> None:
    listed = {intent.name: intent for intent in intents(studio_settings)}
    assert listed["ask_parking"].files == ("access.yml",)
    assert listed["ask_parking"].count == len(examples(studio_settings, "ask_parking")) >= 25
    assert listed["show_article"].file == "knowledge_base.yml"
    assert listed["out_of_scope"].count == sum(1 for e in examples(studio_settings, "out_of_scope"))
    assert "nlu_fallback" not in listed and len(listed) >= 45


def test_adding_an_example_changes_only_its_line_in_the_intent_block(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    added = add_example(studio_settings, "ask_parking", "  je peux garer   ma moto devant l'entrée ? appelez le 06 12 34 56 78 ")
    assert added.file == "access.yml" and added.added == ("je peux garer ma moto devant l'entrée ? appelez le [téléphone]",)
    after = path.read_text(encoding="utf-8")
    assert diff(before, after) == ["+    - je peux garer ma moto devant l'entrée ? appelez le [téléphone]"]
    # In the ask_parking block, right after its last example, before the next intent.
    lines = after.splitlines()
    index = lines.index("    - je peux garer ma moto devant l'entrée ? appelez le [téléphone]")
    assert lines[index + 2] == "- intent: ask_service_contact" and lines[index + 1] == ""
    assert "je peux garer ma moto devant l'entrée ? appelez le [téléphone]" in [e.text for e in examples(studio_settings, "ask_parking")]


def test_an_intent_with_several_blocks_gets_the_example_in_its_last_block(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "out_of_scope.yml"
    before = path.read_text(encoding="utf-8")
    add_example(studio_settings, "out_of_scope", "c'est qui le président du club de foot")
    after = path.read_text(encoding="utf-8")
    assert diff(before, after) == ["+    - c'est qui le président du club de foot"]
    assert after.rstrip("\n").endswith("- c'est qui le président du club de foot")
    assert [line for line in after.splitlines() if line.startswith("#")] == [line for line in before.splitlines() if line.startswith("#")]


def test_a_file_indented_differently_keeps_its_indentation(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "knowledge_base.yml"
    before = path.read_text(encoding="utf-8")
    add_example(studio_settings, "show_article", "je veux voir cette fiche en grand")
    assert diff(before, path.read_text(encoding="utf-8")) == ["+      - je veux voir cette fiche en grand"]


def test_editing_and_deleting_an_example_change_only_its_line(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    old = "Où puis-je me garer pour venir aux [urgences](place) ?"
    assert edit_example(studio_settings, "ask_parking", old, "Où se garer près des [urgences](place) la nuit ?") == "access.yml"
    edited = path.read_text(encoding="utf-8")
    assert diff(before, edited) == [f"-    - {old}", "+    - Où se garer près des [urgences](place) la nuit ?"]
    assert delete_example(studio_settings, "ask_parking", "Où se garer près des [urgences](place) la nuit ?") == "access.yml"
    assert diff(before, path.read_text(encoding="utf-8")) == [f"-    - {old}"]
    with pytest.raises(NluError, match="n'existe plus"):
        delete_example(studio_settings, "ask_parking", old)
    with pytest.raises(NluError, match="n'existe plus"):
        edit_example(studio_settings, "ask_parking", old, "autre chose pour le parking")


def test_an_intent_keeps_two_examples(studio_settings: Settings) -> None:
    create_intent(studio_settings, "ask_wifi", "access.yml", ["il y a le wifi ?", "code wifi svp"], "Le wifi est gratuit.")
    with pytest.raises(NluError, match="au moins deux exemples"):
        delete_example(studio_settings, "ask_wifi", "code wifi svp")


def test_an_exact_duplicate_under_another_intent_is_refused_and_nothing_written(studio_settings: Settings) -> None:
    before = snapshot(studio_settings.nlu_dir)
    # The same text as a visiting-hours example once case, accents and punctuation are left out.
    with pytest.raises(DuplicateExample) as refused:
        add_example(studio_settings, "ask_opening_hours", "quels sont les HORAIRES de visite")
    [finding] = refused.value.findings
    assert (finding.kind, finding.intent, finding.file, finding.blocking) == ("other_intent", "ask_visiting_hours", "visiting_hours.yml", True)
    assert not refused.value.needs_confirmation
    assert "ask_visiting_hours" in str(refused.value)
    with pytest.raises(DuplicateExample):
        add_example(studio_settings, "ask_opening_hours", "quels sont les horaires de visite", confirm=True)
    assert snapshot(studio_settings.nlu_dir) == before


def test_annotations_count_as_their_text_for_duplicates(studio_settings: Settings) -> None:
    findings = check_example(studio_settings, "ask_opening_hours", "on peut passer sans rdv au labo le matin")
    assert [(f.kind, f.intent) for f in findings] == [("same_intent", "ask_opening_hours")]


def test_an_exact_duplicate_under_the_same_intent_is_not_written_twice(studio_settings: Settings) -> None:
    before = snapshot(studio_settings.nlu_dir)
    added = add_examples(studio_settings, "ask_parking", ["le parking est il gratuit pour les patients", "Le parking est-il gratuit pour les patients ?"])
    assert added == nlu_files.Added(
        None, (), ("le parking est il gratuit pour les patients", "Le parking est-il gratuit pour les patients ?")
    )
    assert snapshot(studio_settings.nlu_dir) == before


def test_a_nearly_identical_example_needs_a_confirmation(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    before = path.read_text(encoding="utf-8")
    with pytest.raises(DuplicateExample) as warned:
        add_example(studio_settings, "ask_parking", "Le parking est-il gratuit pour les patientes ?")
    assert warned.value.needs_confirmation
    assert [(f.kind, f.example) for f in warned.value.findings] == [("near", "Le parking est-il gratuit pour les patients ?")]
    assert "Presque identique" in warned.value.findings[0].message
    assert path.read_text(encoding="utf-8") == before
    add_example(studio_settings, "ask_parking", "Le parking est-il gratuit pour les patientes ?", confirm=True)
    assert diff(before, path.read_text(encoding="utf-8")) == ["+    - Le parking est-il gratuit pour les patientes ?"]


def test_a_held_out_sentence_is_refused(studio_settings: Settings) -> None:
    with pytest.raises(DuplicateExample) as refused:
        add_example(studio_settings, "ask_parking", "le parking visiteurs est il payant", confirm=True)
    assert [f.kind for f in refused.value.findings] == ["holdout"]
    assert "évaluation" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("   ", "vide"),
        ("/ask_parking", "réservé aux boutons"),
        ("x" * 1001, "trop long"),
        ("le parking de l'[hôpital](batiment)", "Entité inconnue « batiment »"),
        ('le [labo]{"entity": "place", "value": }', "Annotation illisible"),
    ],
)
def test_bad_examples_get_a_french_error(studio_settings: Settings, text: str, error: str) -> None:
    with pytest.raises(NluError, match=error):
        clean_example(text, studio_settings)


def test_a_valid_annotation_is_accepted(studio_settings: Settings) -> None:
    text = 'le [labo]{"entity": "place", "value": "laboratoire"} ferme à quelle heure le dimanche soir'
    assert clean_example(text, studio_settings) == text


def test_an_unknown_intent_is_refused(studio_settings: Settings) -> None:
    with pytest.raises(NluError, match="n'existe pas"):
        add_example(studio_settings, "ask_nothing", "bonjour à tous les amis")


def test_a_new_intent_writes_its_examples_response_and_rule_valid_for_rasa(studio_settings: Settings) -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.loading import load_data

    nlu_path = studio_settings.nlu_dir / "access.yml"
    before = nlu_path.read_text(encoding="utf-8")
    created = create_intent(
        studio_settings,
        "ask_wifi",
        "access.yml",
        ["il y a le wifi dans les chambres ?", "code wifi svp mon mail est a@b.fr"],
        "Le wifi « Valmont-Invités » est gratuit.\nDemandez le code à l'accueil : \"VALMONT\".",
        author="redactrice",
    )
    assert created.files == ("nlu_data/access.yml", "bot/domain/studio.yml", "bot/data/studio_rules.yml")
    create_intent(studio_settings, "ask_tv", "knowledge_base.yml", ["comment avoir la télé dans la chambre"], "La télévision se loue à l'accueil.")

    assert diff(before, nlu_path.read_text(encoding="utf-8")) == [
        "+",
        "+# Intent ask_wifi: created in the studio by redactrice.",
        "+- intent: ask_wifi",
        "+  examples: |",
        "+    - il y a le wifi dans les chambres ?",
        "+    - code wifi svp mon mail est [e-mail]",
    ]
    domain_text = (studio_settings.bot_dir / "domain" / "studio.yml").read_text(encoding="utf-8")
    assert domain_text.endswith(
        'intents:\n  - ask_wifi\n  - ask_tv\n\nresponses:\n'
        '  utter_ask_wifi:\n    - text: "Le wifi « Valmont-Invités » est gratuit.\\nDemandez le code à l\'accueil : \\"VALMONT\\"."\n'
        '  utter_ask_tv:\n    - text: "La télévision se loue à l\'accueil."\n'
    )
    rules_text = (studio_settings.bot_dir / "data" / "studio_rules.yml").read_text(encoding="utf-8")
    assert "      - action: utter_ask_wifi\n\n  - rule: ask_tv (created in the studio)\n" in rules_text

    training = load_data(str(studio_settings.nlu_dir))
    wifi = sorted(m.get("text") for m in training.intent_examples if m.get("intent") == "ask_wifi")
    assert wifi == ["code wifi svp mon mail est [e-mail]", "il y a le wifi dans les chambres ?"]
    domain = Domain.load(str(studio_settings.bot_dir / "domain"))
    assert {"ask_wifi", "ask_tv"} <= set(domain.intents)
    assert domain.responses["utter_ask_wifi"][0]["text"] == "Le wifi « Valmont-Invités » est gratuit.\nDemandez le code à l'accueil : \"VALMONT\"."
    steps = YAMLStoryReader(domain).read_from_file(str(studio_settings.bot_dir / "data" / "studio_rules.yml"))
    assert [[e.as_story_string() for e in step.events][-2:] for step in steps] == [
        ["ask_wifi", "utter_ask_wifi"],
        ["ask_tv", "utter_ask_tv"],
    ]
    assert {"ask_wifi", "ask_tv"} <= {intent.name for intent in intents(studio_settings)}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Ask Wifi", "Nom d'intention invalide"),
        ("demande_é", "Nom d'intention invalide"),
        ("ask__wifi", "Nom d'intention invalide"),
        ("ask_parking", "existe déjà"),
        ("session_start", "réservé"),
        ("out_of_scope", "réservé"),
        ("suggestions", "utter_suggestions"),
    ],
)
def test_a_new_intent_name_is_validated(studio_settings: Settings, name: str, error: str) -> None:
    before = snapshot(studio_settings.nlu_dir.parent)
    with pytest.raises(NluError, match=error):
        create_intent(studio_settings, name, "access.yml", ["une phrase nouvelle pour le test"], "Une réponse.")
    assert snapshot(studio_settings.nlu_dir.parent) == before


def test_a_new_intent_needs_a_file_an_example_and_an_answer(studio_settings: Settings) -> None:
    with pytest.raises(NluError, match="fichier"):
        create_intent(studio_settings, "ask_wifi", "../bot/config.yml", ["le wifi marche pas"], "Réponse.")
    with pytest.raises(NluError, match="au moins un exemple"):
        create_intent(studio_settings, "ask_wifi", "access.yml", ["  "], "Réponse.")
    with pytest.raises(NluError, match="réponse"):
        create_intent(studio_settings, "ask_wifi", "access.yml", ["le wifi marche pas"], "  ")
    with pytest.raises(DuplicateExample):
        create_intent(studio_settings, "ask_wifi", "access.yml", ["quels sont les horaires de visite"], "Réponse.")
    assert not (studio_settings.bot_dir / "domain" / "studio.yml").exists()


def test_a_file_whose_format_cannot_be_kept_is_refused_untouched(studio_settings: Settings) -> None:
    path = studio_settings.nlu_dir / "access.yml"
    odd = path.read_text(encoding="utf-8").replace('version: "3.1"', "version:   '3.1'   # odd spacing")
    path.write_text(odd, encoding="utf-8")
    with pytest.raises(NluError, match="mise en forme"):
        add_example(studio_settings, "ask_parking", "une place pour handicapés ?")
    assert path.read_text(encoding="utf-8") == odd


def test_concurrent_additions_all_land(studio_settings: Settings) -> None:
    texts = [f"exemple concurrent numéro {word} pour le parking" for word in ("un", "deux", "trois", "quatre", "cinq", "six")]
    errors: list[Exception] = []

    def add(text: str) -> None:
        try:
            add_example(studio_settings, "ask_parking", text, confirm=True)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(texts) <= {e.text for e in examples(studio_settings, "ask_parking")}
