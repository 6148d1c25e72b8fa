"""results.sqlite and report.html from a batch, with --metadata; the analyzer is faked so
these tests check the plumbing (the real models are covered in test_batch / test_end_to_end)."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pipeline.runs import batch, store
from pipeline.runs.batch import MetadataError, read_metadata, run_batch
from pipeline.runs.report import build_report, summarise
from pipeline.types import CallResult
from review_helpers import build_out, flac_result, mp3_result, wav_result


class FakeAnalyzer:
    """Verdicts read from the file's content (``yes;full;Sanne;Jansen;12.5``); records the
    organisation each call was primed with."""

    seen: dict[str, str | None] = {}

    def analyze(self, path, name=None, organisation=None):
        FakeAnalyzer.seen[name] = organisation
        text = Path(path).read_bytes()
        if not text.strip():
            return CallResult(name, error="empty file", error_code="empty_file",
                              schema_version="1.0")
        notice, cat, first, last, start = text.decode().strip().split(";")
        start_s = float(start) if start else None  # empty: no agent found
        reasons = (["no_agent_found"] if start_s is None else []) + (
            ["opening_poorly_heard"] if cat == "none" else [])
        verdicts = {
            "notice_before_agent": notice, "notice_by_agent": "no",
            "notice_source": "ivr" if notice == "yes" else "none", "agent_name": cat,
            "agent_first": first or None, "agent_last": last or None,
            "organisation_named": "yes", "organisation": organisation, "greeting": "goedemiddag",
            "agent_start_s": start_s, "agent_start_confidence": 0.9,
            "notice_evidence": [{"text": "dit gesprek kan worden opgenomen", "start": 2.0,
                                 "end": 4.0, "role": "IVR", "confidence": 0.95,
                                 "asr_confidence": 0.8, "detail": "notice"}]
            if notice == "yes" else [],
            "name_evidence": [], "opening_text": f"goedemiddag u spreekt met {first}",
            "needs_review": bool(reasons), "review_reasons": reasons,
        }
        return CallResult.from_dict({
            "schema_version": "1.0", "file": name, "error": None, "error_code": None,
            "audio": {"path": name, "duration_s": 30.0, "sample_rate": 8000, "channels": 1,
                      "codec": "pcm_s16le", "container": "wav", "sha256": "0" * 64},
            "roles": {"agent_start_s": start_s, "agent_start_confidence": 0.9, "turns": [
                {"start": 0.0, "end": start_s or 30.0, "role": "IVR", "speaker": "S0",
                 "channel": None}] + ([] if start_s is None else [
                {"start": start_s, "end": 30.0, "role": "AGENT", "speaker": "S1",
                 "channel": None}])},
            "transcript": {"segments": [] if start_s is None else [
                {"start": start_s, "end": start_s + 2, "text": f" goedemiddag met {first}",
                 "channel": None, "words": [{"start": start_s, "end": start_s + 1,
                                             "text": "goedemiddag", "probability": 0.5}]}],
                "language": "nl", "duration_s": 30.0,
                "model": {"name": "fake", "sha256": None, "backend": "fake"}},
            "verdicts": verdicts,
        })


@pytest.fixture
def fake_models(monkeypatch):
    monkeypatch.setattr(batch, "_init_worker",
                        lambda config, cache=None: setattr(batch, "_ANALYZER", FakeAnalyzer()))
    FakeAnalyzer.seen = {}


CALLS = {
    "a.wav": "yes;full;Sanne;Jansen;12.5",
    "b.wav": "no;none;;;4.0",
    "sub/c.wav": "yes;first;Joost;;30.0",
    "d.wav": "no;last;;de Vries;8.0",
    "empty.wav": "",
}


@pytest.fixture
def calls_dir(tmp_path) -> Path:
    root = tmp_path / "in"
    for rel, text in CALLS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    meta = tmp_path / "meta.csv"
    meta.write_text("file,organisation,size_class\n"
                    "a.wav,Gemeente Ede,large\nb.wav,Gemeente Vaals,small\n"
                    "sub/c.wav,Gemeente Ede,large\nd.wav,,small\nmissing.wav,x,large\n")
    return root


def test_metadata_csv_is_checked(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,size\na.wav,1\n")
    with pytest.raises(MetadataError, match="no 'file' column"):
        read_metadata(bad)
    bad.write_text("file,size\na.wav,1\na.wav,2\n")
    with pytest.raises(MetadataError, match="twice"):
        read_metadata(bad)
    with pytest.raises(MetadataError, match="cannot read"):
        read_metadata(tmp_path / "nope.csv")


def test_batch_writes_store_and_report_with_metadata(calls_dir, tmp_path, fake_models):
    out = tmp_path / "out"
    summary = run_batch(calls_dir, out, quiet=True, metadata=tmp_path / "meta.csv")
    assert (summary.n_files, summary.n_failed) == (5, 1)
    # the organisation column primes the transcription of that call (and only that one)
    assert FakeAnalyzer.seen == {"a.wav": "Gemeente Ede", "b.wav": "Gemeente Vaals",
                                 "sub/c.wav": "Gemeente Ede", "d.wav": None, "empty.wav": None}

    conn = store.connect(out / store.STORE_NAME)
    calls = {r["file"]: dict(r) for r in conn.execute("SELECT * FROM calls")}
    assert set(calls) == set(CALLS)
    assert calls["empty.wav"]["status"] == "error"
    assert calls["empty.wav"]["error_code"] == "empty_file"
    assert calls["a.wav"]["json_path"] == "calls/a.wav.json"
    assert (out / calls["sub/c.wav"]["json_path"]).is_file()
    table = store.decision_table(conn)
    assert table["a.wav"]["agent_name"] == "full" and table["a.wav"]["agent_last"] == "Jansen"
    assert table["sub/c.wav"]["agent_start_s"] == "30.0"
    roles = [r["role"] for r in conn.execute("SELECT role FROM turns WHERE file='a.wav' "
                                             "ORDER BY idx")]
    assert roles == ["IVR", "AGENT"]
    ev = conn.execute("SELECT * FROM evidence WHERE file='a.wav'").fetchone()
    assert (ev["decision"], ev["start"], ev["role"]) == ("notice", 2.0, "IVR")
    assert conn.execute("SELECT text FROM segments WHERE file='sub/c.wav'").fetchone()[0] == \
        "goedemiddag met Joost"
    meta = store.metadata_table(conn)
    assert meta["b.wav"] == {"organisation": "Gemeente Vaals", "size_class": "small"}
    assert "missing.wav" not in meta  # listed in the CSV, but no such recording
    assert store.get_info(conn)["input_root"] == str(calls_dir.resolve())

    data = build_report(conn)
    s = data["summary"]
    assert (s["n"], data["n_ok"], len(data["failed"])) == (4, 4, 1)
    assert (s["notice_before_agent"].k, s["notice_before_agent"].n) == (2, 4)
    # b.wav's "none" is flagged (opening heard poorly): left out of the figure, counted beside
    none = s["agent_name"]["none"]
    assert (none.k, none.n, none.awaiting, none.awaiting_k) == (0, 3, 1, 1)
    assert s["agent_name"]["full"].k == 1 and s["agent_name"]["full"].n == 3
    assert s["wait"]["median"] == pytest.approx(10.25)
    assert [f.call.file for f in data["flagged"]] == ["b.wav"]
    by_size = {b["column"]: dict(b["groups"]) for b in data["breakdowns"]}["size_class"]
    assert by_size["large"]["notice_before_agent"].k == 2
    assert by_size["small"]["n"] == 2 and by_size["small"]["notice_before_agent"].k == 0
    conn.close()

    html = (out / "report.html").read_text()
    assert "2 of 4 (50%)</b> announce" in html
    assert "<svg" in html and "By size_class" in html and "b.wav" in html
    assert "empty.wav" in html  # in the failed list


def test_rerun_keeps_reviews_and_follows_the_inputs(calls_dir, tmp_path, fake_models):
    out = tmp_path / "out"
    run_batch(calls_dir, out, quiet=True)
    conn = store.connect(out / store.STORE_NAME)
    with store.transaction(conn):
        conn.execute("INSERT INTO reviews (file, decision, machine_value, human_value, action, "
                     "reviewer, created_at) VALUES ('b.wav', 'agent_name', 'none', 'first', "
                     "'override', 'qa1', 0)")
    # the review counts in the report
    assert build_report(conn)["summary"]["agent_name"]["first"].k == 2
    conn.close()
    (calls_dir / "d.wav").unlink()
    (calls_dir / "b.wav").write_text("yes;none;;;5.0")  # new content: analysed again
    summary = run_batch(calls_dir, out, quiet=True)
    assert (summary.n_done, summary.n_skipped) == (2, 2)  # b.wav and the failed empty.wav
    conn = store.connect(out / store.STORE_NAME)
    assert {r[0] for r in conn.execute("SELECT file FROM calls")} == set(CALLS) - {"d.wav"}
    assert store.decision_table(conn)["b.wav"]["notice_before_agent"] == "yes"
    assert conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 1
    conn.close()
    with open(out / "results.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 4


def test_rerun_keeps_the_audit_sample(calls_dir, tmp_path, fake_models):
    from pipeline.review.audit import draw_sample

    out = tmp_path / "out"
    run_batch(calls_dir, out, quiet=True, metadata=tmp_path / "meta.csv")
    conn = store.connect(out / store.STORE_NAME)
    draw = draw_sample(conn, 1.0, seed=5, by="size_class")
    # unflagged and analysed ok: a.wav, sub/c.wav (large) and d.wav (small); b.wav is flagged
    assert store.audit_sample(conn) == {"a.wav": "large", "sub/c.wav": "large",
                                        "d.wav": "small"}
    conn.close()
    (calls_dir / "a.wav").write_text("no;full;Sanne;Jansen;12.5")  # new content: re-analysed
    summary = run_batch(calls_dir, out, quiet=True, metadata=tmp_path / "meta.csv")
    assert summary.n_done == 2  # a.wav and the failed empty.wav
    conn = store.connect(out / store.STORE_NAME)
    assert store.decision_table(conn)["a.wav"]["notice_before_agent"] == "no"
    assert store.audit_sample(conn) == {"a.wav": "large", "sub/c.wav": "large",
                                        "d.wav": "small"}
    assert [r.id for r in store.audit_runs(conn)] == [draw.run.id]
    counts = store.audit_counts(conn)
    assert {s: (c.n_unflagged, c.n_sampled) for s, c in counts.strata.items()} == {
        "large": (2, 2), "small": (1, 1)}
    conn.close()


def test_store_is_valid_sqlite_readable_without_callcheck(calls_dir, tmp_path, fake_models):
    out = tmp_path / "out"
    run_batch(calls_dir, out, quiet=True, report=False)
    assert not (out / "report.html").exists()
    conn = sqlite3.connect(out / "results.sqlite")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"calls", "turns", "segments", "decisions", "evidence", "metadata",
            "reviews", "audit_runs", "audit", "audit_strata"} <= names


def test_summary_of_nothing():
    s = summarise({})
    assert s["n"] == 0 and s["notice_before_agent"].pct is None and s["wait"]["median"] is None


def _batch_report(tmp_path, calls: dict[str, str], fake_models) -> str:
    root = tmp_path / "in"
    for rel, text in calls.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    run_batch(root, tmp_path / "out", quiet=True)
    return (tmp_path / "out" / "report.html").read_text()


def test_report_is_written_when_no_call_has_an_agent_start(tmp_path, fake_models):
    html = _batch_report(tmp_path, {"a.wav": "yes;none;;;", "b.wav": "no;none;;;"},
                         fake_models)
    assert "No agent start found in any call" in html
    # every verdict is flagged: the headline rests on nothing and says so
    assert "No call's notice verdict stands yet: all 2 await review" in html
    assert "0 decided without review, 0 reviewed, 2 awaiting review" in html


@pytest.mark.parametrize("calls", [
    {"one.wav": "yes;full;Sanne;Jansen;12.5"},  # one call
    {"empty.wav": "", "also-empty.wav": ""},  # every call failed
    {"a.wav": "no;none;;;3.0", "b.wav": "yes;none;;;4.0"},  # every call flagged
], ids=["one-call", "all-failed", "all-flagged"])
def test_report_is_written_for_degenerate_batches(tmp_path, calls, fake_models):
    html = _batch_report(tmp_path, calls, fake_models)
    assert "<h2>Key figures</h2>" in html and "</html>" in html


def test_flagged_verdicts_are_not_headline_findings(tmp_path, fake_models):
    # two calls with a name decided, two whose "none" is flagged and awaits review
    calls = {"a.wav": "yes;full;Sanne;Jansen;5.0", "b.wav": "no;first;Joost;;6.0",
             "c.wav": "no;none;;;4.0", "d.wav": "no;none;;;7.0"}
    html = _batch_report(tmp_path, calls, fake_models)
    assert "Of the <b>2</b> call(s) whose name verdict stands, in <b>0 (0%)</b>" in html
    assert "2 decided without review, 0 reviewed, 2 awaiting review" in html
    assert "no name in all calls as read: 2 of 4" in html
    # the notice verdicts of the same calls are not in doubt: all four stand
    assert "Of the <b>4</b> call(s) whose notice verdict stands" in html


def test_empty_folder_is_a_clear_error_and_writes_nothing(tmp_path, fake_models, capsys):
    from pipeline.cli import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("not a recording")
    with pytest.raises(batch.NoRecordingsError, match="no recordings under"):
        run_batch(tmp_path / "in", tmp_path / "out", quiet=True)
    assert main(["analyze", str(tmp_path / "in"), "--out", str(tmp_path / "out")]) == 2
    assert "no recordings under" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ what is said of recording

def _decisions(conn: sqlite3.Connection, file: str) -> dict[str, tuple[Any, Any]]:
    return {r["name"]: (r["value"], r["confidence"]) for r in conn.execute(
        "SELECT name, value, confidence FROM decisions WHERE file = ?", (file,))}


def test_store_holds_the_recording_talk_decisions_and_their_evidence(tmp_path):
    conn = store.connect(tmp_path / store.STORE_NAME)
    store.put_call(conn, CallResult.from_dict(wav_result()))
    store.put_call(conn, CallResult.from_dict(flac_result()))
    wav = _decisions(conn, wav_result()["file"])
    # a question and its answer: as sure as the weaker of the two
    assert wav["agent_knows_recording"] == ("no", 0.75)
    assert wav["notice_contradicted"] == ("no", 0.75)
    assert wav["notice_purpose"] == ("no_notice", None)  # no notice, no purpose evidence
    assert wav["caller_announced_recording"] == ("yes", 0.85)  # the caller's own words
    assert wav["agent_objected"] == ("no", 0.7)
    flac = _decisions(conn, flac_result()["file"])
    assert flac["notice_purpose"] == ("training", 0.9)
    assert flac["agent_objected"] == (None, None)  # the caller announced nothing
    assert flac["agent_knows_recording"] == ("not_asked", None)
    assert flac["notice_before_agent"] == ("yes", 0.9)  # the notice's own evidence
    ev = conn.execute('SELECT decision, idx, text, start, "end", role, detail FROM evidence '
                      "WHERE file = ? ORDER BY decision, idx", (wav_result()["file"],)).fetchall()
    kinds = [(r["decision"], r["idx"], r["role"]) for r in ev]
    assert kinds == [("caller_notice", 0, "CALLER"), ("caller_notice", 1, "AGENT"),
                     ("name", 0, "AGENT"), ("question", 0, "CALLER"), ("question", 1, "AGENT")]
    question = next(r for r in ev if r["decision"] == "question" and r["idx"] == 0)
    assert (question["text"], question["start"]) == ("Wordt dit gesprek opgenomen?", 14.5)
    purpose = conn.execute("SELECT text, role FROM evidence WHERE decision = 'purpose'"
                           ).fetchall()
    assert [tuple(r) for r in purpose] == [("trainingsdoeleinden", "IVR")]
    # these decisions changed no table (version 2 is reviews.source and the audit tables)
    assert store.get_info(conn)["version"] == "2"
    conn.close()


def test_older_results_have_no_rows_for_the_new_decisions(tmp_path):
    conn = store.connect(tmp_path / store.STORE_NAME)
    # a per-call JSON from before these decisions
    store.put_call(conn, CallResult.from_dict(mp3_result()))
    names = set(_decisions(conn, mp3_result()["file"]))
    assert names == set(store.DECISIONS) - set(store.DIALOGUE_DECISIONS)
    assert not conn.execute("SELECT COUNT(*) FROM evidence").fetchone()[0]
    conn.close()


def test_every_new_decision_is_reviewable_and_rests_on_its_evidence():
    for d in store.DIALOGUE_DECISIONS:
        assert d in store.DECISIONS and d in store.REVIEWABLE
        assert store.EVIDENCE_KINDS[store.DECISION_EVIDENCE[d]] in wav_result()["verdicts"]


@pytest.mark.parametrize(("raw", "stored"), [
    ("training", "training"),
    ("training; quality", "quality;training"),  # any order in, PURPOSES order out
    ("OTHER;quality;quality", "quality;other"),
    ("none_stated", "none_stated"),
    ("no_notice", "no_notice"),
])
def test_notice_purpose_is_stored_as_a_canonical_set(raw, stored):
    assert store.canonical_purpose(raw) == stored


@pytest.mark.parametrize("raw", ["", ";", "marketing", "quality;no_notice",
                                 "none_stated;no_notice", "quality,training"])
def test_notice_purpose_outside_the_vocabulary_is_refused(raw):
    with pytest.raises(ValueError):
        store.canonical_purpose(raw)


def test_objection_may_be_none_but_nothing_else_outside_the_vocabulary():
    assert [store.optional_objection(x) for x in ("yes", " No ", "unclear", "", "none", "-")] \
        == ["yes", "no", "unclear", None, None, None]
    with pytest.raises(ValueError):
        store.optional_objection("maybe")


def test_report_builds_over_calls_with_and_without_the_new_decisions(tmp_path):
    out = build_out(tmp_path)  # new-format FLAC and WAV results beside an older MP3 one
    conn = store.connect(out / store.STORE_NAME)
    data = build_report(conn)
    conn.close()
    assert data["n_ok"] == 3 and data["summary"]["notice_before_agent"].k == 1
