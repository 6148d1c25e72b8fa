"""The study's figures in report.html and study.json: Wilson intervals, municipalities counted
once (metadata ``organisation``), calls counted per call, reviews in place of machine values,
verdicts awaiting review left out. The store is written directly (no analysis)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import call_result
from pipeline.runs import store
from pipeline.runs.report import build_report, wilson, write_report
from pipeline.types import CallResult


@pytest.mark.parametrize("k, n, lo, hi", [
    (9, 100, 0.0481, 0.1623),  # the study's 9 %, had it been 9 of 100
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (69, 345, 0.1612, 0.2454),  # the study's 69 of 345 municipalities
])
def test_wilson_interval_matches_known_values(k, n, lo, hi):
    assert wilson(k, n) == pytest.approx((lo, hi), abs=5e-4)


def test_wilson_interval_holds_the_proportion_at_both_ends():
    """0 of 11 once gave a lower end of 1e-17 above 0: a negative error bar, which matplotlib
    3.11 refuses, and the whole report of a 420-call batch was lost."""
    for n in range(1, 200):
        for k in (0, 1, n - 1, n):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_wilson_interval_needs_calls():
    with pytest.raises(ValueError):
        wilson(0, 0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def _put(conn, file: str, *, notice: str = "no", name: str = "full",
         knows: str = "not_asked", purpose: str = "no_notice", caller: str = "no",
         objected: str | None = None, reasons: tuple[str, ...] = ()) -> None:
    store.put_call(conn, call_result(
        file, notice=notice, name=name, reasons=reasons, agent_knows_recording=knows,
        notice_contradicted="yes" if notice == "yes" and knows in ("no", "unsure") else "no",
        notice_purpose=purpose, caller_announced_recording=caller, agent_objected=objected))


def _review(conn, file: str, decision: str, machine: str, human: str) -> None:
    with store.transaction(conn):
        conn.execute("INSERT INTO reviews (file, decision, machine_value, human_value, action, "
                     "reviewer, created_at) VALUES (?, ?, ?, ?, 'override', 'qa1', 0)",
                     (file, decision, machine, human))


MUNICIPALITIES = {  # file: (organisation, size_class)
    "ede1.wav": ("Gemeente Ede", "large"), "ede2.wav": ("Gemeente Ede", "large"),
    "ede3.wav": ("gemeente  ede", "large"),  # the same municipality, written differently
    "zwolle1.wav": ("Gemeente Zwolle", "large"), "zwolle2.wav": ("Gemeente Zwolle", "large"),
    "vaals.wav": ("Gemeente Vaals", "small"), "bergen.wav": ("Gemeente Bergen", "small"),
    "oss.wav": ("Gemeente Oss", "small"), "x.wav": ("", "small"),
}


@pytest.fixture
def out(tmp_path) -> Path:
    """Nine calls to six municipalities (one call without an organisation), one failed call,
    two reviews that override the machine, one verdict awaiting review."""
    out = tmp_path / "out"
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    # Ede announces (one of its three calls); asked twice: "no" once -> did not know
    _put(conn, "ede1.wav", notice="yes", name="none", knows="no", purpose="quality;training")
    _put(conn, "ede2.wav", knows="yes")
    _put(conn, "ede3.wav", name="none")
    # Zwolle announces only by review; its agent knew
    _put(conn, "zwolle1.wav", name="none", knows="yes")  # name reviewed: full
    _put(conn, "zwolle2.wav")  # notice reviewed: yes, purpose: complaints
    # Vaals does not announce: its "unsure" is not in the did-not-know figure
    _put(conn, "vaals.wav", knows="unsure", caller="yes", objected="yes")
    # Bergen announces, never asked
    _put(conn, "bergen.wav", notice="yes", purpose="quality", caller="yes", objected="no")
    # Oss: the notice verdict awaits review
    _put(conn, "oss.wav", reasons=("negated_notice_heard",))
    # no organisation: its own unit; announces, agent did not know
    _put(conn, "x.wav", notice="yes", knows="no", purpose="none_stated")
    store.put_call(conn, CallResult("broken.wav", error="not audio", error_code="decode"))
    _review(conn, "zwolle1.wav", "agent_name", "none", "full")
    _review(conn, "zwolle2.wav", "notice_before_agent", "no", "yes")
    _review(conn, "zwolle2.wav", "notice_purpose", "no_notice", "complaints")
    store.put_metadata(conn, {f: {"organisation": o, "size_class": c}
                              for f, (o, c) in MUNICIPALITIES.items()})
    conn.close()
    return out


def _report(out: Path) -> dict:
    conn = store.connect(out / store.STORE_NAME)
    try:
        return build_report(conn)
    finally:
        conn.close()


def _kn(rate) -> tuple[int, int]:
    return rate.k, rate.n


def test_municipalities_are_counted_once_and_calls_per_call(out):
    data = _report(out)
    assert data["units"] == {"column": "organisation", "n": 6, "calls_without": 1}
    m = data["summary"]["study"]["municipality"]
    announce = m["announce_before_agent"]
    # Ede, Zwolle (reviewed), Bergen, x.wav announce; Vaals does not; Oss awaits review
    assert _kn(announce) == (4, 5)
    assert (announce.reviewed, announce.awaiting, announce.awaiting_k) == (1, 1, 0)
    # asked among the announcing: Ede (no), Zwolle (yes), x.wav (no); Bergen never asked
    unknown = m["agent_did_not_know"]
    assert _kn(unknown) == (2, 3) and unknown.reviewed == 1
    c = data["summary"]["study"]["call"]
    assert c["n"] == 9  # the failed call counts nowhere
    no_name = c["agent_no_name"]
    assert _kn(no_name) == (2, 9) and no_name.reviewed == 1  # zwolle1 reviewed: full
    purposes = c["purposes"]
    assert {p: _kn(r) for p, r in purposes.items()} == {
        "quality": (2, 4), "training": (1, 4), "service": (0, 4), "complaints": (1, 4),
        "other": (0, 4), "none_stated": (1, 4)}
    assert _kn(c["caller_announced_recording"]) == (2, 9)
    assert _kn(c["agent_objected"]) == (1, 2)
    assert _kn(c["notice_contradicted"]) == (2, 9)


def test_study_figures_per_size_class(out):
    data = _report(out)
    by = {b["column"]: dict(b["groups"]) for b in data["breakdowns"]}
    large, small = by["size_class"]["large"]["study"], by["size_class"]["small"]["study"]
    assert large["municipality"]["n"] == 2 and small["municipality"]["n"] == 4
    assert _kn(large["municipality"]["announce_before_agent"]) == (2, 2)
    assert _kn(small["municipality"]["announce_before_agent"]) == (2, 3)
    assert small["municipality"]["announce_before_agent"].awaiting == 1
    assert _kn(large["municipality"]["agent_did_not_know"]) == (1, 2)
    assert _kn(small["municipality"]["agent_did_not_know"]) == (1, 1)
    assert _kn(large["call"]["agent_no_name"]) == (2, 5)
    assert _kn(small["call"]["agent_no_name"]) == (0, 4)


def test_report_reads_like_the_study_and_writes_study_json(out):
    write_report(out)
    html = (out / "report.html").read_text()
    assert "Findings, as in the study" in html
    assert "grouped by the metadata column <code>organisation</code> into 6 municipalities" in html
    assert "1 call(s) without a value there count as a municipality each" in html
    assert ("<b>4 of 5</b> municipalities (80%, 95% CI 38–96%) announce "
            "before the live agent speaks") in html
    assert "Of the 3 announcing municipalities where the caller asked" in html
    assert "in <b>2</b> (67%, 95% CI 21–94%) the agent did not know" in html
    assert "In <b>2 of 9</b> calls (22%, 95% CI 6–55%) the agent gave no name (counted per call)" \
        in html
    assert "Of the 4 calls with a recording notice" in html and "complaints 1 (25%" in html
    assert "the agent objected in <b>1 of 2</b> calls" in html
    assert "<b>large</b>: <b>2 of 2</b> municipalities (100%" in html
    assert html.count("<svg") >= 5  # verdicts, wait, study, by organisation, by size_class

    study = json.loads((out / "study.json").read_text())
    assert study["counting"]["municipality_column"] == "organisation"
    announce = study["overall"]["municipality"]["announce_before_agent"]
    assert (announce["k"], announce["n"], announce["awaiting"]) == (4, 5, 1)
    assert announce["ci95_pct"] == pytest.approx([37.55, 96.38], abs=0.01)
    large = study["breakdowns"]["size_class"]["large"]
    assert large["call"]["agent_no_name"]["k"] == 2
    assert study["overall"]["call"]["purposes"]["quality"]["n"] == 4


def test_without_organisation_each_call_is_its_own_municipality(out):
    conn = store.connect(out / store.STORE_NAME)
    store.put_metadata(conn, {f: {"size_class": c} for f, (_, c) in MUNICIPALITIES.items()})
    conn.close()
    data = _report(out)
    assert data["units"] == {"column": None, "n": 9, "calls_without": 9}
    announce = data["summary"]["study"]["municipality"]["announce_before_agent"]
    assert _kn(announce) == (4, 8)  # ede1, zwolle2, bergen, x; oss awaits review
    write_report(out)
    html = (out / "report.html").read_text()
    assert "<b>each call counts as its own municipality</b> (9)" in html


def test_report_draws_bars_for_none_and_all_of_a_count(tmp_path):
    """A purpose no call states and one every call states (0 and 11 of 11) are drawn."""
    out = tmp_path / "out"
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    for i in range(11):
        _put(conn, f"c{i}.wav", notice="yes", purpose="quality")
    conn.close()
    write_report(out)
    study = json.loads((out / "study.json").read_text())["overall"]["call"]["purposes"]
    assert (study["quality"]["k"], study["training"]["k"], study["quality"]["n"]) == (11, 0, 11)
    assert study["training"]["ci95_pct"][0] == 0.0


def test_study_of_an_empty_batch_says_so(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    store.connect(out / store.STORE_NAME).close()
    write_report(out)
    html = (out / "report.html").read_text()
    assert "No municipality's notice verdict stands yet." in html
    assert json.loads((out / "study.json").read_text())["overall"]["call"]["n"] == 0
