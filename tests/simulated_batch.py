"""Simulated ``callcheck analyze`` outputs with known machine errors, for the accuracy and
calibration tests: many small per-call results of the real JSON schema, written to
``OUT/calls/*.json`` and ``results.sqlite`` with the store's own functions (as the batch
does), and reviews saved as the review app saves them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.review.reviews import ReviewItem, save_reviews
from pipeline.runs import store
from pipeline.runs.batch import output_path
from pipeline.types import CallResult

AGENT_START = 10.0  # seconds, in every simulated call


@dataclass
class Call:
    """One simulated call: what the machine decided and what is true."""

    file: str
    notice: str = "no"  # the machine's notice_before_agent
    truth: str | None = None  # the true notice_before_agent (None: as the machine)
    agent_start_confidence: float = 0.9
    reasons: tuple[str, ...] = ()
    heard: float = 0.9  # word probability of every word
    notice_confidence: float = 0.9  # of the notice evidence, when there is a notice
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def true_notice(self) -> str:
        return self.notice if self.truth is None else self.truth

    @property
    def wrong(self) -> bool:
        return self.true_notice != self.notice


def _words(start: float, text: str, prob: float) -> list[dict[str, Any]]:
    return [{"start": start + 0.5 * i, "end": start + 0.5 * i + 0.4, "text": w,
             "probability": prob} for i, w in enumerate(text.split())]


def result(call: Call) -> dict[str, Any]:
    """The per-call JSON of ``call``: an IVR (with a notice when the machine found one), the
    agent from ``AGENT_START`` giving no name, then the caller."""
    ivr_text = ("dit gesprek kan worden opgenomen" if call.notice == "yes"
                else "welkom bij de gemeente")
    agent_text = "goedemiddag gemeente waarmee kan ik u helpen"
    ivr = _words(1.0, ivr_text, call.heard)
    agent = _words(AGENT_START, agent_text, call.heard)
    notice_ev = ([{"text": ivr_text, "start": 1.0, "end": ivr[-1]["end"], "role": "IVR",
                   "confidence": call.notice_confidence, "asr_confidence": call.heard,
                   "detail": "call=gesprek"}] if call.notice == "yes" else [])
    return {
        "schema_version": "1.0", "file": call.file, "key": f"k-{call.file}", "error": None,
        "error_code": None,
        "audio": {"path": call.file, "duration_s": 30.0, "sample_rate": 8000, "channels": 1,
                  "codec": "pcm_s16le", "container": "wav", "sha256": "0" * 64},
        "roles": {
            "agent_start_s": AGENT_START,
            "agent_start_confidence": call.agent_start_confidence,
            "turns": [
                {"start": 0.0, "end": AGENT_START - 0.5, "role": "IVR", "speaker": "S0",
                 "channel": None},
                {"start": AGENT_START, "end": 18.0, "role": "AGENT", "speaker": "S1",
                 "channel": None},
                {"start": 18.5, "end": 30.0, "role": "CALLER", "speaker": "S2",
                 "channel": None}]},
        "transcript": {"segments": [
            {"start": 1.0, "end": ivr[-1]["end"], "text": ivr_text, "words": ivr,
             "channel": None},
            {"start": AGENT_START, "end": agent[-1]["end"], "text": agent_text, "words": agent,
             "channel": None}],
            "language": "nl", "duration_s": 30.0,
            "model": {"name": "simulated", "sha256": None, "backend": "test"}},
        "verdicts": {
            "notice_before_agent": call.notice, "notice_by_agent": "no",
            "notice_source": "ivr" if call.notice == "yes" else "none", "agent_name": "none",
            "agent_first": None, "agent_last": None, "organisation_named": "no",
            "organisation": None, "greeting": "goedemiddag", "agent_start_s": AGENT_START,
            "agent_start_confidence": call.agent_start_confidence,
            "notice_evidence": notice_ev, "name_evidence": [], "opening_text": agent_text,
            "needs_review": bool(call.reasons), "review_reasons": list(call.reasons),
        },
    }


def build(tmp_path: Path, calls: list[Call]) -> Path:
    """-> OUT holding ``calls`` (JSON files and ``results.sqlite`` with their metadata)."""
    out = tmp_path / "out"
    out.mkdir(parents=True)
    conn = store.connect(out / store.STORE_NAME)
    conn.execute("PRAGMA synchronous=OFF")  # a throw-away store: no fsync per call
    try:
        for c in calls:
            r = result(c)
            path = output_path(out, c.file, ".json")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(r), encoding="utf-8")
            store.put_call(conn, CallResult.from_dict(r),
                           path.relative_to(out.resolve()).as_posix())
        store.put_metadata(conn, {c.file: c.metadata for c in calls if c.metadata})
    finally:
        conn.close()
    return out


def connect(out: Path):
    """The store of ``out``, without an fsync per transaction (a throw-away store)."""
    conn = store.connect(out / store.STORE_NAME)
    conn.execute("PRAGMA synchronous=OFF")
    return conn


def review(conn, call: Call, decisions: tuple[str, ...] = ("notice_before_agent",),
           reviewer: str = "qa") -> None:
    """A reviewer gives the truth for ``decisions`` of ``call`` (the machine's value for
    every decision but ``notice_before_agent``), as the review app saves it."""
    machine = {r["name"]: r["value"] for r in conn.execute(
        "SELECT name, value FROM decisions WHERE file = ?", (call.file,))}
    latest = store.latest_reviews(conn, call.file)
    items = []
    for d in decisions:
        human = call.true_notice if d == "notice_before_agent" else machine.get(d)
        base = latest.get((call.file, d))
        items.append(ReviewItem(d, "confirm" if human == machine.get(d) else "override", human,
                                "", base["id"] if base is not None else 0, machine.get(d)))
    save_reviews(conn, call.file, reviewer, items)
