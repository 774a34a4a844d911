#!/usr/bin/env python3
"""Check the hand-labelled attribution sample (benchmarks/data/attribution_sample.jsonl).

For every record this verifies that the offsets are in range and point at the same text
(via the `check` field: the first 12 characters of the first content fragment), that the
labels come from the allowed sets, and that the record is well formed.  It then prints
counts per corpus and per label.

Stdlib only.  The demo corpus is read from this repository (examples/); the seed articles
and FA-KES are read from ../shared/data beside the repository.  A corpus whose files are
absent is skipped (its records are counted but not verified) and reported as skipped.

Usage:  python benchmarks/data/check_attribution_sample.py [sample.jsonl]
Exit status 0 when every verifiable record passes, 1 otherwise.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHARED = REPO.parent / "shared" / "data"
SAMPLE = HERE / "attribution_sample.jsonl"

CORPORA = ("seeds", "demo", "fakes")
SOURCE_TYPES = ("person", "role", "institution", "media", "anonymous", "document", "unknown")
MODALITIES = ("assertion", "prediction", "accusation", "denial", "warning")
REQUIRED = ("corpus", "doc", "source", "cue", "content", "source_type", "modality", "hedged", "check")
OPTIONAL = ("acceptance",)
CHECK_LEN = 12
# The acceptance checks named in the annotation guidelines: at least one record per seed article.
ACCEPTANCE_DOCS = (
    "000_d7976cd22ab95cd1.txt",
    "002_c4112cc0f5aaab73.txt",
    "003_730e13894bcfd4f7.txt",
    "004_345b2e44d5a31b57.txt",
)


class Texts:
    """Loads document texts exactly as the annotation guidelines define them."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str | None] = {}
        self._fakes: list[dict] | None = None
        self._jsonl: dict[Path, list[str]] = {}

    @staticmethod
    def available(corpus: str) -> bool:
        if corpus == "seeds":
            return (SHARED / "seeds").is_dir()
        if corpus == "demo":
            return (REPO / "examples" / "corpus").is_dir()
        if corpus == "fakes":
            return (SHARED / "fakes" / "FA-KES-Dataset.csv").is_file()
        return False

    def get(self, corpus: str, doc: str) -> str:
        key = (corpus, doc)
        if key not in self._cache:
            self._cache[key] = self._load(corpus, doc)
        text = self._cache[key]
        if text is None:
            raise LookupError(f"document not found: {corpus} {doc}")
        return text

    def _load(self, corpus: str, doc: str) -> str | None:
        if corpus == "seeds":
            path = SHARED / "seeds" / doc
            return path.read_text(encoding="utf-8") if path.is_file() else None
        if corpus == "demo":
            rel, _, line = doc.partition("#")
            path = REPO / "examples" / rel
            if not path.is_file():
                return None
            if not line:
                with open(path, encoding="utf-8") as fh:  # no newline translation surprises:
                    return fh.read()  # same call as the guidelines
            if path not in self._jsonl:
                with open(path, encoding="utf-8") as fh:
                    self._jsonl[path] = [ln for ln in fh.read().splitlines() if ln.strip()]
            lines = self._jsonl[path]
            n = int(line)
            if not 1 <= n <= len(lines):
                return None
            return json.loads(lines[n - 1])["text"]
        if corpus == "fakes":
            if self._fakes is None:
                with open(SHARED / "fakes" / "FA-KES-Dataset.csv", encoding="utf-8", newline="") as fh:
                    self._fakes = list(csv.DictReader(fh))
            if not doc.startswith("row:"):
                return None
            n = int(doc[4:])
            if not 1 <= n <= len(self._fakes):
                return None
            return self._fakes[n - 1]["article_content"]
        return None


def check_spans(name: str, spans, text_len: int, errors: list[str], *, may_be_empty: bool) -> None:
    if not isinstance(spans, list):
        errors.append(f"{name} is not a list")
        return
    if not spans and not may_be_empty:
        errors.append(f"{name} is empty")
    prev_end = -1
    for span in spans:
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in span)
        ):
            errors.append(f"{name} fragment {span!r} is not [start, end]")
            continue
        start, end = span
        if not 0 <= start < end <= text_len:
            errors.append(f"{name} fragment {span} out of range (text length {text_len})")
        if start < prev_end:
            errors.append(f"{name} fragments overlap or are out of order at {span}")
        prev_end = max(prev_end, end)


