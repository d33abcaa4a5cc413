"""Speech recognition: one Vosk model per process, one streaming recogniser per call.

Recognition runs in a thread pool sized to the cores, so the event loop that
carries every call's audio never waits for Kaldi. A phrase list (the words of
the hospital's training data and knowledge base) narrows the vocabulary when
the model has a dynamic graph (the small models); models with a static graph
(the large ones) ignore it, and the gateway says so in its log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Optional

from voice_gateway.frames import SAMPLE_RATE

logger = logging.getLogger(__name__)

MIN_KNOWN_PHRASES = 100


class StreamingRecognizer(ABC):
    """One caller's utterances, fed as they arrive."""

    @abstractmethod
    async def accept(self, pcm: bytes) -> None:
        """Feed 16 kHz PCM16 audio."""

    @abstractmethod
    async def final(self) -> str:
        """Close the utterance and return its transcript; the recogniser is ready for the next one."""


class SpeechToText(ABC):
    """A recognition engine: makes one recogniser per call."""

    @abstractmethod
    def recognizer(self) -> StreamingRecognizer: ...


def supports_phrase_list(model_dir: Path) -> bool:
    """Vosk narrows the vocabulary only with a dynamic graph (HCLr.fst + Gr.fst), not a static HCLG.fst."""
    graph = model_dir / "graph"
    return (graph / "HCLr.fst").exists() and (graph / "Gr.fst").exists()


class VoskSpeechToText(SpeechToText):
    """Vosk (Kaldi) streaming recognition."""

    def __init__(self, model_dir: Path, phrases: Optional[Iterable[str]] = None, threads: Optional[int] = None) -> None:
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model_dir = model_dir
        self.model = vosk.Model(str(model_dir))
        self.grammar: Optional[str] = None
        if phrases is not None:
            self.grammar = self._grammar(phrases)
        self.executor = ThreadPoolExecutor(max_workers=threads or os.cpu_count() or 2, thread_name_prefix="vosk")

    def _grammar(self, phrases: Iterable[str]) -> Optional[str]:
        """The phrase list as Vosk's grammar, keeping only the words the model knows; None to recognise freely."""
        if not supports_phrase_list(self.model_dir):
            logger.info("Vosk model %s has a static graph: the phrase list is not used.", self.model_dir.name)
            return None
        wanted = {p.strip().lower() for p in phrases if p.strip()}
        known = sorted(w for w in wanted if all(self.model.vosk_model_find_word(part) >= 0 for part in w.split()))
        logger.info("Vosk phrase list: %d of %d words and phrases are in the model's vocabulary.", len(known), len(wanted))
        if len(known) < MIN_KNOWN_PHRASES:
            logger.warning("Too few phrase-list words in the model (another language?): recognition is left free.")
            return None
        # [unk] keeps words outside the list from being forced onto a listed one.
        return json.dumps([*known, "[unk]"], ensure_ascii=False)

    def recognizer(self) -> "VoskRecognizer":
        if self.grammar is not None:
            rec = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE, self.grammar)
        else:
            rec = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
        return VoskRecognizer(rec, self.executor)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


class VoskRecognizer(StreamingRecognizer):
    def __init__(self, rec, executor: ThreadPoolExecutor) -> None:
        self._rec = rec
        self._executor = executor
        self._heard: list[str] = []  # results Vosk closed on its own inside one turn (long pauses)
        self._lock = asyncio.Lock()  # one Kaldi call at a time per recogniser, in order

    async def _run(self, fn, *args):
        async with self._lock:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _accept(self, pcm: bytes) -> None:
        if self._rec.AcceptWaveform(pcm):
            text = json.loads(self._rec.Result()).get("text", "")
            if text:
                self._heard.append(text)

    async def accept(self, pcm: bytes) -> None:
        await self._run(self._accept, pcm)

    async def final(self) -> str:
        last = json.loads(await self._run(self._rec.FinalResult)).get("text", "")
        text = " ".join([*self._heard, last]).replace("[unk]", " ")
        self._heard.clear()
        return " ".join(text.split())
