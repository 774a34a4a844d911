"""Time expressions in article text, normalised to calendar values against the publication date.

``find_timexes`` finds expressions with its own patterns and also takes candidate spans from a named-entity
recogniser (spaCy's DATE entities), so it works with or without them. Values are ``YYYY-MM-DD``, ``YYYY-MM`` or
``YYYY``; ``Timex.rule`` says how each was found:

* ``explicit``: the text names the year ("6 May 2019", "April 14, 2018", "Wed 05 Apr 2017", "April 2019").
* ``year``: a bare year ("in 2014", "earlier in 2021").
* ``month-day``: month and day without a year ("September 19th"). Against a reference it takes the year
  that puts it nearest on or before the reference, allowing up to a week ahead for announced events; in a
  clause that looks forward ("set the election for September 29", "will meet on May 3") it takes the first
  occurrence from a week before the reference on. ``month`` is the same for a bare month ("in April").
* ``weekday-year``: weekday, month and day without a year ("Last Monday, May 6th"): a year in which that
  day falls on that weekday. Against a reference, the month-day year or the one before (a weekday that
  fits neither is taken for a slip and ignored, rule ``month-day``). Without one, the first such year from
  the latest year the text names (a named year is nearly always history the article looks back on, so
  the article is no older), else the nearest before it; when the text names no year, the most recent
  such day up to ``latest``.
* ``weekday``: a bare weekday ("on Saturday"): the most recent such day on or before the reference ("last
  Monday": strictly before). In a forward-looking clause ("will be named on Sunday", "forecast for
  Friday") and after "next", the first such day after the reference.
* ``relative``: "yesterday", "last week", "last year", "a day earlier", "five years ago". A period that is
  not a calendar unit ("last week") gets the smallest month or year that holds all of it.
* ``relative-year``: "on September 11 last year".
* ``dateparser``: a candidate span none of the patterns understood, read by dateparser.

Without a reference (an undated document) relative expressions, bare weekdays and bare months cannot be
resolved and are left out; the latest explicit year in the text (1990 to ``latest``) stands in for the
publication year of a month and day ("September 19th" beside "earlier in 2021"), and a month and day with
no year anywhere is left out rather than guessed. Vague expressions ("recently", "the past two weeks"),
durations ("three years"), decades and "N days later" (anchored on a narrated event, not on the
publication) are left out. ``latest`` is today unless the caller knows better (a crawl date, a corpus's
known end); no value is ever later than it.

``infer_publication_date`` dates an undated document from a dateline or, failing that, from the latest
day-precision date it mentions, and ``resolve_document_dates`` runs the whole flow for one document.
"""

from __future__ import annotations

import calendar
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from newstrace.model import DateSource, Timex

# -- vocabulary ------------------------------------------------------------------------------------------

