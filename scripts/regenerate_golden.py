#!/usr/bin/env python3
"""Regenerate the golden feeds in tests/data/golden/ from the fixed inputs in tests/feed_fixtures.py.

Run it only on purpose, after a deliberate change to the feeds, and review the diff before committing:
    .venv/bin/python scripts/regenerate_golden.py && git diff tests/data/golden
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from briefings.feed import render_feeds  # noqa: E402
from tests.feed_fixtures import ARTWORK_KEY, SHOW, golden_episodes  # noqa: E402

GOLDEN = REPO / "tests" / "data" / "golden"


def main() -> None:
    """Render every feed of the fixed show and replace the golden copies."""
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for key, data in render_feeds(SHOW, golden_episodes(), ARTWORK_KEY).items():
        path = GOLDEN / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
