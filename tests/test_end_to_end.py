"""End to end on the labelled fixture calls with the real default models: agent start per
kind of call (chosen by the call manifest's properties, never by file name), role-level
error rate, and the verdicts. The measured numbers are printed (pytest -s) and in README."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from pipeline.evaluate import compute_metrics, role_der
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
    assert len(ok) / len(files) >= 0.8, sorted(set(files) - set(ok))


def test_agent_start_overall(fixture_batch):
    _, labels, results = fixture_batch
    metrics, misses = compute_metrics(list(labels.values()), results)
    print(json.dumps(metrics["agent_start"]), misses)
    assert metrics["n_failed"] == 0
    assert metrics["agent_start"]["within_1s"] >= 0.95  # measured 1.0 (20/20), target 0.95


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
    # Measured on espeak-ng voices (whole-call WER ~0.85 with Whisper base): notices found
    # are right (precision 1.0), 3 of 10 are misheard beyond the rules (recall 0.7, F1 0.82);
    # names: accuracy 0.25-0.35 between runs whose transcripts differ by a few words, nearly
    # every miss a name not heard ("none"); weak names heard poorly go to review, not into
    # the verdict. Targets of issue 4 (F1 0.95, accuracy 0.90) are not met end to end (they
    # are with the reference text, see the test below); these bars guard against regressions.
    nb = metrics["notice_before_agent"]
    assert nb["precision"] >= 0.9 and nb["f1"] >= 0.7
    assert metrics["agent_name"]["accuracy"] >= 0.2
    confusion = metrics["agent_name"]["confusion"]
    named = sum(confusion[t][p] for t in confusion for p in ("first", "last", "full"))
    right = sum(confusion[c][c] for c in ("first", "last", "full"))
    assert named and right / named >= 0.9  # a name category given is almost always right
    # no silent miss: a call with a wrong verdict goes to review (measured 17/17, as were the
    # 3 calls it got right: every fixture opening is heard poorly)
    wrong = [f for f, lab in labels.items()
             if any(results[f][k] != lab[k] for k in ("notice_before_agent", "notice_by_agent",
                                                       "agent_name"))]
    flagged = [f for f in wrong if results[f]["needs_review"] == "yes"]
    print(f"wrong verdicts flagged for review: {len(flagged)}/{len(wrong)}")
    assert len(flagged) >= 0.9 * len(wrong), sorted(set(wrong) - set(flagged))


def test_with_the_reference_text_the_rest_of_the_pipeline_meets_the_targets(fixture_batch):
    """The same calls, events and speaker turns, with the reference transcript in place of
    the recogniser's: roles and verdict rules then reach issue 4's targets, so every miss
    left in ``test_verdicts_end_to_end`` is the recogniser's (measured: 1.0 on all three)."""
    from pipeline.config import PipelineConfig
    from pipeline.evaluate import attribute_misses, load_replayable, replay_calls

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
