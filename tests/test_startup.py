"""The command line starts light: heavy libraries are imported by the commands and workers that use them."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("spacy", "onnxruntime", "torch", "pandas", "trafilatura", "warcio")


def _imported_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_importing_the_cli_loads_no_model_runtime_dataframe_or_html_library() -> None:
    loaded = _imported_after("import newstrace.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_annotation_workers_can_be_started_before_spacy_is_imported() -> None:
    # `newstrace run` starts its workers first, so they load the pipeline while the parent reads the files
    loaded = _imported_after("import newstrace.nlp.workers")
    assert "spacy" not in loaded and "onnxruntime" not in loaded
