"""Grouping of similar patient messages, so an editor treats a group with one decision.

Each (masked) message becomes a spaCy vector: the mean of the unit word vectors of
`fr_core_news_md` over its content words (stop words, fillers such as "euh", "oui",
"bonjour" and the masking labels left out; all words when only those remain). Messages are
clustered greedily, newest first: a message joins the group whose centroid is the most
similar if the cosine similarity reaches SIMILARITY_THRESHOLD and it shares enough content
words with the group (WORD_OVERLAP_THRESHOLD, Jaccard against all the group's words);
otherwise it starts a group. Messages with the same normalised text always share a group,
with or without vectors.

The thresholds were tuned on the held-out set (settings.nlu_holdout_dir: 639 French
sentences of 48 close intents, in four styles) with `python -m studio.grouping`. Vectors
alone at 0.80 put different intents together (65 % of grouped messages share their group's
intent: mean vectors are close for "horaires de visite" and "horaires d'ouverture"), 0.90
groups almost nothing; 0.80 with the word-overlap guard at 0.34 gives 87 % with a sixth of
the sentences grouped. Patients' repeated questions are closer than those test sentences.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from core.catalogue import normalise_sentence
from core.masking import LABELS
from studio.conversations import FlaggedMessage

SPACY_MODEL = "fr_core_news_md"
SIMILARITY_THRESHOLD = 0.80
WORD_OVERLAP_THRESHOLD = 0.34
# Words that say nothing about what the patient wants, beyond spaCy's stop words.
FILLERS = frozenset(
    "oui non ouais euh heu bah ben bon bonjour bonsoir salut allo allô alors voila voilà hein svp stp merci "
    "madame monsieur mme mr pr c ça ca je j jveux jvoudrais voudrais veux".split()
)
_MASK_LABEL = re.compile("|".join(re.escape(label) for label in LABELS))

_load_lock = threading.Lock()


def nlp():
    """spaCy's French model, loaded once (about two seconds); only its tokenizer and vectors are used."""
    with _load_lock:
        return _load()


@lru_cache(maxsize=1)
def _load():
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner"])


@lru_cache(maxsize=20_000)
def _features(text: str) -> tuple[np.ndarray | None, frozenset[str]]:
    """The unit vector of a message (None when no word has a vector) and its content words."""
    doc = nlp().make_doc(_MASK_LABEL.sub(" ", text).lower())
    words = [t for t in doc if not t.is_punct and not t.is_space]
    content = [t for t in words if not t.is_stop and t.norm_ not in FILLERS and normalise_sentence(t.text) not in FILLERS]
    chosen = content or words
    vectors = [t.vector / t.vector_norm for t in chosen if t.has_vector and t.vector_norm]
    bag = frozenset(normalise_sentence(t.text) for t in chosen if normalise_sentence(t.text))
    if not vectors:
        return None, bag
    mean = np.mean(vectors, axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else None), bag


def similarity(a: str, b: str) -> float:
    """The cosine similarity of two messages' vectors (0 when one has none)."""
    va, _ = _features(a)
    vb, _ = _features(b)
    return float(va @ vb) if va is not None and vb is not None else 0.0


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


@dataclass
class MessageGroup:
    """Similar messages, shown and decided together."""

    messages: list[FlaggedMessage] = field(default_factory=list)
    _sum: np.ndarray | None = None
    _bags: list[frozenset[str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.messages[0].key

    @property
    def keys(self) -> list[str]:
        return [m.key for m in self.messages]

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(r for m in self.messages for r in m.reasons))

    @property
    def suggestions(self) -> list[str]:
        """The intents most often in the messages' top 3 (ties: the higher summed confidence), at most 3."""
        counts: Counter[str] = Counter()
        weights: Counter[str] = Counter()
        for message in self.messages:
            for name, confidence in message.suggestions:
                counts[name] += 1
                weights[name] += confidence
        return sorted(counts, key=lambda name: (-counts[name], -weights[name], name))[:3]

    @property
    def centroid(self) -> np.ndarray | None:
        if self._sum is None:
            return None
        norm = float(np.linalg.norm(self._sum))
        return self._sum / norm if norm else None

    def add(self, message: FlaggedMessage, vector: np.ndarray | None, words: frozenset[str]) -> None:
        self.messages.append(message)
        if vector is not None:
            self._sum = vector.copy() if self._sum is None else self._sum + vector
        self._bags.append(words)

    def word_overlap(self, words: frozenset[str]) -> float:
        """The share of content words `words` has in common with all the group's words (Jaccard)."""
        return _overlap(words, frozenset().union(*self._bags))


def group_messages(
    messages: Sequence[FlaggedMessage],
    threshold: float = SIMILARITY_THRESHOLD,
    overlap: float = WORD_OVERLAP_THRESHOLD,
) -> list[MessageGroup]:
    """Greedy clustering of the messages, in their order (newest first); groups keep that order."""
    groups: list[MessageGroup] = []
    by_text: dict[str, MessageGroup] = {}
    position: dict[int, int] = {}  # id(group) -> its row in `centroids`
    centroids: np.ndarray | None = None  # one row per group (zeros for a group without vectors)
    for message in messages:
        normalised = normalise_sentence(message.text)
        vector, words = _features(message.text)
        group = by_text.get(normalised)
        if group is None and vector is not None and centroids is not None:
            scores = centroids[: len(groups)] @ vector
            for index in np.argsort(-scores):
                if scores[index] < threshold:
                    break
                if groups[index].word_overlap(words) >= overlap:
                    group = groups[index]
                    break
        if group is None:
            group = MessageGroup()
            position[id(group)] = len(groups)
            groups.append(group)
        group.add(message, vector, words)
        by_text.setdefault(normalised, group)
        if vector is not None:
            if centroids is None:
                centroids = np.zeros((len(messages), vector.shape[0]), dtype=np.float32)
            centroids[position[id(group)]] = group.centroid
    return groups


def _tune() -> None:  # pragma: no cover - a tuning aid, run by hand
    """Prints, for several thresholds, how pure the groups of the held-out sentences are."""
    import datetime as dt

    from rasa.shared.nlu.training_data.loading import load_data

    from core.settings import get_settings

    examples = load_data(str(get_settings().nlu_holdout_dir)).intent_examples
    messages = [
        FlaggedMessage(f"h:{i}", "h", i, e.get("text"), dt.datetime(2026, 1, 1), "", e.get("intent"), None, [])
        for i, e in enumerate(examples)
    ]
    for threshold in (0.75, 0.8, 0.85, 0.9):
        for overlap in (0.0, 0.2, 0.25, 0.34):
            groups = group_messages(messages, threshold, overlap)
            grouped = [g for g in groups if len(g.messages) > 1]
            in_groups = sum(len(g.messages) for g in grouped)
            pure = sum(Counter(m.intent for m in g.messages).most_common(1)[0][1] for g in grouped)
            print(
                f"threshold {threshold:.2f} overlap {overlap:.2f}: {len(groups)} groups for {len(messages)} messages, "
                f"{in_groups} in groups of 2+, purity {pure / max(in_groups, 1):.1%}"
            )


if __name__ == "__main__":  # pragma: no cover
    _tune()
