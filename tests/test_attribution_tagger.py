"""The trained attribution tagger: quote styles, 'according to', sources after quotes, and the seed statements."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.conftest import ROOT, run_cli, shared_path

from newstrace.attribution.scoring import Tokens
from newstrace.attribution.tagger import load_tagger

SAMPLE = ROOT / "benchmarks" / "data" / "attribution_sample.jsonl"


def _texts(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[s:e] for s, e in spans]


@pytest.mark.parametrize(
    ("text", "source", "cue", "content"),
    [
        (
            "“The bridge will reopen on Friday,” the mayor of Kastrel said.",
            "the mayor of Kastrel",
            "said",
            "The bridge will reopen on Friday,",
        ),
        (
            "«The bridge will reopen on Friday», the mayor of Kastrel said.",
            "the mayor of Kastrel",
            "said",
            "The bridge will reopen on Friday",
        ),
        (
            "According to the harbour authority, the ferry to Port Vell will not run this week.",
            "the harbour authority",
            "According to",
            "the ferry to Port Vell will not run this week",
        ),
        (
            "The ministry said on Tuesday that the talks in Kastrel had ended without agreement.",
            "The ministry",
            "said",
            "the talks in Kastrel had ended without agreement",
        ),
    ],
)
def test_finds_source_cue_and_content(text: str, source: str, cue: str, content: str):
    found = load_tagger().extract(text)
    assert found, text
    best = max(found, key=lambda a: len(a.content))
    assert source in " ".join(_texts(text, best.source))
    assert cue in " ".join(_texts(text, best.cue))
    assert content.strip("”,“ ") in " ".join(_texts(text, best.content))


# Annotation conventions differ on the edges of a content: "that", opening quote marks, final punctuation.
_CONVENTION = re.compile(r"^(?:that\s+|[“”\"‘’'«»,;:.\s])+|[“”\"‘’'«»,;:.\s]+$")


def _core(text: str, fragments) -> set[str]:
    return {_CONVENTION.sub("", text[s:e]) for s, e in fragments} - {""}


def test_seed_acceptance_statements_are_found_with_their_spans():
    seeds = shared_path("seeds")
    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    accepted = [r for r in records if r.get("acceptance")]
    assert len(accepted) >= 5
    tagger = load_tagger()
    exact, wrong = 0, []
    for record in accepted:
        text = (seeds / record["doc"]).read_text(encoding="utf-8")
        tokens = Tokens(text)
        gold_cue_start = {tokens.snap(s, e)[0] for s, e in record["cue"]}
        found = tagger.extract(text)
        match = next((a for a in found if {tokens.snap(s, e)[0] for s, e in a.cue} & gold_cue_start), None)
        assert match is not None, (record["doc"], "no attribution with this cue", record["check"])
        if all(
            _core(text, record[role]) & _core(text, getattr(match, role)) or not record[role]
            for role in ("source", "cue", "content")
        ):
            exact += 1
        else:
            wrong.append((record["doc"], [text[s:e] for s, e in match.cue]))
    # Measured with the shipped model (run 6, CRF), the rules after decoding and the completion of "that"
    # clauses cut before their verb: 7 of 7 exact. Without the completion, the content of Yegorov's second
    # statement in 002 stops at its subject, before an apposition naming the group's former name; without the
    # rules 4 were exact: 003's cue stopped at the verb (gold: the verb plus "in a statement") and Yegorov's
    # first content ran past the closing quote into the garbled attribution after it
    # (models/attribution/README.md, "Rules after decoding" and "Reported clauses cut before their verb").
    assert exact == len(accepted), wrong


def test_attributions_command_offsets_point_into_the_file(tmp_path: Path):
    text = "Kastrel, 3 May 2021 — “We will not sign,” the union leader told reporters on Monday.\n"
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    (record,) = [
        json.loads(line) for line in run_cli("attributions", path, "--jsonl", check=True).stdout.splitlines()
    ]
    assert record["file"] == str(path) and record["attributions"]
    for attribution in record["attributions"]:
        for role in ("source", "cue", "content"):
            for span in attribution[role]:
                assert text[span["start"] : span["end"]] == span["text"]
        assert attribution["source_type"] in {
            "person",
            "role",
            "institution",
            "media",
            "anonymous",
            "document",
            "unknown",
        }
