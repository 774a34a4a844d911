"""Choose the tagger's decoding costs on PolNeAR dev, with two-fold cross-validation.

    python models/attribution/tune_decoding.py [--model DIR] [--write]

Viterbi decoding adds two log-scores per role (``newstrace.attribution.tagger.transition_scores``): ``begin``,
paid by every span that opens after O, and ``split``, paid by a span that opens right where another ends.
With both at 0 the decoder only forbids O->I. The model's word logits are computed once; each setting is
then decoded, linked and scored as ``benchmarks/attribution_eval.py`` scores the whole extraction (exact F1
per role, shared scorer).

Dev is split in two halves of articles (seeded). For each role, the setting best on one half is scored on
the other: those two figures say whether a setting generalises. The costs kept for a role are the best on
the whole of dev, and only when the settings chosen on either half also beat no costs on the other half;
otherwise the role keeps 0 and 0. Roles are searched one after the other (content, cue, source), each with
the costs already kept for the others. ``--write`` stores the costs in the model folder's ``manifest.json``
("transitions"); re-run this after ``package.py``, which writes a manifest without them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from benchlib import SHARED  # noqa: E402
from newstrace.attribution.polnear import PolnearArticle, read_split  # noqa: E402
from newstrace.attribution.scoring import PRF, evaluate  # noqa: E402
from newstrace.attribution.tagger import (  # noqa: E402
    ROLES,
    Tagger,
    attributions,
    default_model_dir,
    transition_scores,
)

BEGIN = (-3.0, -2.5, -2.0, -1.75, -1.5, -1.25, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0)
SPLIT = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0)
SEED = 0
SEARCH_ORDER = ("content", "cue", "source")


def exact_counts(
    articles: Sequence[PolnearArticle],
    logits: Sequence[tuple[list[tuple[int, int]], np.ndarray]],
    indices: Iterable[int],
    costs: Mapping[str, Mapping[str, float]] | None,
    learned: Mapping[str, Sequence[Sequence[float]]] | None = None,
) -> dict[str, PRF]:
    """Per role, the exact-match PRF of the whole extraction over the given articles, decoded with the
    model's ``learned`` transitions (a CRF's, if it has them) plus ``costs``."""
    transitions = transition_scores(costs, learned)
    boundary = transition_scores(costs, learned, at_boundary=True)
    documents = [
        (
            articles[i].text,
            attributions(articles[i].text, *logits[i], transitions, boundary),
            articles[i].attributions,
        )
        for i in indices
    ]
    result = evaluate(documents)
    return {role: result.spans[role]["exact"] for role in ROLES}


def pooled_f1(first: PRF, second: PRF) -> float:
    """F1 of two halves' counts taken together."""
    total = PRF()
    total += first
    total += second
    return total.f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--write", action="store_true", help="store the chosen costs in its manifest.json")
    options = parser.parse_args(argv)
    folder = options.model or default_model_dir()
    polnear = SHARED / "polnear"
    if not (polnear / "dev").is_dir():
        print(f"skipped: {polnear / 'dev'} is missing (the real corpora live in ../shared/data)")
        return 0
    articles = list(read_split(polnear, "dev"))
    tagger = Tagger(folder, threads=2)
    learned = tagger.manifest.learned
    started = time.perf_counter()
    logits = [tagger.word_logits(a.text) for a in articles]
    print(f"{len(articles)} dev articles tagged in {time.perf_counter() - started:.1f} s")
    order = np.random.default_rng(SEED).permutation(len(articles))
    halves = (sorted(order[: len(order) // 2].tolist()), sorted(order[len(order) // 2 :].tolist()))

    # One pass of coordinate search: each role's grid is searched with the roles before it at their kept
    # costs (roles are decoded independently, but the linker, which keeps a source only with a cue, ties
    # their scores together).
    none = (0.0, 0.0)
    chosen: dict[str, dict[str, float]] = {role: {"begin": 0.0, "split": 0.0} for role in ROLES}
    print("\n| role | no costs | kept (begin, split) | dev exact F1 | half A → B | half B → A |")
    print("| --- | ---: | --- | ---: | --- | --- |")
    for role in SEARCH_ORDER:
        scores = {}
        for begin, split in itertools.product(BEGIN, SPLIT):
            costs = {**chosen, role: {"begin": begin, "split": split}}
            scores[(begin, split)] = [
                exact_counts(articles, logits, half, costs, learned)[role] for half in halves
            ]
        whole = {k: pooled_f1(a, b) for k, (a, b) in scores.items()}
        on_a = max(scores, key=lambda k: (scores[k][0].f1, -abs(k[0]) - abs(k[1])))
        on_b = max(scores, key=lambda k: (scores[k][1].f1, -abs(k[0]) - abs(k[1])))
        a_to_b = scores[on_a][1].f1 - scores[none][1].f1
        b_to_a = scores[on_b][0].f1 - scores[none][0].f1
        best = max(scores, key=lambda k: (whole[k], -abs(k[0]) - abs(k[1])))
        keep = best if a_to_b > 0 and b_to_a > 0 else none
        chosen[role] = {"begin": keep[0], "split": keep[1]}
        print(
            f"| {role} | {whole[none]:.4f} | {keep} | {whole[keep]:.4f} | {on_a}: {a_to_b:+.4f} "
            f"| {on_b}: {b_to_a:+.4f} |"
        )
    final = exact_counts(articles, logits, range(len(articles)), chosen, learned)
    base = exact_counts(articles, logits, range(len(articles)), None, learned)
    print(
        "\nwith the kept costs, dev exact F1 "
        + " / ".join(f"{final[r].f1:.4f}" for r in ROLES)
        + " (no costs: "
        + " / ".join(f"{base[r].f1:.4f}" for r in ROLES)
        + ")"
    )
    print(json.dumps(chosen))
    if options.write:
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["transitions"] = chosen
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
