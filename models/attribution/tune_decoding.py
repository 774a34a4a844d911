"""Choose the tagger's decoding costs and span thresholds on PolNeAR dev, with two-fold cross-validation.

    python models/attribution/tune_decoding.py [--model DIR] [--write] [--resample N]

Viterbi decoding adds two log-scores per role (``newstrace.attribution.tagger.transition_scores``): ``begin``,
paid by every span that opens after O, and ``split``, paid by a span that opens right where another ends.
With both at 0 the decoder only forbids O->I. A role can also be decoded by span probability instead of
Viterbi: the spans whose marginal probability under the CRF reaches a threshold are kept, most probable first
(``newstrace.attribution.tagger.select_spans``); the grid tries the thresholds of ``THRESHOLDS`` with
``begin`` at 0 (the threshold does that work) and every ``split``. The model's word logits are computed
once; each setting is then decoded, linked and scored as ``benchmarks/attribution_eval.py`` scores the whole
extraction (exact F1 per role, shared scorer).

Dev is split in two halves of articles (seeded). For each role, the setting best on one half is scored on
the other: those two figures say whether a setting generalises. The costs kept for a role are the best on
the whole of dev, and only when the settings chosen on either half also beat no costs on the other half;
otherwise the role keeps Viterbi with 0 and 0. Roles are searched one after the other (content, cue,
source), each with the settings already kept for the others. Two halves are few, so ``--resample N`` also
splits dev into halves N times at random and reports, per role, the mean F1 on the held-out half when the
setting is chosen on the other half among the Viterbi settings alone, or among all of them. ``--write``
stores the costs in the model folder's ``manifest.json`` ("transitions", and "marginal" for the
thresholds); re-run this after ``package.py``, which writes a manifest without them.
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
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
SEED = 0
SEARCH_ORDER = ("content", "cue", "source")


def exact_counts(
    articles: Sequence[PolnearArticle],
    logits: Sequence[tuple[list[tuple[int, int]], np.ndarray]],
    indices: Iterable[int],
    costs: Mapping[str, Mapping[str, float]] | None,
    learned: Mapping[str, Sequence[Sequence[float]]] | None = None,
    marginal: Mapping[str, float] | None = None,
) -> dict[str, PRF]:
    """Per role, the exact-match PRF of the whole extraction over the given articles, decoded with the
    model's ``learned`` transitions (a CRF's, if it has them) plus ``costs``, and by span probability for
    the roles in ``marginal``."""
    transitions = transition_scores(costs, learned)
    boundary = transition_scores(costs, learned, at_boundary=True)
    documents = [
        (
            articles[i].text,
            attributions(articles[i].text, *logits[i], transitions, boundary, marginal),
            articles[i].attributions,
        )
        for i in indices
    ]
    result = evaluate(documents)
    return {role: result.spans[role]["exact"] for role in ROLES}


def article_counts(
    articles: Sequence[PolnearArticle],
    logits: Sequence[tuple[list[tuple[int, int]], np.ndarray]],
    costs: Mapping[str, Mapping[str, float]],
    learned: Mapping[str, Sequence[Sequence[float]]] | None,
    marginal: Mapping[str, float],
    role: str,
) -> np.ndarray:
    """One role's exact-match counts per article (articles x correct, predicted, gold)."""
    rows = []
    for i in range(len(articles)):
        counts = exact_counts(articles, logits, [i], costs, learned, marginal)[role]
        rows.append((counts.hit_predicted, counts.predicted, counts.gold))
    return np.asarray(rows, dtype=np.float64)


