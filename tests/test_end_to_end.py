"""End to end on the labelled fixture calls with the real default models: agent start per
kind of call (chosen by the call manifest's properties, never by file name), role-level
error rate, and the verdicts. The measured numbers are printed (pytest -s) and in README.

These tests assert what holds on any machine: Whisper's int8 output differs between CPUs, so
on the garbled espeak speech of the fixtures an accuracy moves by a call or two from one
machine to the next (notice F1 0.82 here, 0.67 on another of the same kind). Accuracy on audio
is measured by ``make eval``; here are floors with a margin of several calls, and properties:
no verdict asserted without a review flag is wrong, no name is asserted that was never said,
and with the reference text the verdicts are exact."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from pipeline.evaluation.evaluate import compute_metrics, role_der
from pipeline.types import Role

FIXTURES = Path(__file__).resolve().parent.parent / "audio_fixtures"

pytestmark = pytest.mark.models


def _manifest() -> dict[str, dict[str, str]]:
    with open(FIXTURES / "calls.csv", newline="", encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def _music_s(description: str) -> float:
    m = re.search(r"([\d.]+) s music", description)
    return float(m.group(1)) if m else 0.0


KINDS = {
    "mono": lambda r: r["channels"] == "1",
    "stereo": lambda r: r["channels"] == "2",
    "narrowband_8k": lambda r: r["sample_rate"] == "8000",
    "no_ivr": lambda r: not r["ivr_voice"],
    "long_hold_music": lambda r: _music_s(r["description"]) >= 15.0,
}


def _start_ok(label: dict, result: dict) -> bool:
    return bool(result["agent_start_s"]) and abs(
        float(result["agent_start_s"]) - float(label["agent_start_s"])) <= 1.0


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_agent_start_within_1s_per_kind_of_call(fixture_batch, kind):
    _, labels, results = fixture_batch
    files = [f for f, r in _manifest().items() if KINDS[kind](r) and f in labels]
    assert files, f"no fixture call of kind {kind}"
    ok = [f for f in files if _start_ok(labels[f], results[f])]
    print(f"{kind}: agent start within 1 s on {len(ok)}/{len(files)}")
    # no kind of call is broken: at least half of each (kinds have 1 to 14 calls; measured
    # all right but one call of 20)
    assert 2 * len(ok) >= len(files), sorted(set(files) - set(ok))


def test_agent_start_overall(fixture_batch):
    _, labels, results = fixture_batch
    metrics, misses = compute_metrics(list(labels.values()), results)
    print(json.dumps(metrics["agent_start"]), misses)
    assert metrics["n_failed"] == 0
    # measured 0.95 on the first 20 (19/20; target 0.95, tracked by `make eval`); the floor
    # leaves several calls
    assert metrics["agent_start"]["within_1s"] >= 0.8


def test_role_error_rate(fixture_batch):
    out, labels, _ = fixture_batch
    roles = role_der(FIXTURES / "rttm", out, sorted(labels))
    print("role-level error rate", roles["der"])
    assert len(roles["per_call"]) == len(labels)
    assert roles["der"] <= 0.18  # measured 0.11-0.13 (target in issue 3: 0.10)


def test_music_and_tones_never_become_the_agent(fixture_batch):
    out, labels, _ = fixture_batch
    for rel in labels:
        data = json.loads((out / "calls" / f"{rel}.json").read_text())
        music = [(e["start"], e["end"]) for e in data["events"] if e["kind"] == "music"]
        for t in data["roles"]["turns"]:
            if t["role"] == Role.AGENT:
                inside = sum(max(0.0, min(t["end"], b) - max(t["start"], a)) for a, b in music)
                assert inside <= 0.5 * (t["end"] - t["start"]), (rel, t)


def test_verdicts_end_to_end(fixture_batch):
    _, labels, results = fixture_batch
    metrics, misses = compute_metrics(list(labels.values()), results)
    print(json.dumps(metrics, indent=1))
    print("\n".join(misses))
    # Measured on espeak-ng voices (whole-call WER ~0.85 with Whisper base): notice
    # precision 1.0, recall 0.1 since the transcription was chosen on real speech (0.4-0.7
    # with the earlier chunked decoding: docs/decisions/transcription.md); name accuracy
    # 0.20-0.35. Issue 4's targets (F1 0.95, accuracy 0.90) are met with the reference text
    # (the test below), not end to end; `make eval` reports these numbers. Floors:
    nb = metrics["notice_before_agent"]
    assert nb["precision"] >= 0.9  # a notice found is a notice (measured 1.0)
    assert nb["recall"] >= 0.1  # the notice path works end to end at all (measured 0.1)

    def wrong(f: str, decision: str) -> bool:
        return results[f][decision] != labels[f][decision]

    decisions = ("notice_before_agent", "notice_by_agent", "agent_name")
    # what callcheck decides on its own is right: every wrong verdict is flagged for review
    unflagged_wrong = [(f, d) for f in labels for d in decisions
                       if wrong(f, d) and results[f]["needs_review"] != "yes"]
    assert unflagged_wrong == []
    # no name is asserted that was never said, flagged or not
    invented = [f for f, lab in labels.items()
                if lab["agent_name"] == "none" and results[f]["agent_name"] != "none"]
    assert invented == []
    # a name given has the category that was said, or the call is flagged
    named = [f for f in labels if results[f]["agent_name"] != "none"]
    assert all(not wrong(f, "agent_name") or results[f]["needs_review"] == "yes"
               for f in named)
    # nobody asked: never a question found (issue 14: zero false questions), nor a caller's
    # own notice where none was given
    false_questions = [f for f, lab in labels.items() if lab["agent_knows_recording"] ==
                       "not_asked" and results[f]["agent_knows_recording"] != "not_asked"]
    assert false_questions == []
    false_notices = [f for f, lab in labels.items() if lab["caller_announced_recording"] == "no"
                     and results[f]["caller_announced_recording"] != "no"]
    assert false_notices == []


def test_with_the_reference_text_the_rest_of_the_pipeline_meets_the_targets(fixture_batch):
    """The same calls, events and speaker turns, with the reference transcript in place of
    the recogniser's: roles and verdict rules then reach issue 4's targets, so every miss
    left in ``test_verdicts_end_to_end`` is the recogniser's (measured: 1.0 on all three)."""
    from pipeline.analysis.config import PipelineConfig
    from pipeline.evaluation.evaluate import attribute_misses, load_replayable, replay_calls

    out, labels, results = fixture_batch
    config = PipelineConfig()
    calls = load_replayable(FIXTURES, out, list(labels.values()), FIXTURES / "transcripts",
                            config)
    replays = replay_calls(calls, config)
    assert sorted(replays) == sorted(labels)
    a = attribute_misses(list(labels.values()), results, replays)
    print(json.dumps({k: a[k] for k in ("misses_by_cause", "per_call")}, indent=1))
    text = a["reference_text"]
    assert text["notice_before_agent"]["f1"] >= 0.95
    assert text["notice_by_agent"]["f1"] >= 0.95
    assert text["agent_name"]["accuracy"] >= 0.9
    assert text["agent_start"]["within_1s"] >= 0.95
    # words heard for sure (probability 1) are never "poorly heard"
    assert not any("poorly_heard" in r["reference_text"]["review_reasons"]
                   for r in replays.values())
    rules = a["reference_text_and_roles"]
    assert rules["agent_name"]["accuracy"] == 1.0
    assert rules["notice_before_agent"]["f1"] == 1.0
    # the caller's question and the agent's answer, read from the reference text
    talk = a["dialogue"]["reference_text_and_roles"]
    print(json.dumps(a["dialogue"], indent=1))
    assert talk["agent_knows_recording"]["question_detection"]["f1"] == 1.0
    assert talk["agent_knows_recording"]["accuracy"] >= 0.9
    assert talk["caller_announced_recording"]["accuracy"] == 1.0
    assert talk["notice_purpose"]["accuracy"] >= 0.9
