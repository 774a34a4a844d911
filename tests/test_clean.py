"""Per-document cleaning: boilerplate lines go, body paragraphs stay, offsets map back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newstrace.identity import line_hash
from newstrace.ingest.clean import RulesError, clean_text, drop_lines, load_rules

TITLE = "Harbor Ledger: Northern Front Tightens Grip On Port Vell"
BODY = [
    "The Coastal Air Wing flew over the Vell estuary on Tuesday, striking six positions held by the Northern Front.",
    "Residents of Port Vell said the strikes began before dawn and lasted for more than three hours.",
    "Local officials reported that the Front had set up new checkpoints on the road to Kastrel last week.",
]
SCRAPE = "\n".join(
    [
        "0 $",
        "2,500 $",
        "5,000 $",
        "",
        TITLE,
        "",
        "Support HarborLedger",
        "",
        "BITCOIN: bc1qz4n8xk2q7v9w3e5r6t8y0u2i4o6p8a0s2d4f6g",
        TITLE,
        "BITCOIN CASH: qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a" + TITLE,
        "OR CONTACT US : desk@harborledger.test",
        "",
        "You can read this article in Spanish: LINK.",
        "",
        BODY[0],
        "",
        BODY[1],
        "",
        BODY[2],
        "",
        "Support HarborLedger",
        "",
        "Do you like this content? Consider helping us!",
        "",
        "Leave a Reply",
        "",
        "Your email address will not be published. Required fields are marked *",
    ]
)


def test_drops_donation_widget_and_wallet_lines():
    cleaned = clean_text(SCRAPE)
    for gone in (
        "2,500 $",
        "BITCOIN",
        "bc1q",
        "CONTACT US",
        "read this article in",
        "Consider helping us",
        "Support Harbor",
    ):
        assert gone not in cleaned.text
    reasons = {r.reason for r in cleaned.removals}
    assert {
        "donation-amount",
        "crypto-address",
        "contact-line",
        "support-outlet",
        "translation-link",
    } <= reasons


def test_headline_becomes_title_and_its_repeats_leave_the_body():
    cleaned = clean_text(SCRAPE)
    assert cleaned.title == TITLE
    assert cleaned.title_from_text
    assert TITLE not in cleaned.text
    assert sum(r.reason == "title" for r in cleaned.removals) == 2


def test_keeps_every_body_paragraph_in_order():
    cleaned = clean_text(SCRAPE)
    assert cleaned.text == "\n\n".join(BODY)


def test_comment_form_at_the_end_is_cut_but_not_in_the_middle():
    ending = clean_text(SCRAPE)
    assert "Leave a Reply" not in ending.text and "email address" not in ending.text
    middle = "\n\n".join(
        [BODY[0], "Leave a Reply", BODY[1], BODY[2], BODY[0] + " Later.", BODY[1] + " Again."]
    )
    assert "Leave a Reply" not in clean_text(middle).text
    assert BODY[2] in clean_text(middle).text  # only the line itself went, not the rest of the article


def test_lead_paragraph_without_headline_stays_in_body():
    raw = "\n".join(BODY)
    cleaned = clean_text(raw)
    assert cleaned.text.startswith(BODY[0])
    assert cleaned.title and cleaned.title.startswith("The Coastal Air Wing flew")


def test_metadata_title_removes_matching_lines_only():
    raw = "\n\n".join([TITLE.upper(), *BODY])
    cleaned = clean_text(raw, title=TITLE)
    assert cleaned.text == "\n\n".join(BODY)
    assert not cleaned.title_from_text


def test_hard_wrapped_paragraph_is_one_paragraph():
    wrapped = (
        "The ministry said on Monday that the talks in Kastrel had\n"
        "ended without agreement, and that a new round would begin\n"
        "in the spring.\n\nA second paragraph follows here."
    )
    cleaned = clean_text(wrapped, title="A title")
    assert cleaned.text.split("\n\n")[0].count("\n") == 2
    assert cleaned.text.endswith("A second paragraph follows here.")


def test_offsets_map_back_to_the_raw_text():
    cleaned = clean_text(SCRAPE)
    for paragraph in BODY:
        start = cleaned.text.index(paragraph)
        raw_start, raw_end = cleaned.offset_map.span_to_raw(start, start + len(paragraph))
        assert SCRAPE[raw_start:raw_end] == paragraph
    for removal in cleaned.removals:
        assert SCRAPE[removal.raw_start : removal.raw_end] == removal.text
        assert cleaned.offset_map.to_clean(removal.raw_start) is None


line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=0, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(line_text, st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"])), min_size=1, max_size=25)
)
def test_every_clean_character_maps_to_the_same_raw_character(pieces):
    raw = "".join(text + end for text, end in pieces)
    cleaned = clean_text(raw)
    for segment in cleaned.offset_map.segments:
        clean_part = cleaned.text[segment.clean_start : segment.clean_start + segment.length]
        assert raw[segment.raw_start : segment.raw_start + segment.length] == clean_part
    for offset, char in enumerate(cleaned.text):
        if char != "\n":
            assert raw[cleaned.offset_map.to_raw(offset)] == char


def test_dropping_outlet_lines_keeps_offsets_exact():
    footer = "The Harbor Ledger is funded by its readers."
    raw = "\n\n".join([*BODY, footer])
    cleaned = clean_text(raw, title="x")
    text, offset_map, dropped = drop_lines(
        cleaned.text, cleaned.offset_map, frozenset({line_hash(footer)}), "outlet-repeat"
    )
    assert text == "\n\n".join(BODY)
    assert [d.text for d in dropped] == [footer]
    start = text.index(BODY[2])
    assert raw[slice(*offset_map.span_to_raw(start, start + len(BODY[2])))] == BODY[2]


def test_user_rules_extend_the_shipped_rules(tmp_path: Path):
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(
        "rules:\n  - name: ledger-promo\n    pattern: '^get the ledger app'\n    max_words: 10\n"
    )
    raw = "\n\n".join([*BODY, "Get the Ledger app for your phone"])
    cleaned = clean_text(raw, title="x", rules=load_rules(str(rules_file)))
    assert "Ledger app" not in cleaned.text
    assert len(load_rules(str(rules_file))) == len(load_rules()) + 1


def test_bad_rules_file_names_the_file_and_rule(tmp_path: Path):
    rules_file = tmp_path / "broken.yml"
    rules_file.write_text("rules:\n  - name: oops\n    pattern: '(unclosed'\n")
    with pytest.raises(RulesError, match=r"broken\.yml: rule 1 \(oops\): bad regex"):
        load_rules(str(rules_file))
