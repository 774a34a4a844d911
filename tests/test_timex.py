"""Time expressions: found with or without NER candidates, normalised against the publication date, and used
to date undated documents. Unit tests use invented sentences; two tests read the real seed articles from
../shared/data/seeds (skipped when absent) and one checks every ``dates_in_text`` entry of the demo corpus.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newstrace.model import Timex
from newstrace.nlp.timex import find_timexes, infer_publication_date, resolve_document_dates

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEEDS = ROOT.parent / "shared" / "data" / "seeds"
# The three demo txt files with no date in front matter or sidecar: their date must come from the text.
UNDATED_DEMO = ("trucks-in-halvreth", "tessavel-one-year-on", "provocation-in-the-coming-days")


def values(text: str, reference: date | None, **kwargs: object) -> dict[str, tuple[str, str]]:
    """Each timex's text mapped to (value, rule)."""
    return {t.text: (t.value, t.rule) for t in find_timexes(text, reference, **kwargs)}  # type: ignore[arg-type]


def span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


# -- explicit dates ----------------------------------------------------------------------------------------


def test_explicit_dates_in_common_formats_need_no_reference():
    text = (
        "Kastrel was shelled on 6 May 2019, again on April 14, 2018, and first on Wed 05 Apr 2017. "
        "The mayor resigned in April 2019; the council met on 2019-05-06."
    )
    assert values(text, None) == {
        "6 May 2019": ("2019-05-06", "explicit"),
        "April 14, 2018": ("2018-04-14", "explicit"),
        "Wed 05 Apr 2017": ("2017-04-05", "explicit"),
        "April 2019": ("2019-04", "explicit"),
        "2019-05-06": ("2019-05-06", "explicit"),
    }


def test_offsets_point_at_the_expression_in_the_text():
    text = "In Kastrel, on Saturday, the mayor spoke about May 6th."
    for t in find_timexes(text, date(2019, 5, 8)):
        assert text[t.start : t.end] == t.text
    assert [t.text for t in find_timexes(text, date(2019, 5, 8))] == ["Saturday", "May 6th"]


def test_numbers_that_count_things_are_not_years():
    text = "About 2000 people fled Kastrel in 2014 and 2,500 more left since 2016, a rise of 2015 percent."
    assert values(text, None) == {"2014": ("2014", "year"), "2016": ("2016", "year")}


def test_a_number_the_recogniser_calls_a_date_is_a_year():
    text = "The 2014 floods hit Kastrel."
    assert find_timexes(text, None) == []
    assert values(text, None, candidates=[span(text, "2014")]) == {"2014": ("2014", "year")}


def test_a_bare_month_needs_a_preposition_or_modifier():
    text = "Ilse May said in May that the dam, closed since March, would reopen. May it hold."
    assert values(text, date(2019, 6, 10)) == {"May": ("2019-05", "month"), "March": ("2019-03", "month")}


# -- against a reference -----------------------------------------------------------------------------------


def test_a_bare_weekday_is_the_latest_such_day_on_or_before_the_reference():
    wednesday = date(2019, 5, 8)
    text = "Kastrel was shelled on Saturday. The mayor spoke on Wednesday and last Wednesday."
    assert [(t.text, t.value) for t in find_timexes(text, wednesday)] == [
        ("Saturday", "2019-05-04"),
        ("Wednesday", "2019-05-08"),
        ("last Wednesday", "2019-05-01"),
    ]


def test_an_announced_weekday_is_the_next_such_day():
    text = "The new mayor of Kastrel will be named on Sunday; rain is forecast for Friday."
    assert values(text, date(2019, 5, 8)) == {
        "Sunday": ("2019-05-12", "weekday"),
        "Friday": ("2019-05-10", "weekday"),
    }


def test_a_month_and_day_take_the_year_nearest_before_the_reference():
    reference = date(2019, 1, 3)
    text = "Kastrel flooded on December 30, the barrier opens on January 8 and it last rained on January 20."
    assert values(text, reference) == {
        "December 30": ("2018-12-30", "month-day"),
        "January 8": ("2019-01-08", "month-day"),  # up to a week ahead: an announced event
        "January 20": ("2018-01-20", "month-day"),
    }


