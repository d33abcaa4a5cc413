"""`accueil models pull/status`: downloads checked by SHA-256, resumed, from a mirror, installed.

The official addresses cannot be reached here, so the files come from a local
HTTP server (with Range support, as alphacephei's and Hugging Face's servers
have) and a local mirror folder, under a manifest of this test's own; the
committed manifest is checked for its form.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from voice_gateway.models import MANIFEST, ModelError, load_manifest, pull, status


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


class Files(BaseHTTPRequestHandler):
    """Serves `files` with Range support; records the Range headers it got; can cut a response short."""

    files: dict[str, bytes] = {}
    ranges: list[str | None] = []
    cut_after: int | None = None

    def do_GET(self) -> None:
        data = self.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        self.ranges.append(self.headers.get("Range"))
        start = int(self.headers["Range"].split("=")[1].rstrip("-")) if self.headers.get("Range") else 0
        body = data[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.cut_after is not None:
            self.wfile.write(body[: self.cut_after])
            type(self).cut_after = None
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    Files.files, Files.ranges, Files.cut_after = {}, [], None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def manifest_for(tmp_path: Path, files: dict[str, bytes], base: str = "https://models.example.org") -> Path:
    vosk_zip = files["vosk-test.zip"]
    entries = {
        "models": {
            "vosk-test": {"kind": "vosk", "description": "test", "archive": "zip",
                          "files": [{"url": f"{base}/vosk-test.zip", "size": len(vosk_zip), "sha256": hashlib.sha256(vosk_zip).hexdigest()}]},
            "voice-test": {"kind": "piper", "description": "test",
                           "files": [{"url": f"{base}/{n}", "size": len(files[n]), "sha256": hashlib.sha256(files[n]).hexdigest()} for n in ("voice.onnx", "voice.onnx.json")]},
            "unpinned": {"kind": "vosk", "description": "test", "archive": "zip", "files": [{"url": f"{base}/vosk-test.zip"}]},
        }
    }  # fmt: skip
    path = tmp_path / "models.yml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return path


FILES = {
    "vosk-test.zip": zip_bytes({"vosk-test/am/final.mdl": b"m" * 300_000, "vosk-test/conf/model.conf": b"--x=1\n"}),
    "voice.onnx": b"o" * 200_000,
    "voice.onnx.json": b'{"audio": {"sample_rate": 22050}}',
}


def test_the_committed_manifest_pins_the_official_french_models() -> None:
    manifest = load_manifest(MANIFEST)
    small, siwis = manifest.entry("vosk-model-small-fr-0.22"), manifest.entry("fr_FR-siwis-medium")
    assert small.files[0].url.startswith("https://alphacephei.com/vosk/models/") and small.files[0].sha256
    assert [f.name for f in siwis.files] == ["fr_FR-siwis-medium.onnx", "fr_FR-siwis-medium.onnx.json"]
    assert all(f.url.startswith("https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/") and f.sha256 and f.size for f in siwis.files)


def test_pull_through_a_mirror_url_checks_and_installs(tmp_path: Path, server: str) -> None:
    Files.files = FILES
    manifest = load_manifest(manifest_for(tmp_path, FILES))
    models = tmp_path / "models"
    seen = []
    vosk = pull("vosk-test", models, manifest, mirror=server, progress=lambda name, done, total: seen.append((name, done, total)))
    voice = pull("voice-test", models, manifest, mirror=server + "/")
    assert (vosk / "am" / "final.mdl").read_bytes() == b"m" * 300_000 and vosk == models / "vosk" / "vosk-test"
    assert (voice / "voice.onnx.json").read_bytes() == FILES["voice.onnx.json"]
    assert seen[-1] == ("vosk-test.zip", len(FILES["vosk-test.zip"]), len(FILES["vosk-test.zip"]))
    assert {s.name: s.installed for s in status(models, manifest)} == {"vosk-test": True, "voice-test": True, "unpinned": False}
    assert not list((models / "downloads").iterdir()), "the downloads are removed once installed"
    requests_before = len(Files.ranges)
    pull("vosk-test", models, manifest, mirror=server)
    assert len(Files.ranges) == requests_before, "an installed model is not downloaded again"


def test_an_interrupted_download_resumes_where_it_stopped(tmp_path: Path, server: str) -> None:
    Files.files = FILES
    Files.cut_after = 100_000
    manifest = load_manifest(manifest_for(tmp_path, FILES))
    models = tmp_path / "models"
    with pytest.raises(ModelError):
        pull("vosk-test", models, manifest, mirror=server)
    part = models / "downloads" / "vosk-test.zip.part"
    kept = part.stat().st_size
    assert 0 < kept <= 100_000
    pull("vosk-test", models, manifest, mirror=server)
    assert Files.ranges == [None, f"bytes={kept}-"], "the second request asks only for the rest"
    assert (models / "vosk" / "vosk-test" / "conf" / "model.conf").read_bytes() == b"--x=1\n"


def test_a_file_with_the_wrong_checksum_is_refused_deleted_and_nothing_installed(tmp_path: Path, server: str) -> None:
    manifest = load_manifest(manifest_for(tmp_path, FILES))
    Files.files = {**FILES, "voice.onnx": b"x" * 200_000}  # same size, other content
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="checksum mismatch"):
        pull("voice-test", models, manifest, mirror=server)
    assert not (models / "piper" / "voice-test").exists()
    assert not any((models / "downloads").iterdir())


def test_pull_from_a_mirror_folder_and_the_unpinned_model_needs_a_checksum(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, data in FILES.items():
        (mirror / name).write_bytes(data)
    manifest = load_manifest(manifest_for(tmp_path, FILES))
    models = tmp_path / "models"
    assert (pull("voice-test", models, manifest, mirror=str(mirror)) / "voice.onnx").stat().st_size == 200_000
    with pytest.raises(ModelError, match="--sha256"):
        pull("unpinned", models, manifest, mirror=str(mirror))
    with pytest.raises(ModelError, match="checksum mismatch"):
        pull("unpinned", models, manifest, mirror=str(mirror), sha256="0" * 64)
    digest = hashlib.sha256(FILES["vosk-test.zip"]).hexdigest()
    assert (pull("unpinned", models, manifest, mirror=str(mirror), sha256=digest) / "am" / "final.mdl").is_file()


def test_an_archive_with_paths_leaving_its_folder_is_refused(tmp_path: Path) -> None:
    evil = zip_bytes({"../../outside.txt": b"x"})
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "vosk-test.zip").write_bytes(evil)
    manifest = load_manifest(manifest_for(tmp_path, {**FILES, "vosk-test.zip": evil}))
    with pytest.raises(ModelError, match="unsafe path"):
        pull("vosk-test", tmp_path / "models", manifest, mirror=str(mirror))
    assert not (tmp_path / "outside.txt").exists()


def test_models_command(tmp_path: Path, monkeypatch, capsys) -> None:
    from accueil import cli
    from core.settings import get_settings

    monkeypatch.setenv("ACCUEIL_MODELS_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    try:
        assert cli.main(["models", "status"]) == 0
        assert cli.main(["models", "pull", "vosk-model-small-fr-0.22", "--mirror", str(tmp_path / "empty")]) == 1
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "vosk-model-small-fr-0.22" in out and "missing" in out and "is not in the mirror folder" in out
