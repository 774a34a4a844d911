"""Candidate document pairs: documents that share winnowed fingerprints, found with one sorted index.

A fingerprint found in more than ``max_df`` documents is boilerplate (a sign-off, a standard background line)
and proposes no pairs; that keeps the number of candidates, and so the time, close to linear in corpus size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Candidates:
    """Document pairs ``(a, b)``, ``a < b``, with the number of fingerprints each pair shares."""

    pairs: np.ndarray  # shape (k, 2), int64
    shared: np.ndarray  # shape (k,), int64
    boilerplate: int  # fingerprints skipped for recurring in more than max_df documents


def candidate_pairs(
    fingerprints: Sequence[np.ndarray],
    *,
    new: np.ndarray | None = None,
    max_df: int = 100,
    min_shared: int = 1,
) -> Candidates:
    """Pairs of documents sharing at least ``min_shared`` fingerprints.

    ``fingerprints[i]`` holds document i's distinct fingerprints. With ``new`` (a boolean per document), only
    pairs involving at least one new document are returned: the pairs among old documents are already known.
    """
    lengths = np.array([len(f) for f in fingerprints], dtype=np.int64)
    empty = Candidates(np.empty((0, 2), dtype=np.int64), np.empty(0, dtype=np.int64), 0)
    if lengths.sum() == 0:
        return empty
    hashes = np.concatenate([np.asarray(f, dtype=np.uint64) for f in fingerprints])
    docs = np.repeat(np.arange(len(fingerprints), dtype=np.int64), lengths)
    order = np.argsort(hashes, kind="stable")
    hashes, docs = hashes[order], docs[order]

    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    sizes = np.diff(np.r_[starts, len(hashes)])
    boilerplate = int((sizes > max_df).sum())
    keep_group = (sizes >= 2) & (sizes <= max_df)
    if new is not None:
        # A group proposes a pair only if it holds a new document.
        has_new = np.add.reduceat(new[docs].astype(np.int64), starts) > 0
        keep_group &= has_new
    if not keep_group.any():
        return Candidates(empty.pairs, empty.shared, boilerplate)
    member = np.repeat(keep_group, sizes)
    group = np.repeat(np.arange(len(starts)), sizes)[member]
    docs = docs[member]

    # Pair every member with the members k places after it in its group, for k up to the largest group.
    pair_codes: list[np.ndarray] = []
    n_docs = np.int64(len(fingerprints))
    for k in range(1, int(sizes[keep_group].max())):
        same = group[:-k] == group[k:]
        if not same.any():
            break
        first, second = docs[:-k][same], docs[k:][same]
        if new is not None:
            involved = new[first] | new[second]
            first, second = first[involved], second[involved]
        low, high = np.minimum(first, second), np.maximum(first, second)
        pair_codes.append(low * n_docs + high)
    if not pair_codes:
        return Candidates(empty.pairs, empty.shared, boilerplate)
    codes, shared = np.unique(np.concatenate(pair_codes), return_counts=True)
    keep = shared >= min_shared
    codes, shared = codes[keep], shared[keep]
    pairs = np.stack([codes // n_docs, codes % n_docs], axis=1)
    return Candidates(pairs, shared.astype(np.int64), boilerplate)
