"""Conversation evaluation: held-out patients' conversations put to a running assistant through the REST webhook.

The conversations (tests/conversations/*.yml, never trained on) were written
from patients' situations and the demo hospital's facts, in four styles
(written, oral, SMS, voice transcript), for the hospital's clock `CLOCK`. Each
turn checks the facts of the answer: `expect_all` (every fragment), `expect_any`
(one at least), `expect_none` (none). Matching is accent- and case-blind, and a
fragment starting with a digit must not continue a number ("8h" is not in "18h").

A conversation succeeds when every turn is right. The report (summary.json and
failed.md) gives conversation success and turn accuracy, overall and per style
and per file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import requests
import yaml

from accueil.gate import TARGET_CONVERSATION_SUCCESS as TARGET_SUCCESS
from core.ports import free_port
from core.settings import PROJECT_ROOT, Settings
from kb_sync.french import match_form as fold

CONVERSATIONS_DIR = PROJECT_ROOT / "tests" / "conversations"
# The facts the conversations check are the demo hospital's.
DEMO_SOURCE = PROJECT_ROOT / "kb_content" / "valmont"
# The set was written for this moment: a Tuesday at 22:00, every service but the switchboard and the emergencies closed.
CLOCK = dt.datetime(2026, 11, 24, 22, 0)
STYLES = ("ecrit", "oral", "sms", "voix")

Ask = Callable[[str, str], list[dict]]  # (sender, message) -> the assistant's messages


class ConversationFileError(ValueError):
    pass


def contains(text: str, fragment: str) -> bool:
    """Accent- and case-blind; a fragment starting with a digit must not continue a number."""
    needle = fold(fragment).strip()
    pattern = r"(?<![a-z0-9])" + re.escape(needle) if fragment[:1].isalnum() else re.escape(needle)
    return re.search(pattern, fold(text)) is not None


def load(folder: Path = CONVERSATIONS_DIR) -> list[dict]:
    """Every conversation of the folder's YAML files, with its file name; a malformed one names file and id."""
    conversations, seen = [], set()
    for path in sorted(folder.glob("*.yml")):
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        for index, item in enumerate(items):
            where = f"{path.name}, conversation {index + 1} ({item.get('id', '?') if isinstance(item, dict) else '?'})"
            if not isinstance(item, dict) or not item.get("id") or not item.get("turns"):
                raise ConversationFileError(f"{where}: needs `id` and `turns`")
            if item["id"] in seen:
                raise ConversationFileError(f"{where}: the id is used twice")
            if item.get("style") not in STYLES:
                raise ConversationFileError(f"{where}: `style` must be one of {', '.join(STYLES)}")
            for turn in item["turns"]:
                if not isinstance(turn, dict) or not isinstance(turn.get("user"), str):
                    raise ConversationFileError(f"{where}: every turn needs a `user` text")
            seen.add(item["id"])
            conversations.append({**item, "file": path.name})
    return conversations


@dataclass
class TurnResult:
    user: str
    reply: str
    missing: list[str] = field(default_factory=list)  # expect_all fragments not found
    none_of: list[str] = field(default_factory=list)  # expect_any, when none was found
    unexpected: list[str] = field(default_factory=list)  # expect_none fragments found

    @property
    def ok(self) -> bool:
        return bool(self.reply.strip()) and not (self.missing or self.none_of or self.unexpected)


@dataclass
class ConversationResult:
    id: str
    file: str
    style: str
    situation: str
    turns: list[TurnResult]

    @property
    def ok(self) -> bool:
        return all(turn.ok for turn in self.turns)


def check(turn: dict, messages: list[dict]) -> TurnResult:
    reply = "\n".join(m.get("text") or "" for m in messages)
    result = TurnResult(user=turn["user"], reply=reply)
    result.missing = [f for f in turn.get("expect_all") or [] if not contains(reply, f)]
    expect_any = turn.get("expect_any") or []
    if expect_any and not any(contains(reply, f) for f in expect_any):
        result.none_of = list(expect_any)
    result.unexpected = [f for f in turn.get("expect_none") or [] if contains(reply, f)]
    return result


def run_one(ask: Ask, conversation: dict) -> ConversationResult:
    sender = f"eval-{uuid.uuid4().hex}"
    turns = [check(turn, ask(sender, turn["user"])) for turn in conversation["turns"]]
    return ConversationResult(conversation["id"], conversation["file"], conversation["style"], conversation.get("situation", ""), turns)


