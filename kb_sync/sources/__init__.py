"""Where the editors' content comes from; each source reads into validated content.

`open_source` picks the plug-in from what the editor names: an http(s) URL
(an intranet CMS), an .xlsx workbook, a folder of CSV exports, or a folder of
YAML and Markdown files (the default).
"""

from __future__ import annotations

from pathlib import Path

from kb_sync.sources.base import Source
from kb_sync.sources.folder import FolderSource
from kb_sync.sources.http_json import HttpJsonSource
from kb_sync.sources.spreadsheet import SpreadsheetSource, export_folder_to_spreadsheet

__all__ = ["Source", "FolderSource", "HttpJsonSource", "SpreadsheetSource", "export_folder_to_spreadsheet", "open_source"]


def open_source(spec: str | Path, http_cache_dir: Path) -> Source:
    text = str(spec)
    if text.startswith(("http://", "https://")):
        return HttpJsonSource(text, cache_dir=http_cache_dir)
    path = Path(text)
    if path.suffix.lower() in (".xlsx", ".xlsm") or (path.is_dir() and any(path.glob("*.csv"))):
        return SpreadsheetSource(path)
    return FolderSource(path)
