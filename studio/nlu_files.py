"""Reading and editing the NLU training data (`nlu_data/*.yml`) without losing its format or comments.

Files are edited with ruamel.yaml's round-trip mode, configured per file with the indentation
it already uses, so loading and dumping an unchanged file gives back the same bytes: an edit
changes only the lines it is about. A file that would not come back identical is refused
rather than reformatted.

- `intents`: the intents with their example counts and files.
- `add_examples`, `edit_example`, `delete_example`: an intent's examples, in the block where
  the intent is defined (the last block when it has several).
- `create_intent`: a new intent with its examples, and what makes the assistant answer it
  after a full training: the intent and a response `utter_<intent>` in `bot/domain/studio.yml`,
  a rule "intent → utter_<intent>" in `bot/data/studio_rules.yml` (both created if missing).
- `check_example`: duplicate warnings. The normalised text (lowercase, no accents, no
  punctuation, spaces collapsed, entity annotations reduced to their text) already under an
  intent or in the held-out set is refused; a text nearly identical to an example (difflib
  ratio ≥ NEAR_RATIO on the normalised texts, fast and predictable on short sentences) needs
  the editor's confirmation.

Writes take a process-wide lock and replace files atomically. Texts are masked before being
written (examples come from patients).
"""

from __future__ import annotations

import difflib
import io
import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from core.catalogue import normalise_sentence
from core.masking import mask_personal_data
from core.settings import Settings
from studio.files import write_atomically

NEAR_RATIO = 0.9
MAX_EXAMPLE_LENGTH = 1000  # a patient message can be that long (settings.max_message_length)
MAX_ANSWER_LENGTH = 1000
STUDIO_DOMAIN_FILE = "studio.yml"
STUDIO_RULES_FILE = "studio_rules.yml"
INTENT_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
# Rasa's default intents (rasa.shared.core.constants.DEFAULT_INTENTS): never created by hand.
RESERVED_INTENTS = frozenset({"restart", "back", "out_of_scope", "session_start", "nlu_fallback"})
# Rasa's entity annotation (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX).
ENTITY_ANNOTATION = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)|\{(?P<entity_dict>[^}]+?)\}|\[(?P<list_entity_dicts>.*?)\])"
)

_write_lock = threading.RLock()


class NluError(ValueError):
    """A refused change to the training data; the message is French, for the editor."""


# --------------------------------------------------------------------------- duplicate findings


@dataclass(frozen=True)
class Finding:
    """An existing example the new text duplicates (`kind`: same_intent, other_intent, holdout) or nearly duplicates (near)."""

    kind: str
    example: str
    intent: str | None = None
    file: str | None = None

    @property
    def blocking(self) -> bool:
        return self.kind != "near"

    @property
    def message(self) -> str:
        where = f"l'intention « {self.intent} » ({self.file})"
        if self.kind == "same_intent":
            return f"« {self.example} » est déjà un exemple de {where}."
        if self.kind == "other_intent":
            return (
                f"« {self.example} » est déjà un exemple de {where} : un même texte ne peut pas apprendre deux intentions "
                "différentes à l'assistant. Modifiez ou supprimez d'abord l'exemple existant si c'est lui qui est faux."
            )
        if self.kind == "holdout":
            return (
                f"« {self.example} » fait partie du jeu d'évaluation (phrases mises de côté pour mesurer l'assistant) : "
                "l'apprendre fausserait l'évaluation."
            )
        return f"Presque identique à « {self.example} », exemple de {where}."


class DuplicateExample(NluError):
    """The text is refused (a blocking finding) or needs the editor's confirmation (only near findings)."""

    def __init__(self, findings: list[Finding]):
        self.findings = findings
        self.needs_confirmation = not any(f.blocking for f in findings)
        super().__init__(" ".join(f.message for f in findings))


# --------------------------------------------------------------------------- YAML round trip


