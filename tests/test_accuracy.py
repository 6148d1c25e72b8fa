"""accuracy.json and the report's accuracy section: the machine against QA reviews, with the
audit sample weighted back to the batch (simulated batches with known machine errors)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pipeline.review.audit import draw_sample
from pipeline.runs import accuracy
from pipeline.runs.report import write_report
from pipeline.stats import Stratum, stratified, wilson
from simulated_batch import Call, build, connect, review

# unflagged calls per size class and how many of them the machine got wrong: 15 of 300, 5 %,
# most of them in the smallest stratum, which reviewers also work through fully
STRATA = {"small": (150, 1), "medium": (100, 2), "large": (50, 12)}
FLAGGED = 100  # calls flagged for review, half of them wrong
INJECTED = 15 / 300
AUDIT_RATE = 0.2
REVIEWED_SHARE = {"small": 0.5, "medium": 0.5, "large": 1.0}  # of each stratum's sample


def _calls(rng: random.Random) -> list[Call]:
    calls = []
    for stratum, (n, n_wrong) in STRATA.items():
        wrong = set(rng.sample(range(n), n_wrong))
        for i in range(n):
            notice = rng.choice(("yes", "no"))
            calls.append(Call(f"{stratum}/{i:03d}.wav", notice=notice,
                              truth=({"yes": "no", "no": "yes"}[notice] if i in wrong else None),
                              metadata={"size_class": stratum}))
    for i in range(FLAGGED):
        notice = rng.choice(("yes", "no"))
        calls.append(Call(f"flagged/{i:03d}.wav", notice=notice,
                          truth={"yes": "no", "no": "yes"}[notice] if i % 2 else None,
                          reasons=("announcements_poorly_heard",),
                          metadata={"size_class": rng.choice(list(STRATA))}))
    return calls


def _simulated_run(tmp_path: Path, seed: int) -> dict:
    """One batch: draw the audit sample, review part of it and every flagged call, measure."""
    rng = random.Random(seed)
    calls = _calls(rng)
    out = build(tmp_path / f"run{seed}", calls)
    conn = connect(out)
    try:
        draw = draw_sample(conn, AUDIT_RATE, seed=seed, by="size_class")
        by_file = {c.file: c for c in calls}
        for stratum in STRATA:
            drawn = [f for f in draw.files if f.startswith(stratum + "/")]
            keep = round(REVIEWED_SHARE[stratum] * len(drawn))
            for f in rng.sample(drawn, keep):
                review(conn, by_file[f], ("notice_before_agent", "agent_name"))
        for c in calls:
            if c.reasons:
                review(conn, c)
        return accuracy.accuracy_document(accuracy.measure(conn))
    finally:
        conn.close()


def test_stratified_rate_with_one_stratum_is_wilson():
    w = stratified([Stratum(500, 40, 3)])
    assert w.rate == pytest.approx(3 / 40)
    assert w.ci95 == pytest.approx(wilson(3, 40))
    assert w.n_effective == pytest.approx(40)


def test_stratified_rate_weighs_strata_by_their_size_not_their_reviews():
    # 10 of 100 wrong in a stratum of 900 calls, 5 of 10 in one of 100: 0.9*0.1 + 0.1*0.5
    w = stratified([Stratum(900, 100, 10), Stratum(100, 10, 5)])
    assert w.rate == pytest.approx(0.14)
    assert w.k / w.n != pytest.approx(w.rate)  # the unweighted share would be 15/110
    assert w.ci95[0] < 0.14 < w.ci95[1]
    # a stratum nobody reviewed is left out and the figure says how much it covers
    part = stratified([Stratum(900, 100, 10), Stratum(100, 0, 0)])
    assert part.rate == pytest.approx(0.1) and part.covered == pytest.approx(0.9)
    assert stratified([Stratum(10, 0, 0)]) is None


def test_zero_errors_still_have_an_interval_above_zero():
    w = stratified([Stratum(200, 30, 0), Stratum(100, 20, 0)])
    assert w.rate == 0.0 and w.ci95[0] == 0.0 and 0.05 < w.ci95[1] < 0.2


def test_audit_sample_recovers_the_injected_error_rate_in_19_of_20_runs(tmp_path):
    hits, weighted, unweighted = 0, [], []
    for seed in range(20):
        doc = _simulated_run(tmp_path, seed)
        a = doc["notice_before_agent"]["audit"]
        lo, hi = a["ci95"]
        hits += lo <= INJECTED <= hi
        weighted.append(a["rate"])
        unweighted.append(a["unweighted_rate"])
        # every review of the sample counts, and only those: 0.2 of each stratum, reviewed
        # as far as REVIEWED_SHARE says
        expected = sum(round(REVIEWED_SHARE[s] * round(AUDIT_RATE * n)) for s, (n, _) in
                       STRATA.items())
        assert a["n"] == expected
        assert {s: v["unflagged"] for s, v in a["strata"].items()} == {
            s: n for s, (n, _) in STRATA.items()}
    assert hits >= 19, f"the injected rate fell outside the interval in {20 - hits} of 20"
    # weighting back to the batch matters here: the error-prone stratum is reviewed in full
    assert sum(weighted) / 20 == pytest.approx(INJECTED, abs=0.01)
    assert sum(unweighted) / 20 > INJECTED + 0.015  # it would be 7.7 % on average


def test_accuracy_json_has_audit_flagged_and_confusion_per_decision(tmp_path):
    doc = _simulated_run(tmp_path, 1)
    assert "error rate" in doc["about"].lower() and "1 - agree" in doc["about"]
    d = doc["notice_before_agent"]
    assert set(d) >= {"audit", "flagged", "confusion"}
    assert set(d["audit"]) >= {"n", "agree", "rate", "ci95"}
    strata = d["audit"]["strata"]
    weighted = sum(n * (1 - strata[s]["agree"] / strata[s]["reviewed"])
                   for s, (n, _) in STRATA.items()) / 300
    assert d["audit"]["rate"] == pytest.approx(weighted, abs=1e-4)
    # flagged calls: every one reviewed, half of them wrong; all their reasons concern notices
    f = d["flagged"]
    assert f["n"] == FLAGGED and f["agree"] == FLAGGED // 2 and f["rate"] == 0.5
    assert f["ci95"] == pytest.approx(list(wilson(50, 100)), abs=1e-4)
    assert f["decision_in_doubt"]["n"] == FLAGGED
    assert f["warning"] is None
    # confusion over every reviewed call: machine value -> reviewer value
    total = sum(v for row in d["confusion"].values() for v in row.values())
    assert total == d["audit"]["n"] + f["n"]
    assert set(d["confusion"]) <= {"yes", "no"}
    # agent_name was confirmed on the reviewed sample calls: no error, few reviews warned
    name = doc["agent_name"]["audit"]
    assert name["rate"] == 0.0 and name["agree"] == name["n"] == d["audit"]["n"]
    assert name["ci95"][1] > 0
    assert doc["agent_first"]["audit"]["n"] == 0 and doc["agent_first"]["audit"]["rate"] is None


def test_estimates_on_few_reviews_warn_with_the_number(tmp_path):
    calls = [Call(f"c{i:02d}.wav", notice="yes", truth="no" if i == 0 else None)
             for i in range(12)]
    out = build(tmp_path, calls)
    conn = connect(out)
    try:
        acc = accuracy.measure(conn)
        assert "no audit sample" in acc.decisions["notice_before_agent"].audit.warning
        draw = draw_sample(conn, 0.5, seed=3)
        for f in draw.files[:4]:
            review(conn, next(c for c in calls if c.file == f))
        a = accuracy.measure(conn).decisions["notice_before_agent"].audit
    finally:
        conn.close()
    assert a.n == 4
    assert "4 review(s), fewer than 30" in a.warning
    assert "2 call(s) of the sample not reviewed yet" in a.warning


def test_report_writes_accuracy_json_and_its_section(tmp_path):
    calls = [Call(f"c{i:02d}.wav", notice="no", truth="yes" if i < 2 else None)
             for i in range(20)] + [Call("f.wav", reasons=("unclear_agent_start",))]
    out = build(tmp_path, calls)
    conn = connect(out)
    try:
        draw = draw_sample(conn, 0.5, seed=7)
        for f in draw.files:
            review(conn, next(c for c in calls if c.file == f))
        review(conn, calls[-1])
    finally:
        conn.close()
    html = write_report(out).read_text(encoding="utf-8")
    doc = json.loads((out / accuracy.ACCURACY_NAME).read_text(encoding="utf-8"))
    a = doc["notice_before_agent"]["audit"]
    assert a["n"] == 10 and doc["audit_sample"]["n_sampled"] == 10
    assert doc["notice_before_agent"]["flagged"]["n"] == 1
    section = html[html.index('id="accuracy"'):html.index("Flagged for review")]
    assert "notice_before_agent" in section and "error rate" in section
    assert "fewer than 30" in section
    assert f"{100 * a['rate']:.1f}%" in section


def test_report_without_audit_sample_says_how_to_draw_one(tmp_path):
    out = build(tmp_path, [Call("a.wav"), Call("b.wav", reasons=("unclear_agent_start",))])
    html = write_report(out).read_text(encoding="utf-8")
    assert "No audit sample yet" in html and "callcheck audit" in html
    doc = json.loads((out / accuracy.ACCURACY_NAME).read_text(encoding="utf-8"))
    assert doc["audit_sample"] is None
    assert doc["notice_before_agent"]["audit"]["rate"] is None


def test_a_stratum_without_reviews_is_left_out_and_named(tmp_path):
    calls = [Call(f"{s}/{i}.wav", metadata={"size_class": s})
             for s, n in (("small", 30), ("large", 10)) for i in range(n)]
    out = build(tmp_path, calls)
    conn = connect(out)
    try:
        draw = draw_sample(conn, 0.5, seed=1, by="size_class")
        for f in draw.files:
            if f.startswith("small/"):
                review(conn, next(c for c in calls if c.file == f))
        a = accuracy.measure(conn).decisions["notice_before_agent"].audit
    finally:
        conn.close()
    assert a.n == 15 and a.rate == 0.0
    assert a.extra["covers"] == pytest.approx(0.75)
    assert "no review yet in stratum large: the rate covers 75%" in a.warning