def test_a_date_set_for_an_announced_event_may_lie_months_ahead():
    text = "The governor on Wednesday set the Kastrel by-election for September 29."
    assert values(text, date(2024, 4, 10))["September 29"] == ("2024-09-29", "month-day")


def test_weekday_and_day_without_year_take_the_matching_year():
    text = "Last Monday, May 4th, trucks entered Kastrel. The ministry had warned in April 2019."
    # No reference: 2019 is the latest year named, and May 4 is next a Monday in 2020.
    assert values(text, None)["Last Monday, May 4th"] == ("2020-05-04", "weekday-year")
    assert values(text, date(2020, 5, 9))["Last Monday, May 4th"] == ("2020-05-04", "weekday-year")


def test_weekday_and_day_with_no_year_in_the_text_search_back_from_latest():
    text = "Last Monday, May 6th, jets struck Kastrel."
    assert values(text, None, latest=date(2021, 12, 31))["Last Monday, May 6th"] == (
        "2019-05-06",
        "weekday-year",
    )
    assert values(text, None, latest=date(2026, 1, 1))["Last Monday, May 6th"] == (
        "2024-05-06",
        "weekday-year",
    )


def test_a_weekday_that_fits_no_nearby_year_is_taken_for_a_slip():
    # May 6 2019 was a Monday; "Tuesday" is wrong, and the reference decides the year.
    assert values("On Tuesday, May 6, Kastrel voted.", date(2019, 5, 8))["Tuesday, May 6"] == (
        "2019-05-06",
        "month-day",
    )


def test_relative_expressions_resolve_against_the_reference():
    reference = date(2019, 5, 8)  # a Wednesday
    text = (
        "Yesterday the mayor of Kastrel resigned, a day earlier the council met, last week the dam "
        "leaked, last month it rained, last year it flooded, and five years ago the town was evacuated. "
        "On September 11 last year the barrier was built; earlier this year it was tested, and "
        "three weeks ago it failed."
    )
    assert values(text, reference) == {
        "Yesterday": ("2019-05-07", "relative"),
        "a day earlier": ("2019-05-07", "relative"),
        "last week": ("2019", "relative"),  # 29 April to 5 May: only the year holds all of it
        "last month": ("2019-04", "relative"),
        "last year": ("2018", "relative"),
        "five years ago": ("2014", "relative"),
        "September 11 last year": ("2018-09-11", "relative-year"),
        "earlier this year": ("2019", "relative"),
        "three weeks ago": ("2019-04-17", "relative"),
    }


def test_relative_expressions_need_a_reference():
    text = "Yesterday, on Saturday, in May and five years ago, Kastrel flooded; it flooded again on June 3."
    assert find_timexes(text, None) == []


def test_vague_expressions_and_durations_are_left_out():
    text = (
        "Over the past two weeks Kastrel has recently seen three years of rain in the last week of the 1990s."
    )
    candidates = [span(text, p) for p in ("the past two weeks", "recently", "three years", "the 1990s")]
    assert find_timexes(text, date(2019, 5, 8), candidates) == []


def test_names_containing_today_are_not_the_day():
    text = "A source told Varnia Today on Monday that Kastrel was quiet. Today it is not."
    assert values(text, date(2023, 4, 18)) == {
        "Monday": ("2023-04-17", "weekday"),
        "Today": ("2023-04-18", "relative"),
    }


def test_candidates_the_patterns_miss_are_read_by_dateparser():
    text = "The Kastrel council met on 05/04/2019 to discuss the flood."
    found = find_timexes(text, date(2019, 6, 1), [span(text, "on 05/04/2019")])
    assert found == [Timex(27, 37, "05/04/2019", "2019-05-04", "dateparser")]


