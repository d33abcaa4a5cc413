"""The voice gateway's models: the committed manifest, downloads checked by size and SHA-256, install, status.

A download resumes where it stopped (HTTP Range into a `.part` file), can come
from a mirror (a folder or a URL holding the same file names) for hospitals
without internet, and is refused and deleted if its checksum does not match.
Installed models live in ACCUEIL_MODELS_DIR: `vosk/<name>/` (the unpacked
archive) and `piper/<name>/` (the voice and its JSON config), each with a
`.accueil-model.json` saying which checked files it was made from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, List, Literal, Optional
from urllib.parse import urlsplit

import requests
import yaml
from pydantic import BaseModel, ValidationError, constr

MANIFEST = Path(__file__).resolve().parent / "models.yml"
MARKER = ".accueil-model.json"
CHUNK = 1 << 20
NET_CHUNK = 1 << 16  # small enough that an interrupted download keeps nearly all it received

Progress = Callable[[str, int, Optional[int]], None]  # (file name, bytes so far, total or None)


class ModelError(RuntimeError):
    """A model could not be fetched, checked or installed; the message says what to do."""


class ModelFile(BaseModel):
    url: constr(regex=r"^https://")  # type: ignore[valid-type]
    size: Optional[int] = None
    sha256: Optional[constr(regex=r"^[0-9a-f]{64}$")] = None  # type: ignore[valid-type]

    @property
    def name(self) -> str:
        return PurePosixPath(urlsplit(self.url).path).name


class ModelEntry(BaseModel):
    kind: Literal["vosk", "piper"]
    description: str
    archive: Optional[Literal["zip"]] = None
    files: List[ModelFile]


class Manifest(BaseModel):
    models: Dict[str, ModelEntry]

    def entry(self, name: str) -> ModelEntry:
        if name not in self.models:
            raise ModelError(f"Unknown model {name!r}; the manifest has: {', '.join(self.models)}.")
        return self.models[name]


def load_manifest(path: Path = MANIFEST) -> Manifest:
    try:
        return Manifest.parse_obj(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ModelError(f"Invalid model manifest {path}: {exc}") from exc


def install_dir(models_dir: Path, manifest: Manifest, name: str) -> Path:
    return models_dir / manifest.entry(name).kind / name


@dataclass
class ModelStatus:
    name: str
    entry: ModelEntry
    path: Path
    installed: bool


def status(models_dir: Path, manifest: Manifest) -> list[ModelStatus]:
    """Each model of the manifest: installed (from checked files) or not."""
    out = []
    for name, entry in manifest.models.items():
        path = install_dir(models_dir, manifest, name)
        out.append(ModelStatus(name, entry, path, is_installed(path, entry)))
    return out


def is_installed(path: Path, entry: ModelEntry) -> bool:
    try:
        marker = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = {f.name: f.sha256 for f in entry.files if f.sha256}
    recorded = {f["name"]: f["sha256"] for f in marker.get("files", [])}
    return all(recorded.get(name) == sha for name, sha in expected.items())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, part: Path, total: Optional[int], progress: Progress, name: str) -> None:
    """Appends to `part` from where it stopped (HTTP Range); restarts if the server ignores the range."""
    have = part.stat().st_size if part.exists() else 0
    if total is not None and have == total:
        return
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(url, headers=headers, stream=True, timeout=(10, 60)) as response:
            if response.status_code == 416 and have:
                return  # nothing left to fetch; the checksum decides
            if response.status_code not in (200, 206):
                raise ModelError(f"{url}: HTTP {response.status_code}.")
            if response.status_code == 200:
                have = 0
            with open(part, "ab" if have else "wb") as out:
                for block in response.iter_content(NET_CHUNK):
                    out.write(block)
                    have += len(block)
                    progress(name, have, total)
    except requests.RequestException as exc:
        raise ModelError(f"{url}: {exc}. Run the same command again to resume, or use --mirror.") from exc


def _copy(source: Path, part: Path, total: Optional[int], progress: Progress, name: str) -> None:
    if not source.is_file():
        raise ModelError(f"{name} is not in the mirror folder {source.parent}.")
    done = 0
    with open(source, "rb") as src, open(part, "wb") as out:
        for block in iter(lambda: src.read(CHUNK), b""):
            out.write(block)
            done += len(block)
            progress(name, done, total)


def fetch(file: ModelFile, downloads: Path, mirror: Optional[str], progress: Progress, sha256: Optional[str] = None) -> Path:
    """The file, downloaded (or copied from the mirror) and checked; raises ModelError on any mismatch."""
    expected = sha256 or file.sha256
    if expected is None:
        raise ModelError(
            f"{file.name} has no SHA-256 in the manifest: pull it with --sha256 <checksum> "
            "once you have checked the value published for this file."
        )
    downloads.mkdir(parents=True, exist_ok=True)
    done, part = downloads / file.name, downloads / (file.name + ".part")
    if done.is_file() and sha256_of(done) == expected:
        return done
    if mirror and not urlsplit(mirror).scheme:
        _copy(Path(mirror) / file.name, part, file.size, progress, file.name)
    else:
        url = f"{mirror.rstrip('/')}/{file.name}" if mirror else file.url
        _download(url, part, file.size, progress, file.name)
    size = part.stat().st_size
    actual = sha256_of(part)
    if (file.size is not None and size != file.size) or actual != expected:
        part.unlink()
        raise ModelError(
            f"{file.name}: checksum mismatch (got {size} bytes, SHA-256 {actual}; expected "
            f"{file.size if file.size is not None else '?'} bytes, {expected}). The file was deleted; nothing was installed."
        )
    part.replace(done)
    return done


def _unpack_zip(archive: Path, target: Path) -> None:
    """Unpacks the archive's single top folder as `target`, refusing paths that leave it."""
    staging = target.with_name(target.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            parts = PurePosixPath(member).parts
            if member.startswith("/") or ".." in parts:
                raise ModelError(f"{archive.name}: unsafe path {member!r} in the archive; nothing was installed.")
        zf.extractall(staging)
    tops = list(staging.iterdir())
    root = tops[0] if len(tops) == 1 and tops[0].is_dir() else staging
    _replace(root, target)
    shutil.rmtree(staging, ignore_errors=True)


def _replace(source: Path, target: Path) -> None:
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    source.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def pull(
    name: str,
    models_dir: Path,
    manifest: Manifest,
    mirror: Optional[str] = None,
    sha256: Optional[str] = None,
    progress: Progress = lambda *_: None,
) -> Path:
    """Downloads, checks and installs one model; returns its folder. Does nothing if it is already installed."""
    entry = manifest.entry(name)
    target = install_dir(models_dir, manifest, name)
    if sha256 is None and is_installed(target, entry):
        return target
    if sha256 is not None and len(entry.files) != 1:
        raise ModelError(f"--sha256 is for a model made of one file; {name} has {len(entry.files)}.")
    downloads = models_dir / "downloads"
    files = [fetch(f, downloads, mirror, progress, sha256) for f in entry.files]
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry.archive == "zip":
        _unpack_zip(files[0], target)
    else:
        staging = target.with_name(target.name + ".installing")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for path in files:
            shutil.copyfile(path, staging / path.name)
        _replace(staging, target)
    marker = {
        "name": name,
        "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": [{"name": f.name, "sha256": sha256 or f.sha256} for f in entry.files],
    }
    (target / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    for path in files:
        path.unlink(missing_ok=True)
    return target


def _installed_or_explain(models_dir: Path, manifest: Manifest, name: str, setting: str) -> Path:
    path = install_dir(models_dir, manifest, name)
    if not is_installed(path, manifest.entry(name)):
        raise ModelError(
            f"The {manifest.entry(name).kind} model {name} is not installed in {path.parent}. "
            f"Run `accueil models pull {name}` (add `--mirror DIR_OR_URL` without internet access), "
            f"or set {setting} to a model you have."
        )
    return path


def vosk_model_dir(value: str, models_dir: Path, manifest: Optional[Manifest] = None) -> Path:
    """The Vosk model folder: a model of the manifest by name, or a folder given by its path."""
    if Path(value).is_dir():
        return Path(value)
    return _installed_or_explain(models_dir, manifest or load_manifest(), value, "ACCUEIL_VOSK_MODEL")


def piper_voice_file(value: str, models_dir: Path, manifest: Optional[Manifest] = None) -> Path:
    """The Piper voice's .onnx file (its .onnx.json beside it): by name from the manifest, or by path."""
    if value.endswith(".onnx") and Path(value).is_file():
        return Path(value)
    folder = _installed_or_explain(models_dir, manifest or load_manifest(), value, "ACCUEIL_PIPER_VOICE")
    return folder / f"{value}.onnx"
