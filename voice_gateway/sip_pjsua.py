"""What the SIP transport needs around pjsua2 itself: fast audio copies, the build's call limit, its errors.

Nothing here knows calls or the pipeline: only the pjsua2 binding, whose
Python side differs from one build to the next.
"""

from __future__ import annotations

import ctypes
import logging
import traceback
from typing import Callable, Optional

import pjsua2 as pj

logger = logging.getLogger(__name__)


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


vector_bytes, bytes_vector = _pick_vector_codec()


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


# --- errors -------------------------------------------------------------------------------------


def log_exception(log: logging.Logger, message: str, *args: object) -> None:
    """Log the current exception as text: a record keeping the traceback object would keep
    its frames, hence pjsua2 objects, alive, and free them later on a thread PJSIP does not know."""
    log.error(message + "\n%s", *args, traceback.format_exc())


def error_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.reason} (status {exc.status})"
    return str(exc) or type(exc).__name__
