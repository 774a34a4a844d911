"""Copy a trained, exported attribution model into newstrace's package data, with its manifest.

    python models/attribution/package.py models/attribution/artifacts/onnx [TARGET]

TARGET defaults to newstrace's package data; another folder holds a candidate model that
``NEWSTRACE_ATTRIBUTION_MODEL=TARGET`` makes newstrace use, for evaluation before it replaces the shipped one.

The folder must hold `model.int8.onnx`, `tokenizer.json`, `attribution.json` (window, stride, word pattern)
and `onnx_metrics.json` (dev figures). The manifest records the model's sha256, which the runtime checks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[2] / "src" / "newstrace" / "data" / "attribution"


def main(folder: Path, target: Path = TARGET) -> None:
    config = json.loads((folder / "attribution.json").read_text(encoding="utf-8"))
    metrics = json.loads((folder / "onnx_metrics.json").read_text(encoding="utf-8"))
    int8 = metrics["onnx"]["model.int8.onnx"]
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "model.int8.onnx", target / "model.onnx")
    shutil.copyfile(folder / "tokenizer.json", target / "tokenizer.json")
    digest = hashlib.sha256((target / "model.onnx").read_bytes()).hexdigest()
    manifest = {
        "model": "all-MiniLM-L6-v2 fine-tuned on PolNeAR train (models/attribution/train.py), int8 ONNX"
        + (f", {config['graph']}" if config.get("graph") else ""),
        "window": config["max_length"] - 2,
        "stride": config["eval_stride"],
        "word_pattern": config["word_regex"],
        "decoding": config.get("decoding", "viterbi"),
        "labels": config["labels"],
        **({"crf": config["crf"]} if config.get("crf") else {}),
        **({"syntax": config["syntax"]} if config.get("syntax") else {}),
        "sha256": digest,
        "bytes": (target / "model.onnx").stat().st_size,
        "dev": {
            "split": "PolNeAR dev, one annotator per article, 84 articles",
            "scores": int8.get("dev_shared_scorer"),
            "words_per_second": {k: v for k, v in int8.items() if k.startswith("words_per_s")},
        },
    }
    (target / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"{target}: model.onnx sha256 {digest}, {manifest['bytes'] / 1e6:.1f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else TARGET)
