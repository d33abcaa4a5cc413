"""Reading and writing the editors' article files (`articles/*.md`: YAML front matter, then the French body).

An edit from the studio touches only what the editor changed: a front matter
value is replaced in place (its span found from PyYAML's node marks, its new
text rendered by PyYAML), the body is replaced between its leading and
trailing blank lines. Everything else in the file (other fields, comments,
quoting, line endings) stays byte for byte as the editor wrote it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ARTICLES_FOLDER = "articles"
_WIDTH = 10**9  # never fold a rendered value over several lines


class ArticleNotFound(LookupError):
    """No article file of that name in the source's `articles/` folder."""


class ArticleUnreadable(ValueError):
    """The file has no readable front matter: it cannot be edited from the studio (message in French)."""


@dataclass(frozen=True)
class ArticleEdit:
    """What an editor may change in an article from the studio."""

    title: str
    keywords: list[str]
    body: str
    updated_at: dt.date | None = None  # set the article's date (None keeps it)


@dataclass(frozen=True)
class ArticleFile:
    """One article file as the studio shows it; `problem` says (in French) why it cannot be edited."""

    name: str  # the file name without `.md`: the article's identifier in the studio's addresses
    path: Path
    fingerprint: str  # SHA-256 of the file's bytes, to notice a change made elsewhere meanwhile
    slug: str = ""
    title: str = ""
    topic: str = ""
    keywords: list[str] = field(default_factory=list)
    body: str = ""
    updated_at: dt.date | None = None
    problem: str | None = None

    @property
    def relative_path(self) -> str:
        return f"{ARTICLES_FOLDER}/{self.path.name}"


@dataclass(frozen=True)
class _Parts:
    """A file split into its opening line, front matter, closing line and body region (all with line ends)."""

    opening: str
    header: str
    closing: str
    body: str


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _split(text: str) -> _Parts:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ArticleUnreadable("l'article doit commencer par un en-tête entre deux lignes « --- »")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ArticleUnreadable("l'en-tête n'est pas fermé par une ligne « --- »")
    return _Parts(lines[0], "".join(lines[1:end]), lines[end], "".join(lines[end + 1 :]))


