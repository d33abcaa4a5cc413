"""The studio's knowledge base logic: versions and their diffs, dry run then sync, article edits written back.

Everything goes through `kb_sync` (sources, validation, versions, sync); this
module adds what the editors' pages need on top: field-level French diffs of
two snapshots, a dry run whose result is confirmed before syncing, and the
write-back of an article to the editors' folder, undone when the sync finds
the content invalid.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import inspect, select

from core.settings import Settings
from kb_sync.content import KnowledgeBaseContent
from kb_sync.errors import ContentInvalid
from kb_sync.models import KbVersion
from kb_sync.sources import FolderSource, HttpJsonSource, SpreadsheetSource, configured_source
from kb_sync.sources.base import Source
from kb_sync.sync import UnknownVersion, sync
from kb_sync.versions import checksum, latest_version, snapshot
from store.engine import get_engine, session_factory
from studio.article_sources import (
    ArticleEdit,
    ArticleFile,
    ArticleNotFound,
    ArticleUnreadable,
    changed_fields,
    find_article,
    list_articles,
    read_article,
    render_edit,
)
from studio.files import write_atomically

__all__ = [
    "ArticleNotFound",
    "ArticleUnreadable",
    "UnknownVersion",
    "SourceNotEditable",
    "source_info",
    "current_version",
    "history",
    "version_comparison",
    "compare_snapshots",
    "text_diff",
    "preview_sync",
    "run_sync",
    "article_rows",
    "editable_article",
    "save_article",
]

# One sync or article write at a time in this process (waitress serves requests on several threads).
_SOURCE_LOCK = threading.Lock()

# --- French labels ------------------------------------------------------------------------------

KIND_LABELS = {"organisation": "établissement", "places": "lieu", "wards": "service", "articles": "article"}

FIELD_LABELS = {
    "name": "nom",
    "short_name": "nom court",
    "address": "adresse",
    "switchboard_phone": "téléphone du standard",
    "switchboard_hours": "horaires du standard",
    "patient_portal": "portail patient",
    "synonyms": "synonymes",
    "location": "emplacement",
    "phone": "téléphone",
    "always_open": "ouvert en permanence",
    "hours": "horaires",
    "note": "remarque",
    "default": "règles générales (service par défaut)",
    "rules": "règles de visite",
    "topic": "thème",
    "title": "titre",
    "body": "texte",
    "keywords": "mots-clés",
    "related": "articles liés",
    "source": "source",
    "updated_at": "date de mise à jour",
    "show_updated_at": "date affichée aux patients",
    "slug": "identifiant",
    # inside opening hours and visiting rules
    "days": "jours",
    "opens": "ouverture",
    "closes": "fermeture",
    "audience": "public",
    "all_day": "toute la journée",
    "max_visitors": "visiteurs à la fois",
    "min_age": "âge minimum",
}

TOPIC_LABELS = {
    "acces": "Accès",
    "contacts": "Contacts",
    "horaires": "Horaires",
    "visites": "Visites",
    "preoperatoire": "Avant une opération",
    "admission": "Admission",
    "facturation": "Facturation",
    "documents": "Documents",
    "rendez-vous": "Rendez-vous",
    "securite": "Sécurité",
}

_COUNT_WORDS = {"places": ("lieu", "lieux"), "wards": ("service", "services"), "articles": ("article", "articles")}


def counts_text(counts: dict[str, int]) -> str:
    """{"places": 9, "wards": 4, "articles": 32} -> "9 lieux, 4 services, 32 articles"."""
    parts = []
    for key, (one, many) in _COUNT_WORDS.items():
        if key in counts:
            parts.append(f"{counts[key]} {one if counts[key] <= 1 else many}")
    return ", ".join(parts)


# --- the source ---------------------------------------------------------------------------------


class SourceNotEditable(Exception):
    """Articles of spreadsheet and URL sources are edited there, not in the studio."""


@dataclass(frozen=True)
class SourceInfo:
    """Where the editors' content comes from, and whether the studio can write articles back into it."""

    spec: str
    description: str
    kind: str  # in French
    folder: Path | None  # the YAML/Markdown folder, when the articles can be edited here

    @property
    def editable(self) -> bool:
        return self.folder is not None


def _source(settings: Settings) -> Source:
    return configured_source(settings)


