"""Where the editors' content comes from; each source reads into validated content."""

from kb_sync.sources.base import Source
from kb_sync.sources.folder import FolderSource

__all__ = ["Source", "FolderSource"]
