"""`make test-fast` selects what runs on any machine: no models, no browser."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def _fast_marker_expression() -> str:
    recipe = (REPO / "Makefile").read_text().split("\ntest-fast:", 1)[1].split("\n\n", 1)[0]
    return re.search(r'-m "([^"]+)"', recipe).group(1)


def test_test_fast_leaves_out_the_browser_tests():
    expr = _fast_marker_expression()
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", expr,
         "tests/test_review_browser.py"], cwd=REPO, capture_output=True, text=True)
    assert "test_queue_call_page" not in collected.stdout, collected.stdout
    everything = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q",
         "tests/test_review_browser.py"], cwd=REPO, capture_output=True, text=True)
    assert "test_queue_call_page" in everything.stdout  # `make test` still runs them
