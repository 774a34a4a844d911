"""What every benchmark script shares: where the data and the results file are, and how figures are recorded."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
HEADER = "# Benchmark results\n\nFigures appended by the scripts in `benchmarks/`, newest last.\n"


def commit() -> str:
    """The short commit the figures belong to, marked +dirty when src/ has uncommitted changes."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def append_results(section: str, path: Path = RESULTS) -> None:
    """Append ``section`` at the end of the results file (created with its header if missing); never rewrite it."""
    if not path.exists():
        path.write_text(HEADER, encoding="utf-8")
    existing = path.read_text(encoding="utf-8")
    trailing = len(existing) - len(existing.rstrip("\n"))
    with path.open("a", encoding="utf-8") as results:
        results.write("\n" * max(0, 2 - trailing) + section)


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def record(title: str, description: str, table: list[str], no_record: bool = False) -> str:
    """Print a results section (title stamped with date and commit, description, table) and, unless
    ``no_record``, append it to RESULTS.md. Returns the section."""
    section = "\n".join(
        [
            f"## {title}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
            "",
            description,
            "",
            *table,
            "",
        ]
    )
    print("\n" + section)
    if not no_record:
        append_results(section)
    return section