def _header_nodes(header: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    try:
        root = yaml.compose(header, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ArticleUnreadable(f"en-tête YAML mal formé ({getattr(exc, 'problem', None) or exc})") from exc
    if not isinstance(root, yaml.MappingNode):
        raise ArticleUnreadable("l'en-tête doit être une rubrique (clé: valeur)")
    return {str(key.value): (key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode)}


def _header_values(header: str) -> dict[str, Any]:
    try:
        values = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise ArticleUnreadable(f"en-tête YAML mal formé ({getattr(exc, 'problem', None) or exc})") from exc
    if not isinstance(values, dict):
        raise ArticleUnreadable("l'en-tête doit être une rubrique (clé: valeur)")
    return values


def _body_text(region: str) -> str:
    """The body as the knowledge base sees it (kb_sync's folder source strips it)."""
    return "\n".join(region.splitlines()).strip()


def _as_text_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def read_article(path: Path) -> ArticleFile:
    """Read one article file; a file the studio cannot parse comes back with `problem` set."""
    data = path.read_bytes()
    base = {"name": path.stem, "path": path, "fingerprint": fingerprint(data)}
    try:
        parts = _split(data.decode("utf-8"))
        values = _header_values(parts.header)
    except UnicodeDecodeError:
        return ArticleFile(**base, problem="le fichier n'est pas encodé en UTF-8")
    except ArticleUnreadable as exc:
        return ArticleFile(**base, problem=str(exc))
    updated_at = values.get("updated_at")
    return ArticleFile(
        **base,
        slug=str(values.get("slug") or path.stem),
        title=str(values.get("title") or ""),
        topic=str(values.get("topic") or ""),
        keywords=_as_text_list(values.get("keywords")),
        body=_body_text(parts.body),
        updated_at=updated_at if isinstance(updated_at, dt.date) else None,
    )


def articles_folder(source_folder: Path) -> Path:
    return Path(source_folder) / ARTICLES_FOLDER


def list_articles(source_folder: Path) -> list[ArticleFile]:
    """Every article file of a folder source, sorted by file name."""
    return [read_article(path) for path in sorted(articles_folder(source_folder).glob("*.md"))]


def find_article(source_folder: Path, name: str) -> ArticleFile:
    """The article file `name` (without `.md`), looked up among the folder's files (never a path built from input)."""
    for path in sorted(articles_folder(source_folder).glob("*.md")):
        if path.stem == name:
            return read_article(path)
    raise ArticleNotFound(name)


# --- rendering an edit --------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """A value as one line of YAML, quoted when needed (PyYAML decides)."""
    return yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=_WIDTH).strip()[1:-1]


def _render(key: str, value: Any, old: yaml.Node | None) -> str:
    if isinstance(value, list):
        if not value or old is None or not isinstance(old, yaml.SequenceNode) or old.flow_style:
            return f"{key}: [{', '.join(_scalar(item) for item in value)}]"
        indent = " " * (old.value[0].start_mark.column - 2 if old.value else 2)
        return f"{key}:" + "".join(f"\n{indent}- {_scalar(item)}" for item in value)
    rendered = yaml.safe_dump({key: value}, default_flow_style=False, allow_unicode=True, width=_WIDTH, sort_keys=False)
    return rendered.rstrip("\n")


def _value_end(node: yaml.Node, header: str) -> int:
    """Where a value's own text ends: a block sequence's end mark would swallow the comments after it."""
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _value_end(last[1] if isinstance(last, tuple) else last, header)
    start, end = node.start_mark.index, node.end_mark.index
    return start + len(header[start:end].rstrip())


def _replace_fields(header: str, changes: dict[str, Any], newline: str) -> str:
    nodes = _header_nodes(header)
    spans = []
    additions = []
    for key, value in changes.items():
        if key in nodes:
            key_node, value_node = nodes[key]
            spans.append((key_node.start_mark.index, _value_end(value_node, header), _render(key, value, value_node)))
        else:
            additions.append(_render(key, value, None))
    for start, end, text in sorted(spans, reverse=True):
        header = header[:start] + text.replace("\n", newline) + header[end:]
    if additions:
        if header and not header.endswith(("\n", "\r")):
            header += newline
        header += "".join(text.replace("\n", newline) + newline for text in additions)
    return header


def normalise_body(text: str) -> str:
    """The body as typed in a browser (CRLF line ends, stray blank lines around it) in the file's terms."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).strip()


def render_edit(text: str, edit: ArticleEdit) -> str:
    """The file's new text after `edit`; only the values that differ are rewritten."""
    parts = _split(text)
    values = _header_values(parts.header)
    newline = "\r\n" if "\r\n" in text else "\n"
    changes: dict[str, Any] = {}
    title = " ".join(edit.title.split())
    if title != str(values.get("title") or ""):
        changes["title"] = title
    keywords = [k for k in (" ".join(k.split()) for k in edit.keywords) if k]
    if keywords != _as_text_list(values.get("keywords")) and (keywords or "keywords" in values):
        changes["keywords"] = keywords
    if edit.updated_at is not None and edit.updated_at != values.get("updated_at"):
        changes["updated_at"] = edit.updated_at
    header = _replace_fields(parts.header, changes, newline) if changes else parts.header
    closing, body_region = parts.closing, parts.body
    body = normalise_body(edit.body)
    if body != _body_text(parts.body):
        lead = re.match(r"\s*", parts.body).group()
        trail = re.search(r"\s*\Z", parts.body).group() if parts.body.strip() else ""
        body_region = lead + body.replace("\n", newline) + (trail or newline)
        if not closing.endswith(("\n", "\r")):
            closing += newline
    return parts.opening + header + closing + body_region


def changed_fields(before: ArticleFile, after: ArticleFile) -> list[str]:
    """The names of the fields that differ between two readings of an article."""
    names = ["title", "keywords", "body", "updated_at"]
    return [name for name in names if getattr(before, name) != getattr(after, name)]
