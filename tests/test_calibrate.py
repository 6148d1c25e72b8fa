"""callcheck calibrate: thresholds replayed on reviewed simulated batches whose machine errors
lie below a known agent-start confidence."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from pipeline.analysis.config import PipelineConfig, load_config, to_toml
from pipeline.analysis.verdicts import VerdictOptions
from pipeline.cli import main
from pipeline.review import calibrate as cal
from pipeline.review.audit import draw_sample
from pipeline.types import CallResult
from simulated_batch import Call, build, connect, review

EDGE = 0.7  # below this agent-start confidence the machine is often wrong, above never


def _batch(tmp_path, seed: int, run_threshold: float, n: int = 400, audit_rate: float = 0.3,
           wrong_below: float = 0.4):
    """``n`` calls with agent-start confidences spread over 0.3..1.0, analysed with
    ``min_agent_start_confidence = run_threshold``; the notice verdict is wrong in
    ``wrong_below`` of the calls under ``EDGE``. Every flagged call and every call of the
    audit sample is reviewed. -> (OUT, the run's VerdictOptions)."""
    rng = random.Random(seed)
    calls = []
    for i in range(n):
        conf = round(rng.uniform(0.3, 1.0), 3)
        notice = rng.choice(("yes", "no"))
        wrong = conf < EDGE and rng.random() < wrong_below
        calls.append(Call(f"c{i:03d}.wav", notice=notice,
                          truth={"yes": "no", "no": "yes"}[notice] if wrong else None,
                          agent_start_confidence=conf,
                          reasons=("unclear_agent_start",) if conf < run_threshold else ()))
    out = build(tmp_path / f"seed{seed}", calls)
    options = VerdictOptions(min_agent_start_confidence=run_threshold)
    conn = connect(out)
    try:
        drawn = set(draw_sample(conn, audit_rate, seed=seed).files)
        for c in calls:
            if c.reasons or c.file in drawn:
                review(conn, c)
    finally:
        conn.close()
    return out, options


def _propose(out, options, **kw) -> cal.Calibration:
    conn = connect(out)
    try:
        return cal.calibrate(conn, out, options, **kw)
    finally:
        conn.close()


@pytest.mark.parametrize("seed", range(5))
def test_raises_the_agent_start_limit_to_where_the_errors_stop(tmp_path, seed):
    out, options = _batch(tmp_path, seed, run_threshold=0.6)
    c = _propose(out, options, target=0.02)
    assert c.met
    proposed = c.proposed.thresholds["min_agent_start_confidence"]
    assert abs(proposed - EDGE) <= 0.05, proposed
    assert c.current.error() > 0.02 >= c.proposed.error()
    assert c.proposed.n_flagged > c.current.n_flagged  # the price: more calls to review
    # nothing else was worth moving
    assert set(c.changes) == {"min_agent_start_confidence"}


@pytest.mark.parametrize("seed", range(3))
def test_lowers_a_limit_that_flags_more_than_needed(tmp_path, seed):
    # analysed with 0.9: the flagged calls between 0.7 and 0.9 were reviewed and all right
    out, options = _batch(tmp_path, seed, run_threshold=0.9)
    c = _propose(out, options, target=0.02)
    assert c.met
    assert abs(c.proposed.thresholds["min_agent_start_confidence"] - EDGE) <= 0.05
    assert c.proposed.n_flagged < c.current.n_flagged


def test_replay_at_the_run_values_matches_the_recorded_flags(tmp_path):
    out, options = _batch(tmp_path, 11, run_threshold=0.6, n=120)
    conn = connect(out)
    try:
        batch = cal.load_batch(conn, out, options)
        flagged = conn.execute("SELECT COUNT(*) FROM calls WHERE needs_review = 1").fetchone()[0]
    finally:
        conn.close()
    point = cal.replay(batch, batch.current, ("notice_before_agent",))
    assert point.n_flagged == flagged
    assert not any(batch.adjusted.values())  # the replayed scores agree with the reasons


def test_heard_share_is_recomputed_from_the_call_json():
    from simulated_batch import result

    before, opening = cal.heard(CallResult.from_dict(result(Call("a.wav", heard=0.42))),
                                opening_s=20.0)
    assert before == pytest.approx(0.42) and opening == pytest.approx(0.42)
    no_agent = result(Call("b.wav"))
    no_agent["roles"]["agent_start_s"] = None
    assert cal.heard(CallResult.from_dict(no_agent), 20.0) == (None, None)
    assert cal.heard(None, 20.0) == (None, None)  # no readable call JSON


def test_without_audit_sample_calibration_refuses(tmp_path):
    out = build(tmp_path, [Call("a.wav"), Call("b.wav", reasons=("unclear_agent_start",))])
    conn = connect(out)
    try:
        with pytest.raises(cal.CalibrationError, match="callcheck audit"):
            cal.calibrate(conn, out, VerdictOptions())
    finally:
        conn.close()


def test_cli_prints_the_tradeoff_and_writes_a_config_for_analyze(tmp_path, capsys):
    out, options = _batch(tmp_path, 2, run_threshold=0.6)
    run_config = replace(PipelineConfig(), verdicts=options)  # what the run decided with
    (out / "config.toml").write_text(to_toml(run_config), encoding="utf-8")
    before = (out / "config.toml").read_text(encoding="utf-8")
    assert main(["calibrate", str(out), "--target-error", "0.02"]) == 0
    printed = capsys.readouterr().out
    assert "min_agent_start_confidence" in printed and "<- proposed" in printed
    assert "<- now" in printed and "flagged" in printed
    assert "min_name_confidence: no value moves any call" in printed
    written = load_config(out / cal.CALIBRATED_NAME)
    assert abs(written.verdicts.min_agent_start_confidence - EDGE) <= 0.05
    # everything else as the run had it; the run's own config untouched
    assert written.transcribe == run_config.transcribe
    assert written.verdicts.min_heard_for_none == run_config.verdicts.min_heard_for_none
    assert (out / "config.toml").read_text(encoding="utf-8") == before
    # an unreachable target: said so, exit code 1, the lowest-error setting still written
    assert main(["calibrate", str(out), "--target-error", "0.0001", "--upper-bound",
                 "-o", str(tmp_path / "strict.toml")]) == 1
    assert "NOT met" in capsys.readouterr().out
    assert (tmp_path / "strict.toml").is_file()
