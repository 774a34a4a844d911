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


def _apply_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    jobs: int = 1,
    chunk_size: int = 16,
    window: int | None = None,
    on_crash: Callable[[T, BaseException], R] | None = None,
) -> Iterator[R]:
    """``map(fn, items)`` over ``jobs`` processes, results in input order. ``fn`` must be picklable."""
    if jobs <= 1:
        yield from map(fn, items)
        return
    window = window or jobs * 4
    # spawn, not fork: the parent holds a DuckDB connection and threads that a fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
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
