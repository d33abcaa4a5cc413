"""SIP transport of the voice gateway: phone calls through PJSIP (pjsua2), one `SipCall` per call.

Its parts: `sip_pjsua.py` (what pjsua2 builds differ in), `sip_addresses.py`
(pure address and header helpers), `sip_call.py` (one call, both sides),
`sip_thread.py` (the PJSIP thread and the pool of media ports); here, the
endpoint, the account and the transport that answers calls.

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
import gc
import logging
import threading
import time
from pathlib import Path
from typing import Optional, Sequence

import pjsua2 as pj

from core.logs import private_file, rotate, shown
from voice_gateway.frames import FRAME_MS, SAMPLE_RATE
from voice_gateway.sip_addresses import ip_of, parse_networks, peer_allowed, uri_of
from voice_gateway.sip_call import PjCall, SipCall
from voice_gateway.sip_pjsua import error_text, library_max_calls, log_exception
from voice_gateway.sip_thread import POLL_MS, PjsipThread, PortPool
from voice_gateway.transport import CallHandler

logger = logging.getLogger(__name__)

G711_CODECS = ("PCMU/8000/1", "PCMA/8000/1")
_ONE_AT_A_TIME = threading.Lock()  # PJSUA is a singleton: one running SipTransport per process
MAX_CALLS = 32  # default asked of PJSIP; PJSIP caps it at the build's PJSUA_MAX_CALLS (see library_max_calls)


# --- pjsua2 subclasses (their callbacks must never raise into C++) ---------------------------


class _Endpoint(pj.Endpoint):
    max_calls: Optional[int] = None

    def onRejectedIncomingCall(self, prm: pj.OnRejectedIncomingCallParam) -> None:  # noqa: N802
        # Calls PJSIP refuses by itself: no common codec (488), too many calls (486), ...
        try:
            logger.warning(
                "SIP: call from %s (%s) refused by PJSIP with %d %s%s",
                prm.rdata.srcAddress,
                uri_of(prm.remoteInfo),
                prm.statusCode,
                prm.reason,
                f" (too many calls: PJSIP takes {self.max_calls} at once; see SipTransport.max_calls)"
                if prm.statusCode == 486
                else "",
            )
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: logging a refused call failed")


class _Account(pj.Account):
    def __init__(self, transport: SipTransport) -> None:
        super().__init__()
        self._transport = transport

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:  # noqa: N802
        try:
            self._transport._on_incoming_call(self, prm)
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: incoming call failed")


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
        self._networks = parse_networks(self.allowed_peers)
        self.log_file = Path(log_file) if log_file else None
        self.log_messages = log_messages
        self.log_backups = log_backups
        self.user_agent = user_agent
        self.requested_max_calls = max_calls
        self.max_calls = max_calls  # after start(): the limit PJSIP applies
        self._handler: Optional[CallHandler] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pj = PjsipThread()
        self._tasks: set[asyncio.Task] = set()
        # PJSIP thread only:
        self._ep: Optional[pj.Endpoint] = None
        self._account: Optional[_Account] = None
        self._transport_ids: list[int] = []
        self._pjcalls: dict[int, PjCall] = {}
        self._live: dict[int, SipCall] = {}
        self._ports = PortPool()
        self._to_release: list[PjCall] = []

    # -- public API --

    @property
    def active_calls(self) -> int:
        """Calls answered and not yet ended."""
        return len(self._live)

    async def start(self, handler: CallHandler) -> None:
        """Start PJSIP on its own thread; returns once it listens."""
        if self._pj.started:
            raise RuntimeError("SipTransport already started")
        if not _ONE_AT_A_TIME.acquire(blocking=False):
            raise RuntimeError("another SipTransport is running in this process (PJSIP allows one)")
        self._handler = handler
        self._loop = asyncio.get_running_loop()
        try:
            await self._pj.start(
                f"{self.host}:{self.port}", self._pj_start, self._handle_events, self._release_ended_calls, self._pj_shutdown
            )
        except BaseException:
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
        if not self._pj.started:
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
        await self._pj.stop()
        atexit.unregister(self._stop_at_exit)
        _ONE_AT_A_TIME.release()
        logger.info("SIP: stopped")

    def _stop_at_exit(self) -> None:
        """The process exits without stop(): still shut PJSIP down cleanly (it aborts otherwise)."""
        self._pj.stop_now(5.0)

    # -- the PJSIP thread --

    def _handle_events(self) -> None:
        self._ep.libHandleEvents(POLL_MS)

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
            logger.warning("SIP: no TCP on port %d (%s); UDP only", self.port, error_text(exc))

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
        # Then stop that clock (the null sound device's thread): pjsua2 tears a port's Python side down before the
        # port leaves the bridge, and a tick calling it in between crashes the process.
        try:
            ep.audDevManager().setNoDev()
        except pj.Error:
            pass
        self._ports.drop_all()
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
        pjcall = PjCall(account, prm.callId, self._on_call_state, self._on_call_media_state)
        self._pjcalls[prm.callId] = pjcall  # a reference for as long as PJSIP knows the call
        try:
            self._accept_or_refuse(pjcall, prm)
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: incoming call from %s failed; answering 500", pjcall.peer or "?")
            self._live.pop(prm.callId, None)
            pjcall.connection = None
            pjcall.refused = True
            self._respond(pjcall, 500)

    def _accept_or_refuse(self, pjcall: PjCall, prm: pj.OnIncomingCallParam) -> None:
        pjcall.peer = str(prm.rdata.srcAddress)
        info = pjcall.getInfo()
        pjcall.remote_uri = uri_of(info.remoteUri)
        pjcall.sip_call_id = info.callIdString
        if not self._peer_allowed(ip_of(pjcall.peer)):
            logger.warning("SIP: call from %s (%s) refused with 403: peer not allowed", pjcall.peer, shown(pjcall.remote_uri))
            pjcall.refused = True
            self._respond(pjcall, 403)
            return
        connection = SipCall(self._pj.run, pjcall, pjcall.remote_uri, self._loop)
        pjcall.connection = connection
        self._live[prm.callId] = connection
        logger.info(
            "SIP call %s: accepted from %s (%s, Call-ID %s)", connection.call_id, pjcall.peer, shown(connection.caller), connection.sip_call_id
        )
        self._respond(pjcall, 200)

    def _respond(self, pjcall: PjCall, code: int) -> None:
        op = pj.CallOpParam(True)
        op.statusCode = code
        try:
            pjcall.answer(op)
        except pj.Error as exc:
            logger.warning("SIP: answering %s with %d failed: %s", pjcall.peer, code, error_text(exc))
            try:
                pjcall.hangup(pj.CallOpParam())
            except pj.Error:
                pass

    def _peer_allowed(self, ip: str) -> bool:
        return peer_allowed(ip, self._networks)

    def _on_call_state(self, pjcall: PjCall) -> None:
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

    def _on_call_media_state(self, pjcall: PjCall) -> None:
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
                port = self._ports.take()
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
        self._ports.put_back(port)

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
            log_exception(logger, "SIP call %s: handler failed", connection.call_id)
        finally:
            if not connection.disconnected.is_set() and self._pj.running:
                try:
                    await connection.hang_up()
                except Exception:  # noqa: BLE001
                    log_exception(logger, "SIP call %s: hang-up after the handler failed", connection.call_id)