def check_record(rec: dict, texts: Texts, errors: list[str]) -> None:
    for key in REQUIRED:
        if key not in rec:
            errors.append(f"missing field {key!r}")
    for key in rec:
        if key not in REQUIRED and key not in OPTIONAL:
            errors.append(f"unknown field {key!r}")
    if errors:
        return
    if rec["corpus"] not in CORPORA:
        errors.append(f"corpus {rec['corpus']!r} not in {CORPORA}")
    if rec["source_type"] not in SOURCE_TYPES:
        errors.append(f"source_type {rec['source_type']!r} not allowed")
    if rec["modality"] not in MODALITIES:
        errors.append(f"modality {rec['modality']!r} not allowed")
    if not isinstance(rec["hedged"], bool):
        errors.append("hedged is not a boolean")
    if "acceptance" in rec and rec["acceptance"] is not True:
        errors.append("acceptance, when present, must be true")
    if not isinstance(rec["check"], str) or not rec["check"]:
        errors.append("check is not a non-empty string")
    if rec["source"] == [] and rec.get("source_type") != "unknown":
        errors.append("a record without a source span must have source_type 'unknown'")
    if errors or not texts.available(rec["corpus"]):
        return
    try:
        text = texts.get(rec["corpus"], rec["doc"])
    except LookupError as exc:
        errors.append(str(exc))
        return
    n = len(text)
    check_spans("source", rec["source"], n, errors, may_be_empty=True)
    check_spans("cue", rec["cue"], n, errors, may_be_empty=False)
    check_spans("content", rec["content"], n, errors, may_be_empty=False)
    if errors:
        return
    for name in ("source", "cue", "content"):
        for start, end in rec[name]:
            frag = text[start:end]
            if frag != frag.strip():
                errors.append(f"{name} fragment {[start, end]} starts or ends with whitespace: {frag!r}")
    start = rec["content"][0][0]
    actual = text[start : start + CHECK_LEN]
    if actual != rec["check"]:
        errors.append(f"check mismatch: expected {rec['check']!r}, text has {actual!r}")


def table(title: str, counter: Counter, order=None) -> None:
    keys = list(order) if order else sorted(counter)
    keys += [k for k in sorted(counter, key=str) if k not in keys]
    print(f"\n{title}")
    for k in keys:
        print(f"  {k!s:<14} {counter.get(k, 0):>4}")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else SAMPLE
    texts = Texts()
    records: list[dict] = []
    failures = 0
    skipped = Counter()
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"line {lineno}: invalid JSON: {exc}")
                failures += 1
                continue
            errors: list[str] = []
            if not isinstance(rec, dict):
                errors.append("record is not an object")
            else:
                check_record(rec, texts, errors)
                key = json.dumps(
                    [rec.get("corpus"), rec.get("doc"), rec.get("source"), rec.get("cue"), rec.get("content")]
                )
                if key in seen:
                    errors.append("duplicate record")
                seen.add(key)
            if errors:
                failures += 1
                for e in errors:
                    print(f"line {lineno} ({rec.get('corpus')} {rec.get('doc')}): {e}")
            else:
                records.append(rec)
                if not texts.available(rec["corpus"]):
                    skipped[rec["corpus"]] += 1

    print(f"{path.name}: {len(records) + failures} records, {failures} failing")
    for corpus, n in skipped.items():
        print(f"  skipped verification of {n} {corpus} records: corpus not found")

    by_corpus = Counter(r["corpus"] for r in records)
    table("per corpus", by_corpus, CORPORA)
    table("per source_type", Counter(r["source_type"] for r in records), SOURCE_TYPES)
    table("per modality", Counter(r["modality"] for r in records), MODALITIES)
    table("hedged", Counter(str(r["hedged"]).lower() for r in records), ("true", "false"))
    print("\nsource_type x modality")
    print("  " + " " * 12 + "".join(f"{m[:5]:>7}" for m in MODALITIES))
    cross = Counter((r["source_type"], r["modality"]) for r in records)
    for t in SOURCE_TYPES:
        print(f"  {t:<12}" + "".join(f"{cross.get((t, m), 0):>7}" for m in MODALITIES))
    for corpus in CORPORA:
        docs = {r["doc"] for r in records if r["corpus"] == corpus}
        print(f"\n{corpus}: {by_corpus.get(corpus, 0)} records in {len(docs)} documents")
    if texts.available("fakes"):
        texts.get("fakes", "row:1")  # loads the CSV
        outlets = Counter(
            texts._fakes[int(r["doc"][4:]) - 1]["source"] for r in records if r["corpus"] == "fakes"
        )
        print("fakes outlets: " + ", ".join(f"{k} {v}" for k, v in sorted(outlets.items())))
    acc = [r for r in records if r.get("acceptance")]
    print(f"\nacceptance records: {len(acc)}")
    if texts.available("seeds"):
        missing = [
            d for d in ACCEPTANCE_DOCS if not any(r["corpus"] == "seeds" and r["doc"] == d for r in acc)
        ]
        if missing:
            print(f"  missing acceptance records for: {', '.join(missing)}")
            failures += 1
    print("\nOK" if failures == 0 else f"\nFAILED: {failures} problem record(s)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
