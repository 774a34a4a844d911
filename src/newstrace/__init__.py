"""newstrace: trace claims through the news.

>>> import newstrace
>>> report = newstrace.ingest(["articles/"], db="corpus.duckdb")
>>> newstrace.annotate(db="corpus.duckdb")
>>> newstrace.open("corpus.duckdb").documents()
"""

from __future__ import annotations

__version__ = "0.1.0"

from newstrace.ingest.pipeline import IngestReport, ingest
from newstrace.store import Store, StoreError


def open(db: str = "newstrace.duckdb", read_only: bool = True) -> Store:
    """Open a store for reading: ``newstrace.open("corpus.duckdb").documents()`` is a pandas DataFrame."""
    return Store(db, read_only=read_only)


def __getattr__(name: str) -> object:
    # The language pipeline loads spaCy: imported on first use, so `newstrace ingest` starts fast.
    if name in ("annotate", "annotate_files"):
        from newstrace.nlp import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'newstrace' has no attribute '{name}'")


__all__ = [
    "IngestReport",
    "Store",
    "StoreError",
    "__version__",
    "annotate",
    "annotate_files",
    "ingest",
    "open",
]