def resampled(per_setting: Mapping[tuple[float, float, float], np.ndarray], rounds: int) -> dict[str, float]:
    """Mean F1 on held-out halves of dev, over ``rounds`` random splits into halves (each half in turn the
    one a setting is chosen on): choosing among the Viterbi settings alone, and among all settings."""
    settings = list(per_setting)
    counts = np.stack([per_setting[k] for k in settings])  # settings x articles x 3

    def f1(c: np.ndarray) -> np.ndarray:
        return 2 * c[..., 0] / np.maximum(c[..., 1] + c[..., 2], 1)

    viterbi = [k for k, setting in enumerate(settings) if setting[2] == 0]
    rng = np.random.default_rng(SEED)
    held_out: dict[str, list[float]] = {"viterbi": [], "all": []}
    n = counts.shape[1]
    for _ in range(rounds):
        order = rng.permutation(n)
        for chosen_on, scored_on in ((order[: n // 2], order[n // 2 :]), (order[n // 2 :], order[: n // 2])):
            on, off = f1(counts[:, chosen_on].sum(1)), f1(counts[:, scored_on].sum(1))
            held_out["viterbi"].append(off[viterbi[int(np.argmax(on[viterbi]))]])
            held_out["all"].append(off[int(np.argmax(on))])
    gain = np.asarray(held_out["all"]) - np.asarray(held_out["viterbi"])
    return {
        "viterbi": float(np.mean(held_out["viterbi"])),
        "all": float(np.mean(held_out["all"])),
        "better": float(np.mean(gain > 0)),
    }


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
    parser.add_argument(
        "--resample",
        type=int,
        default=0,
        metavar="N",
        help="also score the choice on N random splits of dev into halves: Viterbi settings alone against all",
    )
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
    parses = tagger.tokens([a.text for a in articles])
    logits = [tagger.word_logits(a.text, tokens) for a, tokens in zip(articles, parses, strict=True)]
    print(f"{len(articles)} dev articles tagged in {time.perf_counter() - started:.1f} s")
    order = np.random.default_rng(SEED).permutation(len(articles))
    halves = (sorted(order[: len(order) // 2].tolist()), sorted(order[len(order) // 2 :].tolist()))

    # One pass of coordinate search: each role's grid is searched with the roles before it at their kept
    # settings (roles are decoded independently, but the linker, which keeps a source only with a cue, ties
    # their scores together). A setting is (begin, split, threshold); threshold 0 means Viterbi.
    none = (0.0, 0.0, 0.0)
    grid = [(b, s, 0.0) for b, s in itertools.product(BEGIN, SPLIT)]
    grid += [(0.0, s, t) for t, s in itertools.product(THRESHOLDS, SPLIT)]
    chosen: dict[str, tuple[float, float, float]] = {role: none for role in ROLES}

    def decoded(settings: Mapping[str, tuple[float, float, float]]) -> tuple[dict, dict]:
        costs = {role: {"begin": b, "split": s} for role, (b, s, _) in settings.items()}
        return costs, {role: t for role, (_, _, t) in settings.items() if t > 0}

    def size(k: tuple[float, float, float]) -> float:  # ties go to the setting closest to plain Viterbi
        return abs(k[0]) + abs(k[1]) + k[2]

    print("\n| role | no costs | kept (begin, split, threshold) | dev exact F1 | half A → B | half B → A |")
    print("| --- | ---: | --- | ---: | --- | --- |")
    for role in SEARCH_ORDER:
        scores = {}
        for setting in grid:
            costs, marginal = decoded({**chosen, role: setting})
            scores[setting] = [
                exact_counts(articles, logits, half, costs, learned, marginal)[role] for half in halves
            ]
        whole = {k: pooled_f1(a, b) for k, (a, b) in scores.items()}
        on_a = max(scores, key=lambda k: (scores[k][0].f1, -size(k)))
        on_b = max(scores, key=lambda k: (scores[k][1].f1, -size(k)))
        a_to_b = scores[on_a][1].f1 - scores[none][1].f1
        b_to_a = scores[on_b][0].f1 - scores[none][0].f1
        best = max(scores, key=lambda k: (whole[k], -size(k)))
        keep = best if a_to_b > 0 and b_to_a > 0 else none
        chosen[role] = keep
        print(
            f"| {role} | {whole[none]:.4f} | {keep} | {whole[keep]:.4f} | {on_a}: {a_to_b:+.4f} "
            f"| {on_b}: {b_to_a:+.4f} |"
        )
    if options.resample:
        print("\n| role | held-out F1, Viterbi settings | all settings | splits where all is better |")
        print("| --- | ---: | ---: | ---: |")
        for role in SEARCH_ORDER:
            per_setting = {}
            for setting in grid:
                costs, marginal = decoded({**chosen, role: setting})
                per_setting[setting] = article_counts(articles, logits, costs, learned, marginal, role)
            held = resampled(per_setting, options.resample)
            print(f"| {role} | {held['viterbi']:.4f} | {held['all']:.4f} | {held['better']:.0%} |")
    costs, marginal = decoded(chosen)
    final = exact_counts(articles, logits, range(len(articles)), costs, learned, marginal)
    base = exact_counts(articles, logits, range(len(articles)), None, learned)
    print(
        "\nwith the kept settings, dev exact F1 "
        + " / ".join(f"{final[r].f1:.4f}" for r in ROLES)
        + " (Viterbi, no costs: "
        + " / ".join(f"{base[r].f1:.4f}" for r in ROLES)
        + ")"
    )
    print(json.dumps({"transitions": costs, "marginal": marginal}))
    if options.write:
        path = folder / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["transitions"] = costs
        manifest["marginal"] = marginal
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
