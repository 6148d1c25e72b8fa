"""The one result schema (``pipeline.types``): vocabularies as enums whose text is unchanged in
the call JSON, results.csv and results.sqlite; every review reason with the decisions it puts
in doubt; and what comes after the analysis (batch, store, report, review) fed a
``CallResult``, not a dict."""

from __future__ import annotations

import ast
import csv
import inspect
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from builders import call_result
from pipeline.analysis import language, verdicts
from pipeline.review import reviews
from pipeline.review.app import create_app
from pipeline.runs import batch, store
from pipeline.runs.batch import RESULT_COLUMNS, result_row, to_webvtt
from pipeline.runs.report import build_report
from pipeline.types import (
    DECISION_CONCERNS,
    DECISIONS,
    DIALOGUE_DECISIONS,
    REASON_CONCERNS,
    CallResult,
    Concern,
    Event,
    EventKind,
    Knows,
    NameCategory,
    NoticeSource,
    Objection,
    ReviewReason,
    SchemaError,
    Verdicts,
    YesNo,
    decisions_in_doubt,
    parse_reasons,
)

TALK = dict(agent_knows_recording="unsure", notice_contradicted="yes",
            notice_purpose="quality;training", caller_announced_recording="yes",
            agent_objected="unclear")


# ------------------------------------------------------------------ vocabularies

def test_plain_strings_become_members_and_unknown_values_are_refused():
    r = call_result(notice="yes", name="first", **TALK)
    v = r.verdicts
    assert v.notice_before_agent is YesNo.YES and v.notice_source is NoticeSource.IVR
    assert v.agent_name is NameCategory.FIRST and v.agent_knows_recording is Knows.UNSURE
    assert v.agent_objected is Objection.UNCLEAR and v.notice_contradicted is YesNo.YES
    assert Event(0.0, 1.0, "dtmf", "5").kind is EventKind.DTMF
    with pytest.raises(ValueError):
        Event(0.0, 1.0, "speech")  # not an event kind: speech is a role's
    with pytest.raises(ValueError):
        call_result(name="nickname")


def test_enums_are_written_as_their_plain_values_in_json_csv_and_sqlite():
    r = call_result(notice="yes", name="first", reasons=("opening_poorly_heard",), **TALK)
    text = json.dumps(r.to_dict())
    assert '"notice_before_agent": "yes"' in text and '"agent_objected": "unclear"' in text
    assert '"kind": "ringback"' in text and '"review_reasons": ["opening_poorly_heard"]' in text
    # JSON -> typed -> JSON: the same text
    back = CallResult.from_dict(json.loads(text))
    assert json.dumps(back.to_dict()) == text
    assert back.verdicts == r.verdicts and back.events == r.events

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writerow(result_row(r))
    row = next(csv.DictReader(io.StringIO(buf.getvalue()), fieldnames=RESULT_COLUMNS))
    assert (row["notice_source"], row["agent_name"], row["agent_knows_recording"],
            row["agent_objected"], row["review_reasons"]) == (
        "ivr", "first", "unsure", "unclear", "opening_poorly_heard")

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (v)")
    conn.executemany("INSERT INTO t VALUES (?)",
                     [(m,) for m in (YesNo.NO, Knows.NO_ANSWER, EventKind.MUSIC,
                                     ReviewReason.ANSWER_MIXED)])
    assert conn.execute("SELECT v, typeof(v) FROM t").fetchall() == [
        ("no", "text"), ("no_answer", "text"), ("music", "text"), ("answer_mixed", "text")]


def test_the_store_holds_the_plain_values_and_reads_them_back_typed(tmp_path):
    conn = store.connect(tmp_path / store.STORE_NAME)
    store.put_call(conn, call_result("a.wav", notice="yes", reasons=("answer_mixed",), **TALK))
    values = {r["name"]: (r["value"], type(r["value"])) for r in conn.execute(
        "SELECT name, value FROM decisions WHERE file = 'a.wav'")}
    assert values["agent_knows_recording"] == ("unsure", str)
    assert values["notice_source"] == ("ivr", str)
    call = store.call_row(conn, "a.wav")
    assert call.review_reasons == (ReviewReason.ANSWER_MIXED,) and call.ok
    assert [t.role for t in store.turns_of(conn, "a.wav")] == ["IVR", "AGENT", "CALLER"]
    assert store.evidence_of(conn, "a.wav")["notice"][0].role == "IVR"
    conn.close()


# ------------------------------------------------------------------ review reasons

