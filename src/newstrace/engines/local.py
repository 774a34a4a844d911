"""The local engine: an order-preserving map over a process pool, with bounded memory.

Items are sent in chunks and at most ``window`` chunks are in flight, so a stream of any length is processed
with flat memory. A worker that dies takes down only its chunk: the caller receives ``on_crash(item)`` for
each item of that chunk and the pool is restarted for the rest.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def tapering(batch_size: int, jobs: int, smallest: int = 2) -> Callable[[int], int]:
    """Batch sizes that shrink towards the end of a run, as a function of the items still to come.

    With ``jobs`` workers taking batches as they free up, the last batch decides when a run ends: a worker
    that draws a full batch last keeps the others waiting for it. So once fewer than ``2 * jobs`` full
    batches remain, each batch holds a ``2 * jobs``-th of what is left (never fewer than ``smallest``), and
    the workers finish within a small batch of each other.
    """

    def size(remaining: int) -> int:
        return max(min(smallest, remaining), min(batch_size, remaining // (2 * max(1, jobs))))

    return size


# Environment variables that cap the threads of numpy's BLAS (and of OpenMP and MKL, where a library uses them).
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def single_threaded_children() -> Iterator[None]:
    """Processes started within run their BLAS on one thread, unless the user has set the variables.

    ``jobs`` workers already fill the cores. A BLAS that also starts a thread per core in each worker
    oversubscribes them, and OpenBLAS's spinning threads then make spaCy's NER slower than on one thread
    (benchmarks/RESULTS.md). The variables are read when a child loads its BLAS, so they are set in the
    parent around the pool's life and restored after.
    """
    added = [name for name in _THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _apply_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Workers:
    """Worker processes started ahead of their work, for ``ordered_map(workers=...)``.

    ``initializer(*initargs)`` runs in each worker as it starts, so the workers can load their models while
    the parent does something else (``newstrace run`` reads its files meanwhile). The caller closes them.
    """

    def __init__(
        self, jobs: int, initializer: Callable[..., object] | None = None, initargs: tuple[object, ...] = ()
    ) -> None:
        self.jobs = jobs
        # spawn, not fork: the parent holds a DuckDB connection and threads that a fork would copy mid-state.
        self.context = multiprocessing.get_context("spawn")
        with single_threaded_children():
            self.executor = ProcessPoolExecutor(
                max_workers=jobs, mp_context=self.context, initializer=initializer, initargs=initargs
            )
            # The executor starts a process only when work arrives and none is idle: one empty task per
            # worker starts them all now.
            for _ in range(jobs):
                self.executor.submit(_nothing)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _nothing() -> None:
    return None


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int = 1,
    chunk_size: int = 16,
    window: int | None = None,
    on_crash: Callable[[T, BaseException], R] | None = None,
    workers: Workers | None = None,
) -> Iterator[R]:
    """``map(fn, items)`` over ``jobs`` processes, results in input order. ``fn`` must be picklable.

    ``workers`` runs the map on processes already started (``jobs`` is then theirs); they stay open.
    """
    if workers is not None:
        jobs = workers.jobs
    if jobs <= 1:
        yield from map(fn, items)
        return
    window = window or jobs * 4
    context = workers.context if workers else multiprocessing.get_context("spawn")
    given = workers.executor if workers else None
    with single_threaded_children():
        pool = given or ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        pending: deque[tuple[list[T], Future[list[R]]]] = deque()
        try:
            for chunk in _chunks(items, chunk_size):
                pending.append((chunk, pool.submit(_apply_chunk, fn, chunk)))
                if len(pending) >= window:
                    chunk_done, future = pending.popleft()
                    results, pool = _collect(chunk_done, future, pool, pending, fn, on_crash, jobs, context)
                    yield from results
            while pending:
                chunk_done, future = pending.popleft()
                results, pool = _collect(chunk_done, future, pool, pending, fn, on_crash, jobs, context)
                yield from results
        finally:
            if pool is not given:  # a pool of our own, or one that replaced the given after a crash
                pool.shutdown(wait=True, cancel_futures=True)


def _collect(chunk, future, pool, pending, fn, on_crash, jobs, context):  # type: ignore[no-untyped-def]
    try:
        return future.result(), pool
    except BrokenProcessPool:
        if on_crash is None:
            raise
    # The pool died, maybe because of another chunk. Retry this chunk one item at a time in fresh pools, so
    # only the item that kills a worker is reported, then resubmit every chunk still waiting, in order.
    waiting = [c for c, _ in pending]
    pending.clear()
    results = []
    for item in chunk:
        pool.shutdown(wait=False, cancel_futures=True)
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
        try:
            results.extend(pool.submit(_apply_chunk, fn, [item]).result())
        except BrokenProcessPool as exc:
            results.append(on_crash(item, exc))
    pool.shutdown(wait=False, cancel_futures=True)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    for c in waiting:
        pending.append((c, pool.submit(_apply_chunk, fn, c)))
    return results, pool