def source_info(settings: Settings) -> SourceInfo:
    source = _source(settings)
    if isinstance(source, FolderSource):
        return SourceInfo(settings.kb_source, source.description, "dossier YAML et Markdown", source.folder)
    if isinstance(source, SpreadsheetSource):
        kind = "classeur Excel" if source.path.suffix.lower() in (".xlsx", ".xlsm") else "dossier de fichiers CSV"
        return SourceInfo(settings.kb_source, source.description, kind, None)
    kind = "adresse web (JSON)" if isinstance(source, HttpJsonSource) else "source externe"
    return SourceInfo(settings.kb_source, source.description, kind, None)


class _Loaded(Source):
    """Content already read and validated, handed to `kb_sync.sync` so what is written is what was checked."""

    def __init__(self, content: KnowledgeBaseContent, description: str):
        self._content = content
        self._description = description

    @property
    def description(self) -> str:
        return self._description

    def read(self) -> KnowledgeBaseContent:
        return self._content


# --- versions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInfo:
    id: int
    created_at: dt.datetime  # the hospital's local time
    source: str
    counts: dict[str, int]
    checksum: str
    added: int
    changed: int
    removed: int

    @property
    def counts_text(self) -> str:
        return counts_text(self.counts)


def _local_time(utc: dt.datetime, settings: Settings) -> dt.datetime:
    return utc.replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(settings.timezone)).replace(tzinfo=None)


def _info(version: KbVersion, settings: Settings) -> VersionInfo:
    changes = version.changes or {}
    return VersionInfo(
        id=version.id,
        created_at=_local_time(version.created_at, settings),
        source=version.source,
        counts=dict(version.counts or {}),
        checksum=version.checksum,
        added=len(changes.get("added", [])),
        changed=len(changes.get("changed", [])),
        removed=len(changes.get("removed", [])),
    )


def _has_versions_table(db_url: str) -> bool:
    """Read-only pages do not create the schema: no table yet simply means no version yet."""
    return inspect(get_engine(db_url)).has_table(KbVersion.__table__.name)


def current_version(settings: Settings) -> VersionInfo | None:
    if not _has_versions_table(settings.db_url):
        return None
    with session_factory(settings.db_url)() as session:
        latest = latest_version(session)
        return _info(latest, settings) if latest else None


def history(settings: Settings, limit: int = 200) -> list[VersionInfo]:
    """The versions, newest first."""
    if not _has_versions_table(settings.db_url):
        return []
    with session_factory(settings.db_url)() as session:
        rows = session.execute(select(KbVersion).order_by(KbVersion.id.desc()).limit(limit)).scalars()
        return [_info(v, settings) for v in rows]


# --- diffs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed", "added", or "gap" (unchanged lines left out)
    segments: tuple[Segment, ...] = ()

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True)
class FieldDiff:
    key: str
    label: str
    lines: list[DiffLine]


@dataclass(frozen=True)
class ItemDiff:
    kind: str  # "établissement", "lieu", "service", "article"
    slug: str
    name: str
    fields: list[FieldDiff] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.slug}" if self.slug else self.kind


@dataclass(frozen=True)
class ContentDiff:
    added: list[ItemDiff] = field(default_factory=list)
    changed: list[ItemDiff] = field(default_factory=list)
    removed: list[ItemDiff] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return f"{len(self.added)} ajout(s), {len(self.changed)} modification(s), {len(self.removed)} suppression(s)"


_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")
_TIME = re.compile(r"^\d{2}:\d{2}:00$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _words(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Two versions of one line, their differing words marked."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), tag != "equal"))
    return _merge(left), _merge(right)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for segment in segments:
        if merged and merged[-1].changed == segment.changed:
            merged[-1] = Segment(merged[-1].text + segment.text, segment.changed)
        else:
            merged.append(segment)
    return tuple(merged)