def _codes_of_language_stage() -> set[str]:
    """The review reason codes the language stage writes (as strings): those of the function
    that makes its ``review_reasons`` (``language.analyze_opening`` or what it calls)."""
    package = Path(language.__file__).parent
    files = sorted(package.glob("*.py")) if package.name == "language" else [
        Path(language.__file__)]
    codes: set[str] = set()
    for path in files:
        source = path.read_text(encoding="utf-8")
        for fn in ast.walk(ast.parse(source)):
            if not isinstance(fn, ast.FunctionDef) or not any(
                    isinstance(k, ast.keyword) and k.arg == "review_reasons"
                    for k in ast.walk(fn)):
                continue
            body = ast.get_source_segment(source, fn) or ""
            codes |= set(re.findall(r'reasons\.append\("([a-z_]+)"\)', body))
            for group in re.findall(r'for r in \(([^)]*)\):\s*if r in name\.reasons', body):
                codes |= {f"name_{x}" for x in re.findall(r'"([a-z_]+)"', group)}
    return codes


def test_every_reason_the_verdicts_can_give_says_what_it_concerns():
    # each reason carries its concern, and each concern unsettles at least one decision
    assert {r.concern for r in ReviewReason} == set(Concern)
    assert set(DECISION_CONCERNS.values()) == set(Concern)
    assert set(DECISION_CONCERNS) == set(DECISIONS)
    assert REASON_CONCERNS == {r.value: r.concern for r in ReviewReason}
    # the language stage's codes are reasons (the verdict stage turns them into members)
    language_codes = _codes_of_language_stage()
    assert {"caller_like_turn", "name_fuzzy_lexicon", "possible_name_missed"} <= language_codes
    assert {ReviewReason(c) for c in language_codes}
    # the verdict stage writes members only, and every doubt about a reply has its reason
    source = inspect.getsource(verdicts)
    assert not re.search(r'reasons\.append\("', source)
    written = set(re.findall(r"ReviewReason\.([A-Z_]+)", source))
    assert {"NO_AGENT_FOUND", "OPENING_POORLY_HEARD", "ANSWER_MIXED"} <= written
    assert written <= {r.name for r in ReviewReason}
    doubts = set(re.findall(r'doubts\.append\("([a-z_]+)"', inspect.getsource(verdicts._reply)))
    doubts |= set(re.findall(r'"(poorly_heard)" if', inspect.getsource(verdicts._reply)))
    assert doubts == set(verdicts.ANSWER_DOUBTS) == set(verdicts.RESPONSE_DOUBTS)


def test_reasons_are_lookups_not_substrings():
    # "answer_unclear" concerns the question, "objection_unclear" the caller's notice: both
    # end in "unclear", which says nothing of what they concern
    assert ReviewReason("answer_unclear").concern is Concern.QUESTION
    assert ReviewReason("objection_unclear").concern is Concern.CALLER_NOTICE
    assert decisions_in_doubt((ReviewReason.PURPOSE_UNCLEAR,)) == {
        d for d, c in DECISION_CONCERNS.items() if c is Concern.NOTICE}
    assert "agent_objected" in decisions_in_doubt(parse_reasons("objection_unclear"))
    assert "agent_objected" not in decisions_in_doubt(parse_reasons("answer_unclear"))


def test_an_unknown_stored_reason_is_kept_verbatim_and_unsettles_every_decision():
    reasons = parse_reasons("no_agent_found;a_reason_of_a_newer_version")
    assert reasons == (ReviewReason.NO_AGENT_FOUND, "a_reason_of_a_newer_version")
    assert decisions_in_doubt(parse_reasons("a_reason_of_a_newer_version")) == set(DECISIONS)
    r = call_result(reasons=("a_reason_of_a_newer_version",))
    assert result_row(r)["review_reasons"] == "a_reason_of_a_newer_version"


# ------------------------------------------------------------------ old and newer call JSON

def test_a_call_json_of_schema_1_0_loads_without_the_recording_talk_decisions(tmp_path):
    d = call_result(**TALK).to_dict()
    old = {**d, "schema_version": "1.0",
           "verdicts": {k: v for k, v in d["verdicts"].items() if k not in (
               *DIALOGUE_DECISIONS, "question_evidence", "purpose_evidence",
               "caller_notice_evidence", "searched_until_s")}}
    r = CallResult.from_dict(old)
    assert r.verdicts.agent_knows_recording is Knows.NOT_ASKED  # the default
    assert set(r.decisions()) == set(DECISIONS) - set(DIALOGUE_DECISIONS)
    assert [result_row(r)[k] for k in DIALOGUE_DECISIONS] == [""] * 5
    conn = store.connect(tmp_path / store.STORE_NAME)
    store.put_call(conn, r)
    assert not set(store.decision_table(conn)["a.wav"]) & set(DIALOGUE_DECISIONS)
    conn.close()


