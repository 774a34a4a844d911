"""newstrace: trace claims through the news.

>>> import newstrace
>>> report = newstrace.ingest(["articles/"], db="corpus.duckdb")
>>> newstrace.open("corpus.duckdb").documents()
"""

from __future__ import annotations

__version__ = "0.1.0"

from newstrace.ingest.pipeline import IngestReport, ingest
from newstrace.store import Store, StoreError


def open(db: str = "newstrace.duckdb", read_only: bool = True) -> Store:
    """Open a store for reading: ``newstrace.open("corpus.duckdb").documents()`` is a pandas DataFrame."""
    return Store(db, read_only=read_only)


__all__ = ["IngestReport", "Store", "StoreError", "__version__", "ingest", "open"]
