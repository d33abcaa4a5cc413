"""The one interface every knowledge base source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

from kb_sync.content import KnowledgeBaseContent


class Source(ABC):
    """Reads the editors' content. Raises `ContentInvalid` listing every error found."""

    @property
    @abstractmethod
    def description(self) -> str:
        """What the source is, for logs and versions (a folder path, a URL…)."""

    @abstractmethod
    def read(self) -> KnowledgeBaseContent:
        """Read and validate everything, or raise `ContentInvalid`."""
