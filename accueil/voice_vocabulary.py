"""The phrase list given to the voice gateway's recogniser: the words patients use with this hospital.

Gathered from the training data (`nlu_data/`: examples, synonyms, lookup
tables) and the knowledge base (names of places and wards, article titles),
plus the words of numbers, dates and answers a caller says. `accueil run`
writes it to a file and passes it to the gateway, which reads nothing
upstream itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

WORD = re.compile(r"[a-zàâäçéèêëîïôöûùüÿœæ]+(?:['’][a-zàâäçéèêëîïôöûùüÿœæ]+)?(?:-[a-zàâäçéèêëîïôöûùüÿœæ]+)*")
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")

SPOKEN_BASICS = """
oui non ouais d'accord merci bonjour bonsoir au revoir allô pardon répétez conseiller humain personne
zéro un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize
vingt trente quarante cinquante soixante cent cents mille et
lundi mardi mercredi jeudi vendredi samedi dimanche aujourd'hui demain hier matin midi soir heure heures
janvier février mars avril mai juin juillet août septembre octobre novembre décembre
""".split()


def _words(text: str) -> set[str]:
    found = set()
    for token in WORD.findall(ANNOTATION.sub(r"\1", text.lower()).replace("’", "'")):
        found.add(token)
        if "'" in token:  # models spell elisions either way: "l'accueil" or "l'" + "accueil"
            head, tail = token.split("'", 1)
            found.update({head + "'", tail})
        if "-" in token:
            found.update(token.split("-"))
    return found


def nlu_words(nlu_dir: Path) -> set[str]:
    words: set[str] = set()
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []) or []:
            words |= _words(str(item.get("examples", "")))
            for key in ("synonym", "lookup"):
                if key in item:
                    words |= _words(str(item[key]))
    return words


def knowledge_base_words(db_url: str) -> set[str]:
    from actions.kb_repository import KnowledgeBase

    kb = KnowledgeBase(db_url)
    words: set[str] = set()
    for place in kb.places():
        words |= _words(place.name)
    for ward in kb.wards():
        words |= _words(ward.name)
    return words


def write_phrase_list(nlu_dir: Path, db_url: str, path: Path) -> int:
    """Write the phrase list, one word per line; returns how many words."""
    words = nlu_words(nlu_dir) | set(SPOKEN_BASICS)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        words |= knowledge_base_words(db_url)
    except SQLAlchemyError:  # no knowledge base yet: the training data's words alone
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    return len(words)
