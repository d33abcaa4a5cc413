"""The catalogue (`core.catalogue`): its names exist in the Rasa domain, it is the only list of them, and its sentence normaliser.

The second part reads the project's sources with `ast`, so that a channel map, an intent set or a name of
the catalogue defined again elsewhere fails here instead of drifting from the catalogue.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml
from rasa.shared.core.constants import DEFAULT_ACTION_NAMES, DEFAULT_INTENTS

from core import catalogue
from tests.test_architecture import ROOT, project_sources

CATALOGUE = ROOT / "core" / "catalogue.py"
# Names the duplicates had before the catalogue took their place.
FORMER_NAMES = {"NOT_A_REASON", "NOT_RECALLED", "CHANNEL_NAMES", "DENY_INTENT", "OTHER_INTENTS"}
CHANNEL_KEYS = {*catalogue.CHANNELS, *catalogue.CHANNEL_LABELS}
INTENT_SETS = {catalogue.SMALL_TALK_INTENTS, catalogue.NOT_A_CALL_REASON, catalogue.NOT_A_QUESTION}


def domain() -> dict[str, set[str]]:
    """The intents, actions and responses of the domain files, with Rasa's own."""
    found = {"intents": set(DEFAULT_INTENTS), "actions": set(DEFAULT_ACTION_NAMES), "responses": set()}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in found:
            items = content.get(key) or []
            found[key] |= {next(iter(item)) if isinstance(item, dict) else item for item in items}
    return found


def catalogue_intents() -> set[str]:
    named = {value for name, value in vars(catalogue).items() if name.endswith("_INTENT") and isinstance(value, str)}
    return named.union(*INTENT_SETS, catalogue.CALL_REASONS, catalogue.OTHER_INTENT_LABELS, {catalogue.OUT_OF_SCOPE, catalogue.REQUEST_DOCUMENT})


def named(suffix: str) -> set[str]:
    return {value for name, value in vars(catalogue).items() if name.endswith(suffix) and isinstance(value, str)}


def test_every_intent_of_the_catalogue_is_in_the_domain() -> None:
    missing = sorted(catalogue_intents() - domain()["intents"])
    assert not missing, f"intents of core/catalogue.py that bot/domain/ does not declare: {missing}"


def test_every_action_and_response_of_the_catalogue_is_in_the_domain() -> None:
    names = domain()
    assert not sorted(named("_ACTION") - names["actions"])
    assert not sorted(named("_RESPONSE") - names["responses"])


def test_every_call_reason_has_a_label_and_a_topic() -> None:
    assert all(reason.label and reason.topic and reason.service for reason in catalogue.CALL_REASONS.values())


def test_channels_group_and_label_rasa_s_input_channels() -> None:
    assert catalogue.channel_label("socketio") == catalogue.channel_label("rest") == catalogue.channel_label("web") == "site web"
    assert catalogue.channel_label("voice") == "téléphone" and catalogue.channel_label("cmdline") == "terminal"
    assert catalogue.channel_label("fax") == "fax" and catalogue.channel_label(None) == ""
    assert set(catalogue.CHANNELS.values()) == set(catalogue.CHANNEL_GROUPS)


def test_normalise_strips_case_accents_and_punctuation() -> None:
    assert catalogue.normalise_sentence("  Où est   l'Hôpital ?! ") == "ou est l hopital"


def test_sentences_that_differ_in_accents_case_or_punctuation_are_the_same() -> None:
    assert catalogue.normalise_sentence("où est l'hôpital") == catalogue.normalise_sentence("OU EST L HOPITAL ?")
    assert catalogue.normalise_sentence("le parking") != catalogue.normalise_sentence("les parkings")


def _constant(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None


def duplicates(path: Path) -> list[str]:
    """What a source defines that only the catalogue may: its names, a channel map, an intent set."""
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    reserved = {name for name in vars(catalogue) if name.isupper()} | FORMER_NAMES
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), where)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id in reserved:
                    found.append(f"{where}:{node.lineno}: {name.id} is defined in core/catalogue.py")
        if isinstance(node, ast.Dict) and len({_constant(key) for key in node.keys if key is not None} & CHANNEL_KEYS) >= 2:
            found.append(f"{where}:{node.lineno}: a map of channels (core.catalogue.CHANNELS, CHANNEL_LABELS, channel_label)")
        if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            values = {_constant(element) for element in node.elts}
            if len(values & catalogue.SMALL_TALK_INTENTS) >= 3:
                found.append(f"{where}:{node.lineno}: a set of intents (core.catalogue.SMALL_TALK_INTENTS, NOT_A_CALL_REASON, NOT_A_QUESTION)")
    return found


def test_no_module_keeps_its_own_copy_of_the_catalogue() -> None:
    found = [
        problem
        for path in project_sources()
        if path != CATALOGUE
        for problem in duplicates(path)
    ]
    assert not found, "use core.catalogue instead:\n" + "\n".join(found)


def test_the_scan_finds_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "copy.py"
    path.write_text('EMERGENCY_INTENT = "emergency"\nNAMES = {"voice": "téléphone", "socketio": "web"}\nQUIET = {"greet", "thank", "affirm"}\n')
    assert len(duplicates(path)) == 3