_MONTH_NAMES = [m.lower() for m in calendar.month_name if m]
_MONTHS: dict[str, int] = {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS: dict[str, int] = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY_ABBR: dict[str, int] = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _names(words: Sequence[str]) -> str:
    """An alternation accepting each word in Title or UPPER case, longest first so "Sept" beats "Sep"."""
    forms = sorted({f for w in words for f in (w.title(), w.upper())}, key=len, reverse=True)
    return "|".join(forms)


# Month and weekday names are matched case-sensitively: "may", "march" and "sun" are ordinary words.
_MONTH_FULL = _names(_MONTH_NAMES)
_MONTH_ANY = _names(list(_MONTHS))
_WD_FULL = _names(list(_WEEKDAYS))
_WD_ANY = _names([*_WEEKDAYS, *_WEEKDAY_ABBR])
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?\b"
_YEAR = r"(?:19|20)\d\d(?![\d\w])"

# One pass over the text; alternatives are tried in order at each position, the most specific first.
_PATTERN = re.compile(
    rf"""
    \b(?=[\dADFJMNOSTWYLPEadtylnpofse])  # only where some alternative can start: skips most positions fast
    (?:
    (?P<iso>\b(?P<iso_y>(?:19|20)\d\d)-(?P<iso_m>[01]\d)-(?P<iso_d>[0-3]\d)\b)
  | (?P<cal>
        (?:(?P<wd>\b(?:{_WD_ANY}))\.?,?\s+(?:the\s+)?)?
        (?:
            \b(?P<m1>{_MONTH_ANY})\.?\s+(?P<d1>{_DAY})(?:,?[ \t]+(?P<y1>{_YEAR}))?
          | \b(?P<d2>{_DAY})(?:\s+of)?\s+(?P<m2>{_MONTH_ANY})\b\.?(?:,?[ \t]+(?P<y2>{_YEAR}))?
        )
    )
  | (?P<my>\b(?P<my_m>{_MONTH_ANY})\.?(?:\s+of)?,?\s+(?P<my_y>{_YEAR}))
  | (?P<wday>\b(?P<w>{_WD_FULL})(?:'s)?\b(?:\s+(?P<pod>morning|afternoon|evening|night))?)
  | (?P<month>\b(?P<bm>{_MONTH_FULL})\b)
  | (?P<year>(?<![\d,.$€£#/])(?<!\d-)\b(?P<y>{_YEAR}))
  | (?P<rday>\b(?i:today|yesterday|tomorrow|tonight)\b)
  | (?P<runit>\b(?P<rmod>(?i:last|this|next|previous))\s+(?P<ru>(?i:week|month|year))\b)
  | (?P<ago>\b(?P<num>(?i:{"|".join(_NUMBERS)})|\d{{1,3}})\s+(?P<unit>(?i:days?|weeks?|months?|years?|decades?))
        \s+(?P<dir>(?i:ago|earlier))\b)
    )
    """,
    re.VERBOSE,
)

# Up to two words right before a match: the modifier ("last Monday") and the preposition ("in April").
_BEFORE = re.compile(r"(?:\b([A-Za-z]+)[ \t]+)?\b([A-Za-z]+)(-|[ \t]+)$")
_MODIFIERS = frozenset(
    {"last", "this", "next", "previous", "coming", "early", "late", "mid", "earlier", "later"}
)
_PREPOSITIONS = frozenset(
    {"on", "in", "since", "by", "until", "till", "through", "during", "from", "of", "to", "before", "after"}
)
# Words that make a following four-digit number a year ("in 2014", "summer 2019").
_YEAR_BEFORE = (
    _PREPOSITIONS
    | _MODIFIERS
    | frozenset({"around", "circa", "between", "and", "or", "year", "summer", "winter", "spring", "autumn"})
    | frozenset({"fall", "season", "end", "start", "beginning", "half", "quarter"})
    | frozenset(_MONTH_NAMES)
)
# Lowercase words that may follow a year; any other ("2000 people") makes the number a count.
_YEAR_AFTER = _wordset(
    """and or but when where while as to the that which who was were is are had has have after before in on
    at for with it they he she we its his their there until because saying said according than so if
    ended began saw"""
)
_NEXT_WORD = re.compile(r"[ \t]+([a-z]+)")
_PERCENT = re.compile(r"\s*(?:%|per\s*cent)")
_YEAR_SUFFIX = re.compile(r"[ \t]+(last|this|next)[ \t]+year\b", re.IGNORECASE)
# A forward-looking clause: an announced date ("set the vote for September 29", "will meet on May 3").
_FUTURE = re.compile(r"\b(?:will|shall|scheduled|planned|due to|expected to|is to|are to)\b|'ll\b")
_CLAUSE_END = re.compile(r"[.;!?\n]")
_OF = re.compile(r"[ \t]+of\b")
# Candidate spans dateparser could read: they name a month, weekday, digit or a relative day word.
_DATEISH = re.compile(rf"\d|\b(?:{_MONTH_ANY}|{_WD_ANY})\b|(?i:\b(?:today|yesterday|tomorrow|ago)\b)")
_DURATION = re.compile(r"(?i)\b(?:days?|weeks?|months?|years?|decades?|hours?|minutes?)\b(?!.*\bago\b)")
_DECADE = re.compile(r"\d0'?s\b")
_TRIM = re.compile(r"(?i)^(?:the|a|an|on|in|at|of|since|by)\s+")

EARLIEST_YEAR = 1900
REFERENCE_YEARS_FROM = 1990
_WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class _Context:
    reference: date | None
    year: int | None  # the latest explicit year in the text: stands in for the publication year
    latest: date


@dataclass(slots=True)
class _Found:
    match: re.Match[str]
    start: int  # the match start, or the start of a modifier taken into the span ("last Monday")
    end: int
    modifier: str  # that modifier, lowercased, or ""
    rule: str  # provisional; a leading "?" marks a doubtful reading
    explicit_year: int | None = None  # a year the text states, for the reference year


# -- public API ------------------------------------------------------------------------------------------


def find_timexes(
    text: str,
    reference: date | None,
    candidates: Sequence[tuple[int, int]] = (),
    *,
    latest: date | None = None,
) -> list[Timex]:
    """The time expressions in ``text``, normalised against ``reference`` (the publication date).

    ``candidates`` are (start, end) spans an entity recogniser labelled DATE; those the patterns here miss
    are read by dateparser. ``latest`` is the latest value allowed (default today). See the module
    docstring for the rules. Timexes come back sorted by offset and never overlap.
    """
    latest = _as_date(latest) or date.today()
    reference = _as_date(reference)
    text = text if isinstance(text, str) else ""
    found = [f for m in _PATTERN.finditer(text) if (f := _read(m, text)) is not None]
    cand = _clean_candidates(text, candidates)
    # A number or a month name the patterns doubted is a date after all when the recogniser says so.
    for f in found:
        if f.rule.startswith("?") and any(s <= f.start and f.end <= e for s, e in cand):
            f.rule = f.rule[1:]
    found = [f for f in found if not f.rule.startswith("?")]
    years = [y for f in found if (y := f.explicit_year) and REFERENCE_YEARS_FROM <= y <= latest.year]
    ctx = _Context(reference, max(years) if years else None, latest)

    timexes: list[Timex] = []
    for f in found:
        value, rule = _resolve(f, text, ctx)
        if value is not None and (first := _start_of(value)) is not None and first <= latest:
            timexes.append(Timex(f.start, f.end, text[f.start : f.end], value, rule))
    for start, end in cand:
        if any(f.start < end and start < f.end for f in found):
            continue  # the patterns saw this one; a failed reading there would only be a guess here
        value = _dateparser_value(text[start:end], reference, latest)
        if value is not None:
            timexes.append(Timex(start, end, text[start:end], value, "dateparser"))
    timexes.sort(key=lambda t: (t.start, -t.end))
    kept: list[Timex] = []
    for t in timexes:
        if not kept or t.start >= kept[-1].end:
            kept.append(t)
    return kept


def infer_publication_date(text: str, timexes: Sequence[Timex]) -> tuple[date | None, DateSource | None]:
    """The publication date of a document whose metadata has none.

    A dateline at the start of the text ("Wed 05 Apr 2017 ...", "ANKARA, Sept 8 (Reuters) -",
    "May 6, 2019 —") gives the date, source ``text``; one without a year takes the latest year the text
    names, and with none it is not read. A sentence that opens with a date ("Last Monday, May 4th, two
    trucks ...") is no dateline. Otherwise the latest day-precision date the text mentions is a lower
    bound, source ``inferred``. ``timexes`` are those ``find_timexes`` gives without a reference.
    """
    dateline = _dateline(text, timexes)
    if dateline is not None:
        return dateline, "text"
    days = [d for t in timexes if (d := _full_date(t.value)) is not None]
    if days:
        return max(days), "inferred"
    return None, None


def resolve_document_dates(
    text: str,
    published: date | None,
    candidates: Sequence[tuple[int, int]] = (),
    *,
    source: DateSource | None = "meta",
    latest: date | None = None,
) -> tuple[list[Timex], date | None, DateSource | None]:
    """A document's timexes and publication date with its source.

    A dated document keeps its date and ``source``. For an undated one the timexes found without a
    reference date the document (``infer_publication_date``), and are then read again against that date
    so that relative expressions ("on Tuesday", "five years ago") resolve too.
    """
    published = _as_date(published)
    if published is not None:
        return find_timexes(text, published, candidates, latest=latest), published, source
    first = find_timexes(text, None, candidates, latest=latest)
    inferred, inferred_source = infer_publication_date(text, first)
    if inferred is None:
        return first, None, None
    return find_timexes(text, inferred, candidates, latest=latest), inferred, inferred_source


# -- reading one match -----------------------------------------------------------------------------------


def _read(m: re.Match[str], text: str) -> _Found | None:
    """What a pattern match is, before any reference is applied.

    A leading "?" in the rule marks a reading the context does not support (a bare month with no
    preposition, a number that looks like a count); the recogniser's candidates can rescue it.
    """
    kind = m.lastgroup
    start, end = m.span()
    word, word_before, word_start = _words_before(text, start)
    modifier = word.lower() if word.lower() in _MODIFIERS else ""
    span_start = word_start if modifier else start
    if kind == "iso":
        return _Found(m, start, end, "", "explicit", int(m["iso_y"]))
    if kind == "cal":
        year = m["y1"] or m["y2"]
        return _Found(m, span_start, end, modifier, "cal", int(year) if year else None)
    if kind == "my":
        return _Found(m, start, end, "", "explicit", int(m["my_y"]))
    if kind == "wday":
        return _Found(m, span_start, end, modifier, "weekday")
    if kind == "month":
        ok = bool(modifier) or word.lower() in _PREPOSITIONS or word_before.lower() in _PREPOSITIONS
        return _Found(m, span_start, end, modifier, "month" if ok else "?month")
    if kind == "year":
        ok = _looks_like_year(text, word, end)
        return _Found(m, start, end, "", "year" if ok else "?year", int(m["y"]) if ok else None)
    if kind == "rday":
        if m.group()[0].isupper() and word[:1].isupper() and text[start - 1] in " \t":
            return None  # a name such as "Varnia Today", not the day
        return _Found(m, start, end, "", "relative")
    if kind == "runit":
        if word.lower() == "the" or _OF.match(text, end):
            return None  # "the last week" is vague, "last week of February" an ordinal
        return _Found(
            m, span_start if modifier == "earlier" or modifier == "later" else start, end, "", "relative"
        )
    if kind == "ago":
        return _Found(m, start, end, "", "relative")
    return None


def _words_before(text: str, start: int) -> tuple[str, str, int]:
    """The word right before ``start``, the one before that, as written ("" when absent), and where the
    first of them starts."""
    m = _BEFORE.search(text, max(0, start - 40), start)
    return (m[2], m[1] or "", m.start(2)) if m else ("", "", start)


def _looks_like_year(text: str, word: str, end: int) -> bool:
    """Whether a four-digit number is a year ("in 2014", "2014 and") rather than a count ("2000 people")."""
    if _PERCENT.match(text, end):
        return False
    if word.lower() in _YEAR_BEFORE:
        return True
    nxt = _NEXT_WORD.match(text, end)
    return nxt is None or nxt[1] in _YEAR_AFTER


# -- values ----------------------------------------------------------------------------------------------


def _resolve(f: _Found, text: str, ctx: _Context) -> tuple[str | None, str]:
    """The calendar value of a found expression under ``ctx`` and the rule that gave it."""
    m = f.match
    kind = m.lastgroup
    try:
        if kind == "iso":
            return _day(int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"])), "explicit"
        if kind == "cal":
            return _resolve_calendar(m, f, text, ctx)
        if kind == "my":
            return f"{int(m['my_y']):04d}-{_MONTHS[m['my_m'].lower()]:02d}", "explicit"
        if kind == "year":
            return f"{int(m['y']):04d}", "year"
        if kind == "wday":
            return _resolve_weekday(m, f, text, ctx), "weekday"
        if kind == "month":
            return _resolve_month(_MONTHS[m["bm"].lower()], f, text, ctx), "month"
        if kind == "rday":
            return _resolve_relative_day(m.group().lower(), ctx), "relative"
        if kind == "runit":
            return _resolve_relative_unit(m["rmod"].lower(), m["ru"].lower(), ctx), "relative"
        if kind == "ago":
            return _resolve_ago(m, ctx), "relative"
    except (ValueError, OverflowError):
        return None, f.rule
    return None, f.rule


def _resolve_calendar(m: re.Match[str], f: _Found, text: str, ctx: _Context) -> tuple[str | None, str]:
    month = _MONTHS[(m["m1"] or m["m2"]).lower()]
    day = int(re.sub(r"\D", "", m["d1"] or m["d2"]))
    year = m["y1"] or m["y2"]
    if year:
        return _day(int(year), month, day), "explicit"
    if day > _max_day(month):
        return None, "month-day"
    suffix = _YEAR_SUFFIX.match(text, f.end)
    if suffix:  # "on September 11 last year"
        f.end = suffix.end()
        if ctx.reference is None:
            return None, "relative-year"
        offset = {"last": -1, "this": 0, "next": 1}[suffix[1].lower()]
        return _day(ctx.reference.year + offset, month, day), "relative-year"
    future = _forward_looking(text, m.start())
    if m["wd"]:
        weekday = _weekday_number(m["wd"])
        found = _weekday_year(month, day, weekday, ctx, future)
        if found is not None:
            return found.isoformat(), "weekday-year"
        if ctx.reference is None:
            return None, "weekday-year"
    if ctx.reference is None:
        if ctx.year is None:
            return None, "month-day"  # no year anywhere: any guess would be a guess
        return _day(ctx.year, month, day), "month-day"
    value = _month_day(month, day, ctx.reference, future)
    return (value.isoformat() if value else None), "month-day"


def _weekday_number(name: str) -> int:
    key = name.lower().rstrip(".")
    return _WEEKDAYS.get(key, _WEEKDAY_ABBR.get(key, -1))


def _weekday_year(month: int, day: int, weekday: int, ctx: _Context, future: bool) -> date | None:
    """The date of ``month``/``day`` in a year, near the reference, where it falls on ``weekday``."""
    if ctx.reference is not None:
        base = _month_day(month, day, ctx.reference, future)
        if base is None:
            return None
        for year in (base.year, base.year - 1):
            d = _safe_date(year, month, day)
            if d is not None and d.weekday() == weekday and d <= ctx.latest:
                return d
        return None
    # Without one: the first such year from the latest year the text names, since that year is nearly
    # always history the article looks back on; failing that, the most recent such year before it.
    floor = min(ctx.year if ctx.year is not None else ctx.latest.year, ctx.latest.year)
    years = [*range(floor, ctx.latest.year + 1), *range(floor - 1, EARLIEST_YEAR - 1, -1)]
    return next(
        (d for y in years if (d := _safe_date(y, month, day)) and d <= ctx.latest and d.weekday() == weekday),
        None,
    )


def _month_day(month: int, day: int, reference: date, future: bool) -> date | None:
    """``month``/``day`` in the year that puts it nearest on or before the reference (up to a week after);
    in a forward-looking clause, the first occurrence from a week before the reference on."""
    if future:
        years = range(reference.year - 1, reference.year + 6)
        return next((d for y in years if (d := _safe_date(y, month, day)) and d >= reference - _WEEK), None)
    years = range(reference.year + 1, reference.year - 9, -1)
    return next((d for y in years if (d := _safe_date(y, month, day)) and d <= reference + _WEEK), None)


def _forward_looking(text: str, start: int) -> bool:
    """Whether the clause before ``start`` announces something ("set ... for", "will ... on")."""
    window = text[max(0, start - 120) : start]
    ends = list(_CLAUSE_END.finditer(window))
    clause = window[ends[-1].end() :] if ends else window
    if re.search(r"\bfor\s*$", clause):
        return True
    return bool(_FUTURE.search(clause))


def _resolve_weekday(m: re.Match[str], f: _Found, text: str, ctx: _Context) -> str | None:
    if ctx.reference is None:
        return None
    weekday = _WEEKDAYS[m["w"].lower()]
    mod = f.modifier
    back = (ctx.reference.weekday() - weekday) % 7
    if mod in ("last", "previous"):
        back = back or 7
    elif mod in ("next", "coming") or (
        mod != "this" and "'" not in m.group() and _forward_looking(text, m.start())
    ):
        # an announced day ("will be named on Sunday", "forecast for Wednesday") is the next one; a
        # possessive ("for Monday's attack") names an event, which is past
        back = -((weekday - ctx.reference.weekday()) % 7 or 7)
    return (ctx.reference - timedelta(days=back)).isoformat()


def _resolve_month(month: int, f: _Found, text: str, ctx: _Context) -> str | None:
    mod = f.modifier
    if ctx.reference is None:
        return None  # the latest year named is often background ("the war began in 2011"): no guess
    ref = ctx.reference
    if mod in ("last", "previous"):
        year = ref.year if month < ref.month else ref.year - 1
    elif mod in ("next", "coming") or (mod != "this" and _forward_looking(text, f.match.start())):
        year = ref.year if month >= ref.month else ref.year + 1
    else:
        year = ref.year if month <= ref.month else ref.year - 1
    return f"{year:04d}-{month:02d}"


def _resolve_relative_day(word: str, ctx: _Context) -> str | None:
    if ctx.reference is None:
        return None
    shift = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[word]
    return (ctx.reference + timedelta(days=shift)).isoformat()


def _resolve_relative_unit(mod: str, unit: str, ctx: _Context) -> str | None:
    ref = ctx.reference
    if ref is None:
        return None
    shift = {"last": -1, "previous": -1, "this": 0, "next": 1}[mod]
    if unit == "year":
        return f"{ref.year + shift:04d}"
    if unit == "month":
        year, month = _add_months(ref.year, ref.month, shift)
        return f"{year:04d}-{month:02d}"
    monday = ref - timedelta(days=ref.weekday()) + shift * _WEEK
    return _smallest_unit(monday, monday + timedelta(days=6))


def _resolve_ago(m: re.Match[str], ctx: _Context) -> str | None:
    ref = ctx.reference
    if ref is None:
        return None
    word = m["num"].lower()
    n = _NUMBERS[word] if word in _NUMBERS else int(word)
    unit = m["unit"].lower().rstrip("s")  # "ago" and "earlier" both count back from the reference
    if unit in ("day", "week"):
        return (ref - timedelta(days=n * (7 if unit == "week" else 1))).isoformat()
    if unit == "month":
        year, month = _add_months(ref.year, ref.month, -n)
        return f"{year:04d}-{month:02d}"
    return f"{ref.year - n * (10 if unit == 'decade' else 1):04d}"


# -- dateparser for the recogniser's leftovers -----------------------------------------------------------


def _clean_candidates(text: str, candidates: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Candidate spans inside the text, with a leading article or preposition and edge spaces trimmed."""
    spans: list[tuple[int, int]] = []
    for item in candidates:
        try:
            start, end = int(item[0]), int(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        start, end = max(0, start), min(len(text), end)
        piece = text[start:end]
        stripped = piece.lstrip()
        start += len(piece) - len(stripped)
        lead = _TRIM.match(stripped)
        if lead:
            start += lead.end()
        end = start + len(text[start:end].rstrip(" \t\n.,;:"))
        if end > start:
            spans.append((start, end))
    return spans


def _dateparser_value(span: str, reference: date | None, latest: date) -> str | None:
    """A candidate span's value by dateparser, or None for vague phrases and durations."""
    if len(span) > 60 or not _DATEISH.search(span) or _DURATION.search(span) or _DECADE.search(span):
        return None
    if reference is None and not re.search(_YEAR, span):
        return None  # without a reference only a span that states its year can be trusted
    return _parse_cached(" ".join(span.split()), reference or latest, latest)


@lru_cache(maxsize=8192)
def _parse_cached(span: str, reference: date, latest: date) -> str | None:
    try:
        data = _parser(reference).get_date_data(span)
    except Exception:  # dateparser raises many kinds of errors on odd input; none should stop a run
        return None
    when, period = data.date_obj, data.period
    if when is None or period == "week":
        return None
    day = when.date()
    if day > latest:
        return None
    if period == "year":
        return f"{day.year:04d}"
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


@lru_cache(maxsize=256)
def _parser(reference: date) -> Any:
    import dateparser.date  # imported lazily: it costs a second to load and most documents never need it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dateparser.date.DateDataParser(
            languages=["en"],
            settings={
                "RELATIVE_BASE": datetime(reference.year, reference.month, reference.day),
                "PREFER_DATES_FROM": "past",
                "PREFER_DAY_OF_MONTH": "first",
            },
        )


# -- datelines -------------------------------------------------------------------------------------------

# Before a dateline's date: nothing, or a place in capitals ("ANKARA, ").
_DATELINE_PLACE = re.compile(r"[ \t]*(?:[A-Z][A-Z .'/-]{1,40},[ \t]*)?")
# After it: a dash or colon, possibly after an agency in brackets, or the end of the line.
_DATELINE_END = re.compile(r"[ \t]*(?:\([^()\n]{1,40}\)[ \t]*)?(?:[-–—:|]|\n|$)")
_DATELINE_LINES = 3
_DATELINE_CHARS = 600


def _dateline(text: str, timexes: Sequence[Timex]) -> date | None:
    """The date of a dateline in the first lines of the text, if there is one."""
    head = text[:_DATELINE_CHARS]
    starts = [m.start() for m in re.finditer(r"(?m)^(?=[ \t]*\S)", head)][:_DATELINE_LINES]
    first_char = len(text) - len(text.lstrip())
    for t in timexes:
        day = _full_date(t.value)
        if day is None or t.rule not in ("explicit", "month-day", "weekday-year", "dateparser"):
            continue
        if t.text[:1].islower() or t.text.split()[0].lower() in _MODIFIERS:
            continue  # "Last Monday, May 4th, two trucks ..." opens a story; it is not a dateline
        line = next((s for s in reversed(starts) if s <= t.start), None)
        if line is None or "\n" in text[line : t.start] or not _DATELINE_PLACE.fullmatch(text, line, t.start):
            continue
        at_very_start = t.start == first_char and re.search(_YEAR, t.text) is not None
        if at_very_start or _DATELINE_END.match(text, t.end):
            return day
    return None


# -- small helpers ---------------------------------------------------------------------------------------


def _as_date(value: date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day(year: int, month: int, day: int) -> str | None:
    d = _safe_date(year, month, day)
    return d.isoformat() if d else None


def _max_day(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2001, month)[1]


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _smallest_unit(first: date, last: date) -> str:
    """The smallest month or year holding the whole period ``first``..``last``."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year:04d}-{first.month:02d}"
    return f"{first.year:04d}" if first.year == last.year else f"{last.year:04d}"


def _start_of(value: str) -> date | None:
    """The first day of a value's period, or None for a value no calendar holds (year 0 near date.min)."""
    parts = [int(p) for p in value.split("-")]
    return _safe_date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def _full_date(value: str) -> date | None:
    return date.fromisoformat(value) if len(value) == 10 else None
