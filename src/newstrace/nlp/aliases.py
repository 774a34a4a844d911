"""The alias table: surface forms of actors mapped to one actor id, kind and canonical name."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from newstrace.model import Actor
from newstrace.nlp.translit import KeyedText, name_key

LABELS = ("ORG", "PERSON", "GPE", "NORP", "FAC", "LOC")
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")
# (Tokenised text writes "al - Qaeda": spaces around the hyphen are allowed.)
_ARTICLE_BEFORE = re.compile(r"(?i)(?:\b(?:al|el)(?: ?[-‐‑] ?| )|\b(?:ash|esh|ad|as|an|ar|at|az) ?[-‐‑] ?)$")


class AliasError(ValueError):
    """An alias file that cannot be used."""


@dataclass
class AliasTable:
    actors: dict[str, Actor] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)

    def add(self, actor: Actor, label: str) -> None:
        known = self.actors.get(actor.actor_id)
        if known is not None:  # a user file may add aliases to a shipped actor
            actor = Actor(
                actor.actor_id,
                actor.canonical or known.canonical,
                actor.kind or known.kind,
                tuple(dict.fromkeys(known.aliases + actor.aliases)),
            )
        self.actors[actor.actor_id] = actor
        self.labels[actor.actor_id] = label
        for alias in (actor.canonical, *actor.aliases):
            key = name_key(alias)
            if key:
                self.by_key[key] = actor.actor_id

    def actor_for(self, text: str) -> Actor | None:
        """The actor a name refers to, ignoring a leading article and a possessive."""
        actor_id = self.by_key.get(name_key(_POSSESSIVE.sub("", _LEADING.sub("", text.strip()))))
        return self.actors.get(actor_id) if actor_id else None

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compile(tuple(sorted(self.by_key, key=len, reverse=True)))

    def find(self, text: str, keyed_text: KeyedText) -> Iterator[tuple[int, int, str]]:
        """(start, end, actor_id) of every alias in ``text`` (whose keys are ``keyed_text``)."""
        if not self.by_key:
            return
        for match in self.pattern.finditer(keyed_text.key):
            start, end = keyed_text.span(match.start(), match.end())
            # Keys drop an article prefix ("al-Masdar" -> "masdar"); the mention keeps it.
            article = _ARTICLE_BEFORE.search(text, max(0, start - 7), start)
            yield (article.start() if article else start), end, self.by_key[match.group()]


@lru_cache(maxsize=16)
def _compile(keys: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so "hayat tahrir sham" wins over "sham"; bounded by non-alphanumerics on both sides.
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, keys)) + r")(?![a-z0-9])")


def _parse(data: Any, origin: str) -> list[tuple[Actor, str]]:
    if not isinstance(data, dict) or not isinstance(data.get("actors"), list):
        raise AliasError(f"{origin}: expected a mapping with an 'actors' list")
    parsed = []
    for i, item in enumerate(data["actors"], 1):
        if not isinstance(item, dict) or "id" not in item:
            raise AliasError(f"{origin}: actor {i} needs an 'id'")
        label = str(item.get("label", "ORG"))
        if label not in LABELS:
            raise AliasError(
                f"{origin}: actor {item['id']}: label '{label}' is not one of {', '.join(LABELS)}"
            )
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list):
            raise AliasError(f"{origin}: actor {item['id']}: 'aliases' must be a list")
        actor = Actor(
            str(item["id"]),
            str(item.get("canonical") or (aliases[0] if aliases else item["id"])),
            str(item.get("kind") or ""),
            tuple(str(a) for a in aliases),
        )
        parsed.append((actor, label))
    return parsed


def load_aliases(files: Sequence[str | Path] = ()) -> AliasTable:
    """The shipped alias table, extended by user files (later files win on conflicts)."""
    table = AliasTable()
    shipped = resources.files("newstrace.data").joinpath("aliases.yml").read_text(encoding="utf-8")
    for actor, label in _parse(yaml.safe_load(shipped), "newstrace/data/aliases.yml"):
        table.add(actor, label)
    for file in files:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise AliasError(f"{file}: cannot read aliases: {exc}") from exc
        for actor, label in _parse(data, str(file)):
            table.add(actor, label)
    return table