def text_diff(old: str, new: str, context: int = 2) -> list[DiffLine]:
    """A readable line diff of two texts; replaced lines show which words changed."""
    a, b = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if lines or (group and (group[0][1] > 0 or group[0][3] > 0)):
            lines.append(DiffLine("gap"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine("same", (Segment(line, False),)) for line in a[i1:i2]]
                continue
            removed, added = a[i1:i2], b[j1:j2]
            pairs = min(len(removed), len(added)) if tag == "replace" else 0
            marked = [_words(removed[k], added[k]) for k in range(pairs)]
            lines += [DiffLine("removed", left) for left, _ in marked]
            lines += [DiffLine("removed", (Segment(line, True),)) for line in removed[pairs:]]
            lines += [DiffLine("added", right) for _, right in marked]
            lines += [DiffLine("added", (Segment(line, True),)) for line in added[pairs:]]
    return lines


def _scalar_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    text = str(value)
    if _TIME.match(text):
        return text[:5]
    if match := _DATE.match(text):
        return f"{match[3]}/{match[2]}/{match[1]}"
    return text


def _value_text(value: Any) -> str:
    """A snapshot value as text for a diff: lists one item a line, sub-records as « label : value » pairs."""
    if isinstance(value, list):
        return "\n".join(_value_text(item) for item in value)
    if isinstance(value, dict):
        pairs = [f"{FIELD_LABELS.get(k, k)} : {_scalar_text(v)}" for k, v in value.items() if v not in (None, False, [])]
        return " ; ".join(pairs)
    return _scalar_text(value)


def _field_diffs(old: dict, new: dict) -> list[FieldDiff]:
    keys = list(dict.fromkeys([*new, *old]))
    return [
        FieldDiff(key, FIELD_LABELS.get(key, key), text_diff(_value_text(old.get(key)), _value_text(new.get(key))))
        for key in keys
        if old.get(key) != new.get(key)
    ]


def _name(kind: str, item: dict) -> str:
    return str(item.get("title") if kind == "articles" else item.get("name") or "")


def compare_snapshots(old: dict | None, new: dict | None) -> ContentDiff:
    """Item by item (by slug, as `kb_sync.versions.diff`), with a text diff of each changed field."""
    empty = {"organisation": None, "places": [], "wards": [], "articles": []}
    old, new = old or empty, new or empty
    result = ContentDiff()
    before_org, after_org = old.get("organisation"), new.get("organisation")
    if before_org != after_org:
        kind = KIND_LABELS["organisation"]
        if not before_org:
            result.added.append(ItemDiff(kind, "", str(after_org.get("name", ""))))
        elif not after_org:
            result.removed.append(ItemDiff(kind, "", str(before_org.get("name", ""))))
        else:
            result.changed.append(ItemDiff(kind, "", str(after_org.get("name", "")), _field_diffs(before_org, after_org)))
    for key in ("places", "wards", "articles"):
        kind = KIND_LABELS[key]
        before = {item["slug"]: item for item in old.get(key, [])}
        after = {item["slug"]: item for item in new.get(key, [])}
        result.added.extend(ItemDiff(kind, slug, _name(key, item)) for slug, item in after.items() if slug not in before)
        result.changed.extend(
            ItemDiff(kind, slug, _name(key, item), _field_diffs(before[slug], item))
            for slug, item in after.items()
            if slug in before and before[slug] != item
        )
        result.removed.extend(ItemDiff(kind, slug, _name(key, item)) for slug, item in before.items() if slug not in after)
    return result


@dataclass(frozen=True)
class VersionComparison:
    version: VersionInfo
    previous: VersionInfo | None
    diff: ContentDiff


def version_comparison(settings: Settings, version_id: int) -> VersionComparison:
    """Version `version_id` against the one before it; raises `UnknownVersion`."""
    if not _has_versions_table(settings.db_url):
        raise UnknownVersion(version_id)
    with session_factory(settings.db_url)() as session:
        version = session.get(KbVersion, version_id)
        if version is None:
            raise UnknownVersion(version_id)
        previous = (
            session.execute(select(KbVersion).where(KbVersion.id < version_id).order_by(KbVersion.id.desc()).limit(1))
            .scalars()
            .first()
        )
        return VersionComparison(
            _info(version, settings),
            _info(previous, settings) if previous else None,
            compare_snapshots(previous.snapshot if previous else None, version.snapshot),
        )


# --- dry run, then sync -------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncPreview:
    """What a sync would do now: the changes, or the French errors of invalid sources."""

    source: str
    errors: list[str] = field(default_factory=list)
    diff: ContentDiff = field(default_factory=ContentDiff)
    checksum: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> bool:
        return self.valid and not self.diff

    @property
    def counts_text(self) -> str:
        return counts_text(self.counts)


@dataclass(frozen=True)
class SyncOutcome:
    """What a confirmed sync did: `version` is the new version, None when nothing was written."""

    preview: SyncPreview
    version: int | None = None
    stale: bool = False  # the sources changed since the dry run: nothing written, `preview` shows the new changes

    @property
    def errors(self) -> list[str]:
        return self.preview.errors


def _latest_snapshot(db_url: str) -> tuple[str | None, dict | None]:
    if not _has_versions_table(db_url):
        return None, None
    with session_factory(db_url)() as session:
        latest = latest_version(session)
        return (latest.checksum, latest.snapshot) if latest else (None, None)


def _read(source: Source) -> tuple[KnowledgeBaseContent | None, SyncPreview]:
    try:
        content = source.read()
    except ContentInvalid as exc:
        return None, SyncPreview(source.description, errors=[str(error) for error in exc.errors])
    return content, SyncPreview(source.description)


def _preview(source: Source, db_url: str) -> tuple[KnowledgeBaseContent | None, SyncPreview]:
    content, preview = _read(source)
    if content is None:
        return None, preview
    data = snapshot(content)
    digest = checksum(data)
    latest_digest, latest_data = _latest_snapshot(db_url)
    diff = ContentDiff() if latest_digest == digest else compare_snapshots(latest_data, data)
    return content, SyncPreview(source.description, diff=diff, checksum=digest, counts=content.counts())


def preview_sync(settings: Settings) -> SyncPreview:
    """The dry run: validate the sources and compare them with the current version; nothing is written."""
    return _preview(_source(settings), settings.db_url)[1]


def run_sync(settings: Settings, expected_checksum: str | None = None) -> SyncOutcome:
    """Sync the sources, if they are still what the dry run showed (`expected_checksum`)."""
    with _SOURCE_LOCK:
        source = _source(settings)
        content, preview = _preview(source, settings.db_url)
        if content is None or preview.unchanged:
            return SyncOutcome(preview)
        if expected_checksum is not None and preview.checksum != expected_checksum:
            return SyncOutcome(preview, stale=True)
        report = sync(_Loaded(content, source.description), settings.db_url)
        return SyncOutcome(preview, version=report.version)


# --- articles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleRow:
    """One line of the articles list; `name` is set when the article can be edited in the studio."""

    slug: str
    title: str
    topic: str
    file: str | None = None
    name: str | None = None
    problem: str | None = None

    @property
    def topic_label(self) -> str:
        return TOPIC_LABELS.get(self.topic, self.topic)


def article_rows(settings: Settings) -> list[ArticleRow]:
    """The articles: from the editors' files for a folder source, else from the current version."""
    info = source_info(settings)
    if info.folder is not None:
        return [ArticleRow(a.slug, a.title, a.topic, a.relative_path, a.name, a.problem) for a in list_articles(info.folder)]
    _, data = _latest_snapshot(settings.db_url)
    articles = (data or {}).get("articles", [])
    return sorted((ArticleRow(a["slug"], a["title"], a["topic"]) for a in articles), key=lambda row: row.slug)


def editable_article(settings: Settings, name: str) -> ArticleFile:
    """The article file `name` of the folder source; raises `SourceNotEditable`, `ArticleNotFound`."""
    info = source_info(settings)
    if info.folder is None:
        raise SourceNotEditable(info.description)
    return find_article(info.folder, name)


@dataclass(frozen=True)
class ArticleSave:
    """The result of an article edit; when `errors` or `conflict`, the file is as it was."""

    article: ArticleFile
    fields: list[str] = field(default_factory=list)  # French labels of what changed
    file_diff: str = ""  # unified diff of the file, for the audit log
    version: int | None = None
    errors: list[str] = field(default_factory=list)
    conflict: bool = False

    @property
    def saved(self) -> bool:
        return bool(self.fields) and not self.errors and not self.conflict


def save_article(settings: Settings, name: str, edit: ArticleEdit, expected_fingerprint: str | None = None) -> ArticleSave:
    """Write `edit` into the article's file, then sync; restores the file when the sync finds the content invalid.

    Raises `SourceNotEditable`, `ArticleNotFound`, `ArticleUnreadable`.
    """
    with _SOURCE_LOCK:
        info = source_info(settings)
        if info.folder is None:
            raise SourceNotEditable(info.description)
        article = find_article(info.folder, name)
        if article.problem:
            raise ArticleUnreadable(article.problem)
        if expected_fingerprint and expected_fingerprint != article.fingerprint:
            return ArticleSave(article, conflict=True)
        original = article.path.read_bytes()
        text = original.decode("utf-8")
        new_text = render_edit(text, edit)
        if new_text == text:
            return ArticleSave(article)
        write_atomically(article.path, new_text.encode("utf-8"))
        try:
            source = FolderSource(info.folder)
            content, preview = _read(source)
            if content is None:
                write_atomically(article.path, original)
                return ArticleSave(article, errors=preview.errors)
            report = sync(_Loaded(content, source.description), settings.db_url)
        except BaseException:
            write_atomically(article.path, original)
            raise
        after = read_article(article.path)
    fields = [FIELD_LABELS[key] for key in changed_fields(article, after)] or ["mise en forme"]
    file_diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), new_text.splitlines(keepends=True), article.relative_path, article.relative_path, n=1
        )
    )
    return ArticleSave(after, fields, file_diff, report.version)
