"""Claim vectors computed before the link stage asks for them.

``newstrace run`` annotates on worker processes, then links: reuse first, then claim extraction, both on
one core, then claim embedding on every core. :class:`ClaimPrefetch` extracts the claims of each annotated
batch as it is stored, and embeds them on a background thread once the workers are done, on the core the
link stage's first steps leave idle. When the link stage asks for vectors, those already computed are
returned and only the rest are encoded.

It waits for :meth:`ClaimPrefetch.start` because embedding beside busy workers gains nothing: three
threads on two cores cost more CPU in all (benchmarks/RESULTS.md, "Claims embedded ahead").

Vectors are keyed by claim text, so a text the link stage extracts differently (a date re-read after
annotation changes no text, but a store changed in between could) is simply encoded then. Each text is
encoded alone by the wrapped embedder, exactly as :meth:`Embedder.encode` would encode it, so the vectors
are the same whether or not they were prefetched.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from newstrace.link.claims import extract_claims

# Past this many texts the prefetcher stops taking work: memory stays bounded on very large runs and the
# link stage encodes the rest as it always does.
MAX_TEXTS = 200_000


class ClaimPrefetch:
    """An embedder for the link stage that embeds claims ahead, in the background.

    ``load`` returns the embedder to wrap; it is called on the background thread, so loading overlaps the
    caller's work, and an error in it is raised by :meth:`encode`. Call :meth:`add` with a store and the ids
    of documents just annotated (from the thread that owns the store), :meth:`start` to begin embedding
    them, and :meth:`close` when done.

        >>> with ClaimPrefetch(lambda: load_embedder("minilm")) as prefetch:  # doctest: +SKIP
        ...     annotate(db, after_batch=prefetch.add)
        ...     prefetch.start()
        ...     link(db, embedder=prefetch)
    """

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._inner: Any = None
        self._error: BaseException | None = None
        self._loaded = threading.Event()
        self._go = threading.Event()
        self._stop = threading.Event()
        self._queue: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._vectors: dict[str, np.ndarray] = {}
        self._queued = 0
        self._switch: float | None = None
        self.prefetched = 0  # texts encoded ahead
        self.reused = 0  # of them, asked for by encode()
        self._thread = threading.Thread(target=self._work, name="newstrace-prefetch", daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        return self._embedder().name

    @property
    def dim(self) -> int:
        return int(self._embedder().dim)

    def add(self, store: Any, doc_ids: Sequence[str]) -> None:
        """Queue the claims of these annotated documents for embedding (extracted now, in this thread)."""
        if self._stop.is_set() or self._error is not None or self._queued >= MAX_TEXTS or not doc_ids:
            return
        try:
            texts = [claim.text for doc in store.claim_inputs(list(doc_ids)) for claim in extract_claims(doc)]
        except Exception:  # the link stage extracts these claims again and reports what fails there
            return
        self._queued += len(texts)
        self._queue.put(texts)

    def start(self) -> None:
        """Begin embedding the queued claims (and those added later) in the background."""
        # The background thread needs the GIL between two texts (~4 ms of onnxruntime each) while the
        # caller runs Python; at the default 5 ms switch interval it waits about as long as it computes.
        if self._switch is None and not self._stop.is_set():  # saved once, restored by _halt()
            self._switch = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch, 0.0005))
        self._go.set()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts``: those embedded ahead, the rest encoded now by the wrapped embedder."""
        inner = self._embedder()
        self._halt()
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        self.reused += len(set(texts)) - len(missing)
        if missing:
            for text, vector in zip(missing, inner.encode(missing), strict=True):
                self._vectors[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32, copy=False)

    def close(self) -> None:
        """Stop the background thread and forget the vectors."""
        self._halt()
        self._vectors.clear()

    def __enter__(self) -> ClaimPrefetch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _embedder(self) -> Any:
        self._loaded.wait()
        if self._error is not None:
            raise self._error
        return self._inner

    def _halt(self) -> None:
        self._stop.set()
        self._go.set()
        self._queue.put(None)
        self._thread.join()
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
            self._switch = None

    def _work(self) -> None:
        try:
            self._inner = self._load()
        except BaseException as exc:  # surfaced by encode(), in the caller's thread
            self._error = exc
            return
        finally:
            self._loaded.set()
        self._go.wait()
        while not self._stop.is_set():
            texts = self._queue.get()
            if texts is None:
                return
            for text in texts:
                if self._stop.is_set():
                    return
                if text not in self._vectors:
                    # One text per call, as Embedder.encode runs them: the same vector either way.
                    self._vectors[text] = self._inner.encode([text])[0]
                    self.prefetched += 1
