"""models/attribution/soup.py: the mean of trained taggers' weights and CRF scores, and what it refuses."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("soup", ROOT / "models" / "attribution" / "soup.py")
soup_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(soup_module)

HYPER = {"max_length": 256, "word_regex": r"\w+|[^\w\s]", "seed": 13}


def trained(folder: Path, scale: float, crf: float | None = 0.5, hyper: dict | None = None) -> Path:
    folder.mkdir()
    save_file(
        {
            "encoder.weight": np.full((2, 3), scale, dtype=np.float32),
            "position_ids": np.arange(4, dtype=np.int64),
        },
        str(folder / "model.safetensors"),
    )
    (folder / "config.json").write_text(json.dumps({"hidden_size": 3}), encoding="utf-8")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps({"hyperparameters": hyper or HYPER}), encoding="utf-8")
    if crf is not None:
        crf_scores = {"transitions": {"content": [[crf, 0.0], [1.0, crf]]}, "start": {"content": [crf, 0]}}
        (folder / "crf.json").write_text(json.dumps(crf_scores), encoding="utf-8")
    return folder


def test_soup_is_the_mean_of_weights_and_crf_scores_and_keeps_integer_tensors(tmp_path):
    a = trained(tmp_path / "a", 1.0, crf=0.5)
    b = trained(tmp_path / "b", 2.0, crf=1.5)
    c = trained(tmp_path / "c", 6.0, crf=-0.5, hyper={**HYPER, "seed": 14})
    soup_module.soup(tmp_path / "soup", [a, b, c])

    weights = load_file(str(tmp_path / "soup" / "model.safetensors"))
    assert weights["encoder.weight"].dtype == np.float32
    np.testing.assert_allclose(weights["encoder.weight"], np.full((2, 3), 3.0))
    np.testing.assert_array_equal(weights["position_ids"], np.arange(4))
    crf = json.loads((tmp_path / "soup" / "crf.json").read_text(encoding="utf-8"))
    np.testing.assert_allclose(crf["transitions"]["content"], [[0.5, 0.0], [1.0, 0.5]])
    assert crf["start"]["content"] == pytest.approx([0.5, 0.0])
    metrics = json.loads((tmp_path / "soup" / "metrics.json").read_text(encoding="utf-8"))
    # export_onnx.py decodes with these: the window length and the word pattern
    assert metrics["hyperparameters"]["word_regex"] == HYPER["word_regex"]
    assert [i["hyperparameters"]["seed"] for i in metrics["ingredients"]] == [13, 13, 14]
    assert (tmp_path / "soup" / "tokenizer.json").exists()


def test_soup_refuses_models_trained_with_different_word_patterns(tmp_path):
    a = trained(tmp_path / "a", 1.0)
    b = trained(tmp_path / "b", 2.0, hyper={**HYPER, "word_regex": r"\w+(?:[’']\w+)*|[^\w\s]"})
    with pytest.raises(SystemExit, match="word_regex"):
        soup_module.soup(tmp_path / "soup", [a, b])
    assert not (tmp_path / "soup" / "model.safetensors").exists()


def test_soup_refuses_a_mix_of_crf_and_plain_taggers(tmp_path):
    a = trained(tmp_path / "a", 1.0, crf=0.5)
    b = trained(tmp_path / "b", 2.0, crf=None)
    with pytest.raises(SystemExit, match="CRF"):
        soup_module.soup(tmp_path / "soup", [a, b])


def test_soup_needs_two_models(tmp_path):
    with pytest.raises(SystemExit, match="at least two"):
        soup_module.soup(tmp_path / "soup", [trained(tmp_path / "a", 1.0)])
