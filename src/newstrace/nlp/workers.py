"""Annotation worker processes, started before the caller has imported the language pipeline.

Each worker imports spaCy and onnxruntime and loads the pipeline and the tagger itself (about 3 s), so the
caller can start them first thing and read its files meanwhile: this module imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from newstrace.engines.local import Workers, default_jobs
from newstrace.nlp.config import NlpConfig


def load_models(config: NlpConfig) -> None:
    """Load a worker's spaCy pipeline and tagger before its first batch. A failure is left for the batch to
    meet, where it is reported with its documents (here it would only break the pool)."""
    try:
        from newstrace.attribution.tagger import load_tagger
        from newstrace.nlp.annotate import pipeline_for

        pipeline_for(config)
        if config.attributions:
            load_tagger()
    except Exception:
        pass


def start_annotators(
    jobs: int | None = None,
    *,
    model: str | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    labels: Sequence[str | Path] = (),
    attributions: bool = True,
) -> Workers:
    """Annotation workers (default: one per core), started now: each loads spaCy and the tagger (~3 s) while
    the caller does other work. Pass them to :func:`newstrace.nlp.runner.annotate` with the same settings,
    then close them. ``newstrace run`` starts them before it reads its files."""
    config = NlpConfig.of(model, aliases, places, attributions, labels)
    return Workers(jobs or default_jobs(), load_models, (config,))
