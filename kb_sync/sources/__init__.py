"""Where the editors' content comes from; each source reads into validated content.

`open_source` picks the plug-in from what the editor names: an http(s) URL
(an intranet CMS), an .xlsx workbook, a folder of CSV exports, or a folder of
YAML and Markdown files (the default).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kb_sync.sources.base import Source
from kb_sync.sources.folder import FolderSource
from kb_sync.sources.http_json import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, MB, HttpJsonSource
from kb_sync.sources.spreadsheet import SpreadsheetSource, export_folder_to_spreadsheet

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = [
    "Source", "FolderSource", "HttpJsonSource", "SpreadsheetSource", "export_folder_to_spreadsheet", "open_source",
    "configured_source",
]  # fmt: skip


def open_source(
    spec: str | Path,
    http_cache_dir: Path,
    *,
    allow_http: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    ca_file: Path | None = None,
) -> Source:
    text = str(spec)
    if text.lower().startswith(("http://", "https://")):
        return HttpJsonSource(text, http_cache_dir, timeout, allow_http=allow_http, max_bytes=max_bytes, ca_file=ca_file)
    path = Path(text)
    if path.suffix.lower() in (".xlsx", ".xlsm") or (path.is_dir() and any(path.glob("*.csv"))):
        return SpreadsheetSource(path)
    return FolderSource(path)


def configured_source(settings: "Settings", spec: str | Path | None = None) -> Source:
    """The source `spec` (default: ACCUEIL_KB_SOURCE), a URL read with the ACCUEIL_KB_HTTP_* settings."""
    return open_source(
        spec or settings.kb_source,
        settings.http_cache_dir,
        allow_http=settings.kb_http_allow_http,
        max_bytes=int(settings.kb_http_max_mb * MB),
        timeout=settings.kb_http_timeout,
        ca_file=settings.kb_http_ca_file,
    )