def _yaml_for(text: str) -> YAML:
    """A round-trip YAML configured with the indentation `text` uses."""
    _, indent, block_seq_indent = load_yaml_guess_indent(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long examples
    yaml.indent(mapping=2, sequence=indent or 2, offset=block_seq_indent or 0)
    return yaml


def _dump(yaml: YAML, data) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


@dataclass
class _Document:
    path: Path
    text: str
    yaml: YAML
    data: object

    @classmethod
    def load(cls, path: Path) -> "_Document":
        text = path.read_text(encoding="utf-8")
        yaml = _yaml_for(text)
        document = cls(path, text, yaml, yaml.load(text))
        if _dump(yaml, document.data) != text:
            raise NluError(
                f"Le fichier {path.name} est écrit dans une mise en forme que le studio ne sait pas conserver : "
                "modifiez-le à la main, ou demandez à l'équipe technique de le remettre en forme."
            )
        return document

    def dumped(self) -> str:
        return _dump(self.yaml, self.data)


def _write_files(contents: dict[Path, str]) -> None:
    """Writes every file atomically; if one write fails, the files already written are restored."""
    previous = {path: path.read_text(encoding="utf-8") if path.exists() else None for path in contents}
    written: list[Path] = []
    try:
        for path, text in contents.items():
            write_atomically(path, text)
            written.append(path)
    except OSError as exc:
        for path in written:
            if previous[path] is None:
                path.unlink(missing_ok=True)
            else:
                write_atomically(path, previous[path])
        raise NluError(f"Écriture impossible de {path.name} ({exc.strerror}) : rien n'a été modifié.") from exc


def _last_slot(node) -> tuple[object, object, int] | None:
    """Where ruamel keeps the comment (blank lines included) that follows the last scalar of `node`."""
    if isinstance(node, CommentedMap) and node:
        key = list(node.keys())[-1]
        value = node[key]
        if isinstance(value, (CommentedMap, CommentedSeq)) and value:
            return _last_slot(value)
        return node, key, 2
    if isinstance(node, CommentedSeq) and node:
        index = len(node) - 1
        value = node[index]
        if isinstance(value, (CommentedMap, CommentedSeq)) and value:
            return _last_slot(value)
        return node, index, 0
    return None


def _take_trailing(node) -> CommentToken | None:
    slot = _last_slot(node)
    if slot is None:
        return None
    container, key, position = slot
    entry = container.ca.items.get(key)
    if not entry or len(entry) <= position:
        return None
    token, entry[position] = entry[position], None
    return token


def _put_trailing(node, token: CommentToken | None) -> None:
    if token is None:
        return
    slot = _last_slot(node)
    if slot is None:
        return
    container, key, position = slot
    entry = container.ca.items.setdefault(key, [None, None, None, None] if isinstance(container, CommentedMap) else [None, None])
    entry[position] = token


def _blank_line_then(node, text: str = "") -> CommentToken:
    """A comment token that puts a blank line, then `text` (comment lines), after the last scalar of `node`.

    A block scalar (`|`) ends with its line break; a plain or quoted scalar is followed by the comment on its line.
    """
    slot = _last_slot(node)
    ends_line = False
    if slot is not None:
        container, key, _ = slot
        ends_line = isinstance(container[key], LiteralScalarString)
    return CommentToken(("\n" if ends_line else "\n\n") + text, CommentMark(0), None)


def _append(container, value, key=None, blank_line: bool = False) -> None:
    """Appends to a sequence (or a mapping, under `key`), keeping the blank lines and comments that followed its
    last element after the new one, with a blank line between them if `blank_line`."""
    trailing = _take_trailing(container)
    if blank_line:
        _put_trailing(container, _blank_line_then(container))
    if isinstance(container, CommentedMap):
        container[key] = value
    else:
        container.append(value)
    _put_trailing(container, trailing)


# --------------------------------------------------------------------------- reading


def _block_lines(examples: str) -> list[str]:
    return [line[2:].strip() for line in examples.splitlines() if line.startswith("- ")]


def plain_text(example: str) -> str:
    """The example as the patient would type it: entity annotations reduced to their text."""
    return ENTITY_ANNOTATION.sub(lambda m: m.group("entity_text"), example)


def nlu_files(settings: Settings) -> list[Path]:
    return sorted(Path(settings.nlu_dir).glob("*.yml"))


def _file_key(paths: Iterable[Path]) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.exists())


