"""Claim matching on CLEF-2020 CheckThat! task 2 (tweets against 10,375 verified claims): MAP@5, MRR, P@1.

Every system is a ``newstrace.match.Matcher`` on ``verified_claims.docs.tsv`` (fields vclaim and title, the
joined field ``all`` for BM25), queried with the tweets of ``--split`` (default dev), scored against
``tweet-vclaim-pairs.qrels`` with :func:`newstrace.match.score_run` (AP@5 over the number of relevant
claims, as trec_eval's map cut 5 in the task's scorer). Systems:

    bm25                  BM25 (bm25s, Lucene, k1 1.2, b 0.75; Snowball stems) on vclaim + title
    static / minilm       cosine with the embedder, best of vclaim and title
    bm25+E fusion         reciprocal-rank fusion (k = 60) of BM25 and the best cosine of each embedder E
    bm25+E re-ranked      the fitted re-ranker of newstrace/data/match_rerank.json over the candidates
    ... no dedupe         the same with duplicate catalogue entries kept apart (the v3 catalogue holds 180
                          claims twice, differing only in quote marks; qrels name one of the two)

Catalogue embeddings are computed once per embedder and shared by the systems. Each system's wall time
(index + search of all queries, embeddings excluded after the first use) is reported for information only.

``--fit`` first fits the re-rankers on the **train** tweets only and writes them to
``src/newstrace/data/match_rerank.json``: for each signal set (bm25, bm25+static, bm25+minilm,
bm25+static+minilm), candidate features of every train tweet (the right claim added when the candidates miss
it), a listwise logistic model (softmax over each tweet's candidates, L2 penalty chosen by 5-fold
cross-validation on train MAP@5, L-BFGS from scipy), then a Platt scaling of its score on the same candidates,
so the shipped score is a probability that the entry is the tweet's claim (calibrated on tweets that all have
a match in the catalogue). Dev is only scored, never used for choices.

    python benchmarks/clef_eval.py [--fit] [--split dev|train] [--systems NAME ...] [--runs DIR] [--no-record]

Without ``../shared/data/clef2020-t2`` the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, commit, machine, record
from newstrace.embed import Embedder, load_embedder
from newstrace.match import (
    RERANK_FILE,
    Catalog,
    Matcher,
    Rerank,
    read_qrels,
    score_run,
    signal_key,
)

CLEF = SHARED / "clef2020-t2" / "v3.0"
RERANK_PATH = ROOT / "src" / "newstrace" / "data" / RERANK_FILE
SIGNAL_SETS = [[], ["static"], ["minilm"], ["static", "minilm"]]
L2_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
FOLDS = 5
SEED = 13


class Memo(Embedder):
    """An embedder that remembers every text it encoded (the catalogue is embedded once per run)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memory: dict[str, np.ndarray] = {}
        self.seconds = 0.0

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.memory]
        if missing:
            started = time.perf_counter()
            self.memory.update(zip(missing, self.inner.encode(missing), strict=True))
            self.seconds += time.perf_counter() - started
        return np.stack([self.memory[t] for t in texts]) if texts else np.zeros((0, self.dim))


def load_split(split: str) -> tuple[Catalog, dict[str, set[str]]]:
    return Catalog.load(CLEF / split / "tweets.queries.tsv"), read_qrels(
        CLEF / split / "tweet-vclaim-pairs.qrels"
    )


# -- fitting -----------------------------------------------------------------------------------------------


def candidate_sets(matcher: Matcher, queries: Catalog, qrels: dict[str, set[str]], force: bool):
    """Per query: (feature matrix, 0/1 labels) over its candidates (the gold entries added when ``force``)."""
    texts = [queries.text(i) for i in range(len(queries))]
    extra = [sorted(qrels.get(q, ())) for q in queries.ids] if force else None
    out = []
    for qid, (rows, x) in zip(queries.ids, matcher.features(texts, extra=extra), strict=True):
        gold = {matcher.position[e] for e in qrels.get(qid, ()) if e in matcher.position}
        out.append((qid, rows, x, np.array([r in gold for r in rows], dtype=float)))
    return out


