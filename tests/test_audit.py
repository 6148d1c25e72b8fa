"""The audit sample (``callcheck audit``), the audit counts, reviews imported from and exported
to CSV (``callcheck reviews``), and the queue's audit kind and audited error rate."""

from __future__ import annotations

import copy
import csv
import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.cli import main
from pipeline.review import reviews
from pipeline.review.app import create_app
from pipeline.review.audit import AuditError, draw_sample, sample_size
from pipeline.review.reviews_csv import ReviewImportError, export_reviews, import_reviews
from pipeline.runs import store
from pipeline.types import CallResult
from review_helpers import FAILED, FLAC, MP3, WAV, build_out, wav_result

BASE = "http://127.0.0.1:8000"
T0 = 1_740_000_000.0  # a fixed "now" (2025-02-19), Unix seconds


def _call(file: str, flagged: bool = False, **verdicts) -> CallResult:
    r = copy.deepcopy(wav_result())
    r.update(file=file, key=f"k-{file}")
    r["verdicts"].update(needs_review=flagged, review_reasons=["x"] if flagged else [],
                         **verdicts)
    return CallResult.from_dict(r)


def make_store(path: Path, strata: dict[str, int], flagged: int = 3,
               order: int = 1) -> tuple:
    """A store of unflagged calls (``strata``: size_class value -> how many; '' for calls
    without one), ``flagged`` flagged calls and one failed call; -> (conn, files by stratum)."""
    conn = store.connect(path / store.STORE_NAME)
    files: dict[str, list[str]] = {}
    results = []
    for stratum, n in strata.items():
        for i in range(n):
            f = f"{stratum or 'none'}/{i:03d}.wav"
            files.setdefault(stratum, []).append(f)
            results.append(_call(f))
    results += [_call(f"flagged/{i}.wav", flagged=True) for i in range(flagged)]
    results.append(CallResult("bad.wav", key="k-bad", error="not audio",
                              error_code="not_audio"))
    for r in results[::order]:
        store.put_call(conn, r)
    store.put_metadata(conn, {r.file: {"size_class": r.file.split("/")[0]}
                              for r in results if not r.file.startswith("none/")})
    return conn, files


def sample(conn) -> dict[str, str]:
    return store.audit_sample(conn)


# ------------------------------------------------------------------------------ drawing