@lru_cache(maxsize=16)
def _read_blocks(key: tuple) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(file name, intent, examples) of every intent block of the files in `key`, in file order."""
    yaml = YAML(typ="safe")
    blocks = []
    for path, _, _ in key:
        content = yaml.load(Path(path).read_text(encoding="utf-8")) or {}
        for item in content.get("nlu") or []:
            if isinstance(item, dict) and "intent" in item:
                examples = item.get("examples") or ""
                lines = _block_lines(examples) if isinstance(examples, str) else [str(e.get("text", e)) for e in examples]
                blocks.append((Path(path).name, str(item["intent"]), tuple(lines)))
    return tuple(blocks)


def _blocks(settings: Settings):
    return _read_blocks(_file_key(nlu_files(settings)))


@dataclass(frozen=True)
class Intent:
    name: str
    count: int
    files: tuple[str, ...]

    @property
    def file(self) -> str:
        return self.files[-1]


def intents(settings: Settings) -> list[Intent]:
    """Every intent of the training data, by name, with its number of examples and its files."""
    counts: dict[str, int] = {}
    files: dict[str, list[str]] = {}
    for file_name, intent, lines in _blocks(settings):
        counts[intent] = counts.get(intent, 0) + len(lines)
        if file_name not in files.setdefault(intent, []):
            files[intent].append(file_name)
    return [Intent(name, counts[name], tuple(files[name])) for name in sorted(counts)]


def intent_names(settings: Settings) -> list[str]:
    return [intent.name for intent in intents(settings)]


@dataclass(frozen=True)
class Example:
    intent: str
    text: str
    file: str


def examples(settings: Settings, intent: str | None = None) -> list[Example]:
    """The examples of `intent` (or of every intent), in file order."""
    return [
        Example(name, line, file_name)
        for file_name, name, lines in _blocks(settings)
        if intent is None or name == intent
        for line in lines
    ]


@lru_cache(maxsize=4)
def _holdout_texts(key: tuple) -> frozenset[str]:
    yaml = YAML(typ="safe")
    texts = set()
    for path, _, _ in key:
        content = yaml.load(Path(path).read_text(encoding="utf-8")) or {}
        for item in content.get("nlu") or []:
            if isinstance(item, dict) and isinstance(item.get("examples"), str):
                texts.update(normalise_sentence(plain_text(line)) for line in _block_lines(item["examples"]))
    return frozenset(texts)


def _holdout(settings: Settings) -> frozenset[str]:
    folder = Path(settings.nlu_holdout_dir)
    return _holdout_texts(_file_key(sorted(folder.glob("*.yml")))) if folder.is_dir() else frozenset()


# --------------------------------------------------------------------------- checks


def clean_example(text: str, settings: Settings | None = None) -> str:
    """The example as it will be written: masked, on one line; NluError if it cannot be an example."""
    text = " ".join(mask_personal_data(text or "").split())
    if not text:
        raise NluError("L'exemple est vide : écrivez la phrase telle qu'un patient pourrait la dire.")
    if len(text) > MAX_EXAMPLE_LENGTH:
        raise NluError(f"L'exemple est trop long ({len(text)} caractères ; {MAX_EXAMPLE_LENGTH} au plus).")
    if text.startswith("/"):
        raise NluError("Un exemple ne peut pas commencer par « / » : ce signe est réservé aux boutons.")
    if settings is not None:
        known = _domain_entities(settings)
        for match in ENTITY_ANNOTATION.finditer(text):
            entity = match.group("entity")
            if match.group("entity_dict"):
                try:
                    entity = json.loads("{" + match.group("entity_dict") + "}").get("entity")
                except (json.JSONDecodeError, AttributeError):
                    raise NluError(f"Annotation illisible : « {match.group(0)} ».") from None
            if entity is not None and entity.strip() not in known:
                raise NluError(
                    f"Entité inconnue « {entity} » dans « {match.group(0)} » : les entités possibles sont {', '.join(sorted(known))}."
                )
    return text


def check_example(settings: Settings, intent: str, text: str, replacing: str | None = None) -> list[Finding]:
    """What `text` (already cleaned) would duplicate if added to `intent`; `replacing` is the example being edited."""
    wanted = normalise_sentence(plain_text(text))
    findings: list[Finding] = []
    near: list[Finding] = []
    skipped_self = False
    for example in examples(settings):
        if example.intent == intent and replacing is not None and example.text == replacing and not skipped_self:
            skipped_self = True
            continue
        existing = normalise_sentence(plain_text(example.text))
        if existing == wanted:
            kind = "same_intent" if example.intent == intent else "other_intent"
            findings.append(Finding(kind, example.text, example.intent, example.file))
        elif len(near) < 5 and _nearly_identical(wanted, existing):
            near.append(Finding("near", example.text, example.intent, example.file))
    if wanted in _holdout(settings):
        findings.append(Finding("holdout", text))
    return findings + near


def _nearly_identical(a: str, b: str) -> bool:
    if not a or not b or 2 * min(len(a), len(b)) / (len(a) + len(b)) < NEAR_RATIO:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= NEAR_RATIO and matcher.quick_ratio() >= NEAR_RATIO and matcher.ratio() >= NEAR_RATIO


def _raise_findings(findings: list[Finding], confirm: bool) -> None:
    blocking = [f for f in findings if f.blocking]
    if blocking or (findings and not confirm):
        raise DuplicateExample(blocking or findings)


# --------------------------------------------------------------------------- editing examples


def _intent_blocks(settings: Settings, intent: str) -> Iterator[tuple[_Document, CommentedMap]]:
    for path in nlu_files(settings):
        if intent not in path.read_text(encoding="utf-8"):
            continue
        document = _Document.load(path)
        for item in document.data.get("nlu") or []:
            if isinstance(item, CommentedMap) and item.get("intent") == intent and isinstance(item.get("examples"), str):
                yield document, item


def _unknown_intent(intent: str) -> NluError:
    return NluError(f"L'intention « {intent} » n'existe pas dans les données d'entraînement.")


@dataclass(frozen=True)
class Added:
    """What `add_examples` did: the file written (None when nothing was new) and the texts added or already there."""

    file: str | None
    added: tuple[str, ...]
    already_there: tuple[str, ...]


def add_examples(settings: Settings, intent: str, texts: Iterable[str], confirm: bool = False) -> Added:
    """Adds the (masked) texts to the last block of `intent`. Exact duplicates under `intent` are skipped;
    DuplicateExample when one is under another intent or held out, or (unless `confirm`) nearly identical to one."""
    with _write_lock:
        cleaned = list(dict.fromkeys(clean_example(text, settings) for text in texts))
        if intent not in intent_names(settings):
            raise _unknown_intent(intent)
        new: list[str] = []
        already: list[str] = []
        findings: list[Finding] = []
        seen = set()
        for text in cleaned:
            found = check_example(settings, intent, text)
            if any(f.kind == "same_intent" for f in found) or normalise_sentence(plain_text(text)) in seen:
                already.append(text)
                continue
            seen.add(normalise_sentence(plain_text(text)))
            findings.extend(found)
            new.append(text)
        _raise_findings(findings, confirm)
        if not new:
            return Added(None, (), tuple(already))
        blocks = list(_intent_blocks(settings, intent))
        document, item = blocks[-1]
        item["examples"] = LiteralScalarString(str(item["examples"]).rstrip("\n") + "\n" + "".join(f"- {t}\n" for t in new))
        _write_files({document.path: document.dumped()})
        return Added(document.path.name, tuple(new), tuple(already))


def add_example(settings: Settings, intent: str, text: str, confirm: bool = False) -> Added:
    return add_examples(settings, intent, [text], confirm)


def _replace_line(examples: str, old: str, new: str | None) -> str | None:
    """The block with the first example `old` replaced by `new` (removed when None); None if `old` is not there."""
    lines = examples.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("- ") and line[2:].strip() == old:
            if new is None:
                del lines[index]
            else:
                lines[index] = f"- {new}\n"
            return "".join(lines)
    return None


def edit_example(settings: Settings, intent: str, old: str, new: str, confirm: bool = False) -> str:
    """Replaces the example `old` of `intent` by `new`; returns the file name."""
    with _write_lock:
        new = clean_example(new, settings)
        if new == old:
            raise NluError("L'exemple n'a pas changé.")
        _raise_findings(check_example(settings, intent, new, replacing=old), confirm)
        for document, item in _intent_blocks(settings, intent):
            replaced = _replace_line(str(item["examples"]), old, new)
            if replaced is not None:
                item["examples"] = LiteralScalarString(replaced)
                _write_files({document.path: document.dumped()})
                return document.path.name
        raise NluError(f"L'exemple « {old} » n'existe plus dans l'intention « {intent} » : la page était peut-être périmée.")


def delete_example(settings: Settings, intent: str, text: str) -> str:
    """Deletes the example `text` of `intent` (an intent keeps at least two examples); returns the file name."""
    with _write_lock:
        if len(examples(settings, intent)) <= 2:
            raise NluError(f"L'intention « {intent} » doit garder au moins deux exemples pour pouvoir être apprise.")
        for document, item in _intent_blocks(settings, intent):
            replaced = _replace_line(str(item["examples"]), text, None)
            if replaced is not None:
                if not _block_lines(replaced):
                    raise NluError("C'est le dernier exemple de ce bloc : modifiez-le plutôt que de le supprimer.")
                item["examples"] = LiteralScalarString(replaced)
                _write_files({document.path: document.dumped()})
                return document.path.name
        raise NluError(f"L'exemple « {text} » n'existe plus dans l'intention « {intent} » : la page était peut-être périmée.")


# --------------------------------------------------------------------------- new intents


def _domain_files(settings: Settings) -> list[Path]:
    return sorted((Path(settings.bot_dir) / "domain").glob("*.yml"))


@lru_cache(maxsize=8)
def _read_domain(key: tuple) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(intents, response names, entities) declared by the domain files in `key`."""
    yaml = YAML(typ="safe")
    names: dict[str, set] = {"intents": set(), "responses": set(), "entities": set()}
    for path, _, _ in key:
        content = yaml.load(Path(path).read_text(encoding="utf-8")) or {}
        for intent in content.get("intents") or []:
            names["intents"].add(next(iter(intent)) if isinstance(intent, dict) else str(intent))
        names["responses"].update(content.get("responses") or {})
        for entity in content.get("entities") or []:
            names["entities"].add(next(iter(entity)) if isinstance(entity, dict) else str(entity))
    return frozenset(names["intents"]), frozenset(names["responses"]), frozenset(names["entities"])


