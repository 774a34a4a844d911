"""The settings of the language pipeline, in a module light enough to import before spaCy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class NlpConfig:
    """Which spaCy pipeline, and which user alias and place files, to annotate with."""

    model: str | None = None
    aliases: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    attributions: bool = True
    labels: tuple[str, ...] = ()  # extra label lexicons for framing (YAML)

    @classmethod
    def of(
        cls,
        model: str | None = None,
        aliases: Sequence[str | Path] = (),
        places: Sequence[str | Path] = (),
        attributions: bool = True,
        labels: Sequence[str | Path] = (),
    ) -> NlpConfig:
        return cls(
            model,
            tuple(str(a) for a in aliases),
            tuple(str(p) for p in places),
            attributions,
            tuple(str(f) for f in labels),
        )

    def describe(self) -> str:
        return (
            f"model={self.model or 'default'};aliases={list(self.aliases)};places={list(self.places)}"
            f";attributions={self.attributions};labels={list(self.labels)}"
        )
