"""Channel-aware wording: on the phone, answers are spoken, so no buttons, links or lists.

The actions write one full answer (web wording); `for_voice` turns the
dispatcher's messages into what the voice channel should say. The voice
channel is `bot.voice_channel.VoiceInput` (its name is "voice").
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from core.catalogue import VOICE_CHANNEL as VOICE

# Messages that only introduce links to other articles are dropped on the phone.
DROPPED_ON_VOICE = ("À voir aussi",)
URL = re.compile(r"https?://\S+")
MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\(https?://[^)\s]+\)")
UPDATE_LINE = re.compile(r"\n*Information mise à jour le [^\n]*")


def is_voice(tracker: Tracker) -> bool:
    return tracker.get_latest_input_channel() == VOICE


def spoken(text: str) -> str:
    """One paragraph to be spoken: list items joined, links and update dates dropped."""
    text = UPDATE_LINE.sub("", text)
    text = MARKDOWN_LINK.sub(r"\1", text)
    text = URL.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    parts: list[str] = []
    for line in lines:
        item = line[2:].strip() if line.startswith(("- ", "* ")) else None
        if item is not None and parts:
            previous = parts[-1].rstrip(" ;,.")
            parts[-1] = previous + (" " if previous.endswith(":") else ", ") + item.rstrip(" ;")
        else:
            parts.append(line)
    sentences = [p if p.endswith((".", "?", "!", ":")) else p + "." for p in parts]
    return " ".join(sentences)


def spoken_choices(titles: list[str]) -> str:
    if len(titles) == 1:
        return titles[0]
    return ", ".join(titles[:-1]) + " ou " + titles[-1]


def for_voice(messages: list[dict]) -> list[dict]:
    """The dispatcher's messages reworded for the phone: text only, buttons said as choices."""
    out: list[dict] = []
    for message in messages:
        text = message.get("text") or ""
        buttons = message.get("buttons") or []
        if text.startswith(DROPPED_ON_VOICE):
            continue
        if message.get("response") or message.get("custom") or message.get("json_message"):
            out.append({**message, "buttons": []})
            continue
        if buttons and not {b.get("payload") for b in buttons} <= {"/affirm", "/deny"}:
            choices = spoken_choices([b["title"] for b in buttons])
            text = f"{text} {choices} ?" if text.rstrip().endswith("?") else f"{text.rstrip(' :')} : {choices}."
        elif buttons:
            text = f"{text} Répondez par oui ou par non."
        out.append({**message, "text": spoken(text), "buttons": []})
    return out