def _domain_entities(settings: Settings) -> frozenset[str]:
    return _read_domain(_file_key(_domain_files(settings)))[2]


def validate_intent_name(settings: Settings, name: str) -> str:
    name = (name or "").strip()
    if not INTENT_NAME.match(name) or len(name) > 60:
        raise NluError(
            "Nom d'intention invalide : lettres minuscules sans accent, chiffres et « _ » entre les mots "
            "(par exemple « ask_wifi »), 60 caractères au plus."
        )
    domain_intents, responses, _ = _read_domain(_file_key(_domain_files(settings)))
    if name in RESERVED_INTENTS:
        raise NluError(f"« {name} » est un nom réservé par Rasa.")
    if name in intent_names(settings) or name in domain_intents:
        raise NluError(f"L'intention « {name} » existe déjà.")
    if f"utter_{name}" in responses:
        raise NluError(f"La réponse « utter_{name} » existe déjà dans le domaine : choisissez un autre nom.")
    return name


DOMAIN_HEADER = (
    "# Intents created by editors in the studio, each answered by its response utter_<intent>\n"
    "# (rules in bot/data/studio_rules.yml). Written by the studio; comments are kept.\n"
)
RULES_HEADER = (
    "# Rules of the intents created in the studio: each one is answered by its response utter_<intent>.\n"
    "# Written by the studio; comments are kept.\n"
)