def rest_asker(rasa_url: str, timeout: float = 30) -> Ask:
    """Asks through Rasa's REST webhook, as the web widget's server does."""
    session = requests.Session()

    def ask(sender: str, message: str) -> list[dict]:
        response = session.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout)
        response.raise_for_status()
        return response.json()

    return ask


def run_all(ask: Ask, conversations: Iterable[dict], progress: Callable[[int, int], None] | None = None) -> list[ConversationResult]:
    items = list(conversations)
    results = []
    for done, conversation in enumerate(items, 1):
        results.append(run_one(ask, conversation))
        if progress:
            progress(done, len(items))
    return results


def _rates(results: list[ConversationResult]) -> dict:
    turns = [t for r in results for t in r.turns]
    return {
        "conversations": len(results),
        "conversations_ok": sum(r.ok for r in results),
        "conversation_success": round(sum(r.ok for r in results) / len(results), 4) if results else 0.0,
        "turns": len(turns),
        "turns_ok": sum(t.ok for t in turns),
        "turn_accuracy": round(sum(t.ok for t in turns) / len(turns), 4) if turns else 0.0,
    }


def summarise(results: list[ConversationResult]) -> dict:
    by_style, by_file = defaultdict(list), defaultdict(list)
    for result in results:
        by_style[result.style].append(result)
        by_file[result.file].append(result)
    return {
        **_rates(results),
        "target_conversation_success": TARGET_SUCCESS,
        "by_style": {style: _rates(items) for style, items in sorted(by_style.items())},
        "by_file": {name: _rates(items) for name, items in sorted(by_file.items())},
        "failed": [r.id for r in results if not r.ok],
    }


def failed_report(results: list[ConversationResult]) -> str:
    """The failed conversations, turn by turn, in Markdown."""
    lines = ["# Conversations échouées", ""]
    for result in (r for r in results if not r.ok):
        lines += [f"## {result.id} ({result.file}, {result.style})", "", f"_{result.situation}_", ""]
        for turn in result.turns:
            lines.append(f"- {'✅' if turn.ok else '❌'} **Patient :** {turn.user}")
            lines.append("  **Assistant :** " + (turn.reply.replace("\n", " / ") or "(aucune réponse)"))
            for label, values in (("manque", turn.missing), ("aucun de", turn.none_of), ("ne devait pas dire", turn.unexpected)):
                if values:
                    lines.append(f"  *{label} :* {', '.join(values)}")
        lines.append("")
    return "\n".join(lines)


def write_report(results: list[ConversationResult], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarise(results)
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (out_dir / "failed.md").write_text(failed_report(results), encoding="utf-8")
    (out_dir / "results.json").write_text(
        json.dumps([{**asdict(r), "ok": r.ok} for r in results], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return summary


def measure(settings: Settings, model: Path, out_dir: Path, progress: Callable[[int, int], None] | None = None) -> dict:
    """Runs the set against `model`: its own action server and Rasa server on free loopback ports, a fresh copy of
    the demo knowledge base, the set's clock; writes the report in `out_dir` and returns its summary."""
    from accueil.servers import action_server, rasa_server, running
    from kb_sync.sources import FolderSource
    from kb_sync.sync import sync

    with tempfile.TemporaryDirectory(prefix="accueil-conversations-") as folder:
        var = Path(folder)
        isolated = settings.copy(
            update={
                "var_dir": var, "db_url": f"sqlite:///{var / 'kb.db'}", "tracker_db_url": None, "clock": CLOCK,
                "host": "127.0.0.1", "rasa_port": free_port(), "rasa_replica_port": free_port(), "actions_port": free_port(),
                "public_host": "127.0.0.1", "public_rasa_port": free_port(),
                "rate_limit_address": 0,  # a private server, that this one client questions as fast as it answers
            }
        )  # fmt: skip
        sync(FolderSource(DEMO_SOURCE), isolated.db_url)
        servers = [action_server(isolated, var), rasa_server(isolated, model, var)]
        with running(servers, timeout=settings.startup_timeout):
            results = run_all(rest_asker(f"http://127.0.0.1:{isolated.rasa_port}"), load(), progress)
    return write_report(results, out_dir)