def test_the_same_seed_over_the_same_calls_draws_the_same_sample(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, _ = make_store(tmp_path / "a", {"large": 40, "small": 10})
    b, _ = make_store(tmp_path / "b", {"large": 40, "small": 10}, order=-1)  # other order
    draw_sample(a, 0.2, seed=7, by="size_class", now=T0)
    draw_sample(b, 0.2, seed=7, by="size_class", now=T0 + 60)
    assert sample(a) == sample(b)
    assert len(sample(a)) == 10
    draw_sample(b, 0.2, seed=8, by="size_class", mode="redraw")
    assert sample(b) != sample(a)  # another seed, another sample


def test_only_unflagged_calls_analysed_ok_are_drawn(tmp_path):
    conn, files = make_store(tmp_path, {"": 4}, flagged=5)
    d = draw_sample(conn, 1.0, seed=1)
    assert sorted(sample(conn)) == sorted(files[""]) == list(d.files)
    assert d.run.action == "draw" and d.strata == {"": (4, 4)}


@pytest.mark.parametrize(("rate", "n", "k"), [
    (0.1, 40, 4), (0.1, 10, 1), (0.1, 2, 1), (0.1, 5, 1), (0.1, 15, 2), (0.5, 3, 2),
    (1.0, 7, 7), (0.01, 1, 1), (0.1, 0, 0),
])
def test_sample_size_is_the_rate_rounded_and_at_least_one(rate, n, k):
    assert sample_size(rate, n) == k


def test_stratified_draw_takes_the_rate_of_every_stratum_and_records_their_sizes(tmp_path):
    conn, files = make_store(tmp_path, {"large": 40, "small": 10, "tiny": 2, "": 5})
    d = draw_sample(conn, 0.1, seed=3, by="size_class", now=T0)
    drawn = sample(conn)
    by_stratum = {s: sorted(f for f, x in drawn.items() if x == s) for s in files}
    assert {s: len(v) for s, v in by_stratum.items()} == {"large": 4, "small": 1, "tiny": 1,
                                                          "": 1}
    assert all(set(v) <= set(files[s]) for s, v in by_stratum.items())
    assert d.strata == {"": (5, 1), "large": (40, 4), "small": (10, 1), "tiny": (2, 1)}
    rows = conn.execute("SELECT stratum, n_unflagged, n_drawn FROM audit_strata "
                        "ORDER BY stratum").fetchall()
    assert [tuple(r) for r in rows] == [("", 5, 1), ("large", 40, 4), ("small", 10, 1),
                                        ("tiny", 2, 1)]
    row = conn.execute("SELECT * FROM audit LIMIT 1").fetchone()
    assert (row["seed"], row["rate"], row["drawn_at"], row["run"]) == (3, 0.1, T0, d.run.id)
    counts = store.audit_counts(conn)
    assert counts.by == "size_class"
    assert {s: (x.n_unflagged, x.n_sampled, x.n_unreviewed) for s, x in counts.strata.items()
            } == {"": (5, 1, 1), "large": (40, 4, 4), "small": (10, 1, 1), "tiny": (2, 1, 1)}


def test_a_second_draw_is_refused_and_changes_nothing(tmp_path, capsys):
    conn, _ = make_store(tmp_path, {"large": 20})
    draw_sample(conn, 0.2, seed=1)
    before = sample(conn)
    with pytest.raises(AuditError, match="already has an audit sample.*--add.*--redraw"):
        draw_sample(conn, 0.2, seed=2)
    assert sample(conn) == before
    assert conn.execute("SELECT COUNT(*) FROM audit_runs").fetchone()[0] == 1
    conn.close()
    assert main(["audit", str(tmp_path), "--rate", "0.3"]) == 2
    assert "already has an audit sample" in capsys.readouterr().err


def test_add_draws_only_calls_not_sampled_yet_in_the_same_strata(tmp_path):
    conn, files = make_store(tmp_path, {"large": 20, "small": 10})
    draw_sample(conn, 0.5, seed=1, by="size_class")
    first = sample(conn)
    d = draw_sample(conn, 0.2, seed=2, mode="add")  # by: the sample's column
    assert d.run.action == "add" and d.run.by == "size_class"
    assert not set(d.files) & set(first)
    assert len(sample(conn)) == len(first) + len(d.files) == 15 + 6
    assert d.n_sample == 21
    with pytest.raises(AuditError, match="stratified by size_class"):
        draw_sample(conn, 0.1, mode="add", by="organisation")
    draw_sample(conn, 1.0, mode="add")
    assert len(sample(conn)) == 30
    with pytest.raises(AuditError, match="every unflagged call is in the sample"):
        draw_sample(conn, 0.1, mode="add")


def test_redraw_is_recorded_and_the_old_sample_stays_on_record(tmp_path):
    conn, _ = make_store(tmp_path, {"large": 30})
    draw_sample(conn, 0.1, seed=1)
    old = sample(conn)
    draw_sample(conn, 0.1, seed=1, mode="add")
    d = draw_sample(conn, 0.2, seed=5, mode="redraw")
    assert d.run.action == "redraw" and len(sample(conn)) == 6
    actions = [r.action for r in store.audit_runs(conn, current=False)]
    assert actions == ["draw", "add", "redraw"]
    assert [r.action for r in store.audit_runs(conn)] == ["redraw"]
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == len(old) + 3 + 6


def test_bad_column_and_rate_are_refused(tmp_path):
    conn, _ = make_store(tmp_path, {"large": 3})
    with pytest.raises(AuditError, match="no metadata column 'province'.*size_class"):
        draw_sample(conn, 0.1, by="province")
    for rate in (0.0, 1.5, -0.1):
        with pytest.raises(AuditError, match="rate"):
            draw_sample(conn, rate)
    assert not store.audit_runs(conn)


def test_the_sample_survives_a_reanalysis_of_its_calls(tmp_path):
    out = build_out(tmp_path)
    conn = store.connect(out / store.STORE_NAME)
    draw_sample(conn, 1.0, seed=4)
    assert set(sample(conn)) == {WAV, MP3}
    changed = wav_result()
    changed.update(key="k-wav-2")
    changed["verdicts"]["agent_name"] = "full"
    store.put_call(conn, CallResult.from_dict(changed))  # re-analysed: its rows rewritten
    store.prune(conn, [WAV, FLAC, FAILED])  # MP3 gone from the inputs
    assert set(sample(conn)) == {WAV, MP3}  # the record keeps both
    counts = store.audit_counts(conn)
    assert counts.n_sampled == 1  # only the calls still in the store count
    conn.close()


def test_an_older_store_is_migrated_in_place(tmp_path):
    out = build_out(tmp_path)
    path = out / store.STORE_NAME
    conn = store.connect(path)
    reviews.append_review(conn, WAV, "agent_name", "first", "full", "override", "", "Ann", T0,
                          None)
    # back to version 1: no audit tables, no reviews.source
    for table in ("audit", "audit_strata", "audit_runs"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE reviews DROP COLUMN source")
    conn.execute("UPDATE store_info SET value = '1' WHERE key = 'version'")
    conn.close()
    conn = store.connect(path)
    assert store.get_info(conn)["version"] == str(store.STORE_VERSION) == "2"
    r = conn.execute("SELECT * FROM reviews").fetchone()
    assert (r["human_value"], r["source"]) == ("full", "app")
    draw_sample(conn, 1.0, seed=1)
    assert set(sample(conn)) == {WAV, MP3}
    conn.close()


def test_audit_command_prints_the_sample_and_records_the_seed(tmp_path, capsys):
    conn, files = make_store(tmp_path, {"large": 10, "small": 10})
    conn.close()
    assert main(["audit", str(tmp_path), "--rate", "0.2", "--by", "size_class"]) == 0
    cap = capsys.readouterr()
    seed = int(re.search(r"seed (\d+)", cap.err).group(1))
    assert "2 of 10 unflagged" in cap.err
    drawn = cap.out.split()
    assert len(drawn) == 4
    conn = store.connect(tmp_path / store.STORE_NAME)
    assert store.audit_runs(conn)[0].seed == seed
    assert sorted(sample(conn)) == sorted(drawn)
    conn.close()
    assert main(["audit", str(tmp_path), "--rate", "0.1", "--add"]) == 0
    assert len(capsys.readouterr().out.split()) == 2
    with pytest.raises(SystemExit):  # argparse refuses the pair
        main(["audit", str(tmp_path), "--rate", "0.1", "--add", "--redraw"])
    assert main(["audit", str(tmp_path / "nowhere"), "--rate", "0.1"]) == 2


# ------------------------------------------------------------------------------ counts

def test_audit_counts_compare_the_newest_review_with_the_machine(tmp_path):
    out = build_out(tmp_path)
    conn = store.connect(out / store.STORE_NAME)
    draw_sample(conn, 1.0, seed=1)  # WAV and MP3 (FLAC is flagged)
    add = reviews.append_review
    add(conn, WAV, "agent_name", "first", "full", "override", "", "Ann", T0, None)
    add(conn, WAV, "notice_before_agent", "no", "no", "confirm", "", "Ann", T0, None)
    add(conn, MP3, "agent_name", "none", "none", "confirm", "", "Bob", T0, None)
    add(conn, MP3, "agent_start_s", "2.0", "2", "confirm", "", "Bob", T0, None)
    add(conn, FLAC, "agent_name", "full", "first", "override", "", "Bob", T0, None)  # flagged
    c = store.audit_counts(conn).decisions
    assert (c["agent_name"].n_reviewed, c["agent_name"].n_wrong) == (2, 1)
    assert c["agent_name"].error_rate == 0.5
    assert (c["notice_before_agent"].n_reviewed, c["notice_before_agent"].n_wrong,
            c["notice_before_agent"].n_unreviewed) == (1, 0, 1)
    assert (c["agent_start_s"].n_reviewed, c["agent_start_s"].n_wrong) == (1, 0)  # 2 == 2.0
    # the MP3's older result has no dialogue decisions: not counted either way
    assert (c["notice_purpose"].n_reviewed, c["notice_purpose"].n_unreviewed) == (0, 1)
    # a later review that agrees with the machine replaces the disagreeing one
    add(conn, WAV, "agent_name", "first", "first", "confirm", "", "Cas", T0 + 1, None)
    assert store.audit_counts(conn).decisions["agent_name"].n_wrong == 0
    assert store.audit_counts(conn).n_unreviewed == 0
    conn.close()


def test_audit_counts_without_a_sample_are_empty(tmp_path):
    conn = store.connect(tmp_path / store.STORE_NAME)
    counts = store.audit_counts(conn)
    assert counts.runs == () and counts.strata == {} and counts.n_sampled == 0
    assert counts.decisions["agent_name"].error_rate is None


# ------------------------------------------------------------------------------ import / export

HEADER = "file,decision,value,reviewer,comment,reviewed_at\n"


def _reviews(out: Path) -> list:
    conn = store.connect(out / store.STORE_NAME)
    try:
        return conn.execute("SELECT * FROM reviews ORDER BY id").fetchall()
    finally:
        conn.close()


def _import(out: Path, text: str, now: float | None = T0 + 3600):
    conn = store.connect(out / store.STORE_NAME)
    try:
        return import_reviews(conn, text, now=now)
    finally:
        conn.close()


def test_import_appends_reviews_with_the_audit_trail(tmp_path):
    out = build_out(tmp_path)
    s = _import(out, HEADER
                + f"{WAV},agent_name,full,Ann de Vries,heard the surname,2025-02-19T10:00:00Z\n"
                + f"{WAV},agent_name,First,Bob,,2025-02-19T11:00:00\n"
                + f"{FLAC},notice_purpose,training; quality,Ann de Vries,,\n"
                + f'"{MP3}",agent_first,none,Ann de Vries,"two\nlines",\n')
    assert (s.n_rows, s.n_confirm, s.n_override) == (4, 2, 2)
    rows = _reviews(out)
    assert [(r["file"], r["decision"], r["machine_value"], r["human_value"], r["action"],
             r["source"]) for r in rows] == [
        (WAV, "agent_name", "first", "full", "override", "import"),
        (WAV, "agent_name", "first", "first", "confirm", "import"),
        (FLAC, "notice_purpose", "training", "quality;training", "override", "import"),
        (MP3, "agent_first", None, None, "confirm", "import")]
    assert rows[1]["supersedes"] == rows[0]["id"]  # the second replaces the first
    assert rows[0]["created_at"] == 1739959200.0  # 10:00 UTC
    assert rows[1]["created_at"] == 1739962800.0  # no zone: UTC
    assert rows[2]["created_at"] == T0 + 3600  # no time: the import's
    assert rows[3]["comment"] == "two\nlines"


def test_import_refuses_bad_rows_with_their_lines_and_imports_nothing(tmp_path, capsys):
    out = build_out(tmp_path)
    text = (HEADER
            + f"{WAV},agent_name,full,Ann,,\n"  # 2: fine
            + "nope.wav,agent_name,full,Ann,,\n"  # 3: unknown file
            + f"{WAV},agent_mood,happy,Ann,,\n"  # 4: unknown decision
            + f"{WAV},notice_before_agent,maybe,Ann,,\n"  # 5: value outside the list
            + f'{WAV},notice_source,ivr, ,"a comment\nover two lines",\n'  # 6-7: no reviewer
            + f"{WAV},agent_start_s,99,Ann,,\n"  # 8: after the end of the call
            + f"{FAILED},agent_name,full,Ann,,\n"  # 9: the analysis failed
            + f"{WAV},agent_first,J0yce,Ann,,\n"  # 10: not a name
            + f"{WAV},greeting,hallo,Ann,,\n"  # 11: not reviewable
            + f"{WAV},agent_name,full,Ann,,yesterday\n"  # 12: not a time
            + f"{WAV},agent_name,full,Ann,,2099-01-01T00:00:00Z\n"  # 13: in the future
            + "\n"  # 14: blank, skipped
            + f"{WAV},agent_name,full,Ann,,,extra\n"  # 15: too many fields
            + f"{MP3},agent_name,full,Ann,,\n")  # 16: fine
    with pytest.raises(ReviewImportError) as e:
        _import(out, text)
    refused = {r.line: r.reason for r in e.value.refused}
    assert sorted(refused) == [3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15]
    assert "unknown file 'nope.wav'" in refused[3]
    assert "'agent_mood' is not a reviewable decision" in refused[4]
    assert "'maybe' is not one of yes, no" in refused[5]
    assert "reviewer: required" in refused[6]
    assert "after the end of the call" in refused[8]
    assert "analysis failed" in refused[9]
    assert "does not look like a name" in refused[10]
    assert "'greeting' is not a reviewable decision" in refused[11]
    assert "not an ISO 8601 time" in refused[12]
    assert "in the future" in refused[13]
    assert "7 fields" in refused[15]
    assert _reviews(out) == []
    # the command reports every refused row and exits 2
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["reviews", "import", str(out), str(path)]) == 2
    err = capsys.readouterr().err
    assert all(f"bad.csv:{n}:" in err for n in refused)
    assert "nothing imported: 11 row(s) refused of 13" in err
    assert _reviews(out) == []


def test_import_refuses_a_review_older_than_the_newest_one_stored(tmp_path):
    out = build_out(tmp_path)
    _import(out, HEADER + f"{WAV},agent_name,full,Ann,,2025-02-19T12:00:00Z\n")
    with pytest.raises(ReviewImportError, match=r"line 3: reviewed_at .* before the newest "
                                                r"review of agent_name \(line 2"):
        _import(out, HEADER + f"{WAV},agent_name,none,Bob,,2025-02-19T12:30:00Z\n"
                + f"{WAV},agent_name,first,Bob,,2025-02-19T12:10:00Z\n")
    with pytest.raises(ReviewImportError, match=r"line 2: .*before the newest review of "
                                                r"agent_name \(#1 by Ann"):
        _import(out, HEADER + f"{WAV},agent_name,none,Bob,,2025-02-19T11:00:00Z\n")
    assert len(_reviews(out)) == 1
    _import(out, HEADER + f"{WAV},agent_name,none,Bob,,\n")  # now: in order
    assert len(_reviews(out)) == 2


@pytest.mark.parametrize(("header", "message"), [
    ("", "empty file"),
    ("file,decision,value,comment\n", "missing column.*reviewer"),
    ("file,decision,value,reviewer,note\n", "unknown column.*'note'"),
    ("file,decision,value,reviewer,reviewer\n", "column.*reviewer given twice"),
])
def test_import_refuses_a_bad_header(tmp_path, header, message):
    out = build_out(tmp_path)
    with pytest.raises(ReviewImportError, match="line 1: " + message):
        _import(out, header)


def test_import_reads_excel_csv_with_semicolons_and_a_byte_order_mark(tmp_path, capsys):
    out = build_out(tmp_path)
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffFile;Decision;Value;Reviewer;Comment\r\n".encode()
                     + f'{FLAC};notice_purpose;"training;quality";Ann;é\r\n'.encode())
    assert main(["reviews", "import", str(out), str(path)]) == 0
    assert "1 review(s) imported (0 confirmed, 1 overridden)" in capsys.readouterr().err
    r = _reviews(out)[0]
    assert (r["human_value"], r["comment"]) == ("quality;training", "é")  # canonical
    path.write_bytes(b"file,decision,value,reviewer\n" + f"{WAV},agent_name,full,".encode()
                     + "Anné".encode("latin-1") + b"\n")
    assert main(["reviews", "import", str(out), str(path)]) == 2
    assert "excel.csv:2: not UTF-8" in capsys.readouterr().err


