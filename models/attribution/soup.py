"""Average the weights of fine-tuned attribution taggers into one model (a uniform "model soup").

    python models/attribution/soup.py OUT RUN_FOLDER RUN_FOLDER [RUN_FOLDER ...]

Taggers fine-tuned from the same all-MiniLM-L6-v2 weights with the same recipe lie close enough together
that the mean of their weights is itself a good tagger, often better than each of them (Wortsman et al.,
"Model soups", ICML 2022). Unlike an ensemble, the soup costs nothing at run time: it is one model of the
same size. Each folder is a `train.py` output (model.safetensors, config and tokenizer files, and crf.json
for `--crf` runs); OUT gets the mean of every floating-point tensor and of the CRF scores, the other files of
the first folder, and a `metrics.json` with the first folder's hyperparameters (window length, word pattern)
and the ingredients with their sha256. It needs numpy and safetensors only. Export the soup with
`export_onnx.py --model OUT` like any trained run.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import sha256

COPIED = ("config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt")


def mean_tree(trees: list):
    """The element-wise mean of equally shaped nested lists / dicts of numbers."""
    first = trees[0]
    if isinstance(first, dict):
        if any(t.keys() != first.keys() for t in trees):
            raise SystemExit("crf.json files differ in their keys")
        return {key: mean_tree([t[key] for t in trees]) for key in first}
    if isinstance(first, list):
        if any(len(t) != len(first) for t in trees):
            raise SystemExit("crf.json files differ in their shapes")
        return [mean_tree(list(items)) for items in zip(*trees, strict=True)]
    return sum(trees) / len(trees)


def soup(out: Path, folders: list[Path]) -> None:
    import numpy as np
    from safetensors.numpy import load_file, save_file

    # Every check comes before anything is written, so a refused soup leaves OUT as it was.
    if len(folders) < 2:
        raise SystemExit("a soup needs at least two trained folders")
    configs = [json.loads((f / "config.json").read_text(encoding="utf-8")) for f in folders]
    if any(c != configs[0] for c in configs):
        raise SystemExit("the folders hold models of different configurations; they cannot be averaged")
    # export_onnx.py reads the window length and word pattern from the training hyperparameters, so the soup
    # carries them, and its ingredients must agree on them.
    hyper = [json.loads((f / "metrics.json").read_text(encoding="utf-8"))["hyperparameters"] for f in folders]
    for key in ("max_length", "word_regex"):
        if any(h.get(key) != hyper[0].get(key) for h in hyper):
            raise SystemExit(
                f"the folders were trained with different {key}; their soup would be decoded wrongly"
            )
    crfs = [f / "crf.json" for f in folders]
    if any(c.exists() for c in crfs) and not all(c.exists() for c in crfs):
        raise SystemExit("some folders have a CRF (crf.json) and some do not")
    states = [load_file(str(f / "model.safetensors")) for f in folders]
    if any(s.keys() != states[0].keys() for s in states):
        raise SystemExit("the folders hold models with different tensors; they cannot be averaged")

    averaged = {}
    for name, tensor in states[0].items():
        if np.issubdtype(tensor.dtype, np.floating):
            total = sum(s[name].astype(np.float64) for s in states)
            averaged[name] = (total / len(states)).astype(tensor.dtype)
        else:
            averaged[name] = tensor
    out.mkdir(parents=True, exist_ok=True)
    save_file(averaged, str(out / "model.safetensors"))
    for name in COPIED:
        if (folders[0] / name).exists():
            shutil.copyfile(folders[0] / name, out / name)
    if crfs[0].exists():
        trees = [json.loads(c.read_text(encoding="utf-8")) for c in crfs]
        (out / "crf.json").write_text(json.dumps(mean_tree(trees)), encoding="utf-8")
    ingredients = [
        {"folder": str(f), "model.safetensors sha256": sha256(f / "model.safetensors"), "hyperparameters": h}
        for f, h in zip(folders, hyper, strict=True)
    ]
    summary = {
        "method": "uniform mean of the weights and CRF scores of the ingredients (models/attribution/soup.py)",
        "hyperparameters": hyper[0],
        "ingredients": ingredients,
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    digest = sha256(out / "model.safetensors")
    print(f"{out}: mean of {len(folders)} models, model.safetensors sha256 {digest}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    soup(Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]])
