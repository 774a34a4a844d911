"""Torch-free inference for the attribution tagger: ``onnxruntime`` + ``tokenizers`` + ``numpy`` only.

tagger = AttributionTagger("models/attribution/artifacts/onnx", threads=2)
spans = tagger.tag(text)   # {"source": [(start, end), ...], "cue": [...], "content": [...]}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from common import accumulate, decode, load_tokenizer, make_doc, new_accumulator, window_inputs, window_types

from newstrace.attribution.tagger import transition_scores, windows


class AttributionTagger:
    def __init__(
        self, folder: str | Path, model_file: str = "model.int8.onnx", threads: int = 2, batch_size: int = 16
    ):
        import onnxruntime as ort

        folder = Path(folder)
        cfg = json.loads((folder / "attribution.json").read_text())
        common.set_word_regex(cfg.get("word_regex", common.LEGACY_WORD_RE))  # process-wide
        self.decoding = cfg.get("decoding", "viterbi")
        # a model trained with a CRF decodes with its learned transitions
        self.transitions = transition_scores({}, cfg["crf"]) if cfg.get("crf") else None
        self.size = cfg["max_length"] - 2
        self.stride = cfg["eval_stride"]
        self.batch_size = batch_size
        self.tokenizer = load_tokenizer(str(folder / "tokenizer.json"))
        self.cls, self.sep, self.pad = (self.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]"))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(folder / model_file), opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def tag_doc(self, doc):
        acc = new_accumulator(doc)
        jobs = windows(len(doc.ids), self.size, self.stride)
        for k in range(0, len(jobs), self.batch_size):
            chunk = jobs[k : k + self.batch_size]
            rows = [window_inputs(doc, a, b, self.cls, self.sep)[0] for a, b in chunk]
            n = max(len(r) for r in rows)
            ids = np.full((len(rows), n), self.pad, dtype=np.int64)
            mask = np.zeros((len(rows), n), dtype=np.int64)
            types = np.zeros((len(rows), n), dtype=np.int64)
            for i, (r, (a, b)) in enumerate(zip(rows, chunk, strict=True)):
                ids[i, : len(r)] = r
                mask[i, : len(r)] = 1
                if doc.types is not None:
                    types[i, : len(r)] = window_types(doc, a, b)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:  # a model trained with syntax features (train.py --syntax)
                feeds["token_type_ids"] = types
            logits = self.session.run(["logits"], feeds)[0]
            for (a, b), lg in zip(chunk, logits, strict=False):
                accumulate(doc, acc, a, b, lg)
        return decode(doc, acc[0], self.decoding, self.transitions)

    def tag(self, text: str) -> dict[str, list[tuple[int, int]]]:
        return self.tag_doc(make_doc(self.tokenizer, "", text))
