"""Sentence embedders: shipped artifacts verified by sha256, unit vectors, paraphrases closer than unrelated."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from newstrace.embed import (
    EMBEDDERS,
    Embedder,
    EmbedderError,
    clear_cache,
    default_folder,
    load_embedder,
    read_manifest,
    sha256_file,
)

# (sentence, paraphrase, unrelated sentence)
TRIPLES = [
    (
        "The White Helmets staged a chemical attack in Idlib.",
        "Rescue workers faked a gas attack in the Idlib province.",
        "Heavy rain is expected in London on Monday.",
    ),
    (
        "Barack Obama released 122 Guantanamo detainees who returned to terrorism.",
        "Prisoners freed from Guantanamo under Obama went back to terrorist activity.",
        "A photograph shows a giant ammonite fossil from British Columbia.",
    ),
    (
        "The vaccine causes infertility in young women.",
        "Young women become sterile after getting the vaccine.",
        "The stock market fell by 1,300 points in two days.",
    ),
]


@pytest.fixture(scope="module", params=EMBEDDERS)
def embedder(request):
    return load_embedder(request.param)


def test_vectors_are_float32_unit_rows(embedder) -> None:
    texts = [t for triple in TRIPLES for t in triple]
    vectors = embedder.encode(texts)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(texts), embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the same text gives the same vector whatever its batch
    np.testing.assert_allclose(embedder.encode(texts[:1])[0], vectors[0], atol=1e-5)


def test_paraphrase_closer_than_unrelated(embedder) -> None:
    for sentence, paraphrase, unrelated in TRIPLES:
        a, b, c = embedder.encode([sentence, paraphrase, unrelated])
        assert a @ b > a @ c + 0.1, (embedder.name, sentence, float(a @ b), float(a @ c))


def test_empty_input_and_empty_text(embedder) -> None:
    assert embedder.encode([]).shape == (0, embedder.dim)
    vectors = embedder.encode(["", "   ", "a claim"])
    assert not vectors[:2].any()
    assert np.linalg.norm(vectors[2]) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(TypeError):
        embedder.encode("one string")


def test_manifests_record_provenance_and_scores() -> None:
    for name in EMBEDDERS:
        manifest = read_manifest(default_folder(name))
        assert manifest["name"] == name
        assert len(manifest["base"]["weights_sha256"]) == 64
        assert manifest["files"] and all(len(f["sha256"]) == 64 for f in manifest["files"].values())
        assert manifest["scores"]
    static = read_manifest(default_folder("static"))
    assert static["parameters"]["pca_dims"] == static["dim"] == 256
    size = sum(f["bytes"] for f in static["files"].values())
    assert size < 20e6
    minilm = read_manifest(default_folder("minilm"))
    assert minilm["scores"]["parity"]["fp32_onnx_vs_torch_cosine"]["min"] >= 0.99


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(default_folder(name), target)
    return target


def test_sha256_mismatch_raises(tmp_path: Path) -> None:
    folder = _copy("static", tmp_path)
    config = folder / "config.json"
    config.write_text(config.read_text() + " ")
    with pytest.raises(EmbedderError, match=r"config\.json: sha256 .* does not match the manifest"):
        load_embedder("static", folder=folder)
    # without verification the altered (still valid) file loads
    assert load_embedder("static", folder=folder, verify=False).dim == 256


def test_missing_artifact_or_manifest_raises(tmp_path: Path) -> None:
    folder = _copy("minilm", tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(EmbedderError, match=r"tokenizer\.json: missing artifact of the minilm embedder"):
        load_embedder("minilm", folder=folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(EmbedderError, match=r"no manifest\.json"):
        load_embedder("minilm", folder=folder)
    with pytest.raises(EmbedderError, match="unknown embedder 'bert'"):
        load_embedder("bert")


def test_manifest_matches_files() -> None:
    folder = default_folder("static")
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert sha256_file(folder / name) == entry["sha256"]


def test_loaded_once_per_process() -> None:
    assert load_embedder() is load_embedder("static")
    first = load_embedder("static")
    clear_cache()
    assert load_embedder("static") is not first


def test_runtime_needs_no_torch() -> None:
    code = (
        "import sys; from newstrace.embed import load_embedder; "
        "[load_embedder(n).encode(['a claim']) for n in ('static', 'minilm')]; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_each_distinct_text_is_encoded_once_and_repeats_get_its_row():
    seen: list[list[str]] = []

    class Counting(Embedder):
        name, dim = "counting", 2

        def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
            seen.append(list(texts))
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    vectors = Counting().encode(["a claim", "another claim", "a claim", ""])
    assert seen == [["a claim", "another claim", ""]]
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])
    assert not vectors[3].any()