def test_export_and_import_give_back_the_same_trail(tmp_path, capsys):
    out = build_out(tmp_path / "a")
    client = TestClient(create_app(out), base_url=BASE)
    page = client.get("/call/" + WAV)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    fields.update({"reviewer": "Ann de Vries", "action.agent_name": "override",
                   "value.agent_name": "full", "comment.agent_name": 'said "Joyce Smit"',
                   "action.notice_before_agent": "confirm"})
    assert client.post("/call/" + WAV, data=fields, follow_redirects=False).status_code == 303
    _import(out, HEADER + f"{WAV},agent_name,first,Bob,\"no, only Joyce\",\n"
            + f"{MP3},agent_objected,none,Bob,,\n"
            + f"{MP3},agent_start_s,2.50,Bob,,\n"
            + f"{FLAC},notice_purpose,training;quality,Cas,,\n", now=None)
    first = tmp_path / "reviews.csv"
    assert main(["reviews", "export", str(out), str(first)]) == 0
    assert "6 review(s) exported" in capsys.readouterr().err
    rows = list(csv.DictReader(first.open(encoding="utf-8")))
    assert [r["decision"] for r in rows] == ["notice_before_agent", "agent_name", "agent_name",
                                             "agent_objected", "agent_start_s",
                                             "notice_purpose"]
    assert rows[2]["value"] == "first" and rows[3]["value"] == "none"
    assert rows[4]["value"] == "2.5" and rows[5]["value"] == "quality;training"
    # into a fresh store of the same calls, and out again
    other = build_out(tmp_path / "b")
    assert main(["reviews", "import", str(other), str(first)]) == 0
    assert main(["reviews", "export", str(other)]) == 0
    assert capsys.readouterr().out == first.read_text(encoding="utf-8")
    a, b = _reviews(out), _reviews(other)
    keys = ("file", "decision", "machine_value", "human_value", "action", "comment",
            "reviewer")
    assert [tuple(r[k] for k in keys) for r in a] == [tuple(r[k] for k in keys) for r in b]
    assert [int(r["created_at"]) for r in a] == [int(r["created_at"]) for r in b]
    assert [r["supersedes"] for r in b] == [None, None, 2, None, None, None]


