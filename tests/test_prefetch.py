"""Claims embedded ahead (newstrace run): the same vectors and narratives as embedding them in the link stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

import newstrace
from newstrace.embed import EmbedderError, load_embedder
from newstrace.link.pipeline import link
from newstrace.link.prefetch import ClaimPrefetch
from newstrace.nlp.runner import annotate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    """The demo corpus ingested and annotated, with the id batches the annotator reported."""
    db = tmp_path_factory.mktemp("prefetch") / "demo.duckdb"
    newstrace.ingest([EXAMPLES / "corpus"], db)
    batches: list[list[str]] = []
    annotate(
        db,
        aliases=[EXAMPLES / "actors.yml"],
        places=[EXAMPLES / "places.yml"],
        jobs=1,
        batch_size=8,
        after_batch=lambda store, ids: batches.append(list(ids)),
    )
    return db, batches


def _table(db: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def test_annotate_reports_every_stored_batch(annotated) -> None:
    db, batches = annotated
    assert len(batches) > 1
    reported = [doc_id for batch in batches for doc_id in batch]
    assert sorted(reported) == sorted(doc_id for (doc_id,) in _table(db, "SELECT doc_id FROM annotations"))


def test_prefetched_link_stores_the_same_claims_vectors_and_narratives(annotated, tmp_path: Path) -> None:
    db, batches = annotated
    plain, ahead = tmp_path / "plain.duckdb", tmp_path / "ahead.duckdb"
    shutil.copy(db, plain)
    shutil.copy(db, ahead)
    link(plain, embedder="minilm")
    with ClaimPrefetch(lambda: load_embedder("minilm")) as prefetch:
        with newstrace.open(ahead) as store:
            for ids in batches:
                prefetch.add(store, ids)
        prefetch.start()  # the store is closed before linking, as in `newstrace run`
        link(ahead, embedder=prefetch)
        assert prefetch.reused > 0  # vectors really came from the background thread
        assert prefetch.prefetched >= prefetch.reused
    claims = (
        "SELECT claim_id, text, narrative_id, chain_role, attribution_dropped FROM claims ORDER BY claim_id"
    )
    assert _table(plain, claims) == _table(ahead, claims)
    vectors = "SELECT claim_id, vector FROM claim_vectors ORDER BY claim_id"
    a, b = _table(plain, vectors), _table(ahead, vectors)
    assert [r[0] for r in a] == [r[0] for r in b]
    assert np.array_equal(np.array([r[1] for r in a]), np.array([r[1] for r in b]))  # bit for bit


def test_texts_never_added_are_encoded_on_demand() -> None:
    embedder = load_embedder("minilm")
    texts = ["Militants are preparing a staged attack.", "", "Militants are preparing a staged attack."]
    with ClaimPrefetch(lambda: embedder) as prefetch:
        prefetch.start()
        vectors = prefetch.encode(texts)
        assert prefetch.name == "minilm" and prefetch.reused == 0
    assert np.array_equal(vectors, embedder.encode(texts))
    assert not vectors[1].any()  # an empty text has no direction, as with the embedder itself


def test_an_embedder_that_fails_to_load_fails_the_link_stage_with_its_error(tmp_path: Path) -> None:
    def broken() -> None:
        raise EmbedderError(f"{tmp_path}: no manifest.json; the embedder is not installed")

    with ClaimPrefetch(broken) as prefetch, pytest.raises(EmbedderError, match=r"no manifest\.json"):
        prefetch.encode(["a claim"])


def test_a_batch_whose_claims_cannot_be_read_does_not_stop_annotation() -> None:
    class Unreadable:
        def claim_inputs(self, ids: list[str]) -> list:
            raise RuntimeError("damaged annotations")

    embedder = load_embedder("minilm")
    with ClaimPrefetch(lambda: embedder) as prefetch:
        prefetch.add(Unreadable(), ["d1", "d2"])  # no exception: the link stage meets the problem itself
        prefetch.start()
        assert np.array_equal(prefetch.encode(["a claim"]), embedder.encode(["a claim"]))
        assert prefetch.prefetched == 0
