"""Signed quotations: a quotation on its own line, then a dash and the speaker's name."""

from __future__ import annotations

from newstrace.attribution.signed import signed_quotations, with_signed_quotations
from newstrace.model import Attribution

VOX_POP = (
    "Readers in Kastrel told us what they think of the ferry closure.\n"
    "“I have crossed every morning for thirty years. Now I drive two hours.” ― Ilse Marrow\n"
    "”Nobody asked the islands.”―\xa0Tomas de Vell.\n"
    "The council meets on Monday — Reuters\n"
    "“We will reopen in May,” the harbour master said — and nobody believed him.\n"
)


def _texts(text: str, attribution: Attribution) -> tuple[list[str], ...]:
    return tuple([text[s:e] for s, e in getattr(attribution, role)] for role in ("source", "cue", "content"))


def test_each_signed_line_is_an_attribution_with_the_quotation_as_content():
    first, second = signed_quotations(VOX_POP)
    assert _texts(VOX_POP, first) == (
        ["Ilse Marrow"],
        ["―"],
        ["“I have crossed every morning for thirty years. Now I drive two hours.”"],
    )
    # a closing mark where the opening one belongs, no space before the dash, a particle in the name
    assert _texts(VOX_POP, second) == (["Tomas de Vell"], ["―"], ["”Nobody asked the islands.”"])


def test_dashes_in_prose_and_credits_are_not_signatures():
    text = (
        "The council meets on Monday — Reuters\n“We will reopen in May,” he said — and nobody believed him.\n"
    )
    assert signed_quotations(text) == []


def test_a_dash_the_tagger_already_linked_is_not_added_twice():
    found = signed_quotations(VOX_POP)[:1]
    merged = with_signed_quotations(VOX_POP, found)
    assert len(merged) == 2 and merged[0] == found[0]
    assert [a.cue for a in merged] == sorted(a.cue for a in merged)


def test_a_signed_quotation_is_taken_from_the_attribution_the_linker_gave_it_to():
    told = Attribution(
        source=((0, 18),),
        cue=((19, 23),),
        content=((27, 63), signed_quotations(VOX_POP)[0].content[0]),
    )
    assert VOX_POP[19:23] == "told"
    merged = with_signed_quotations(VOX_POP, [told])
    assert [VOX_POP[s:e] for s, e in merged[0].content] == ["what they think of the ferry closure"]
    assert merged[1].content == signed_quotations(VOX_POP)[0].content