def test_export_writes_nothing_but_a_header_without_reviews(tmp_path):
    out = build_out(tmp_path)
    conn = store.connect(out / store.STORE_NAME)
    buf = io.StringIO()
    assert export_reviews(conn, buf) == 0
    assert buf.getvalue() == HEADER
    conn.close()


# ------------------------------------------------------------------------------ the queue

def _queue_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="group-\d[^"]*" data-file="([^"]+)"', html)


def test_queue_shows_audit_calls_as_their_own_kind(tmp_path):
    out = build_out(tmp_path)
    client = TestClient(create_app(out), base_url=BASE)
    assert 'id="count-audit"' not in client.get("/").text  # no sample, no audit count
    conn = store.connect(out / store.STORE_NAME)
    draw_sample(conn, 0.5, seed=11)  # one of the two unflagged calls
    (drawn,) = sample(conn)
    conn.close()
    other = ({WAV, MP3} - {drawn}).pop()
    html = client.get("/").text
    assert _queue_rows(html) == [FLAC, drawn, other, FAILED]
    assert re.search(rf'<tr class="group-1 audit" data-file="{re.escape(drawn)}">', html)
    assert html.count('<span class="chip audit"') == 1
    assert 'id="count-audit">1<' in html and 'id="count-audit-unreviewed">1<' in html
    assert _queue_rows(client.get("/?kind=audit").text) == [drawn]
    assert _queue_rows(client.get("/?kind=flagged").text) == [FLAC]
    assert _queue_rows(client.get("/?kind=audit&state=reviewed").text) == []
    assert client.get("/?kind=random").status_code == 400
    call = client.get("/call/" + drawn).text
    assert "audit sample</span>" in call
    assert "audit sample</span>" not in client.get("/call/" + other).text


def test_queue_shows_the_audited_error_rate_per_decision(tmp_path):
    out = build_out(tmp_path)
    conn = store.connect(out / store.STORE_NAME)
    draw_sample(conn, 1.0, seed=1)
    conn.close()
    _import(out, HEADER + f"{WAV},agent_name,full,Ann,,\n{WAV},notice_before_agent,no,Ann,,\n"
            + f"{MP3},agent_name,none,Ann,,\n")
    client = TestClient(create_app(out), base_url=BASE)
    html = client.get("/").text
    rates = {m[0]: tuple(map(int, m[1:])) for m in re.findall(
        r'<tr data-decision="(\w+)" data-wrong="(\d+)" data-reviewed="(\d+)" '
        r'data-unreviewed="(\d+)">', html)}
    assert rates["agent_name"] == (1, 2, 0)
    assert rates["notice_before_agent"] == (0, 1, 1)
    assert rates["agent_knows_recording"] == (0, 0, 1)  # the MP3 has no such decision
    assert "50.0% <span class=\"muted\">(n=2)</span>" in html
    assert 'id="count-audit-unreviewed">0<' in html
    # the reviewed audit calls move down with the other reviewed ones
    assert _queue_rows(html) == [FLAC, WAV, MP3, FAILED]
    assert store.REVIEWABLE.keys() == rates.keys()
