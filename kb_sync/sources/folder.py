"""The default source: a folder of YAML files and Markdown articles with front matter.

Layout of the folder:
    organisation.yml        the hospital (name, address, switchboard…)
    places.yml              `places:` list, each with opening hours
    wards.yml               `wards:` list, each with visiting rules
    articles/*.md           one article a file: YAML front matter, then the French body
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from kb_sync.content import ArticleIn, KnowledgeBaseContent, OrganisationIn, PlaceIn, WardIn
from kb_sync.errors import display_path
from kb_sync.sources.base import Source
from kb_sync.validation import Located, Validator
from kb_sync.yaml_lines import LinedDict, LinedList, load_yaml

_YAML_PROBLEMS = {
    "mapping values are not allowed here": "un « : » inattendu (mettez le texte entre guillemets s'il contient « : »)",
    "found character '\\t' that cannot start any token": "une tabulation : utilisez des espaces pour l'indentation",
    "could not find expected ':'": "un « : » manque après le nom du champ",
    "found undefined alias": "alias YAML inconnu",
}


class FolderSource(Source):
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def description(self) -> str:
        return f"dossier {self.folder}"

    def read(self) -> KnowledgeBaseContent:
        check = Validator()
        if not self.folder.is_dir():
            check.error(str(self.folder), None, None, "dossier introuvable")
            return check.assemble(None, [], [], [])
        organisation = self._read_organisation(check)
        places = self._read_list(check, "places.yml", "places", PlaceIn)
        wards = self._read_list(check, "wards.yml", "wards", WardIn)
        articles = [a for path in sorted((self.folder / "articles").glob("*.md")) if (a := self._read_article(check, path))]
        if not (self.folder / "articles").is_dir():
            check.error("articles", None, None, "dossier des articles manquant")
        return check.assemble(organisation, places, wards, articles)

    def _name(self, path: Path) -> str:
        return display_path(path, self.folder)

    def _load(self, check: Validator, path: Path, text: str | None = None, first_line: int = 1) -> Any:
        name = self._name(path)
        try:
            if text is None:
                text = path.read_text(encoding="utf-8")
            return load_yaml(text)
        except FileNotFoundError:
            check.error(name, None, None, "fichier manquant")
        except UnicodeDecodeError:
            check.error(name, None, None, "le fichier n'est pas encodé en UTF-8")
        except yaml.reader.ReaderError as exc:  # a character YAML forbids (NUL, other control characters)
            line = text[: exc.position].count("\n") + first_line
            character = exc.character if isinstance(exc.character, int) else ord(exc.character or "\0")
            check.error(name, line, None, f"YAML mal formé : caractère interdit U+{character:04X} (à supprimer)")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            check.error(name, mark.line + first_line if mark else None, None, f"YAML mal formé : {_YAML_PROBLEMS.get(problem, problem)}")
        return None

    def _read_organisation(self, check: Validator) -> Located[OrganisationIn] | None:
        path = self.folder / "organisation.yml"
        data = self._load(check, path)
        return None if data is None else check.item(OrganisationIn, data, self._name(path), 1)

    def _read_list(self, check: Validator, filename: str, key: str, model: type[BaseModel]) -> list[Located]:
        path = self.folder / filename
        data = self._load(check, path)
        if data is None:
            return []
        if not isinstance(data, LinedDict) or not isinstance(data.get(key), LinedList):
            check.error(filename, 1, key, f"le fichier doit contenir une liste « {key}: »")
            return []
        items = data[key]
        located = (check.item(model, raw, filename, items.item_lines[i], f"{key}[{i}]") for i, raw in enumerate(items))
        return [item for item in located if item is not None]

    def _read_article(self, check: Validator, path: Path) -> Located[ArticleIn] | None:
        name = self._name(path)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            check.error(name, None, None, "le fichier n'est pas encodé en UTF-8")
            return None
        if not lines or lines[0].strip() != "---":
            check.error(name, 1, None, "l'article doit commencer par un en-tête entre deux lignes « --- »")
            return None
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            check.error(name, 1, None, "l'en-tête n'est pas fermé par une ligne « --- »")
            return None
        header = self._load(check, path, "\n".join(lines[1:end]), first_line=2)
        if header is None:
            return None
        if not isinstance(header, LinedDict):
            check.error(name, 2, None, "l'en-tête doit être une rubrique (clé: valeur)")
            return None
        _shift_lines(header, 1)
        data = LinedDict(header, body="\n".join(lines[end + 1 :]).strip())
        data.line, data.key_lines = 1, dict(header.key_lines, body=end + 2)
        if "slug" not in data:
            data["slug"] = path.stem
        return check.item(ArticleIn, data, name, 1)


def _shift_lines(node: Any, offset: int) -> None:
    """Front matter lines are counted from the file's start, not the header's."""
    if isinstance(node, LinedDict):
        node.line += offset
        node.key_lines = {key: line + offset for key, line in node.key_lines.items()}
        for value in node.values():
            _shift_lines(value, offset)
    elif isinstance(node, LinedList):
        node.line += offset
        node.item_lines = [line + offset for line in node.item_lines]
        for value in node:
            _shift_lines(value, offset)