def _quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _new_domain_file(name: str, answer: str) -> str:
    return (
        f'{DOMAIN_HEADER}version: "3.1"\n\nintents:\n  - {name}\n\n'
        f"responses:\n  utter_{name}:\n    - text: {_quoted(answer)}\n"
    )


def _new_rules_file(name: str) -> str:
    return (
        f'{RULES_HEADER}version: "3.1"\n\nrules:\n  - rule: {name} (created in the studio)\n'
        f"    steps:\n      - intent: {name}\n      - action: utter_{name}\n"
    )


@dataclass(frozen=True)
class CreatedIntent:
    name: str
    nlu_file: str
    files: tuple[str, ...]
    examples: tuple[str, ...]


def create_intent(
    settings: Settings, name: str, file_name: str, texts: Iterable[str], answer: str, confirm: bool = False, author: str = ""
) -> CreatedIntent:
    """Creates intent `name` in nlu_data/`file_name` with the (masked) examples, and its response and rule."""
    with _write_lock:
        name = validate_intent_name(settings, name)
        nlu_path = Path(settings.nlu_dir) / (file_name or "")
        if nlu_path not in nlu_files(settings):
            raise NluError("Choisissez le fichier de données où ranger la nouvelle intention.")
        cleaned = list(dict.fromkeys(clean_example(text, settings) for text in texts if (text or "").strip()))
        if not cleaned:
            raise NluError("Donnez au moins un exemple de ce que dit le patient.")
        answer = "\n".join(line.rstrip() for line in (answer or "").strip().splitlines())
        if not answer:
            raise NluError("Écrivez la réponse que l'assistant donnera à cette intention.")
        if len(answer) > MAX_ANSWER_LENGTH:
            raise NluError(f"La réponse est trop longue ({len(answer)} caractères ; {MAX_ANSWER_LENGTH} au plus).")
        findings = [f for text in cleaned for f in check_example(settings, name, text)]
        _raise_findings(findings, confirm)

        nlu = _Document.load(nlu_path)
        sequence = nlu.data["nlu"]
        last = max((i for i, item in enumerate(sequence) if isinstance(item, CommentedMap) and "intent" in item), default=len(sequence) - 1)
        item = CommentedMap([("intent", name), ("examples", LiteralScalarString("".join(f"- {t}\n" for t in cleaned)))])
        indent = " " * (nlu.yaml.sequence_dash_offset or 0)
        credit = f" by {author}" if author else ""
        trailing = _take_trailing(sequence[last]) if last >= 0 else None
        note = f"{indent}# Intent {name}: created in the studio{credit}.\n"
        if last >= 0:
            _put_trailing(sequence[last], _blank_line_then(sequence[last], note))
        sequence.insert(last + 1, item)
        _put_trailing(item, trailing)

        contents = {nlu.path: nlu.dumped()}
        domain_path = Path(settings.bot_dir) / "domain" / STUDIO_DOMAIN_FILE
        if domain_path.exists():
            domain = _Document.load(domain_path)
            _append(domain.data["intents"], name)
            response = CommentedSeq([CommentedMap([("text", DoubleQuotedScalarString(answer))])])
            _append(domain.data["responses"], response, key=f"utter_{name}")
            contents[domain_path] = domain.dumped()
        else:
            contents[domain_path] = _new_domain_file(name, answer)
        rules_path = Path(settings.bot_dir) / "data" / STUDIO_RULES_FILE
        if rules_path.exists():
            rules = _Document.load(rules_path)
            steps = CommentedSeq([CommentedMap([("intent", name)]), CommentedMap([("action", f"utter_{name}")])])
            rule = CommentedMap([("rule", f"{name} (created in the studio)"), ("steps", steps)])
            _append(rules.data["rules"], rule, blank_line=True)
            contents[rules_path] = rules.dumped()
        else:
            contents[rules_path] = _new_rules_file(name)
        _write_files(contents)
        return CreatedIntent(
            name,
            nlu_path.name,
            (f"nlu_data/{nlu_path.name}", f"bot/domain/{STUDIO_DOMAIN_FILE}", f"bot/data/{STUDIO_RULES_FILE}"),
            tuple(cleaned),
        )
