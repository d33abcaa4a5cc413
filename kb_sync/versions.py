"""Knowledge base versions: a snapshot and checksum of the content, and what changed between two."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb_sync.content import KnowledgeBaseContent
from kb_sync.models import KbVersion

# How each kind of item is named in a diff, in the editors' words.
KINDS = {"places": "lieu", "wards": "service", "articles": "article"}


def snapshot(content: KnowledgeBaseContent) -> dict:
    """The content as plain JSON data (times as HH:MM:SS, dates ISO), enough to restore it."""
    return json.loads(content.json())


def checksum(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> list[str]:
        return [f"+ {n}" for n in self.added] + [f"~ {n}" for n in self.changed] + [f"- {n}" for n in self.removed]


def diff(old: dict | None, new: dict) -> Changes:
    """Item by item (by slug): what `new` adds, changes and removes compared with `old`."""
    old = old or {"organisation": None, "places": [], "wards": [], "articles": []}
    changes = Changes()
    if old["organisation"] != new["organisation"]:
        (changes.changed if old["organisation"] else changes.added).append("établissement")
    for key, kind in KINDS.items():
        before = {item["slug"]: item for item in old[key]}
        after = {item["slug"]: item for item in new[key]}
        changes.added += [f"{kind} {slug}" for slug in after if slug not in before]
        changes.changed += [f"{kind} {slug}" for slug in after if slug in before and before[slug] != after[slug]]
        changes.removed += [f"{kind} {slug}" for slug in before if slug not in after]
    return changes


def latest_version(session: Session) -> KbVersion | None:
    return session.execute(select(KbVersion).order_by(KbVersion.id.desc()).limit(1)).scalars().first()


def all_versions(session: Session) -> list[KbVersion]:
    return list(session.execute(select(KbVersion).order_by(KbVersion.id.desc())).scalars())
