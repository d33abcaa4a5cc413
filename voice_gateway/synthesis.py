"""Speech synthesis: Piper in a worker process of its own.

The voice is loaded once in that process (Piper is GPL-3.0 and CPU-bound: a
separate process also puts synthesis on another core). Each request is
synthesised sentence by sentence; every sentence is resampled to the
gateway's 16 kHz and sent back as soon as it is ready, so the caller hears
the first sentence while the next ones are being made.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing as mp
import queue
import re
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import AsyncIterator, Optional

from voice_gateway.frames import SAMPLE_RATE

logger = logging.getLogger(__name__)

SLOW_LENGTH_SCALE = 1.3  # emergencies are spoken about 30 % slower


class SynthesisError(RuntimeError):
    """The synthesis worker could not start or died."""


class TextToSpeech(ABC):
    """A synthesis engine."""

    @abstractmethod
    def synthesize(self, text: str, slow: bool = False) -> AsyncIterator[bytes]:
        """16 kHz PCM16 audio, one piece per sentence, as each is ready. Closing the iterator cancels."""


SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
FIRST_PIECE_WORDS = 8


def speech_pieces(text: str) -> list[str]:
    """The text cut into sentences, the first one also at its first pause when it is long.

    The caller hears the first piece as soon as it is synthesised: a short first
    piece answers sooner, and a pause at a comma sounds natural. The speaker asks
    for one piece at a time; the worker cuts a longer text the same way.
    """
    sentences = [s.strip() for s in SENTENCE_END.split(text) if s.strip()]
    if not sentences:
        return []
    first = sentences[0]
    if len(first.split()) > FIRST_PIECE_WORDS:
        clauses = CLAUSE_END.split(first, maxsplit=1)
        if len(clauses) == 2 and len(clauses[0].split()) >= 3:
            return [clauses[0], clauses[1], *sentences[1:]]
    return sentences


def _resample(pcm: bytes, rate: int):
    import numpy as np
    from scipy.signal import resample_poly

    samples = np.frombuffer(pcm, dtype=np.int16)
    if rate == SAMPLE_RATE or samples.size == 0:
        return pcm
    from math import gcd

    g = gcd(SAMPLE_RATE, rate)
    out = resample_poly(samples.astype(np.float32), SAMPLE_RATE // g, rate // g)
    return np.clip(out, -32768, 32767).astype(np.int16).tobytes()


def _trim_leading_silence(pcm: bytes, keep_ms: int = 10, threshold: float = 100.0) -> bytes:
    """Piper starts each utterance with 40-60 ms of near silence: the caller would only wait longer for it."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    window = SAMPLE_RATE // 100  # 10 ms
    for start in range(0, len(samples) - window, window):
        if np.sqrt(np.mean(samples[start : start + window] ** 2)) > threshold:
            cut = max(0, start - keep_ms * SAMPLE_RATE // 1000)
            return pcm[cut * 2 :]
    return pcm


def _worker(model: str, config: Optional[str], requests: mp.Queue, results: mp.Queue, cancels: mp.Queue) -> None:
    """The worker process: load the voice once, then synthesise requests until told to stop."""
    try:
        from piper import PiperVoice, SynthesisConfig

        voice = PiperVoice.load(model, config_path=config)
        rate = voice.config.sample_rate
        for chunk in voice.synthesize("Bonjour, ceci est un essai. Merci."):  # warms ONNX Runtime and SciPy up
            _resample(chunk.audio_int16_bytes, chunk.sample_rate)
    except Exception as exc:  # reported to the parent, which stops the gateway with the reason
        results.put(("error", 0, f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ready", 0, rate))
    cancelled: set[int] = set()
    while True:
        request = requests.get()
        if request is None:
            return
        request_id, text, slow = request
        try:
            syn = SynthesisConfig(length_scale=(voice.config.length_scale or 1.0) * SLOW_LENGTH_SCALE) if slow else None
            first = True
            for piece in speech_pieces(text):
                while not cancels.empty():
                    try:
                        cancelled.add(cancels.get_nowait())
                    except queue.Empty:
                        break
                if request_id in cancelled:
                    cancelled.discard(request_id)
                    break
                for chunk in voice.synthesize(piece, syn_config=syn):
                    audio = _resample(chunk.audio_int16_bytes, chunk.sample_rate)
                    if first:
                        audio, first = _trim_leading_silence(audio), False
                    results.put(("audio", request_id, audio))
        except Exception as exc:
            results.put(("failed", request_id, f"{type(exc).__name__}: {exc}"))
        results.put(("done", request_id, None))


class PiperTextToSpeech(TextToSpeech):
    """Piper voice in a worker process, shared by every call of the gateway."""

    def __init__(self, model: Path, config: Optional[Path] = None, start_timeout: float = 120.0) -> None:
        self.model = model
        self.config = config or Path(str(model) + ".json")
        ctx = mp.get_context("spawn")
        self._cancels: mp.Queue = ctx.Queue()
        self._requests: mp.Queue = ctx.Queue()
        self._results: mp.Queue = ctx.Queue()
        self._process = ctx.Process(
            target=_worker, args=(str(model), str(self.config), self._requests, self._results, self._cancels), daemon=True, name="piper"
        )
        self._ids = itertools.count(1)
        self._streams: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = {}
        self._lock = threading.Lock()
        self._process.start()
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                kind, _, value = self._results.get(timeout=0.5)
                break
            except queue.Empty:
                if not self._process.is_alive():
                    raise SynthesisError(f"the synthesis worker exited (code {self._process.exitcode}) while loading {model.name}") from None
                if time.monotonic() > deadline:
                    self.close()
                    raise SynthesisError(f"the Piper voice {model.name} did not load in {start_timeout:.0f} s") from None
        if kind != "ready":
            self.close()
            raise SynthesisError(f"the Piper voice {model.name} could not be loaded: {value}")
        self.voice_rate = value
        self._reader = threading.Thread(target=self._read_results, name="piper-results", daemon=True)
        self._reader.start()

    def _read_results(self) -> None:
        while True:
            try:
                kind, request_id, value = self._results.get()
            except (EOFError, OSError, ValueError):  # the queue was closed: the worker or the gateway stopped
                kind, request_id, value = "dead", 0, None
            with self._lock:
                targets = list(self._streams.values()) if kind in ("dead", "stop") else [self._streams.get(request_id)]
            message = ("failed", "the synthesis worker stopped") if kind in ("dead", "stop") else (kind, value)
            for target in filter(None, targets):
                loop, stream = target
                try:
                    loop.call_soon_threadsafe(stream.put_nowait, message)
                except RuntimeError:  # that call's event loop is already closed
                    pass
            if kind in ("dead", "stop"):
                return

    async def synthesize(self, text: str, slow: bool = False) -> AsyncIterator[bytes]:
        if not self._process.is_alive():
            raise SynthesisError("the synthesis worker is not running")
        request_id = next(self._ids)
        stream: asyncio.Queue = asyncio.Queue()
        with self._lock:
            self._streams[request_id] = (asyncio.get_running_loop(), stream)
        self._requests.put((request_id, text, slow))
        finished = False
        try:
            while True:
                kind, value = await stream.get()
                if kind == "audio":
                    yield value
                elif kind == "done":
                    finished = True
                    return
                else:
                    finished = True
                    raise SynthesisError(value)
        finally:
            if not finished:
                self._cancels.put(request_id)
            with self._lock:
                self._streams.pop(request_id, None)

    def close(self) -> None:
        if self._process.is_alive():
            self._requests.put(None)
            self._process.join(5)
            if self._process.is_alive():
                self._process.terminate()
        self._results.put(("stop", 0, None))
        if hasattr(self, "_reader"):
            self._reader.join(2)
