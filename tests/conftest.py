"""Shared fixtures: where the real corpora live, and helpers to run the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
EXAMPLES = ROOT / "examples"
FAKES_CSV = SHARED / "fakes" / "FA-KES-Dataset.csv"
FAKES_MAP = "text=article_content,title=article_title,outlet=source,date=date"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason when the corpora are absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"real corpus not available: {path} is missing (it lives in ../shared/data beside the repo)"
        )
    return path


def run_cli(*args: str | Path, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``newstrace`` as a user would, in a separate process."""
    result = subprocess.run(
        [sys.executable, "-m", "newstrace", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"newstrace {args} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