def fit_listwise(sets, l2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardisation and weights of a softmax-over-candidates model with an L2 penalty."""
    from scipy.optimize import minimize

    usable = [(x, y) for _, _, x, y in sets if y.any()]
    stacked = np.vstack([x for x, _ in usable])
    mean, scale = stacked.mean(0), stacked.std(0)
    scale[scale < 1e-9] = 1.0
    standard = [((x - mean) / scale, y / y.sum()) for x, y in usable]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * w @ w, l2 * w
        for x, target in standard:
            s = x @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            total -= float(target @ np.log(p + 1e-300))
            grad = grad + x.T @ (p - target)
        return total, grad

    w = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B").x
    return mean, scale, w


def platt(sets, mean, scale, w) -> tuple[float, float]:
    """a, b of sigmoid(a * score + b) fitted to the 0/1 labels of every candidate (logistic loss, L-BFGS)."""
    from scipy.optimize import minimize

    s = np.concatenate([((x - mean) / scale) @ w for _, _, x, _ in sets])
    y = np.concatenate([y for *_, y in sets])

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * s + params[1]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
        residual = p - y
        value = float(np.logaddexp(0.0, z).sum() - (y * z).sum()) + 1e-6 * float(params @ params)
        return value, np.array([(residual * s).sum(), residual.sum()]) + 2e-6 * params

    a, b = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    return float(a), float(b)


def map_of(sets, matcher: Matcher, scorer, qrels) -> float:
    run = {}
    for qid, rows, x, _ in sets:
        scores = scorer(x)
        order = np.lexsort((rows, -scores))[:5]
        run[qid] = [(matcher.catalog.ids[matcher.entries[rows[r]]], float(scores[r])) for r in order]
    return score_run(run, {q: qrels[q] for q, *_ in sets}, k=5)["map@5"]


def fit(matcher: Matcher, train: Catalog, qrels: dict[str, set[str]]) -> dict:
    sets = candidate_sets(matcher, train, qrels, force=True)
    rng = np.random.default_rng(SEED)
    fold = rng.permutation(len(sets)) % FOLDS
    cv = {}
    for l2 in L2_GRID:
        maps = []
        for k in range(FOLDS):
            inside = [s for s, f in zip(sets, fold, strict=True) if f != k]
            held = [s for s, f in zip(sets, fold, strict=True) if f == k]
            mean, scale, w = fit_listwise(inside, l2)
            maps.append(map_of(held, matcher, lambda x, m=mean, s=scale, w=w: ((x - m) / s) @ w, qrels))
        cv[l2] = float(np.mean(maps))
    best = max(L2_GRID, key=lambda v: (round(cv[v], 4), v))  # ties: the stronger penalty
    mean, scale, w = fit_listwise(sets, best)
    a, b = platt(sets, mean, scale, w)
    train_map = map_of(sets, matcher, lambda x: ((x - mean) / scale) @ w, qrels)
    model = Rerank(list(matcher.feature_names), mean, scale, w * a, b, {})
    model.info = {
        "signals": matcher.signals,
        "l2": best,
        "cv_map@5": {str(k): round(v, 4) for k, v in cv.items()},
        "train_map@5": round(train_map, 4),
        "train_queries": len(sets),
        "train_candidates": int(sum(len(s[1]) for s in sets)),
        "platt": {"a": round(a, 6), "b": round(b, 6)},
    }
    return model.to_json()


# -- systems -----------------------------------------------------------------------------------------------


def run_system(matcher: Matcher, queries: Catalog, score) -> dict[str, list[tuple[str, float]]]:
    """Query id -> ranked (entry id, score) for the top 5, using ``score(features) -> scores``."""
    texts = [queries.text(i) for i in range(len(queries))]
    run = {}
    for qid, (rows, x) in zip(queries.ids, matcher.features(texts), strict=True):
        scores = score(x)
        order = np.lexsort((rows, -scores))[:5]
        run[qid] = [(matcher.catalog.ids[matcher.entries[rows[r]]], float(scores[r])) for r in order]
    return run


def column(matcher: Matcher, name: str):
    index = matcher.feature_names.index(name)
    return lambda x: x[:, index]


def systems(catalog: Catalog, embedders: dict[str, Embedder], rerank_path: Path):
    """(name, build) pairs; build() returns (matcher, scorer)."""

    def make(names: Sequence[str], rerank, dedupe: bool = True) -> Matcher:
        return Matcher(
            catalog, embedder=[embedders[n] for n in names], rerank=rerank, dedupe=dedupe, candidates=30
        )

    def reranked(names: Sequence[str], dedupe: bool = True):
        matcher = make(names, rerank_path, dedupe)
        return matcher, matcher._scores

    out = [("bm25", lambda: (lambda m: (m, column(m, "bm25_all")))(make([], False)))]
    for name in ("static", "minilm"):
        out.append((name, lambda n=name: (lambda m: (m, column(m, f"cos_{n}_max")))(make([n], False))))
    for name in ("static", "minilm"):
        out.append((f"bm25+{name} fusion", lambda n=name: (lambda m: (m, m._scores))(make([n], False))))
    for names in SIGNAL_SETS:
        out.append((f"{signal_key(names)} re-ranked", lambda n=names: reranked(n)))
    out.append(("bm25+minilm re-ranked, no dedupe", lambda: reranked(["minilm"], dedupe=False)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--fit", action="store_true", help=f"fit the re-rankers on train, write {RERANK_FILE}"
    )
    parser.add_argument("--split", choices=["dev", "train"], default="dev")
    parser.add_argument("--systems", nargs="*", help="only these systems (names as printed)")
    parser.add_argument("--rerank", type=Path, default=RERANK_PATH, help="re-ranker weights to evaluate")
    parser.add_argument("--runs", type=Path, help="write each system's TREC run file into this folder")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    options = parser.parse_args()
    if not CLEF.exists():
        print(f"CLEF-2020 task 2 data not found at {CLEF}: nothing to evaluate")
        return
    catalog = Catalog.load(CLEF / "verified_claims.docs.tsv")
    embedders = {name: Memo(load_embedder(name)) for name in ("static", "minilm")}

    if options.fit:
        train, train_qrels = load_split("train")
        models = {}
        for names in SIGNAL_SETS:
            started = time.perf_counter()
            matcher = Matcher(catalog, embedder=[embedders[n] for n in names], rerank=False)
            models[matcher.signals] = fit(matcher, train, train_qrels)
            info = models[matcher.signals]
            print(
                f"fitted {matcher.signals}: l2 {info['l2']}, CV MAP@5 {info['cv_map@5'][str(info['l2'])]}, "
                f"train MAP@5 {info['train_map@5']} ({time.perf_counter() - started:.0f} s)"
            )
        table = {
            "fitted_by": "python benchmarks/clef_eval.py --fit",
            "fitted": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
            "data": "CLEF-2020 CheckThat! task 2 v3.0, train split only: 800 tweets, 801 tweet-claim pairs, "
            "against the 10,375 verified claims (vclaim = f0, title = f1)",
            "method": "candidates = union of the 30 best entries by BM25 on all fields and by each embedder "
            "on each field (the right claim added when missing); listwise logistic model (softmax over a "
            "tweet's candidates) on standardised features, L2 penalty chosen by 5-fold CV on train MAP@5 "
            f"(grid {list(L2_GRID)}, folds seeded {SEED}); then Platt scaling sigmoid(a*s+b) on the same "
            "candidates, folded into weights and bias, so a score is the probability that the entry states "
            "the tweet's claim, given that the catalogue holds it (every CLEF tweet has a match)",
            "features": "bm25_F: BM25 score on field F (f0, f1, all = joined); _rel: divided by the query's "
            "best; bm25_rr: 1/(1+rank) by BM25 on all fields; cos_E_F: cosine with embedder E; _rel: minus "
            "the query's best; _seg: best over the whole query and its longest sentences (up to 4); "
            "cos_E_max: best over fields; cos_E_rr: 1/(1+rank) by cos_E_max; overlap: Jaccard of the stem "
            "sets; cover: share of the entry's stems found in the query",
            "models": models,
        }
        options.rerank.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {options.rerank}")

    queries, qrels = load_split(options.split)
    rows, results = [], {}
    for name, build in systems(catalog, embedders, options.rerank):
        if options.systems and name not in options.systems:
            continue
        before = sum(e.seconds for e in embedders.values())
        started = time.perf_counter()
        matcher, scorer = build()
        run = run_system(matcher, queries, scorer)
        seconds = time.perf_counter() - started - (sum(e.seconds for e in embedders.values()) - before)
        scores = score_run(run, qrels, k=5)
        results[name] = scores
        rows.append(
            f"| {name} | {scores['map@5']:.4f} | {scores['mrr']:.4f} | {scores['p@1']:.4f} | {seconds:.1f} |"
        )
        print(rows[-1], flush=True)
        if options.runs:
            options.runs.mkdir(parents=True, exist_ok=True)
            tag = name.replace(" ", "_").replace(",", "").replace("+", "-")
            with (options.runs / f"{options.split}.{tag}.trec").open("w") as handle:
                for qid, ranked in run.items():
                    for rank, (doc, score) in enumerate(ranked, start=1):
                        handle.write(f"{qid}\tQ0\t{doc}\t{rank}\t{score:.6f}\t{tag}\n")
    embed_seconds = {n: round(e.seconds, 1) for n, e in embedders.items()}
    description = "\n".join(
        [
            f"CLEF-2020 CheckThat! task 2 v3.0, {options.split} split: {len(queries)} tweets, "
            f"{sum(len(v) for v in qrels.values())} relevant pairs, against {len(catalog):,} verified claims "
            "(vclaim, title). Scores over the top 5 of each tweet: MAP@5 (AP over the number of relevant "
            "claims, as the task's trec_eval scorer), MRR and P@1. Re-rankers: "
            f"`{options.rerank.relative_to(ROOT) if options.rerank.is_relative_to(ROOT) else options.rerank}`, "
            "fitted on train only (`--fit`). Time: building the matcher and searching every tweet, without "
            f"the one-off catalogue embedding (static {embed_seconds['static']} s, minilm "
            f"{embed_seconds['minilm']} s for all catalogue and tweet texts). {machine()}.",
            "",
            f"Command: `{shlex.join(['python', 'benchmarks/clef_eval.py', *sys.argv[1:]])}`",
        ]
    )
    table = ["| system | MAP@5 | MRR | P@1 | seconds |", "| --- | ---: | ---: | ---: | ---: |", *rows]
    record("CLEF-2020 task 2 claim matching", description, table, options.no_record)


if __name__ == "__main__":
    main()
