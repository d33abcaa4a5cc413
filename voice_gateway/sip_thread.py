"""The PJSIP thread, and the pool of media ports that bridge calls' audio to the pipeline.

* The *PJSIP thread* (one per transport) starts PJSIP, polls its events and
  runs every pjsua2 call; other threads hand it work with `PjsipThread.run`
  through a queue. All SIP callbacks run there.
* PJSIP's *media clock thread* calls the ports' `onFrameReceived` /
  `onFrameRequested` every 20 ms; they only copy bytes, post an event to the
  asyncio loop or read the `PlayoutBuffer`, and never block.

Media ports are reused from a pool: PJSIP removes bridge ports
asynchronously, so a port is never destroyed under a running bridge.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from typing import Callable, Optional

import pjsua2 as pj

from voice_gateway.frames import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, AudioInFrame
from voice_gateway.sip_pjsua import bytes_vector, error_text, log_exception, vector_bytes
from voice_gateway.transport import SILENCE, CallConnection

logger = logging.getLogger(__name__)

POLL_MS = 5  # libHandleEvents timeout: the latency of a command sent to the PJSIP thread


class MediaPort(pj.AudioMediaPort):
    """The bridge between one call's audio and its connection; reused from call to call.

    Both callbacks run on PJSIP's media clock thread: they never block (the
    event is handed to the loop with call_soon_threadsafe, the playout buffer
    has its own short lock).
    """

    def __init__(self) -> None:
        super().__init__()
        self.connection: Optional[CallConnection] = None
        self._pending = b""
        self._failed = False

    def attach(self, connection: Optional[CallConnection]) -> None:
        self.connection = connection
        self._pending = b""
        self._failed = False

    def _failure(self, what: str) -> None:
        if not self._failed:  # once per call, not every 20 ms
            self._failed = True
            log_exception(logger, "SIP: audio %s dropped", what)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # noqa: N802 - pjsua2 API
        connection = self.connection
        if connection is None:
            return
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                pcm = vector_bytes(frame.buf)
            else:
                pcm = SILENCE
            if len(pcm) == FRAME_BYTES and not self._pending:
                connection.post_event(AudioInFrame(pcm))
                return
            data = self._pending + pcm
            while len(data) >= FRAME_BYTES:
                connection.post_event(AudioInFrame(data[:FRAME_BYTES]))
                data = data[FRAME_BYTES:]
            self._pending = data
        except Exception:  # noqa: BLE001
            self._failure("from the caller")

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:  # noqa: N802 - pjsua2 API
        connection = self.connection
        try:
            pcm = connection.playout.read_frame() if connection is not None else SILENCE
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = bytes_vector(pcm)
            frame.size = len(pcm)
        except Exception:  # noqa: BLE001
            self._failure("to the caller")


class PortPool:
    """Every media port made so far, and those free for the next call."""

    def __init__(self) -> None:
        self.idle: list[MediaPort] = []
        self.all: list[MediaPort] = []

    def take(self) -> MediaPort:
        return self.idle.pop() if self.idle else self._new()

    def _new(self) -> MediaPort:
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, SAMPLE_RATE, 1, FRAME_MS * 1000, 16)
        port = MediaPort()
        port.createPort(f"accueil{len(self.all)}", fmt)
        self.all.append(port)
        return port

    def put_back(self, port: MediaPort) -> None:
        """A port its call no longer uses (detached, disconnected from the call's media)."""
        self.idle.append(port)

    def drop_all(self) -> None:
        """Before PJSIP is destroyed: no port keeps a call, and the pool lets go of them."""
        for media_port in self.all:
            media_port.attach(None)
        self.idle.clear()
        self.all.clear()


class PjsipThread:
    """The thread that runs every pjsua2 call, from PJSIP's start to its shutdown.

    `start` runs `setup` on the thread, then polls PJSIP (`handle_events`),
    runs the commands queued by `run` and `tidy` in turn until `stop`; then
    `teardown`. A command queued once the thread no longer serves fails.
    """

    def __init__(self, name: str = "pjsip") -> None:
        self.name = name
        self._commands: "queue.SimpleQueue[tuple[Callable, tuple, concurrent.futures.Future]]" = queue.SimpleQueue()
        self.running = False
        self._running_lock = threading.Lock()  # no command queued once the thread stops serving
        self._stop_requested = False
        self._thread: Optional[threading.Thread] = None

    @property
    def started(self) -> bool:
        return self._thread is not None

    async def start(
        self, where: str, setup: Callable[[], None], handle_events: Callable[[], None], tidy: Callable[[], None], teardown: Callable[[], None]
    ) -> None:
        """Start the thread; returns once `setup` succeeded there, or raises what it failed with."""
        self._stop_requested = False
        started: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(
            target=self._main, args=(started, where, setup, handle_events, tidy, teardown), name=self.name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(started)
        except BaseException:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            raise

    async def stop(self) -> None:
        self._stop_requested = True
        await asyncio.to_thread(self._thread.join)
        self._thread = None

    def stop_now(self, timeout: float) -> None:
        """From any thread, without the loop (the process exits)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stop_requested = True
            thread.join(timeout)

    async def run(self, fn: Callable, *args):
        """Run `fn(*args)` on the PJSIP thread and return its result."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._running_lock:
            if not self.running:
                raise RuntimeError("SIP transport not running")
            self._commands.put((fn, args, future))
        return await asyncio.wrap_future(future)

    def _drain_commands(self) -> None:
        while True:
            try:
                fn, args, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                future.set_exception(exc)

    def _main(self, started: concurrent.futures.Future, where: str, setup, handle_events, tidy, teardown) -> None:
        try:
            setup()
        except BaseException as exc:  # noqa: BLE001
            logger.error("SIP: could not start on %s: %s", where, error_text(exc))
            try:
                teardown()
            except BaseException:  # noqa: BLE001
                log_exception(logger, "SIP: cleanup after a failed start")
            started.set_exception(RuntimeError(f"SIP transport could not start on {where}: {error_text(exc)}"))
            return
        self.running = True
        started.set_result(None)
        try:
            while not self._stop_requested:
                handle_events()
                self._drain_commands()
                tidy()
        except BaseException:  # noqa: BLE001
            log_exception(logger, "SIP: PJSIP thread failed")
        finally:
            with self._running_lock:
                self.running = False
            self._drain_commands()
            try:
                teardown()
            except BaseException:  # noqa: BLE001
                log_exception(logger, "SIP: shutdown failed")
            # Commands that arrived during the shutdown fail instead of hanging.
            while True:
                try:
                    _fn, _args, future = self._commands.get_nowait()
                except queue.Empty:
                    break
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("SIP transport stopped"))
