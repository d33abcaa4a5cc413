"""SIP transport of the voice gateway: phone calls through PJSIP (pjsua2), one `SipCall` per call.

The gateway is a SIP user agent that only answers: a PBX or a SIP trunk sends
it INVITEs, it answers with G.711 (PCMU or PCMA) and bridges each call's audio
to the pipeline through a `pj.AudioMediaPort` at the gateway's internal format
(16 kHz mono PCM16, 20 ms frames). PJSIP's conference bridge resamples between
the 8 kHz line and 16 kHz, and a null sound device clocks the bridge.

Threads:

* the *PJSIP thread* (one per transport) creates the Endpoint, polls
  `libHandleEvents` and runs every pjsua2 call; other threads send it commands
  through a queue. All SIP callbacks (incoming call, call state, SIP INFO DTMF,
  transfer status) run there (`threadCnt = 0`, `mainThreadOnly`).
* PJSIP's *media clock thread* calls the ports' `onFrameReceived` /
  `onFrameRequested` every 20 ms; they only copy bytes, post an event to the
  asyncio loop or read the `PlayoutBuffer`, and never block.
* the *asyncio loop* that called `start()` runs one handler task per call.

Pitfalls handled here: every Call and port keeps a Python reference while
PJSIP may call it; media ports are reused from a pool (PJSIP removes bridge
ports asynchronously, so a port is never destroyed under a running bridge);
everything pjsua2 is released and garbage-collected before `libDestroy()`.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import ctypes
import gc
import ipaddress
import logging
import queue
import re
import threading
import time
import traceback
import unicodedata
import uuid
from pathlib import Path
from typing import Callable, Optional, Sequence

import pjsua2 as pj

from core.logs import private_file, rotate, shown
from voice_gateway.frames import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, AudioInFrame, DTMFFrame, Frame, HangUpFrame
from voice_gateway.transport import SILENCE, CallConnection, CallHandler

logger = logging.getLogger(__name__)

SUMMARY_HEADER = "X-Accueil-Summary"
SUMMARY_MAX_BYTES = 900
TRANSFER_TIMEOUT = 10.0
G711_CODECS = ("PCMU/8000/1", "PCMA/8000/1")
POLL_MS = 5  # libHandleEvents timeout: the latency of a command sent to the PJSIP thread
_ONE_AT_A_TIME = threading.Lock()  # PJSUA is a singleton: one running SipTransport per process
MAX_CALLS = 32  # default asked of PJSIP; PJSIP caps it at the build's PJSUA_MAX_CALLS (see library_max_calls)


# --- fast ByteVector <-> bytes -----------------------------------------------------------------
# A pjsua2 MediaFrame carries its audio in a SWIG std::vector<unsigned char>; converting
# it element by element costs ~0.3 ms per 20 ms frame while holding the GIL. When the
# vector has the usual (begin, end, capacity) pointer layout, copy the memory directly;
# a self-test at import falls back to the slow but portable path otherwise.


def _slow_vector_bytes(vector: pj.ByteVector) -> bytes:
    return bytes(vector)


def _slow_bytes_vector(data: bytes) -> pj.ByteVector:
    return pj.ByteVector(data)


def _fast_vector_bytes(vector: pj.ByteVector) -> bytes:
    begin, end = (ctypes.c_void_p * 2).from_address(int(vector.this))
    if not begin or not end:
        return b""
    return ctypes.string_at(begin, end - begin)


def _fast_bytes_vector(data: bytes) -> pj.ByteVector:
    vector = pj.ByteVector()
    vector.resize(len(data))
    if data:
        begin = (ctypes.c_void_p * 1).from_address(int(vector.this))[0]
        ctypes.memmove(begin, data, len(data))
    return vector


def _pick_vector_codec() -> tuple[Callable[[pj.ByteVector], bytes], Callable[[bytes], pj.ByteVector]]:
    try:
        sample = bytes(range(256)) * 2 + bytes(range(128))
        frame = pj.MediaFrame()
        frame.buf = _fast_bytes_vector(sample)
        if (
            _fast_vector_bytes(pj.ByteVector(sample)) == sample
            and _slow_vector_bytes(frame.buf) == sample
            and _fast_vector_bytes(frame.buf) == sample
            and _fast_vector_bytes(pj.ByteVector()) == b""
        ):
            return _fast_vector_bytes, _fast_bytes_vector
    except Exception:  # noqa: BLE001 - any surprise means: use the portable path
        pass
    logger.info("SIP: using the portable (slower) audio frame copy")
    return _slow_vector_bytes, _slow_bytes_vector


_vector_bytes, _bytes_vector = _pick_vector_codec()


# --- the build's call limit ---------------------------------------------------------------------
# pjsua_init() silently lowers ua_cfg.max_calls to the compile-time PJSUA_MAX_CALLS (the size
# of its calls array). pjsua2 does not expose the value, but the C function
# pjsua_call_get_max_count() is exported by the extension module: read it after libInit().
# pjsua2-python 2.15.1.post1's Linux wheel returns 4 there, whatever maxCalls asks
# (its pjsua_call_subsys_init compares with 4 and its pjsua_var is too small for 32 calls).


def library_max_calls() -> Optional[int]:
    """The simultaneous-call limit PJSIP applies now (after libInit), or None if unreadable."""
    try:
        import pjsua2._pjsua2 as binding  # noqa: PLC0415 - loaded already by `import pjsua2`'s users

        function = ctypes.CDLL(binding.__file__).pjsua_call_get_max_count
        function.restype = ctypes.c_uint
        function.argtypes = []
        value = int(function())
    except Exception:  # noqa: BLE001 - another platform, a static build, no such symbol
        return None
    return value or None


# --- small helpers -----------------------------------------------------------------------------


def _log_exception(message: str, *args: object) -> None:
    """Log the current exception as text: a record keeping the traceback object would keep
    its frames, hence pjsua2 objects, alive, and free them later on a thread PJSIP does not know."""
    logger.error(message + "\n%s", *args, traceback.format_exc())


def sanitize_header_value(value: str, max_bytes: int = SUMMARY_MAX_BYTES) -> str:
    """One line of printable text, at most `max_bytes` of UTF-8, cut at a character boundary."""
    chars = []
    for char in value:
        category = unicodedata.category(char)
        if char in "\r\n\t\u2028\u2029" or category in ("Zl", "Zp"):
            chars.append(" ")
        elif category[0] == "C":  # control, format, surrogate, private use, unassigned
            continue
        else:
            chars.append(char)
    text = re.sub(r"\s+", " ", "".join(chars)).strip()
    encoded = text.encode("utf-8")
    if len(encoded) > max_bytes:
        text = encoded[:max_bytes].decode("utf-8", errors="ignore").rstrip()
    return text


def _uri_of(name_addr: str) -> str:
    """`"Name" <sip:a@b>;tag=x` -> `sip:a@b`."""
    match = re.search(r"<([^>]*)>", name_addr)
    if match:
        return match.group(1).strip()
    return name_addr.split(";", 1)[0].strip()


def _hostport_of(uri: str) -> str:
    """The host[:port] of a SIP URI (`sip:user@host:port;params` -> `host:port`)."""
    rest = re.sub(r"^[a-zA-Z]+:", "", _uri_of(uri))
    rest = rest.split("@", 1)[-1]
    return re.split(r"[;?>]", rest, 1)[0]


def _ip_of(address: str) -> str:
    """`1.2.3.4:5060` or `[::1]:5060` -> the IP address."""
    address = address.strip()
    if address.startswith("["):
        return address[1 : address.index("]")]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


def _parse_networks(peers: Sequence[str]) -> list[ipaddress._BaseNetwork]:
    networks = []
    for peer in peers:
        peer = peer.strip()
        if peer:
            networks.append(ipaddress.ip_network(peer, strict=False))
    return networks


# --- pjsua2 subclasses (their callbacks must never raise into C++) ---------------------------


class _MediaPort(pj.AudioMediaPort):
    """The bridge between one call's audio and its `SipCall`; reused from call to call.

    Both callbacks run on PJSIP's media clock thread: they never block (the
    event is handed to the loop with call_soon_threadsafe, the playout buffer
    has its own short lock).
    """

    def __init__(self) -> None:
        super().__init__()
        self.connection: Optional[SipCall] = None
        self._pending = b""
        self._failed = False

    def attach(self, connection: Optional[SipCall]) -> None:
        self.connection = connection
        self._pending = b""
        self._failed = False

    def _failure(self, what: str) -> None:
        if not self._failed:  # once per call, not every 20 ms
            self._failed = True
            _log_exception("SIP: audio %s dropped", what)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:  # noqa: N802 - pjsua2 API
        connection = self.connection
        if connection is None:
            return
        try:
            if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO:
                pcm = _vector_bytes(frame.buf)
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
            frame.buf = _bytes_vector(pcm)
            frame.size = len(pcm)
        except Exception:  # noqa: BLE001
            self._failure("to the caller")


class _Endpoint(pj.Endpoint):
    max_calls: Optional[int] = None

    def onRejectedIncomingCall(self, prm: pj.OnRejectedIncomingCallParam) -> None:  # noqa: N802
        # Calls PJSIP refuses by itself: no common codec (488), too many calls (486), ...
        try:
            logger.warning(
                "SIP: call from %s (%s) refused by PJSIP with %d %s%s",
                prm.rdata.srcAddress,
                _uri_of(prm.remoteInfo),
                prm.statusCode,
                prm.reason,
                f" (too many calls: PJSIP takes {self.max_calls} at once; see SipTransport.max_calls)"
                if prm.statusCode == 486
                else "",
            )
        except Exception:  # noqa: BLE001
            _log_exception("SIP: logging a refused call failed")


class _Account(pj.Account):
    def __init__(self, transport: SipTransport) -> None:
        super().__init__()
        self._transport = transport

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        try:
            self._transport._on_incoming_call(self, prm)
        except Exception:  # noqa: BLE001
            _log_exception("SIP: incoming call failed")


class _PjCall(pj.Call):
    def __init__(self, transport: SipTransport, account: pj.Account, call_index: int) -> None:
        super().__init__(account, call_index)
        self.transport = transport
        self.connection: Optional[SipCall] = None
        self.index = call_index
        self.peer = ""
        self.remote_uri = ""
        self.sip_call_id = ""
        self.refused = False
        self.disconnected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        try:
            self.transport._on_call_state(self)
        except Exception:  # noqa: BLE001
            _log_exception("SIP: call state handling failed")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        try:
            self.transport._on_call_media_state(self)
        except Exception:  # noqa: BLE001
            _log_exception("SIP: media state handling failed")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:  # noqa: N802
        # Called once per key for both RFC 2833 telephone-events (at the start of the
        # event; onDtmfEvent would also report every update) and SIP INFO dtmf-relay.
        try:
            if self.connection is not None and prm.digit:
                self.connection._on_dtmf(str(prm.digit), int(prm.method))
        except Exception:  # noqa: BLE001
            _log_exception("SIP: DTMF handling failed")

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:  # noqa: N802
        try:
            if self.connection is not None:
                self.connection._on_transfer_status(int(prm.statusCode), str(prm.reason), bool(prm.finalNotify))
        except Exception:  # noqa: BLE001
            _log_exception("SIP: transfer status handling failed")

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:  # noqa: N802
        # The gateway never follows a REFER sent to it.
        prm.statusCode = 603


# --- the call as the pipeline sees it --------------------------------------------------------


class SipCall(CallConnection):
    """One SIP call. Created on the PJSIP thread; its coroutines are used from the asyncio loop."""

    transport_name = "sip"

    def __init__(self, transport: SipTransport, pjcall: _PjCall, caller: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(uuid.uuid4().hex, caller, loop)
        self.sip_call_id = pjcall.sip_call_id
        self.peer = pjcall.peer
        self.remote_uri = pjcall.remote_uri
        self.codec = ""
        self._transport = transport
        self._pjcall: Optional[_PjCall] = pjcall  # touched on the PJSIP thread only
        self._port: Optional[_MediaPort] = None  # idem
        self._audio: Optional[pj.AudioMedia] = None  # idem
        self._media_slot = -1
        self._local_hangup = False
        self._hangup_posted = False
        self._handler_started = False
        self.disconnected = threading.Event()
        self._disconnected_async = asyncio.Event()
        self._xfer_lock = threading.Lock()
        self._xfer_future: Optional[asyncio.Future[bool]] = None
        self._xfer_accepted = False

    # -- thread-safe event posting --

    def post_event(self, frame: Frame) -> None:
        try:
            super().post_event(frame)
        except RuntimeError:  # the loop is closed: nobody listens any more
            pass

    def _call_soon(self, callback: Callable, *args) -> None:
        try:
            self.loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            pass

    # -- CallConnection --

    async def hang_up(self) -> None:
        """Send BYE (or a final error response if the call is not answered) and wait for the end."""
        if self.disconnected.is_set():
            return
        try:
            await self._transport._run_in_pj(self._pj_hangup)
        except RuntimeError:  # transport stopped
            return
        try:
            await asyncio.wait_for(self._disconnected_async.wait(), 5.0)
        except asyncio.TimeoutError:
            logger.warning("SIP call %s: no disconnection 5 s after hang-up", self.call_id)

    async def transfer(self, target: str, summary: str) -> bool:
        """Blind transfer with a SIP REFER to `target`, the summary in the X-Accueil-Summary header.

        `target` is a SIP URI, or an extension dialled on the caller's host
        (`sip:{target}@{host of the From URI}`). Returns True once the transferee
        reports success: after the REFER's 202 Accepted, a NOTIFY carrying a 2xx
        sipfrag (`SIP/2.0 200 OK`); or the caller's side ends the call (BYE)
        after accepting the REFER without reporting a failure. Returns False when
        the REFER is refused or a NOTIFY reports a failure (status >= 300), when
        the call ends before the REFER is accepted, or after `TRANSFER_TIMEOUT`
        (10 s) without a final answer.
        The call is left up: the caller's side normally hangs up, otherwise the
        pipeline does (or the transport, when the handler returns).
        """
        if self.disconnected.is_set():
            return False
        uri = self._transfer_uri(target)
        value = sanitize_header_value(summary)
        future: asyncio.Future[bool] = self.loop.create_future()
        with self._xfer_lock:
            if self._xfer_future is not None and not self._xfer_future.done():
                logger.warning("SIP call %s: a transfer is already in progress", self.call_id)
                return False
            self._xfer_future = future
            self._xfer_accepted = False
        try:
            await self._transport._run_in_pj(self._pj_xfer, uri, value)
        except Exception as exc:  # noqa: BLE001 - pj.Error or transport stopped
            logger.warning("SIP call %s: REFER to %s not sent: %s", self.call_id, uri, _error_text(exc))
            with self._xfer_lock:
                self._xfer_future = None
            return False
        logger.info("SIP call %s: REFER sent to %s (%d bytes of summary)", self.call_id, uri, len(value.encode()))
        try:
            ok = await asyncio.wait_for(asyncio.shield(future), TRANSFER_TIMEOUT)
        except asyncio.TimeoutError:
            logger.warning("SIP call %s: transfer to %s timed out after %.0f s", self.call_id, uri, TRANSFER_TIMEOUT)
            ok = False
        finally:
            with self._xfer_lock:
                self._xfer_future = None
        logger.info("SIP call %s: transfer to %s %s", self.call_id, uri, "succeeded" if ok else "failed")
        return ok

    def _transfer_uri(self, target: str) -> str:
        target = target.strip()
        if re.match(r"^(sip|sips|tel):", target, re.IGNORECASE):
            return target
        if target.startswith("<") and target.endswith(">"):
            return target[1:-1]
        if "@" in target:
            return f"sip:{target}"
        host = _hostport_of(self.remote_uri) or _ip_of(self.peer)
        return f"sip:{target}@{host}"

    # -- PJSIP thread side --

    def _pj_hangup(self) -> None:
        pjcall = self._pjcall
        if pjcall is None or pjcall.disconnected:
            return
        self._local_hangup = True
        prm = pj.CallOpParam()
        try:
            pjcall.hangup(prm)
        except pj.Error as exc:
            logger.warning("SIP call %s: hang-up failed: %s", self.call_id, _error_text(exc))

    def _pj_xfer(self, uri: str, value: str) -> None:
        pjcall = self._pjcall
        if pjcall is None or pjcall.disconnected:
            raise RuntimeError("the call is over")
        prm = pj.CallOpParam()
        if value:
            header = pj.SipHeader()
            header.hName = SUMMARY_HEADER
            header.hValue = value
            prm.txOption.headers.append(header)
        pjcall.xfer(uri, prm)

    def _on_transfer_status(self, code: int, reason: str, final: bool) -> None:
        logger.info("SIP call %s: transfer status %d %s%s", self.call_id, code, reason, " (final)" if final else "")
        with self._xfer_lock:
            future = self._xfer_future
            if future is None:
                return
            result: Optional[bool] = None
            if 200 <= code < 300:
                result = True  # NOTIFY with a 2xx sipfrag (or a REFER accepted without subscription)
            elif code >= 300 or final:
                result = False  # REFER refused, or the transferee reports a failure
            else:
                self._xfer_accepted = True  # PJSIP reports the REFER's 202 as "100 Accepted"; 1xx NOTIFYs too
        if result is not None:
            self._call_soon(_resolve, future, result)

    def _on_dtmf(self, digit: str, method: int) -> None:
        logger.info("SIP call %s: DTMF %s (%s)", self.call_id, shown(digit), "INFO" if method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "RFC 2833")
        self.post_event(DTMFFrame(digit))

    def _on_disconnected(self) -> None:
        if not self._hangup_posted:
            self._hangup_posted = True
            self.post_event(HangUpFrame("gateway" if self._local_hangup else "caller"))
        with self._xfer_lock:
            future = self._xfer_future
            accepted = self._xfer_accepted
        if future is not None:
            self._call_soon(_resolve, future, accepted and not self._local_hangup)
        self.disconnected.set()
        self._call_soon(self._disconnected_async.set)


def _resolve(future: asyncio.Future, value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.reason} (status {exc.status})"
    return str(exc) or type(exc).__name__


# --- the transport ---------------------------------------------------------------------------


class SipTransport:
    """Answers SIP calls on `host:port` (UDP and TCP) and runs `handler(connection)` for each.

    `allowed_peers`: IP addresses or CIDR networks allowed to call (checked
    against the packet's source address); empty means every peer. Calls from
    elsewhere get 403 Forbidden. `log_file`: where PJSIP writes its own log
    (0600, the previous one kept as log_file.1 … `log_backups`), warnings and errors
    only: no SIP message, whose headers hold the caller's number and the handover
    summary; `log_messages` (ACCUEIL_LOG_CONTENT, for a debugging session) adds
    the whole SIP messages. None keeps PJSIP quiet except for errors.
    `port=0` picks a free port; `port` holds the real one after `start()`.

    `max_calls`: simultaneous calls asked of PJSIP (`uaConfig.maxCalls`); PJSIP
    answers 486 Busy Here beyond it. PJSIP silently caps it at its compile-time
    PJSUA_MAX_CALLS, which is 4 in the pjsua2-python 2.15.1.post1 Linux wheel:
    after `start()`, `max_calls` holds the limit really applied (read from the
    library), and a warning says when it is below the one asked for. More
    simultaneous calls need a PJSIP build with a larger PJSUA_MAX_CALLS.

    One running SipTransport per process (PJSUA is a singleton).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5060,
        allowed_peers: Sequence[str] | None = (),
        log_file: Path | None = None,
        log_messages: bool = False,
        log_backups: int = 5,
        user_agent: str = "Accueil",
        max_calls: int = MAX_CALLS,
    ) -> None:
        if max_calls < 1:
            raise ValueError("max_calls must be at least 1")
        self.host = host
        self.port = port
        self.allowed_peers = list(allowed_peers or [])
        self._networks = _parse_networks(self.allowed_peers)
        self.log_file = Path(log_file) if log_file else None
        self.log_messages = log_messages
        self.log_backups = log_backups
        self.user_agent = user_agent
        self.requested_max_calls = max_calls
        self.max_calls = max_calls  # after start(): the limit PJSIP applies
        self._handler: Optional[CallHandler] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._commands: "queue.SimpleQueue[tuple[Callable, tuple, concurrent.futures.Future]]" = queue.SimpleQueue()
        self._running = False
        self._running_lock = threading.Lock()  # no command queued once the PJSIP thread stops serving
        self._stop_requested = False
        self._tasks: set[asyncio.Task] = set()
        # PJSIP thread only:
        self._ep: Optional[pj.Endpoint] = None
        self._account: Optional[_Account] = None
        self._transport_ids: list[int] = []
        self._pjcalls: dict[int, _PjCall] = {}
        self._live: dict[int, SipCall] = {}
        self._idle_ports: list[_MediaPort] = []
        self._all_ports: list[_MediaPort] = []
        self._to_release: list[_PjCall] = []

    # -- public API --

    @property
    def active_calls(self) -> int:
        """Calls answered and not yet ended."""
        return len(self._live)

    async def start(self, handler: CallHandler) -> None:
        """Start PJSIP on its own thread; returns once it listens."""
        if self._thread is not None:
            raise RuntimeError("SipTransport already started")
        if not _ONE_AT_A_TIME.acquire(blocking=False):
            raise RuntimeError("another SipTransport is running in this process (PJSIP allows one)")
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        self._stop_requested = False
        started: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._thread_main, args=(started,), name="pjsip", daemon=True)
        self._thread.start()
        try:
            await asyncio.wrap_future(started)
        except BaseException:
            await asyncio.to_thread(self._thread.join)
            self._thread = None
            _ONE_AT_A_TIME.release()
            raise
        atexit.register(self._stop_at_exit)
        logger.info(
            "SIP: listening on %s:%d (UDP%s), %d simultaneous calls at most, peers allowed: %s",
            self.host,
            self.port,
            ", TCP" if len(self._transport_ids) > 1 else "",
            self.max_calls,
            ", ".join(self.allowed_peers) or "all",
        )

    async def stop(self) -> None:
        """Hang up live calls, let their handlers finish (3 s at most), shut PJSIP down."""
        if self._thread is None:
            return
        connections = list(self._live.values())
        if connections:
            await asyncio.gather(*(c.hang_up() for c in connections), return_exceptions=True)
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=3.0)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        self._stop_requested = True
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        atexit.unregister(self._stop_at_exit)
        _ONE_AT_A_TIME.release()
        logger.info("SIP: stopped")

    def _stop_at_exit(self) -> None:
        """The process exits without stop(): still shut PJSIP down cleanly (it aborts otherwise)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._stop_requested = True
            thread.join(5.0)

    # -- commands to the PJSIP thread --

    async def _run_in_pj(self, fn: Callable, *args):
        """Run `fn(*args)` on the PJSIP thread and return its result."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._running_lock:
            if not self._running:
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

    # -- the PJSIP thread --

    def _thread_main(self, started: concurrent.futures.Future) -> None:
        try:
            self._pj_start()
        except BaseException as exc:  # noqa: BLE001
            logger.error("SIP: could not start on %s:%s: %s", self.host, self.port, _error_text(exc))
            try:
                self._pj_shutdown()
            except BaseException:  # noqa: BLE001
                _log_exception("SIP: cleanup after a failed start")
            started.set_exception(RuntimeError(f"SIP transport could not start on {self.host}:{self.port}: {_error_text(exc)}"))
            return
        self._running = True
        started.set_result(None)
        try:
            while not self._stop_requested:
                self._ep.libHandleEvents(POLL_MS)
                self._drain_commands()
                self._release_ended_calls()
        except BaseException:  # noqa: BLE001
            _log_exception("SIP: PJSIP thread failed")
        finally:
            with self._running_lock:
                self._running = False
            self._drain_commands()
            try:
                self._pj_shutdown()
            except BaseException:  # noqa: BLE001
                _log_exception("SIP: shutdown failed")
            # Commands that arrived during the shutdown fail instead of hanging.
            while True:
                try:
                    _fn, _args, future = self._commands.get_nowait()
                except queue.Empty:
                    break
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("SIP transport stopped"))

    def _pj_start(self) -> None:
        ep = _Endpoint()
        self._ep = ep
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.userAgent = self.user_agent
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = self.requested_max_calls
        log = cfg.logConfig
        log.consoleLevel = 1
        log.msgLogging = self.log_file is not None and self.log_messages
        if self.log_file is not None:
            rotate(self.log_file, self.log_backups)
            private_file(self.log_file)  # PJSIP writes into it and keeps its mode
            log.filename = str(self.log_file)
            log.level = 4 if self.log_messages else 2  # 4: SIP messages included; 2: warnings and errors
        else:
            log.level = 1
        med = cfg.medConfig
        med.clockRate = SAMPLE_RATE
        med.sndClockRate = SAMPLE_RATE
        med.channelCount = 1
        med.audioFramePtime = FRAME_MS
        med.ecTailLen = 0
        med.noVad = True
        ep.libInit(cfg)
        applied = library_max_calls()
        self.max_calls = applied if applied is not None else self.requested_max_calls
        ep.max_calls = self.max_calls
        if applied is not None and applied < self.requested_max_calls:
            logger.warning(
                "SIP: PJSIP accepts %d simultaneous calls, not the %d asked: this pjsua2 build has PJSUA_MAX_CALLS = %d",
                applied,
                self.requested_max_calls,
                applied,
            )

        tcfg = pj.TransportConfig()
        tcfg.port = self.port
        if self.host not in ("", "0.0.0.0", "::"):
            tcfg.boundAddress = self.host
        self._transport_ids.append(ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg))
        self.port = int(ep.transportGetInfo(self._transport_ids[0]).localName.rsplit(":", 1)[1])
        tcfg.port = self.port
        try:
            self._transport_ids.append(ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, tcfg))
        except pj.Error as exc:
            logger.warning("SIP: no TCP on port %d (%s); UDP only", self.port, _error_text(exc))

        ep.libStart()
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            priority = 0
            if codec.codecId in G711_CODECS:
                priority = 255 - G711_CODECS.index(codec.codecId)
            ep.codecSetPriority(codec.codecId, priority)

        acfg = pj.AccountConfig()
        shown_host = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        acfg.idUri = f"sip:accueil@{shown_host}:{self.port}"
        acfg.regConfig.registrarUri = ""
        acfg.regConfig.registerOnAdd = False
        if self.host not in ("", "0.0.0.0", "::"):
            acfg.mediaConfig.transportConfig.boundAddress = self.host
        account = _Account(self)
        account.create(acfg, True)
        self._account = account

    def _pj_shutdown(self) -> None:
        ep = self._ep
        if ep is None:
            return
        self._pj_release_objects(ep)
        gc.collect()
        try:
            ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        finally:
            self._ep = None
            del ep
            gc.collect()

    def _pj_release_objects(self, ep: pj.Endpoint) -> None:
        """Hang up, then drop every pjsua2 object (calls, ports, account, transports) before libDestroy."""
        for pjcall in list(self._pjcalls.values()):
            if not pjcall.disconnected:
                if pjcall.connection is not None:
                    pjcall.connection._local_hangup = True
                try:
                    pjcall.hangup(pj.CallOpParam())
                except pj.Error:
                    pass
        deadline = time.monotonic() + 2.0
        while self._pjcalls and time.monotonic() < deadline:
            ep.libHandleEvents(10)
            self._release_ended_calls()
        if self._pjcalls:
            try:
                ep.hangupAllCalls()
            except pj.Error:
                pass
            for _ in range(10):
                ep.libHandleEvents(10)
            self._release_ended_calls(force=True)
        # Let the bridge apply pending disconnections (it does so on its clock) before the ports go.
        for _ in range(10):
            ep.libHandleEvents(10)
        for media_port in self._all_ports:
            media_port.attach(None)
        self._idle_ports.clear()
        self._all_ports.clear()
        self._live.clear()
        for _ in range(10):
            ep.libHandleEvents(10)
        if self._account is not None:
            try:
                self._account.shutdown()
            except pj.Error:
                pass
            self._account = None
        for tid in self._transport_ids:
            try:
                ep.transportClose(tid)
            except pj.Error:
                pass
        self._transport_ids.clear()
        for _ in range(5):
            ep.libHandleEvents(10)

    # -- callbacks (PJSIP thread) --

    def _on_incoming_call(self, account: _Account, prm: pj.OnIncomingCallParam) -> None:
        pjcall = _PjCall(self, account, prm.callId)
        self._pjcalls[prm.callId] = pjcall  # a reference for as long as PJSIP knows the call
        try:
            self._accept_or_refuse(pjcall, prm)
        except Exception:  # noqa: BLE001
            _log_exception("SIP: incoming call from %s failed; answering 500", pjcall.peer or "?")
            self._live.pop(prm.callId, None)
            pjcall.connection = None
            pjcall.refused = True
            self._respond(pjcall, 500)

    def _accept_or_refuse(self, pjcall: _PjCall, prm: pj.OnIncomingCallParam) -> None:
        pjcall.peer = str(prm.rdata.srcAddress)
        info = pjcall.getInfo()
        pjcall.remote_uri = _uri_of(info.remoteUri)
        pjcall.sip_call_id = info.callIdString
        if not self._peer_allowed(_ip_of(pjcall.peer)):
            logger.warning("SIP: call from %s (%s) refused with 403: peer not allowed", pjcall.peer, shown(pjcall.remote_uri))
            pjcall.refused = True
            self._respond(pjcall, 403)
            return
        connection = SipCall(self, pjcall, pjcall.remote_uri, self._loop)
        pjcall.connection = connection
        self._live[prm.callId] = connection
        logger.info(
            "SIP call %s: accepted from %s (%s, Call-ID %s)", connection.call_id, pjcall.peer, shown(connection.caller), connection.sip_call_id
        )
        self._respond(pjcall, 200)

    def _respond(self, pjcall: _PjCall, code: int) -> None:
        op = pj.CallOpParam(True)
        op.statusCode = code
        try:
            pjcall.answer(op)
        except pj.Error as exc:
            logger.warning("SIP: answering %s with %d failed: %s", pjcall.peer, code, _error_text(exc))
            try:
                pjcall.hangup(pj.CallOpParam())
            except pj.Error:
                pass

    def _peer_allowed(self, ip: str) -> bool:
        if not self._networks:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        return any(address in net for net in self._networks)

    def _on_call_state(self, pjcall: _PjCall) -> None:
        info = pjcall.getInfo()
        state = info.state
        connection = pjcall.connection
        if state == pj.PJSIP_INV_STATE_CONFIRMED and connection is not None and not connection._handler_started:
            connection._handler_started = True
            self._loop.call_soon_threadsafe(self._start_handler, connection)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED and not pjcall.disconnected:
            pjcall.disconnected = True
            if connection is not None:
                logger.info(
                    "SIP call %s: ended by %s after %d s (%s, %d %s)",
                    connection.call_id,
                    "the gateway" if connection._local_hangup else "the caller",
                    info.connectDuration.sec,
                    connection.codec or "no audio",
                    info.lastStatusCode,
                    info.lastReason,
                )
                self._detach_port(connection)
                self._live.pop(pjcall.index, None)
                connection._on_disconnected()
            elif not pjcall.refused:
                logger.info("SIP: call from %s ended before it was answered (%d %s)", pjcall.peer, info.lastStatusCode, info.lastReason)
            self._to_release.append(pjcall)

    def _on_call_media_state(self, pjcall: _PjCall) -> None:
        connection = pjcall.connection
        if connection is None or pjcall.disconnected:
            return
        info = pjcall.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = pjcall.getAudioMedia(media.index)
            slot = audio.getPortId()
            if slot == connection._media_slot:
                return
            port = connection._port
            if connection._audio is not None and port is not None:
                for source, sink in ((connection._audio, port), (port, connection._audio)):
                    try:
                        source.stopTransmit(sink)
                    except pj.Error:
                        pass
            if port is None:
                port = self._idle_ports.pop() if self._idle_ports else self._new_port()
                port.attach(connection)
                connection._port = port
            audio.startTransmit(port)
            port.startTransmit(audio)
            connection._media_slot = slot
            connection._audio = audio
            try:
                stream = pjcall.getStreamInfo(media.index)
                connection.codec = f"{stream.codecName}/{stream.codecClockRate}"
            except pj.Error:
                connection.codec = "?"
            logger.info("SIP call %s: audio up, codec %s", connection.call_id, connection.codec)
            return

    def _new_port(self) -> _MediaPort:
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, SAMPLE_RATE, 1, FRAME_MS * 1000, 16)
        port = _MediaPort()
        port.createPort(f"accueil{len(self._all_ports)}", fmt)
        self._all_ports.append(port)
        return port

    def _detach_port(self, connection: SipCall) -> None:
        """Disconnect the call's port and put it back in the pool (the call's own bridge port goes with its media)."""
        port, audio = connection._port, connection._audio
        connection._port = None
        connection._audio = None
        connection._media_slot = -1
        if port is None:
            return
        port.attach(None)
        if audio is not None:
            for source, sink in ((audio, port), (port, audio)):
                try:
                    source.stopTransmit(sink)
                except pj.Error:
                    pass  # already gone with the call's media
        self._idle_ports.append(port)

    def _release_ended_calls(self, force: bool = False) -> None:
        """Drop disconnected calls (outside their callbacks, on the PJSIP thread)."""
        if force:
            for index, pjcall in list(self._pjcalls.items()):
                if not pjcall.disconnected:
                    pjcall.disconnected = True
                    if pjcall.connection is not None:
                        self._detach_port(pjcall.connection)
                        self._live.pop(index, None)
                        pjcall.connection._on_disconnected()
                    self._to_release.append(pjcall)
        if not self._to_release:
            return
        ended, self._to_release = self._to_release, []
        for pjcall in ended:
            if self._pjcalls.get(pjcall.index) is pjcall:
                del self._pjcalls[pjcall.index]
            if pjcall.connection is not None:
                pjcall.connection._pjcall = None
            pjcall.connection = None
        del ended, pjcall

    # -- handlers (asyncio loop) --

    def _start_handler(self, connection: SipCall) -> None:
        task = self._loop.create_task(self._run_handler(connection), name=f"sip-call-{connection.call_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, connection: SipCall) -> None:
        try:
            await self._handler(connection)
        except asyncio.CancelledError:
            logger.info("SIP call %s: handler cancelled", connection.call_id)
            raise
        except Exception:  # noqa: BLE001
            _log_exception("SIP call %s: handler failed", connection.call_id)
        finally:
            if not connection.disconnected.is_set() and self._running:
                try:
                    await connection.hang_up()
                except Exception:  # noqa: BLE001
                    _log_exception("SIP call %s: hang-up after the handler failed", connection.call_id)
