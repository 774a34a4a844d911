"""The whole link stage over a store: reuse first (chains use it to mark verbatim repeats), then claims and
narratives."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newstrace.link.narrate import ClaimsReport, Embedder, link_claims
from newstrace.link.narratives import NarrativeConfig
from newstrace.link.reuse import LinkReport, ReuseConfig, link_reuse

Event = Callable[[str, Any], None]


@dataclass
class LinkSummary:
    reuse: LinkReport
    claims: ClaimsReport = field(default_factory=ClaimsReport)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.reuse.summary()}; {self.claims.claims} claims from {self.claims.documents} documents, "
            f"{self.claims.narratives_touched} narratives updated ({self.claims.recurring} recurring)"
        )


def link(
    db: str | Path,
    *,
    reuse: ReuseConfig | None = None,
    narratives: NarrativeConfig | None = None,
    embedder: str | Embedder = "minilm",
    on_event: Event | None = None,
) -> LinkSummary:
    """Reuse, claims and narratives for every document stored or annotated since the last link."""
    from newstrace.embed import load_embedder
    from newstrace.store import Store

    emit: Event = on_event or (lambda kind, payload: None)
    started = time.perf_counter()
    model = load_embedder(embedder) if isinstance(embedder, str) else embedder
    result = LinkSummary(link_reuse(db, reuse, on_event=emit))
    with Store(db) as store:
        run_id = store.start_run(f"link claims embedder={model.name}")
        status = "running"
        try:
            result.claims = link_claims(store, run_id, model, narratives or NarrativeConfig(), emit)
            status = "done"
        finally:
            store.finish_run(
                run_id, status, {"records": result.claims.documents, "stored": result.claims.claims}
            )
    result.seconds = time.perf_counter() - started
    return result