def test_a_call_json_of_another_schema_is_an_error_naming_it_and_analysed_again(tmp_path):
    d = call_result(key="k").to_dict()
    with pytest.raises(SchemaError, match=r"'3\.0'.*reads 1\.0, 1\.1"):
        CallResult.from_dict({**d, "schema_version": "3.0"})
    path = tmp_path / "a.wav.json"
    path.write_text(json.dumps({**d, "schema_version": "3.0"}))
    assert batch._load_existing(path) is None  # not reused: the call is analysed again
    path.write_text(json.dumps(d))
    assert batch._load_existing(path).key == "k"


# ------------------------------------------------------------------ fed a CallResult

def test_batch_rows_and_webvtt_of_a_call_result():
    r = call_result("sub/b.wav", notice="yes", name="first", first="Joyce", key="k1", **TALK)
    row = result_row(r)
    assert (row["file"], row["notice_before_agent"], row["agent_first"], row["agent_start_s"],
            row["needs_review"], row["duration_s"], row["error"]) == (
        "sub/b.wav", "yes", "Joyce", "10.00", "no", "40.00", "")
    vtt = to_webvtt(r)
    assert "<v IVR>dit gesprek kan worden opgenomen" in vtt
    assert "<v AGENT>goedemiddag u spreekt met Joyce" in vtt
    failed = result_row(CallResult("c.wav", error="not audio", error_code="not_audio"))
    assert failed["error"] == "not audio" and failed["agent_name"] == "" == failed["needs_review"]


def test_store_report_and_review_read_what_a_call_result_holds(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    store.put_call(conn, call_result("a.wav", notice="yes", name="first", key="ka", **TALK))
    store.put_call(conn, call_result("b.wav", name="none", reasons=("opening_poorly_heard",),
                                     key="kb"))
    store.put_call(conn, CallResult("c.wav", error="not audio", error_code="not_audio"))
    data = build_report(conn)
    assert (data["n_files"], data["n_ok"], [c.file for c in data["failed"]]) == (3, 2, ["c.wav"])
    assert [f.call.file for f in data["flagged"]] == ["b.wav"]
    assert data["summary"]["notice_before_agent"].k == 1
    assert data["summary"]["study"]["call"]["agent_objection_unclear"].k == 1
    q = reviews.queue(conn, reviews.QueueFilter())
    assert [r.file for r in q.rows] == ["b.wav", "a.wav", "c.wav"]
    assert q.rows[0].review_reasons == (ReviewReason.OPENING_POORLY_HEARD,)
    conn.close()
    page = TestClient(create_app(out), base_url="http://127.0.0.1:8000").get("/call/b.wav")
    assert page.status_code == 200
    assert "Flagged because: opening poorly heard" in page.text


def test_verdicts_are_equal_whatever_the_form_of_their_values():
    v = call_result(**TALK).verdicts
    fields = {f: getattr(v, f) for f in Verdicts.__dataclass_fields__}
    plain = Verdicts(**{k: (x.value if isinstance(x, YesNo | Knows | Objection) else x)
                        for k, x in fields.items()})
    assert plain == v


def test_a_failed_analysis_is_a_call_result_with_its_error_in_every_output(tmp_path,
                                                                          monkeypatch):
    class Broken:
        def analyze(self, path, name=None, organisation=None):
            raise RuntimeError("model exploded")

    monkeypatch.setattr(batch, "_init_worker",
                        lambda config, cache=None: setattr(batch, "_ANALYZER", Broken()))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.wav").write_bytes(b"RIFF")
    summary = batch.run_batch(tmp_path / "in", tmp_path / "out", quiet=True, report=False)
    assert summary.n_failed == 1
    saved = json.loads((tmp_path / "out" / "calls" / "a.wav.json").read_text())
    r = CallResult.from_dict(saved)
    assert (r.error, r.error_code) == ("RuntimeError: model exploded", "analysis_failed")
    assert r.key == saved["key"] and "wall" in r.timings and r.verdicts is None
    with open(tmp_path / "out" / "results.csv", newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert row["error"] == "RuntimeError: model exploded" and row["needs_review"] == ""
    conn = store.connect(tmp_path / "out" / store.STORE_NAME)
    call = store.call_row(conn, "a.wav")
    assert (call.status, call.error_code, call.key) == ("error", "analysis_failed", r.key)
    conn.close()
