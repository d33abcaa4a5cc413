"""One SIP call: PJSIP's `PjCall` (on the PJSIP thread) and the `SipCall` the pipeline sees (on the asyncio loop).

A `SipCall` hangs up with a BYE and transfers with a blind REFER carrying the
conversation's summary; everything pjsua2 it does runs on the PJSIP thread
(`run_in_pj`), and what PJSIP reports back (DTMF, transfer status, the end of
the call) reaches the loop through `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Awaitable, Callable, Optional

import pjsua2 as pj

from core.logs import shown
from voice_gateway.frames import DTMFFrame, Frame, HangUpFrame
from voice_gateway.sip_addresses import sanitize_header_value, transfer_uri
from voice_gateway.sip_pjsua import error_text, log_exception
from voice_gateway.sip_thread import MediaPort
from voice_gateway.transport import CallConnection

logger = logging.getLogger(__name__)

SUMMARY_HEADER = "X-Accueil-Summary"
TRANSFER_TIMEOUT = 10.0


class PjCall(pj.Call):
    """PJSIP's side of one call; its callbacks (on the PJSIP thread) never raise into C++."""

    def __init__(
        self, account: pj.Account, call_index: int, on_state: Callable[[PjCall], None], on_media_state: Callable[[PjCall], None]
    ) -> None:
        super().__init__(account, call_index)
        self._on_state = on_state
        self._on_media_state = on_media_state
        self.connection: Optional[SipCall] = None
        self.index = call_index
        self.peer = ""
        self.remote_uri = ""
        self.sip_call_id = ""
        self.refused = False
        self.disconnected = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:  # noqa: N802
        try:
            self._on_state(self)
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: call state handling failed")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:  # noqa: N802
        try:
            self._on_media_state(self)
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: media state handling failed")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:  # noqa: N802
        # Called once per key for both RFC 2833 telephone-events (at the start of the
        # event; onDtmfEvent would also report every update) and SIP INFO dtmf-relay.
        try:
            if self.connection is not None and prm.digit:
                self.connection._on_dtmf(str(prm.digit), int(prm.method))
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: DTMF handling failed")

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:  # noqa: N802
        try:
            if self.connection is not None:
                self.connection._on_transfer_status(int(prm.statusCode), str(prm.reason), bool(prm.finalNotify))
        except Exception:  # noqa: BLE001
            log_exception(logger, "SIP: transfer status handling failed")

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:  # noqa: N802
        # The gateway never follows a REFER sent to it.
        prm.statusCode = 603


class SipCall(CallConnection):
    """One SIP call. Created on the PJSIP thread; its coroutines are used from the asyncio loop."""

    transport_name = "sip"

    def __init__(self, run_in_pj: Callable[..., Awaitable], pjcall: PjCall, caller: str, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(uuid.uuid4().hex, caller, loop)
        self.sip_call_id = pjcall.sip_call_id
        self.peer = pjcall.peer
        self.remote_uri = pjcall.remote_uri
        self.codec = ""
        self._run_in_pj = run_in_pj  # runs a function on the PJSIP thread
        self._pjcall: Optional[PjCall] = pjcall  # touched on the PJSIP thread only
        self._port: Optional[MediaPort] = None  # idem
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
            await self._run_in_pj(self._pj_hangup)
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
        uri = transfer_uri(target, self.remote_uri, self.peer)
        value = sanitize_header_value(summary)
        future: asyncio.Future[bool] = self.loop.create_future()
        with self._xfer_lock:
            if self._xfer_future is not None and not self._xfer_future.done():
                logger.warning("SIP call %s: a transfer is already in progress", self.call_id)
                return False
            self._xfer_future = future
            self._xfer_accepted = False
        try:
            await self._run_in_pj(self._pj_xfer, uri, value)
        except Exception as exc:  # noqa: BLE001 - pj.Error or transport stopped
            logger.warning("SIP call %s: REFER to %s not sent: %s", self.call_id, uri, error_text(exc))
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
            logger.warning("SIP call %s: hang-up failed: %s", self.call_id, error_text(exc))

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


def error_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.reason} (status {exc.status})"
    return str(exc) or type(exc).__name__


def _resolve(future: asyncio.Future, value: bool) -> None:
    if not future.done():
        future.set_result(value)
