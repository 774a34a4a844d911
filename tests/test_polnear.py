"""Reading PolNeAR's brat standoff: spans, discontinuous fragments, continuation lines, one annotator each."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import shared_path

from newstrace.attribution.polnear import PolnearError, read_ann, read_split

ANN = (
    "T1\tSource 0 5\tMaria\n"
    "T2\tCue 6 10\tsaid\n"
    "T3\tContent 11 20;25 30\tthe ferry will\n"
    "resume\n"  # a span text with a newline inside continues on the next physical line
    "T4\tAttribution 6 10\tsaid\n"
    "E1\tAttribution:T4 Content:T3 Cue:T2 Source:T1\n"
    "T5\tCue 40 48\tbelieved\n"
    "T6\tContent 49 60\tthe talks will\n"
    "T7\tAttribution-no-source 40 48\tbelieved\n"
    "E2\tAttribution-no-source:T7 Content:T6 Cue:T5\n"
    "T8\tDiscuss 70 75\thmm\n"
)


def test_reads_roles_fragments_and_attributions_without_source(tmp_path: Path):
    path = tmp_path / "a_d473.ann"
    path.write_text(ANN, encoding="utf-8")
    first, second = read_ann(path)
    assert first.source == ((0, 5),) and first.cue == ((6, 10),)
    assert first.content == ((11, 20), (25, 30))
    assert second.source == () and second.content == ((49, 60),)


def test_bad_offsets_name_the_file(tmp_path: Path):
    path = tmp_path / "b_d473.ann"
    path.write_text("T1\tSource x y\tMaria\nE1\tAttribution:T1 Source:T1\n", encoding="utf-8")
    with pytest.raises(PolnearError, match=r"b_d473\.ann: bad offsets"):
        read_ann(path)


def test_polnear_splits_have_one_annotator_per_article():
    root = shared_path("polnear")
    for split, n_articles in (("train", 840), ("dev", 84)):
        articles = list(read_split(root, split))
        assert len(articles) == n_articles
        assert len({a.article_id for a in articles}) == n_articles
    dev = list(read_split(root, "dev"))
    assert sum(len(a.attributions) for a in dev) == 2193
    for article in dev:
        for attribution in article.attributions:
            for start, end in attribution.cue + attribution.source + attribution.content:
                assert 0 <= start < end <= len(article.text)