def test_no_value_is_later_than_latest():
    text = "Kastrel votes tomorrow and again next year; the dam opens on June 3."
    assert find_timexes(text, date(2030, 5, 30), latest=date(2030, 5, 30)) == []
    assert values(text, date(2030, 5, 30), latest=date(2031, 12, 31)) == {
        "tomorrow": ("2030-05-31", "relative"),
        "next year": ("2031", "relative"),
        "June 3": ("2030-06-03", "month-day"),
    }


_TOKENS = [
    "Monday",
    "May",
    "6th",
    "31",
    "February",
    "29",
    "2019",
    "1899",
    "last",
    "next",
    "year",
    "week",
    "ago",
    "earlier",
    "yesterday",
    "Today",
    "on",
    "in",
    "for",
    "will",
    ",",
    ".",
    "\n",
    "Wed",
    "Sept",
    "the",
    "five",
    "days",
    "-",
    "—",
    "ANKARA",
    "(Reuters)",
    "2,500",
    "$",
]


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=6)), max_size=40),
    reference=st.one_of(st.none(), st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))),
    raw_candidates=st.lists(st.tuples(st.integers(-5, 300), st.integers(-5, 300)), max_size=4),
)
def test_odd_input_never_crashes_or_yields_a_value_after_today(words, reference, raw_candidates):
    text = " ".join(words)
    timexes, published, source = resolve_document_dates(text, reference, raw_candidates)
    previous_end = 0
    for t in timexes:
        assert previous_end <= t.start < t.end <= len(text)
        assert text[t.start : t.end] == t.text
        assert re.fullmatch(r"\d{4}(-\d\d(-\d\d)?)?", t.value), t
        parts = [int(p) for p in t.value.split("-")]
        assert date(parts[0], *[*parts[1:], 1, 1][:2]) <= date.today()
        previous_end = t.end
    assert source in (None, "meta", "text", "inferred")
    assert published is None or published == reference or published <= date.today()


# -- dating a document -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed 05 Apr 2017 Kastrel dam symptoms reported\nThe dam at Kastrel ...", date(2017, 4, 5)),
        (
            "Kastrel dam fails\n\nKASTREL, Sept 8 (Reuters) - The dam failed on Saturday, the second time since 2017.",
            date(2017, 9, 8),
        ),
        ("May 6, 2019 — The mayor of Kastrel said on Friday ...", date(2019, 5, 6)),
    ],
)
def test_a_dateline_gives_the_publication_date_from_the_text(text, expected):
    assert infer_publication_date(text, find_timexes(text, None)) == (expected, "text")


def test_a_story_opening_with_a_date_is_not_a_dateline():
    text = "Last Monday, May 4th, trucks entered Kastrel, a source said. The ministry warned in April 2019."
    assert infer_publication_date(text, find_timexes(text, None)) == (date(2020, 5, 4), "inferred")


def test_a_year_named_in_the_text_dates_an_undated_month_and_day():
    text = (
        "On October 3rd alone, the Kastrel dam released water twice. About 60 families left, and a total "
        "of 150 had left earlier in 2022."
    )
    timexes, published, source = resolve_document_dates(text, None)
    assert (published, source) == (date(2022, 10, 3), "inferred")
    assert [(t.text, t.value) for t in timexes] == [("October 3rd", "2022-10-03"), ("2022", "2022")]


def test_an_undated_document_is_read_again_against_its_inferred_date():
    text = "Last Tuesday, February 13th, Kastrel was emptied. The story began five years ago, on Saturday."
    timexes, published, source = resolve_document_dates(text, None, latest=date(2025, 1, 1))
    assert (published, source) == (date(2024, 2, 13), "inferred")
    assert {t.text: t.value for t in timexes} == {
        "Last Tuesday, February 13th": "2024-02-13",
        "five years ago": "2019",
        "Saturday": "2024-02-10",
    }


def test_a_dated_document_keeps_its_date_and_source():
    text = "On Tuesday the Kastrel council met."
    timexes, published, source = resolve_document_dates(text, date(2019, 4, 17), source="meta")
    assert (published, source) == (date(2019, 4, 17), "meta")
    assert [(t.text, t.value) for t in timexes] == [("Tuesday", "2019-04-16")]


