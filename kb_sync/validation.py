"""Validation shared by every source: item by item with positions, then checks across items.

A source reads raw items (dicts, with the file/row and line they come from),
validates each with `Validator.item`, and hands the valid ones to
`Validator.assemble`, which checks what spans items (unique slugs, one default
ward, internal references) and raises `ContentInvalid` listing every error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from kb_sync.content import ArticleIn, KnowledgeBaseContent, OrganisationIn, PlaceIn, WardIn
from kb_sync.errors import ContentError, ContentInvalid, french_message
from kb_sync.yaml_lines import line_of

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Located(Generic[Model]):
    """A valid item and where it was read: a file (or sheet, or URL) and a line (or row)."""

    item: Model
    source: str
    line: int | None
    field_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int | None:
        return self.field_lines.get(name, self.line)


def field_path(prefix: str, loc: tuple) -> str | None:
    parts = [prefix] if prefix else []
    parts += [f"[{p}]" if isinstance(p, int) else str(p) for p in loc if p != "__root__"]
    return ".".join(parts).replace(".[", "[") or None


class Validator:
    """Collects every error of one read, so the editor sees them all at once."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def error(self, source: str, line: int | None, field: str | None, message: str) -> None:
        self.errors.append(ContentError(source, line, field, message))

    def item(self, model: type[Model], data: Any, source: str, line: int | None, prefix: str = "") -> Located[Model] | None:
        """Validate one raw item; `data` may carry line numbers (yaml_lines) for precise errors."""
        if not isinstance(data, dict):
            self.error(source, line, prefix or None, "une rubrique (clé: valeur) est attendue")
            return None
        try:
            return Located(model.parse_obj(data), source, line, dict(getattr(data, "key_lines", {})))
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                self.error(
                    source,
                    line_of(data, [p for p in loc if p != "__root__"], default=line),
                    field_path(prefix, loc),
                    french_message(error["type"], error["msg"]),
                )
            return None

    def assemble(
        self,
        organisation: Located[OrganisationIn] | None,
        places: list[Located[PlaceIn]],
        wards: list[Located[WardIn]],
        articles: list[Located[ArticleIn]],
    ) -> KnowledgeBaseContent:
        """Checks across items, then the content; raises `ContentInvalid` if anything is wrong."""
        for kind, items in (("lieu", places), ("service", wards), ("article", articles)):
            self._unique_slugs(kind, items)
        self._one_default_ward(wards)
        self._related_articles_exist(articles)
        if organisation is None and not self.errors:
            self.error("organisation", None, None, "l'établissement (nom, adresse, standard) manque")
        if self.errors:
            raise ContentInvalid(self.errors)
        return KnowledgeBaseContent(
            organisation=organisation.item,
            places=[p.item for p in places],
            wards=[w.item for w in wards],
            articles=[a.item for a in articles],
        )

    def _unique_slugs(self, kind: str, items: list[Located]) -> None:
        seen: dict[str, Located] = {}
        for located in items:
            first = seen.setdefault(located.item.slug, located)
            if first is not located:
                where = first.source if first.source != located.source else f"ligne {first.line}"
                self.error(located.source, located.line_of("slug"), "slug", f"identifiant de {kind} « {located.item.slug} » déjà utilisé ({where})")

    def _one_default_ward(self, wards: list[Located[WardIn]]) -> None:
        defaults = [w for w in wards if w.item.default]
        if wards and len(defaults) != 1:
            where = defaults[1] if len(defaults) > 1 else wards[0]
            self.error(
                where.source,
                where.line,
                "default",
                "exactement un service doit porter « default: true » (les services d'hospitalisation en général)",
            )

    def _related_articles_exist(self, articles: list[Located[ArticleIn]]) -> None:
        slugs = {a.item.slug for a in articles}
        for located in articles:
            for slug in located.item.related:
                if slug not in slugs:
                    self.error(located.source, located.line_of("related"), "related", f"l'article « {slug} » n'existe pas")
