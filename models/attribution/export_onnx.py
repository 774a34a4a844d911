"""Export the trained attribution tagger to ONNX, quantise it (dynamic int8), check dev F1 and measure speed.

    HF_HUB_OFFLINE=1 .venv-train/bin/python models/attribution/export_onnx.py

Writes to ``--out`` (default artifacts/onnx): model.onnx (fp32), model.int8.onnx, tokenizer.json,
attribution.json (window settings) and onnx_metrics.json (dev exact F1 of fp32/int8 ONNX, words/s with 1 and
2 threads, sizes, sha256). Inference afterwards needs only onnxruntime + tokenizers (see runtime.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import log, sha256  # noqa: E402


def export(model_dir: Path, out: Path, opset: int, fuse: bool) -> Path:
    """Write ``out/model.onnx`` (fp32) and check it against torch.

    ``fuse``: the TorchScript exporter on eager attention, then onnxruntime's BERT fusions (Attention,
    SkipLayerNormalization, BiasGelu, EmbedLayerNormalization). The torch.export graph spells attention out
    as many small ops (masking with Where/IsNaN alone took 15% of int8 time); fused and quantised, the same
    weights run 1.2x (1 thread) to 1.4x (2 threads) faster on this CPU (models/attribution/README.md, "Fused graph").
    """
    import torch
    from transformers import AutoModelForTokenClassification

    torch.set_num_threads(2)
    model = AutoModelForTokenClassification.from_pretrained(
        model_dir, **({"attn_implementation": "eager"} if fuse else {})
    ).eval()

    typed = (model_dir / "syntax.json").exists()  # trained with syntax features as token types

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            return self.m(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits

    wrapper = Wrapper(model).eval()
    n_types = model.config.type_vocab_size
    # Reference logits come first: an export restores each module's training flag afterwards, and a
    # wrapper left in training mode would switch dropout on for any later torch call.
    cases = []
    for b, n, cut in ((2, 64, 50), (3, 100, None), (4, 256, 130)):
        x = torch.randint(1000, 20000, (b, n))
        a = torch.ones_like(x)
        t = torch.randint(0, n_types, (b, n)) if typed else None
        if cut:
            a[-1, cut:] = 0
        with torch.inference_mode():
            cases.append((x.numpy(), a.numpy(), t, wrapper(x, a, t).numpy()))
    ids = torch.randint(1000, 2000, (2, 64))
    mask = torch.ones_like(ids)
    mask[1, 50:] = 0
    inputs = (ids, mask, torch.randint(0, n_types, (2, 64))) if typed else (ids, mask)
    path = out / "model.onnx"
    input_names = ["input_ids", "attention_mask", *(["token_type_ids"] if typed else [])]
    names = {"input_names": input_names, "output_names": ["logits"]}
    if fuse:
        plain = out / "model.unfused.onnx"
        axes = {0: "batch", 1: "seq"}
        torch.onnx.export(
            wrapper, inputs, str(plain), **names, opset_version=min(opset, 17), dynamo=False,
            dynamic_axes={**{name: axes for name in input_names}, "logits": axes},
        )  # fmt: skip
        from onnxruntime.transformers.optimizer import optimize_model

        config = model.config
        fused = optimize_model(
            str(plain), model_type="bert", num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size, opt_level=1,
        )  # fmt: skip
        counts = fused.get_fused_operator_statistics()
        if counts.get("Attention") != config.num_hidden_layers:
            raise SystemExit(f"attention fusion failed: {counts}")
        fused.save_model_to_file(str(path))
        plain.unlink()
        log(f"fused: {', '.join(f'{k} {v}' for k, v in counts.items() if v)}")
    else:
        batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq", max=512)
        torch.onnx.export(
            wrapper, inputs, str(path), **names, dynamic_shapes=tuple({0: batch, 1: seq} for _ in inputs),
            opset_version=opset, dynamo=True, external_data=False,
        )  # fmt: skip
    # parity against torch, on shapes other than the traced one, with and without padding
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diff = 0.0
    for x, a, t, ref in cases:
        feeds = {"input_ids": x, "attention_mask": a, **({"token_type_ids": t.numpy()} if typed else {})}
        got = sess.run(["logits"], feeds)[0]
        diff = max(diff, float(abs(ref - got)[a.astype(bool)].max()))
    log(f"exported {path} ({path.stat().st_size / 1e6:.1f} MB); max |torch - onnx| logit diff {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("ONNX export does not match torch")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(HERE / "artifacts" / "minilm-attr"))
    ap.add_argument("--out", default=str(HERE / "artifacts" / "onnx"))
    ap.add_argument("--data", default="/work/shared/data/polnear")
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--limit-dev", type=int, default=0)
    ap.add_argument(
        "--per-channel",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="per-channel int8 weight scales (closer to fp32 than one scale per tensor)",
    )
    ap.add_argument(
        "--fuse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fused attention graph (default); --no-fuse keeps the torch.export graph runs 1-4 shipped with",
    )
    ap.add_argument("--skip-export", action="store_true", help="reuse model.onnx / model.int8.onnx in --out")
    ap.add_argument(
        "--eval-stride",
        type=int,
        default=0,
        help="subwords between inference windows, recorded for the runtime (default: training's, or half a "
        "window); 190 of 254 scored as well as 127 on dev at 16%% less work (benchmarks/RESULTS.md)",
    )
    args = ap.parse_args()
    model_dir, out = Path(args.model), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_metrics = (
        json.loads((model_dir / "metrics.json").read_text()) if (model_dir / "metrics.json").exists() else {}
    )
    hp = train_metrics.get("hyperparameters", {})
    max_length = hp.get("max_length", 256)
    import common

    # runs before --word-regex existed used the legacy words
    cfg = {
        "max_length": max_length,
        "eval_stride": args.eval_stride or hp.get("eval_stride") or (max_length - 2) // 2,
        "word_regex": hp.get("word_regex", common.LEGACY_WORD_RE),
        "decoding": "viterbi",
        "graph": "fused attention (onnxruntime BERT fusions)" if args.fuse else "torch.export",
        "labels": json.loads((model_dir / "config.json").read_text())["id2label"],
        "scheme": "3 BIO layers (source, cue, content); 9 logits = 3 softmax groups of (O, B, I); "
        "first subword of each word (word_regex)",
    }
    if (model_dir / "crf.json").exists():  # trained with train.py --crf: its transitions decode
        cfg["crf"] = json.loads((model_dir / "crf.json").read_text())["transitions"]
    if (model_dir / "syntax.json").exists():  # trained with train.py --syntax: token types from a parse
        from newstrace.attribution.syntax import PARSER

        cfg["syntax"] = {**json.loads((model_dir / "syntax.json").read_text()), "parser": PARSER}
    (out / "attribution.json").write_text(json.dumps(cfg, indent=2) + "\n")
    shutil.copy(model_dir / "tokenizer.json", out / "tokenizer.json")

    timings = {}
    if not args.skip_export:
        t0 = time.time()
        fp32 = export(model_dir, out, args.opset, args.fuse)
        timings["export_seconds"] = round(time.time() - t0, 1)
        from onnxruntime.quantization import QuantType, quantize_dynamic

        t0 = time.time()
        int8 = out / "model.int8.onnx"
        import onnx

        # Fused ops (com.microsoft domain) have no ONNX shape inference; their outputs are float.
        quantize_dynamic(
            str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=args.per_channel,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )  # fmt: skip
        timings["quantize_seconds"] = round(time.time() - t0, 1)
        log(f"quantised -> {int8} ({int8.stat().st_size / 1e6:.1f} MB)")

    from common import exact_scores, load_tokenizer, make_doc, shared_scores
    from runtime import AttributionTagger

    from newstrace.attribution.polnear import read_split

    common.set_word_regex(cfg["word_regex"])
    tok = load_tokenizer(str(out / "tokenizer.json"))
    docs, golds = [], []
    for art in read_split(Path(args.data), "dev"):
        docs.append(make_doc(tok, art.article_id, art.text, art.attributions))
        golds.append(art.attributions)
        if args.limit_dev and len(docs) >= args.limit_dev:
            break
    if cfg.get("syntax"):
        from newstrace.attribution import syntax

        vocab = syntax.vocabulary(cfg["syntax"]["features"])
        parses = syntax.parse([d.text for d in docs], cfg["syntax"].get("depth", 1))
        for doc, features in zip(docs, parses, strict=True):
            doc.types = syntax.word_features(doc.words, features, vocab)
    n_words = sum(len(d.words) for d in docs)
    results = {}
    for name in ("model.onnx", "model.int8.onnx"):
        path = out / name
        entry = {"bytes": path.stat().st_size, "sha256": sha256(path)}
        for threads in (2, 1):
            if threads == 1 and name == "model.onnx":
                continue  # keep the run short: fp32 speed is measured at 2 threads only
            tagger = AttributionTagger(out, name, threads=threads)
            t0 = time.time()
            preds = [tagger.tag_doc(d) for d in docs]
            dt = time.time() - t0
            entry[f"words_per_s_{threads}_threads"] = round(n_words / dt, 1)
            if threads == 2:
                pairs = [(d.gold, p) for d, p in zip(docs, preds, strict=False)]
                entry["dev_exact_distinct"] = exact_scores(pairs, distinct=True)
                entry["dev_exact_multiset"] = exact_scores(pairs, distinct=False)
                entry["dev_shared_scorer"] = shared_scores(docs, preds, golds)
            log(
                f"{name} threads={threads}: {n_words / dt:.0f} words/s"
                + (
                    " exact F1 (shared scorer) "
                    + " ".join(
                        f"{r}={v['exact']['f1']:.4f}" for r, v in (entry["dev_shared_scorer"] or {}).items()
                    )
                    + " own: "
                    + " ".join(f"{r}={v['f1']:.4f}" for r, v in entry["dev_exact_distinct"].items())
                    if threads == 2
                    else ""
                )
            )
        results[name] = entry
    torch_best = {k: (train_metrics.get("best") or {}).get(k) for k in ("exact_distinct", "shared_scorer")}
    report = {
        "dev_articles": len(docs),
        "dev_words": n_words,
        "window": cfg,
        "torch_dev_best": torch_best,
        "onnx": results,
        "per_channel": args.per_channel,
        **timings,
        "note": "speed = whole dev pipeline per article (word split, WordPiece, windows every "
        f"{cfg['eval_stride']} subwords, onnxruntime CPU, decoding), batch of up to 16 windows",
    }
    (out / "onnx_metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {out / 'onnx_metrics.json'}")


if __name__ == "__main__":
    main()