def test_a_document_without_dates_has_no_publication_date():
    assert resolve_document_dates("Kastrel is quiet. Nobody remembers when it last rained.", None) == (
        [],
        None,
        None,
    )


# -- the real seed articles (../shared/data/seeds) ---------------------------------------------------------


def seed_text(name: str) -> str:
    path = SEEDS / name
    if not path.exists():
        pytest.skip(
            f"real corpus not available: {path} is missing (it lives in ../shared/data beside the repo)"
        )
    return path.read_text(encoding="utf-8")


@pytest.mark.shared
def test_real_seed_month_day_takes_its_year_from_earlier_in_the_same_year():
    # 001 is undated; it says "earlier in 2021" and "On September 19th alone, ...".
    text = seed_text("001_0f983bf6e25fc61c.txt")
    timexes, published, source = resolve_document_dates(text, None)
    assert (published, source) == (date(2021, 9, 19), "inferred")
    assert ("September 19th", "2021-09-19") in [(t.text, t.value) for t in timexes]


@pytest.mark.shared
def test_real_seed_last_monday_may_6th_takes_the_year_from_the_weekday():
    # 000 names no year at all, so the rule searches back from ``latest``. The seeds are "five real news
    # articles (2018-2021)" (DATA.md): bounded by that, May 6 is a Monday in 2019. Unbounded, the most
    # recent Monday May 6 up to today wins (2024 when this was written).
    text = seed_text("000_d7976cd22ab95cd1.txt")
    bounded = find_timexes(text, None, latest=date(2021, 12, 31))
    assert [(t.text, t.value, t.rule) for t in bounded] == [
        ("Last Monday, May 6th", "2019-05-06", "weekday-year")
    ]
    unbounded = find_timexes(text, None)
    latest_monday = max(
        d
        for y in range(2019, date.today().year + 1)
        if (d := date(y, 5, 6)) <= date.today() and d.weekday() == 0
    )
    assert [t.value for t in unbounded] == [latest_monday.isoformat()]


# -- the demo corpus (examples/ground_truth.json, dates_in_text) -------------------------------------------


def demo_document(ref: str) -> tuple[str, date | None]:
    """The article text of a demo corpus entry and its publication date from its own metadata."""
    rel, _, line = ref.partition("#")
    path = EXAMPLES / rel
    if line:
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[int(line) - 1])
        return record["text"], date.fromisoformat(record["date"][:10])
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        published = re.search(r'<meta property="article:published_time" content="([^"]+)"', raw)
        article = re.search(r"<article.*?</article>", raw, re.S)
        paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", article.group(0) if article else "", re.S)
        text = "\n\n".join(html.unescape(re.sub(r"<[^>]+>", "", p)) for p in paragraphs)
        return text, date.fromisoformat(published.group(1)[:10]) if published else None
    published_text = None
    front = re.match(r"---\n(.*?)\n---\n", raw, re.S)
    if front:
        found = re.search(r"^date:\s*(\S+)", front.group(1), re.M)
        published_text = found.group(1) if found else None
        raw = raw[front.end() :]
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        published_text = json.loads(sidecar.read_text(encoding="utf-8")).get("date") or published_text
    return raw, date.fromisoformat(published_text[:10]) if published_text else None


DEMO_DATES = json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))["dates_in_text"]


@pytest.mark.parametrize("entry", DEMO_DATES, ids=[f"{e['path']}:{e['text']}" for e in DEMO_DATES])
def test_demo_dates_in_text_are_found_with_their_value(entry):
    text, published = demo_document(entry["path"])
    undated = any(name in entry["path"] for name in UNDATED_DEMO)
    assert (published is None) == undated
    timexes, inferred, source = resolve_document_dates(text, published)
    if undated:
        assert source in ("text", "inferred")
    start, end = span(text, entry["text"])
    covering = [(t.text, t.value) for t in timexes if t.start < end and start < t.end]
    assert entry["value"] in [value for _, value in covering], (entry, covering, inferred)
