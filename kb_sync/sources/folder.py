"""The default source: a folder of YAML files and Markdown articles with front matter.

Layout of the folder:
    organisation.yml        the hospital (name, address, switchboard…)
    places.yml              `places:` list, each with opening hours
    wards.yml               `wards:` list, each with visiting rules
    articles/*.md           one article a file: YAML front matter, then the French body
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from kb_sync.content import ArticleIn, KnowledgeBaseContent, OrganisationIn, PlaceIn, WardIn
from kb_sync.errors import ContentError, ContentInvalid, display_path, french_message
from kb_sync.sources.base import Source
from kb_sync.yaml_lines import LinedDict, LinedList, line_of, load_yaml

Model = TypeVar("Model", bound=BaseModel)

_YAML_PROBLEMS = {
    "mapping values are not allowed here": "un « : » inattendu (mettez le texte entre guillemets s'il contient « : »)",
    "found character '\\t' that cannot start any token": "une tabulation : utilisez des espaces pour l'indentation",
    "could not find expected ':'": "un « : » manque après le nom du champ",
    "found undefined alias": "alias YAML inconnu",
}


class FolderSource(Source):
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._errors: list[ContentError] = []

    @property
    def description(self) -> str:
        return f"dossier {self.folder}"

    def read(self) -> KnowledgeBaseContent:
        self._errors = []
        if not self.folder.is_dir():
            raise ContentInvalid([ContentError(str(self.folder), None, None, "dossier introuvable")])
        organisation = self._read_organisation()
        places = self._read_list("places.yml", "places", PlaceIn)
        wards = self._read_list("wards.yml", "wards", WardIn)
        articles = self._read_articles()
        self._check_unique(places, "places")
        self._check_unique(wards, "wards")
        self._check_unique_articles(articles)
        self._check_one_default_ward(wards)
        if self._errors:
            raise ContentInvalid(self._errors)
        return KnowledgeBaseContent(
            organisation=organisation,
            places=[item for item, _ in places],
            wards=[item for item, _ in wards],
            articles=[item for item, _ in articles],
        )

    # -- files -----------------------------------------------------------

    def _name(self, path: Path) -> str:
        return display_path(path, self.folder)

    def _load(self, path: Path, text: str | None = None, first_line: int = 1) -> Any:
        name = self._name(path)
        try:
            if text is None:
                text = path.read_text(encoding="utf-8")
            return load_yaml(text)
        except FileNotFoundError:
            self._errors.append(ContentError(name, None, None, "fichier manquant"))
        except UnicodeDecodeError:
            self._errors.append(ContentError(name, None, None, "le fichier n'est pas encodé en UTF-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + first_line if mark is not None else None
            problem = _YAML_PROBLEMS.get(getattr(exc, "problem", None) or "", getattr(exc, "problem", None) or str(exc))
            self._errors.append(ContentError(name, line, None, f"YAML mal formé : {problem}"))
        return None

    def _validate(self, model: type[Model], data: Any, name: str, prefix: str, line: int | None) -> Model | None:
        if not isinstance(data, dict):
            self._errors.append(ContentError(name, line, prefix or None, "une rubrique (clé: valeur) est attendue"))
            return None
        try:
            return model.parse_obj(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = [part for part in error["loc"] if part != "__root__"]
                parts = ([prefix] if prefix else []) + [str(p) if not isinstance(p, int) else f"[{p}]" for p in loc]
                field = ".".join(parts).replace(".[", "[") or None
                self._errors.append(
                    ContentError(name, line_of(data, loc, default=line), field, french_message(error["type"], error["msg"]))
                )
            return None

    def _read_organisation(self) -> OrganisationIn | None:
        path = self.folder / "organisation.yml"
        data = self._load(path)
        if data is None:
            return None
        return self._validate(OrganisationIn, data, self._name(path), "", 1)

    def _read_list(self, filename: str, key: str, model: type[Model]) -> list[tuple[Model, tuple[str, int]]]:
        path = self.folder / filename
        data = self._load(path)
        if data is None:
            return []
        name = self._name(path)
        if not isinstance(data, LinedDict) or not isinstance(data.get(key), LinedList):
            self._errors.append(ContentError(name, 1, key, f"le fichier doit contenir une liste « {key}: »"))
            return []
        items = data[key]
        result = []
        for index, raw in enumerate(items):
            item = self._validate(model, raw, name, f"{key}[{index}]", items.item_lines[index])
            if item is not None:
                result.append((item, (name, items.item_lines[index])))
        return result

    def _read_articles(self) -> list[tuple[ArticleIn, tuple[str, int]]]:
        folder = self.folder / "articles"
        if not folder.is_dir():
            self._errors.append(ContentError(self._name(folder), None, None, "dossier des articles manquant"))
            return []
        articles = []
        for path in sorted(folder.glob("*.md")):
            article = self._read_article(path)
            if article is not None:
                articles.append((article, (self._name(path), 1)))
        return articles

    def _read_article(self, path: Path) -> ArticleIn | None:
        name = self._name(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self._errors.append(ContentError(name, None, None, "le fichier n'est pas encodé en UTF-8"))
            return None
        lines = text.splitlines()
        if not lines or lines[0].strip() != "---":
            self._errors.append(ContentError(name, 1, None, "l'article doit commencer par un en-tête entre deux lignes « --- »"))
            return None
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            self._errors.append(ContentError(name, 1, None, "l'en-tête n'est pas fermé par une ligne « --- »"))
            return None
        header = self._load(path, "\n".join(lines[1:end]), first_line=2)
        if header is None:
            return None
        if not isinstance(header, LinedDict):
            self._errors.append(ContentError(name, 2, None, "l'en-tête doit être une rubrique (clé: valeur)"))
            return None
        _shift_lines(header, 1)
        body = "\n".join(lines[end + 1 :]).strip()
        data = LinedDict(header, body=body)
        data.line, data.key_lines = header.line, dict(header.key_lines, body=end + 2)
        if "slug" not in data:
            data["slug"] = path.stem
            data.key_lines["slug"] = 1
        return self._validate(ArticleIn, data, name, "", 1)

    # -- checks across items --------------------------------------------

    def _check_unique(self, items: list[tuple[Any, tuple[str, int]]], key: str) -> None:
        seen: dict[str, int] = {}
        for item, (name, line) in items:
            if item.slug in seen:
                self._errors.append(
                    ContentError(name, line, f"{key}.slug", f"identifiant « {item.slug} » déjà utilisé ligne {seen[item.slug]}")
                )
            seen.setdefault(item.slug, line)

    def _check_unique_articles(self, articles: list[tuple[ArticleIn, tuple[str, int]]]) -> None:
        seen: dict[str, str] = {}
        for article, (name, _line) in articles:
            if article.slug in seen:
                self._errors.append(
                    ContentError(name, 1, "slug", f"identifiant « {article.slug} » déjà utilisé dans {seen[article.slug]}")
                )
            seen.setdefault(article.slug, name)

    def _check_one_default_ward(self, wards: list[tuple[WardIn, tuple[str, int]]]) -> None:
        if not wards:
            return
        defaults = [(ward, where) for ward, where in wards if ward.default]
        if len(defaults) != 1:
            name, line = defaults[1][1] if len(defaults) > 1 else wards[0][1]
            self._errors.append(
                ContentError(name, line, "wards.default", "exactement un service doit porter « default: true » (les services d'hospitalisation en général)")
            )


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
