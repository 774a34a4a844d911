"""Publication dates from metadata values ("2019-05-08", "4/5/2017", "Wed, 08 May 2019 10:00 GMT")."""

from __future__ import annotations

import re
import warnings
from datetime import date, datetime
from functools import lru_cache

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NUMERIC = re.compile(r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})$")
EARLIEST = date(1800, 1, 1)


@lru_cache(maxsize=4096)
def parse_date(value: str, date_order: str = "MDY") -> date | None:
    """The calendar date a metadata value names, or None.

    ISO dates are read directly; anything else goes through dateparser with ``date_order`` deciding
    ambiguous numeric dates (FA-KES writes M/D/YYYY). A date in the future or before 1800 is rejected.
    """
    value = value.strip()
    if not value:
        return None
    parsed: date | None = None
    numeric = _NUMERIC.match(value)
    if numeric:
        parsed = _numeric_date(numeric.groups(), date_order)
    elif _ISO.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            parsed = None
    if parsed is None:
        import dateparser  # imported lazily: it costs a second to load and ISO dates never need it

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = dateparser.parse(
                value,
                settings={
                    "DATE_ORDER": date_order,
                    "PREFER_DAY_OF_MONTH": "first",
                    "REQUIRE_PARTS": ["year", "month"],
                },
            )
        parsed = result.date() if result else None
    if parsed is None or not EARLIEST <= parsed <= date.today():
        return None
    return parsed


def _numeric_date(parts: tuple[str, ...], date_order: str) -> date | None:
    """``4/5/2017`` read in ``date_order``; a four-digit first part is always a year (2017/04/05)."""
    order = "YMD" if len(parts[0]) == 4 else date_order
    fields = dict(zip(order, (int(p) for p in parts), strict=True))
    year = fields["Y"] + (2000 if fields["Y"] < 100 else 0)
    try:
        return date(year, fields["M"], fields["D"])
    except ValueError:
        return None
