"""Real SIP clients for the SIP transport's tests: baresip (a softphone) and SIPp (scripted scenarios).

Everything runs on 127.0.0.1 with free ports. The clients are started with
asyncio subprocesses so that the transport under test keeps running on the
same event loop while they call it.

* `espeak_wav` makes a caller's French utterance (espeak-ng, resampled by sox).
* `Baresip` writes a config dir (aufile as the microphone, sndfile dumping what
  it hears, G.711 only), dials the gateway and returns the recorded WAV.
* `Sipp` runs the scenarios of `scenarios/` (G.711 RTP streamed from a raw
  u-law file, SIP INFO and RFC 2833 DTMF, REFER, rejected calls) and collects
  its error, message and log files.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from tests.conftest import free_port, free_port_run

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP_PCAPS = Path("/usr/share/sip-tester")


def free_port_pair() -> int:
    """An even UDP port with the next one free too (RTP + RTCP)."""
    for _ in range(100):
        port = free_port()
        if port % 2:
            port -= 1
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


# --- audio ------------------------------------------------------------------------------------


def espeak_wav(text: str, path: Path, rate: int = 8000, pad_seconds: tuple[float, float] = (0.3, 0.3)) -> Path:
    """French espeak-ng speech as a mono 16-bit WAV at `rate`, with (leading, trailing) silence."""
    path = Path(path)
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "fr", "-w", str(raw), text], check=True, capture_output=True)
    lead, trail = pad_seconds
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(path), "pad", f"{lead}", f"{trail}"],
        check=True,
        capture_output=True,
    )
    raw.unlink()
    return path


def wav_to_ulaw(wav: Path, ulaw: Path) -> Path:
    """Raw G.711 u-law at 8 kHz (what SIPp's rtp_stream plays with payload type 0)."""
    subprocess.run(
        ["sox", str(wav), "-t", "raw", "-r", "8000", "-c", "1", "-e", "u-law", "-b", "8", str(ulaw)],
        check=True,
        capture_output=True,
    )
    return ulaw


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """(sample rate, mono int16 samples) of a 16-bit PCM WAV."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2, f"{path}: not 16-bit"
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0]
    return rate, samples


def tone_pcm16(freq: float, seconds: float, rate: int = 16000, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype("<i2").tobytes()


def rms(samples: np.ndarray | bytes) -> float:
    if isinstance(samples, (bytes, bytearray)):
        samples = np.frombuffer(samples, dtype="<i2")
    if len(samples) == 0:
        return 0.0
    values = samples.astype(np.float64)
    return float(np.sqrt(np.mean(values * values)))


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    values = samples.astype(np.float64)
    values -= values.mean()
    spectrum = np.abs(np.fft.rfft(values * np.hanning(len(values))))
    return float(np.fft.rfftfreq(len(values), 1 / rate)[int(np.argmax(spectrum))])


def loudest_window(samples: np.ndarray, rate: int, seconds: float = 0.5) -> np.ndarray:
    """The `seconds` of `samples` with the highest energy."""
    size = max(1, int(rate * seconds))
    if len(samples) <= size:
        return samples
    energy = np.convolve(samples.astype(np.float64) ** 2, np.ones(size), mode="valid")
    start = int(np.argmax(energy))
    return samples[start : start + size]


# --- baresip ----------------------------------------------------------------------------------


@dataclass
class BaresipResult:
    returncode: int
    output: str
    recordings: list[Path]  # what baresip heard (sndfile "dec" dumps)
    sent: list[Path]  # what it sent (sndfile "enc" dumps)

    @property
    def could_not_bind(self) -> bool:
        """baresip never started: one of its ports was taken between our probe and its bind."""
        return "init failed (Address already in use)" in self.output and not self.recordings and not self.sent


class Baresip:
    """A baresip softphone reading its microphone from a WAV and dumping what it hears.

    baresip 1.0 (Debian's baresip-core) config keys used: `sip_listen`,
    `net_interface 127.0.0.1` (an IP, not an interface name), `audio_source
    aufile,<wav>`, `audio_player aubridge,nil` (a player that needs no sound
    card), `snd_path` for the sndfile filter (it writes
    dump-<timestamp>-enc.wav and -dec.wav), modules g711/aufile/aubridge/sndfile
    plus account (module_tmp) and menu (module_app, for /dial).

    baresip hangs up as soon as aufile reaches the end of the WAV ("audio error
    (0,end of file)"), so the WAV must last longer than the call: pad it with
    silence (`espeak_wav(..., pad_seconds=(lead, trail))`).

    `sip_listen` also opens SIP/TLS on the next port, so both must be free; a
    port free when probed may still be taken (by any client's ephemeral port)
    before baresip binds it, so a start that fails on "Address already in use"
    is retried on new ports.
    """

    START_ATTEMPTS = 4

    def __init__(self, workdir: Path, source_wav: Path, user: str = "caller") -> None:
        self.workdir = Path(workdir)
        self.source_wav = Path(source_wav)
        self.user = user
        self.port = free_port_run(2)
        self.confdir = self.workdir / "baresip"
        self.recdir = self.workdir / "baresip-rec"

    def write_config(self) -> Path:
        self.confdir.mkdir(parents=True, exist_ok=True)
        self.recdir.mkdir(parents=True, exist_ok=True)
        rtp_port = free_port_pair()
        (self.confdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.port}",
                    "net_interface 127.0.0.1",
                    "call_local_timeout 30",
                    "call_max_calls 1",
                    f"audio_source aufile,{self.source_wav}",
                    "audio_player aubridge,nil",
                    "audio_alert aubridge,nil",
                    "audio_level no",
                    f"rtp_ports {rtp_port}-{rtp_port + 9}",
                    "rtp_stats no",
                    "jitter_buffer_delay 1-5",
                    "module_path /usr/lib/baresip/modules",
                    "module stdio.so",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    "module sndfile.so",
                    "module_tmp account.so",
                    "module_app menu.so",
                    f"snd_path {self.recdir}",
                    "",
                ]
            )
        )
        (self.confdir / "accounts").write_text(
            f"<sip:{self.user}@127.0.0.1:{self.port}>;regint=0;audio_codecs=PCMU,PCMA\n"
        )
        (self.confdir / "contacts").write_text("")
        return self.confdir

    async def call(self, uri: str, seconds: int) -> BaresipResult:
        """Dial `uri`, stay `seconds` (baresip's -t quits then, hanging up), return the recordings."""
        rate, samples = read_wav(self.source_wav)
        if len(samples) / rate <= seconds:
            raise ValueError(f"{self.source_wav} lasts {len(samples) / rate:.1f} s: baresip would hang up before {seconds} s")
        for attempt in range(self.START_ATTEMPTS):
            result = await self._run(uri, seconds)
            if not result.could_not_bind or attempt == self.START_ATTEMPTS - 1:
                return result
            self.port = free_port_run(2)
        return result

    async def _run(self, uri: str, seconds: int) -> BaresipResult:
        self.write_config()
        proc = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(self.confdir),
            "-e",
            f"/dial {uri}",
            "-t",
            str(int(seconds)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), seconds + 20)
        except asyncio.TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
        return BaresipResult(
            returncode=proc.returncode if proc.returncode is not None else -1,
            output=out.decode("utf-8", "replace"),
            recordings=sorted(self.recdir.glob("dump-*-dec.wav")),
            sent=sorted(self.recdir.glob("dump-*-enc.wav")),
        )


# --- SIPp -------------------------------------------------------------------------------------


@dataclass
class SippResult:
    returncode: int  # 0: every call succeeded, 1: some failed, others: fatal
    stdout: str
    stderr: str
    errors: str = ""  # -trace_err: unexpected messages
    log: str = ""  # -trace_logs: <log> actions of the scenario
    messages: str = ""  # -trace_msg: every SIP message
    args: list[str] = field(default_factory=list)

    def explain(self) -> str:
        return f"sipp {' '.join(self.args)}\nrc={self.returncode}\n{self.stderr[-2000:]}\n{self.errors[-4000:]}\n{self.messages[-6000:]}"


class Sipp:
    """Runs SIPp scenarios from `scenarios/` against the gateway.

    sipp -sf SCENARIO -i 127.0.0.1 -p SIP_PORT -mi 127.0.0.1 -mp MEDIA_PORT
         -m CALLS -l SIMULTANEOUS -r RATE -timeout 30s -timeout_error -nostdin
         -trace_err -trace_msg -trace_logs 127.0.0.1:GATEWAY_PORT

    The scenarios' `rtp_stream="audio.ulaw,-1,0"` loops `audio.ulaw` (raw
    u-law, payload 0) from the working directory; `play_pcap_audio` sends
    RFC 2833 digits from SIPp's packaged pcaps.
    """

    def __init__(self, workdir: Path, audio_wav: Optional[Path] = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.audio_wav = audio_wav
        self._runs = 0

    def prepare_audio(self) -> Path:
        ulaw = self.workdir / "audio.ulaw"
        if not ulaw.exists():
            wav = self.audio_wav
            if wav is None:
                wav = espeak_wav("Bonjour, je voudrais un rendez-vous.", self.workdir / "sipp-speech.wav", pad_seconds=(0.2, 0.2))
            wav_to_ulaw(wav, ulaw)
        return ulaw

    async def run(
        self,
        scenario: str,
        gateway_port: int,
        *,
        calls: int = 1,
        limit: Optional[int] = None,
        rate: float = 10,
        timeout: int = 30,
        extra: Sequence[str] = (),
    ) -> SippResult:
        self.prepare_audio()
        self._runs += 1
        name = f"{Path(scenario).stem}-{self._runs}"
        source = Path(scenario) if Path(scenario).is_absolute() else SCENARIOS / scenario
        scenario_file = self.workdir / f"{name}.xml"
        shutil.copyfile(source, scenario_file)
        errors = self.workdir / f"{name}-errors.log"
        messages = self.workdir / f"{name}-messages.log"
        logs = self.workdir / f"{name}-logs.log"
        args = [
            "-sf", str(scenario_file),
            "-i", "127.0.0.1",
            "-p", str(free_port()),
            "-mi", "127.0.0.1",
            "-mp", str(free_port_pair()),
            "-m", str(calls),
            "-l", str(limit or calls),
            "-r", str(rate),
            "-timeout", f"{timeout}s",
            "-timeout_error",
            "-nostdin",
            "-trace_err", "-error_file", str(errors),
            "-trace_msg", "-message_file", str(messages),
            "-trace_logs", "-log_file", str(logs),
            *extra,
            f"127.0.0.1:{gateway_port}",
        ]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            "sipp", *args, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout + 15)
        except asyncio.TimeoutError:
            proc.kill()
            out, err = await proc.communicate()

        def text(path: Path) -> str:
            return path.read_text("utf-8", "replace") if path.exists() else ""

        return SippResult(
            returncode=proc.returncode if proc.returncode is not None else -1,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            errors=text(errors),
            log=text(logs),
            messages=text(messages),
            args=args,
        )
