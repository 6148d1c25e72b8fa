"""Test setup: no network, offline model hubs, shared fixtures."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# Set before any model library is imported by a test module.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "audio_fixtures"


class NetworkBlocked(RuntimeError):
    pass


def _guard(self, address, *args, **kwargs):
    family = getattr(self, "family", None)
    if family == socket.AF_UNIX:
        return _real_connect(self, address, *args, **kwargs)
    host = address[0] if isinstance(address, tuple) else str(address)
    if host in ("127.0.0.1", "::1", "localhost"):
        return _real_connect(self, address, *args, **kwargs)
    raise NetworkBlocked(f"test tried to reach the network: {address!r}")


_real_connect = socket.socket.connect


@pytest.fixture(autouse=True, scope="session")
def block_network():
    """Every test runs with outgoing connections refused (loopback and unix sockets allowed)."""
    socket.socket.connect = _guard
    socket.socket.connect_ex = _guard
    yield
    socket.socket.connect = _real_connect


@pytest.fixture(scope="session")
def nlp():
    """The committed Dutch spaCy pipeline with the callcheck ruler, loaded once."""
    from pipeline.analysis.language import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def fixture_batch(tmp_path_factory):
    """All labelled fixture calls analysed once with the real default models (``run_batch``),
    shared by the end-to-end tests. -> (output folder, labels by file, results by file)."""
    import csv

    from pipeline.runs.batch import run_batch

    with open(FIXTURES / "labels.csv", newline="", encoding="utf-8") as f:
        labels = {r["file"]: r for r in csv.DictReader(f)}
    out = tmp_path_factory.mktemp("fixture_batch")
    run_batch(FIXTURES, out, quiet=True, only=sorted(labels))
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        results = {r["file"]: r for r in csv.DictReader(f)}
    return out, labels, results
