"""The QA review app over HTTP (FastAPI TestClient): queue, call page, audio, reviews with
audit trail and conflict detection, input validation, path safety, token, export."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from pipeline.review import reviews
from pipeline.review.app import create_app, serve
from pipeline.review.export import write_export
from pipeline.runs import store
from pipeline.runs.batch import RESULT_COLUMNS
from pipeline.types import CallResult
from review_helpers import FAILED, FLAC, MP3, WAV, build_out, flac_result, wav_result

BASE = "http://127.0.0.1:8000"
TOKEN = "a-long-enough-test-token-123"


@pytest.fixture
def out(tmp_path) -> Path:
    return build_out(tmp_path)


@pytest.fixture
def client(out) -> TestClient:
    return TestClient(create_app(out), base_url=BASE)


def _url(file: str) -> str:
    return "/call/" + quote(file)


class _Inputs(HTMLParser):
    """The hidden inputs of a page (name -> value)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    p = _Inputs()
    p.feed(html)
    return p.hidden


def review_form(client: TestClient, file: str, reviewer: str = "Ann de Vries",
                **decisions: tuple[str, str, str]) -> dict[str, str]:
    """The form a reviewer submits: the page's hidden fields plus, per decision,
    (action, value, comment)."""
    page = client.get(_url(file))
    assert page.status_code == 200
    data = hidden_fields(page.text)
    data["reviewer"] = reviewer
    for d, (action, value, comment) in decisions.items():
        data.update({f"action.{d}": action, f"value.{d}": value, f"comment.{d}": comment})
    return data


def post(client: TestClient, file: str, data: dict[str, str], **kw):
    return client.post(_url(file), data=data, follow_redirects=False, **kw)


def rows_in_queue(html: str) -> list[str]:
    import re

    return [m.replace("&#39;", "'") for m in re.findall(r'<tr class="group-\d[^"]*" '
                                                        r'data-file="([^"]+)"', html)]


def all_reviews(out: Path) -> list[sqlite3.Row]:
    conn = store.connect(out / store.STORE_NAME)
    try:
        return conn.execute("SELECT * FROM reviews ORDER BY id").fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------------------ the queue

def test_queue_puts_flagged_unreviewed_first_and_failed_last(client):
    r = client.get("/")
    assert r.status_code == 200
    assert rows_in_queue(r.text) == [FLAC, WAV, MP3, FAILED]
    assert 'id="count-total">4<' in r.text and 'id="count-flagged">1<' in r.text
    assert 'id="count-reviewed">0<' in r.text and 'id="count-failed">1<' in r.text
    assert "not a recognised audio file" in r.text  # a failed call is listed with its error


def test_reviewed_calls_move_down_the_queue(client):
    data = review_form(client, WAV, notice_before_agent=("confirm", "", ""))
    assert post(client, WAV, data).status_code == 303
    r = client.get("/")
    assert rows_in_queue(r.text) == [FLAC, MP3, WAV, FAILED]
    assert 'id="count-reviewed">1<' in r.text
    assert rows_in_queue(client.get("/?state=reviewed").text) == [WAV]
    assert rows_in_queue(client.get("/?state=unreviewed").text) == [FLAC, MP3]


@pytest.mark.parametrize(("query", "expected"), [
    ("notice_before_agent=yes", [FLAC]),
    ("agent_name=first", [WAV]),
    ("needs_review=yes", [FLAC]),
    ("needs_review=no", [WAV, MP3]),
    ("kind=flagged", [FLAC]),
    ("kind=audit", []),  # no audit sample drawn
    ("status=error", [FAILED]),
    ("meta.province=Noord-Brabant", [FLAC, WAV]),
    ("meta.province=Utrecht&agent_name=none", [MP3]),
    ("q=afvalkalender", [WAV]),
    ("q=PASPOORT", [FLAC]),  # case-insensitive
    ("q=" + quote("één"), [MP3]),  # the file name is searched too
    ("q=100%25", []),  # % is literal, not a wildcard
    ("notice_source=&needs_review=", [FLAC, WAV, MP3, FAILED]),  # empty means any
    ("agent_knows_recording=no", [WAV]),
    ("agent_knows_recording=not_asked", [FLAC]),  # the MP3's older result lacks it
    ("notice_contradicted=yes", []),
    ("notice_purpose=training", [FLAC]),
    ("notice_purpose=no_notice", [WAV]),
    ("caller_announced_recording=yes", [WAV]),
    ("agent_objected=no", [WAV]),
    ("agent_objected=none", [FLAC, MP3]),  # nothing announced (or not decided): no failed call
])
def test_queue_filters_and_search(client, query, expected):
    r = client.get("/?" + query)
    assert r.status_code == 200
    assert rows_in_queue(r.text) == expected


def test_queue_purpose_filter_matches_one_purpose_of_several(client):
    data = review_form(client, WAV, notice_purpose=("override", "service;quality", ""))
    assert post(client, WAV, data).status_code == 303
    assert rows_in_queue(client.get("/?notice_purpose=service").text) == [WAV]
    assert rows_in_queue(client.get("/?notice_purpose=quality").text) == [WAV]
    assert rows_in_queue(client.get("/?notice_purpose=no_notice").text) == []


def test_queue_verdict_filter_uses_the_reviewed_value(client):
    data = review_form(client, WAV, notice_before_agent=("override", "yes", "heard it"))
    assert post(client, WAV, data).status_code == 303
    assert rows_in_queue(client.get("/?notice_before_agent=yes").text) == [FLAC, WAV]


@pytest.mark.parametrize("query", [
    "notice_before_agent=maybe", "meta.nosuchcolumn=x", "foo=1", "needs_review=1",
    "state=done", "page=0", "page=abc", "q=" + "x" * 500, "agent_first=joyce",
    "needs_review=yes&needs_review=no", "agent_knows_recording=maybe",
    "notice_purpose=" + quote("quality;training"), "agent_objected=maybe",
])
def test_queue_refuses_bad_filters(client, query):
    assert client.get("/?" + query).status_code == 400


# ------------------------------------------------------------------------------ call page

def test_call_page_shows_timeline_transcript_and_highlighted_evidence(client):
    r = client.get(_url(FLAC))
    assert r.status_code == 200
    html = r.text
    assert f'<audio id="player" controls preload="metadata" src="/audio/{FLAC}">' in html
    for role in ("IVR", "MUSIC", "AGENT", "CALLER", "TONE"):
        assert f'class="turn role-{role} seek"' in html
    v = flac_result()["verdicts"]
    notice, name = v["notice_evidence"][0], v["name_evidence"][0]
    assert (f'<mark class="ev-notice seek" data-start="{notice["start"]}">gesprek kan worden '
            "opgenomen voor</mark>") in html
    assert f'<mark class="ev-name seek" data-start="{name["start"]}">Marike van Meijel.</mark>' \
        in html
    # each decision with machine value, confidence and the reasons that concern it
    assert 'id="d-agent_first"' in html and "marike" in html and "conf 0.80" in html
    assert "name fuzzy lexicon" in html and "after hold or ringback" in html
    assert 'name="csrf"' in html and 'name="base.notice_before_agent" value="0"' in html


def _block(html: str, decision: str) -> str:
    return html.split(f'id="d-{decision}"')[1].split("</tbody>")[0]


def test_call_page_shows_question_and_answer_with_times_and_roles(client):
    html = client.get(_url(WAV)).text
    v = wav_result()["verdicts"]
    question, answer = v["question_evidence"]
    for d in ("agent_knows_recording", "notice_contradicted"):
        block = _block(html, d)
        assert '<b class="machine-value">no</b>' in block
        assert (f'<button type="button" class="ev-question seek" data-start="{question["start"]}">'
                f'▶ 14.5–16.1 s</button> “{question["text"]}”') in block
        assert f'data-start="{answer["start"]}">▶ 17.5–19.5 s</button> “{answer["text"]}”' \
            in block
        assert "CALLER, conf 0.90" in block and "AGENT, conf 0.75" in block
        assert "answer: no" in block
    assert "conf 0.75" in _block(html, "agent_knows_recording")  # the weaker of the two
    block = _block(html, "agent_objected")
    assert "“Ik neem dit gesprek zelf op voor mijn onderzoek.”" in block
    assert "“Dat is prima.”" in block and "response: no objection" in block
    assert '<option selected>no</option>' in block and "<option >none</option>" in block
    block = _block(html, "caller_announced_recording")
    assert '<b class="machine-value">yes</b>' in block and "ev-caller_notice" in block
    # the words are highlighted in the transcript, and marked on the timeline
    assert (f'<mark class="ev-question seek" data-start="{question["start"]}">Wordt dit '
            "gesprek opgenomen?</mark>") in html
    assert '<mark class="ev-caller_notice seek" data-start="25.0">Dat is prima.</mark>' in html
    assert 'class="marker ev-question seek"' in html
    assert 'name="base.agent_knows_recording" value="0"' in html


def test_call_page_shows_the_purpose_of_the_notice(client):
    html = client.get(_url(FLAC)).text
    purpose = flac_result()["verdicts"]["purpose_evidence"][0]
    block = _block(html, "notice_purpose")
    assert '<b class="machine-value">training</b>' in block and "purpose=training" in block
    assert f'class="ev-purpose seek" data-start="{purpose["start"]}"' in block
    # several purposes may be joined: a text field suggesting each, not a single choice
    assert 'name="value.notice_purpose" class="value" value="training"' in block
    assert '<datalist id="values-notice_purpose">' in block and "none_stated" in block
    assert f'<mark class="ev-purpose seek" data-start="{purpose["start"]}">' \
        "trainingsdoeleinden.</mark>" in html
    # the notice's own highlight is unchanged
    assert ">gesprek kan worden opgenomen voor</mark>" in html
    block = _block(html, "agent_objected")  # the caller announced nothing
    assert '<b class="machine-value">(none)</b>' in block
    assert 'name="machine.agent_objected" value=""' in block


def test_call_page_of_an_older_result_shows_the_new_decisions_undecided(client):
    html = client.get(_url(MP3)).text
    for d in ("agent_knows_recording", "notice_purpose", "agent_objected"):
        block = _block(html, d)
        assert f'name="machine.{d}" value=""' in block and "not reviewed" in block


def test_call_page_of_failed_call_shows_error_and_no_form(client):
    r = client.get(_url(FAILED))
    assert r.status_code == 200
    assert "not_audio" in r.text and 'id="review-form"' not in r.text


def test_non_ascii_file_names_work(client):
    r = client.get(_url(MP3))
    assert r.status_code == 200 and "Goedemorgen, waarmee" in r.text
    audio = client.get("/audio/" + quote(MP3))
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"


# ------------------------------------------------------------------------------ audio

def test_audio_is_served_with_range_requests(client, out):
    r = client.get("/audio/" + WAV, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert len(r.content) == 100
    full = client.get("/audio/" + WAV)
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    assert r.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
    assert r.content == full.content[100:200]
    assert full.headers["content-type"] == "audio/wav"
    # mu-law 8 kHz stereo became 16-bit PCM at 8 kHz with both channels
    info = sf.info(io.BytesIO(full.content))
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 8000, 2)
    assert abs(info.duration - 43.65) < 0.1
    cached = list((out / ".review" / "audio").glob("*.wav"))
    assert len(cached) == 1 and not list((out / ".review" / "audio").glob(".tmp-*"))


def test_flac_audio_is_transcoded_to_pcm_wav(client):
    info = sf.info(io.BytesIO(client.get("/audio/" + FLAC).content))
    assert (info.subtype, info.samplerate, info.channels) == ("PCM_16", 16000, 1)


def test_audio_of_undecodable_recording_is_a_clear_error(client):
    r = client.get("/audio/" + FAILED)
    assert r.status_code == 422 and "cannot be decoded" in r.text


@pytest.mark.parametrize("path", [
    "/audio/nosuch.wav", "/audio/%2e%2e/%2e%2e/etc/passwd", "/audio/..%2F..%2Fetc%2Fpasswd",
    "/audio/%2Fetc%2Fpasswd", "/audio//etc/passwd", "/call/%2e%2e%2fresults.sqlite",
    "/static/..%2F..%2Fstore.py", "/static/%2e%2e/review/app.py", "/results.sqlite",
    "/calls/" + FLAC + ".json", "/.review/audio/",
    "/audio/" + quote(f"{WAV}/../{FLAC}", safe=""),
])
def test_paths_outside_the_calls_are_not_served(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), r.status_code
    assert b"RIFF" not in r.content[:4] and b"SQLite" not in r.content


def test_audio_refuses_stored_names_that_leave_the_input_folder(out, tmp_path):
    secret = tmp_path / "secret.wav"
    secret.write_bytes((tmp_path / "in" / WAV).read_bytes())
    (tmp_path / "in" / "link.wav").symlink_to(secret)
    conn = store.connect(out / store.STORE_NAME)
    for name in ("link.wav", "../secret.wav"):
        store.put_call(conn, CallResult.from_dict({**flac_result(), "file": name, "key": name}))
    conn.close()
    client = TestClient(create_app(out), base_url=BASE)
    assert client.get("/audio/link.wav").status_code == 404
    assert client.get("/audio/" + quote("../secret.wav", safe="")).status_code == 404


# ------------------------------------------------------------------------------ reviews

def test_override_is_appended_and_machine_value_stays_visible(client, out):
    data = review_form(client, FLAC, notice_before_agent=("override", "no", "the notice "
                                                           "is cut off"))
    r = post(client, FLAC, data)
    assert r.status_code == 303 and r.headers["location"] == _url(FLAC) + "?saved=1"
    [row] = all_reviews(out)
    assert (row["decision"], row["machine_value"], row["human_value"], row["action"]) == (
        "notice_before_agent", "yes", "no", "override")
    assert row["reviewer"] == "Ann de Vries" and row["comment"] == "the notice is cut off"
    assert row["supersedes"] is None and abs(row["created_at"] - time.time()) < 60
    page = client.get(_url(FLAC)).text
    block = page.split('id="d-notice_before_agent"')[1].split("</tbody>")[0]
    assert '<b class="machine-value">yes</b>' in block
    assert '<b class="human-value">no</b>' in block and "Ann de Vries" in block
    assert f'name="base.notice_before_agent" value="{row["id"]}"' in block
    assert 'value="Ann de Vries"' in page  # the reviewer is remembered (cookie)

    # a second review supersedes the first; both stay, and the machine table is untouched
    data = review_form(client, FLAC, reviewer="Bo",
                       notice_before_agent=("confirm", "", "listened again: it is there"))
    assert post(client, FLAC, data).status_code == 303
    first, second = all_reviews(out)
    assert first["id"] == row["id"] and first["human_value"] == "no"
    assert (second["human_value"], second["action"], second["supersedes"]) == (
        "yes", "confirm", first["id"])
    conn = store.connect(out / store.STORE_NAME)
    assert store.decision_table(conn)[FLAC]["notice_before_agent"] == "yes"
    conn.close()
    page = client.get(_url(FLAC)).text
    assert "history (2)" in page and f"replaces #{first['id']}" in page


def test_free_text_and_number_decisions(client, out):
    data = review_form(client, FLAC, agent_first=("override", "  Marieke ", ""),
                       agent_last=("override", "none", "only a first name"),
                       agent_start_s=("override", "31.5", ""),
                       agent_name=("confirm", "", ""))
    assert post(client, FLAC, data).status_code == 303
    got = {r["decision"]: (r["human_value"], r["action"]) for r in all_reviews(out)}
    assert got == {"agent_first": ("Marieke", "override"), "agent_last": (None, "override"),
                   "agent_start_s": ("31.5", "override"), "agent_name": ("full", "confirm")}


def test_override_to_the_machine_value_is_a_confirmation(client, out):
    data = review_form(client, FLAC, agent_first=("override", "MARIKE", ""),
                       agent_start_s=("override", "32.6960", ""))
    assert post(client, FLAC, data).status_code == 303
    got = {r["decision"]: (r["action"], r["human_value"]) for r in all_reviews(out)}
    assert got == {"agent_first": ("confirm", "marike"), "agent_start_s": ("confirm", "32.696")}


def test_recording_talk_decisions_are_reviewed_with_the_same_audit_trail(client, out):
    data = review_form(client, WAV,
                       agent_knows_recording=("override", "unsure", "she hesitated"),
                       notice_purpose=("override", " training ;  quality", ""),
                       agent_objected=("override", "none", "that was not an objection"),
                       caller_announced_recording=("confirm", "", ""),
                       notice_contradicted=("override", "no", ""))
    assert post(client, WAV, data).status_code == 303
    got = {r["decision"]: (r["machine_value"], r["human_value"], r["action"], r["comment"])
           for r in all_reviews(out)}
    assert got == {
        "agent_knows_recording": ("no", "unsure", "override", "she hesitated"),
        "notice_purpose": ("no_notice", "quality;training", "override", ""),  # canonical
        "agent_objected": ("no", None, "override", "that was not an objection"),
        "caller_announced_recording": ("yes", "yes", "confirm", ""),
        "notice_contradicted": ("no", "no", "confirm", ""),  # override to the machine's
    }
    page = client.get(_url(WAV)).text
    block = _block(page, "notice_purpose")
    assert '<b class="human-value">quality;training</b>' in block
    assert '<b class="machine-value">no_notice</b>' in block
    first = {r["decision"]: r["id"] for r in all_reviews(out)}
    # a later review supersedes the earlier one; both stay
    data = review_form(client, WAV, reviewer="Bo",
                       notice_purpose=("override", "quality;training", "same set"),
                       agent_objected=("override", "unclear", ""))
    assert post(client, WAV, data).status_code == 303
    later = all_reviews(out)[-2:]
    assert [(r["decision"], r["human_value"], r["supersedes"]) for r in later] == [
        ("notice_purpose", "quality;training", first["notice_purpose"]),
        ("agent_objected", "unclear", first["agent_objected"])]
    assert "history (2)" in _block(client.get(_url(WAV)).text, "notice_purpose")


def test_override_to_the_same_purposes_in_another_order_is_a_confirmation(client, out):
    conn = store.connect(out / store.STORE_NAME)
    changed = wav_result()
    changed["verdicts"]["notice_purpose"] = "quality;training"
    store.put_call(conn, CallResult.from_dict(changed))
    conn.close()
    data = review_form(client, WAV, notice_purpose=("override", "training;quality", ""))
    assert post(client, WAV, data).status_code == 303
    [row] = all_reviews(out)
    assert (row["action"], row["human_value"]) == ("confirm", "quality;training")


@pytest.mark.parametrize(("decisions", "reviewer", "message"), [
    ({"agent_knows_recording": ("override", "maybe", "")}, "Ann", "is not one of"),
    ({"notice_purpose": ("override", "marketing", "")}, "Ann", "is not one of"),
    ({"notice_purpose": ("override", "quality;no_notice", "")}, "Ann", "stand alone"),
    ({"notice_purpose": ("override", "", "")}, "Ann", "notice_purpose: empty"),
    ({"agent_objected": ("override", "maybe", "")}, "Ann", "agent_objected"),
    ({"caller_announced_recording": ("override", "unclear", "")}, "Ann", "is not one of"),
    ({"bogus": ("confirm", "", "")}, "Ann", "not a reviewable decision"),
    ({"organisation_named": ("override", "no", "")}, "Ann", "not a reviewable decision"),
    ({"notice_source": ("override", "maybe", "")}, "Ann", "is not one of"),
    ({"notice_before_agent": ("approve", "", "")}, "Ann", "confirm or override"),
    ({"agent_start_s": ("override", "-1", "")}, "Ann", "agent_start_s"),
    ({"agent_start_s": ("override", "nan", "")}, "Ann", "agent_start_s"),
    ({"agent_start_s": ("override", "soon", "")}, "Ann", "not a number"),
    ({"agent_start_s": ("override", "60", "")}, "Ann", "after the end of the call"),
    ({"agent_first": ("override", "<script>x</script>", "")}, "Ann", "look like a name"),
    ({"agent_first": ("override", "a" * 200, "")}, "Ann", "longer than"),
    ({"notice_source": ("confirm", "", "x" * 3000)}, "Ann", "comment"),
    ({"notice_source": ("confirm", "", "")}, "   ", "reviewer: required"),
    ({"notice_source": ("confirm", "", "")}, "A" * 200, "reviewer: longer than"),
    ({"notice_source": ("confirm", "", "")}, "Ann\x00", "control characters"),
    ({"notice_source": ("", "", "")}, "Ann", "nothing to save"),
])
def test_bad_review_input_is_refused_and_nothing_saved(client, out, decisions, reviewer,
                                                       message):
    data = review_form(client, FLAC, reviewer=reviewer, **decisions)
    r = post(client, FLAC, data)
    assert r.status_code == 400
    assert message in r.text.replace("&#39;", "'")
    assert all_reviews(out) == []


def test_bad_input_keeps_what_the_reviewer_typed(client):
    data = review_form(client, FLAC, agent_first=("override", "R2-D2", "my careful note"),
                       notice_source=("override", "agent", "another note"))
    r = post(client, FLAC, data)
    assert r.status_code == 400
    assert 'value="R2-D2"' in r.text and "my careful note" in r.text
    assert "another note" in r.text and 'value="Ann de Vries"' in r.text


def test_unknown_fields_and_base_ids_are_refused(client, out):
    data = review_form(client, FLAC, notice_source=("confirm", "", ""))
    assert post(client, FLAC, {**data, "extra": "1"}).status_code == 400
    assert post(client, FLAC, {**data, "base.notice_source": "-1"}).status_code == 400
    assert post(client, FLAC, {**data, "base.notice_source": "1e3"}).status_code == 400
    assert post(client, "nosuch.wav", data).status_code == 404
    assert post(client, FAILED, data).status_code == 400
    assert all_reviews(out) == []


def test_posts_need_the_csrf_token_and_same_origin(client, out):
    data = review_form(client, FLAC, notice_source=("confirm", "", ""))
    assert post(client, FLAC, {k: v for k, v in data.items() if k != "csrf"}).status_code == 403
    assert post(client, FLAC, {**data, "csrf": "x" * 43}).status_code == 403
    assert post(client, FLAC, data, headers={"Origin": "http://localhost:9000"}
                ).status_code == 403
    assert post(client, FLAC, data, headers={"Origin": "null"}).status_code == 403
    assert all_reviews(out) == []
    assert post(client, FLAC, data, headers={"Origin": BASE}).status_code == 303


# ------------------------------------------------------------------------------ conflicts

def test_two_reviewers_saving_from_the_same_page_conflict_and_lose_nothing(out):
    ann = TestClient(create_app(out), base_url=BASE)
    bo = TestClient(create_app(out), base_url=BASE)
    form_ann = review_form(ann, FLAC, reviewer="Ann",
                           agent_first=("override", "Marieke", "Ann's correction"))
    form_bo = review_form(bo, FLAC, reviewer="Bo",
                          agent_first=("override", "Mariken", "Bo's correction"),
                          notice_source=("confirm", "", "Bo agrees"))
    assert post(ann, FLAC, form_ann).status_code == 303
    r = post(bo, FLAC, form_bo)
    assert r.status_code == 409
    # Bo sees Ann's stored verdict next to his own unsaved input, and nothing of his was saved
    assert "Ann's correction" in r.text.replace("&#39;", "'")
    assert '<b class="their-value">Marieke</b>' in r.text
    assert '<b class="their-reviewer">Ann</b>' in r.text
    assert "override Mariken" in r.text and 'value="Mariken"' in r.text
    assert "Bo&#39;s correction" in r.text and "Bo agrees" in r.text
    [ann_review] = all_reviews(out)
    assert ann_review["reviewer"] == "Ann"
    # the form on the conflict page is based on Ann's review: resubmitting is deliberate
    again = hidden_fields(r.text)
    assert again["base.agent_first"] == str(ann_review["id"])
    resubmit = {**form_bo, **again}
    assert post(bo, FLAC, resubmit).status_code == 303
    ann_row, *bo_rows = all_reviews(out)
    assert [(b["decision"], b["human_value"], b["supersedes"]) for b in bo_rows] == [
        ("notice_source", "ivr", None), ("agent_first", "Mariken", ann_row["id"])]


@pytest.mark.parametrize(("file", "result", "decision", "new"), [
    (FLAC, flac_result, "notice_before_agent", "no"),
    (WAV, wav_result, "agent_knows_recording", "yes"),
])
def test_a_reanalysed_call_conflicts_with_a_review_of_the_old_result(client, out, file, result,
                                                                    decision, new):
    data = review_form(client, file, **{decision: ("confirm", "", "")})
    changed = result()
    changed["verdicts"][decision] = new
    conn = store.connect(out / store.STORE_NAME)
    store.put_call(conn, CallResult.from_dict(changed))
    conn.close()
    r = post(client, file, data)
    assert r.status_code == 409 and "analysis was re-run" in r.text
    assert all_reviews(out) == []


def test_concurrent_saves_from_the_same_base_save_exactly_one(out):
    items = [reviews.ReviewItem("agent_first", "override", name, "", 0, "marike")
             for name in ("Ann", "Bo")]
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def save(item: reviews.ReviewItem) -> None:
        conn = sqlite3.connect(out / store.STORE_NAME, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        barrier.wait()
        try:
            reviews.save_reviews(conn, FLAC, item.human_value, [item])
            outcome[item.human_value] = "saved"
        except reviews.ReviewConflict:
            outcome[item.human_value] = "conflict"
        finally:
            conn.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["conflict", "saved"]
    assert len(all_reviews(out)) == 1


# ------------------------------------------------------------------------------ export

def _read_csv(path_or_text: Path | str) -> list[dict[str, str]]:
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    return list(csv.DictReader(io.StringIO(text)))


def test_export_adds_reviewed_columns(client, out):
    data = review_form(client, FLAC, reviewer="Ann", notice_before_agent=("override", "no", ""),
                       agent_last=("override", "none", ""))
    assert post(client, FLAC, data).status_code == 303
    path = write_export(out)
    assert path == out / "results_reviewed.csv"
    rows = {r["file"]: r for r in _read_csv(path)}
    header = path.read_text().splitlines()[0].split(",")
    assert header == [*RESULT_COLUMNS, *(f"{d}_reviewed" for d in store.REVIEWABLE),
                      "reviewed_by", "reviewed_at"]
    flac = rows[FLAC]
    assert (flac["notice_before_agent"], flac["notice_before_agent_reviewed"]) == ("yes", "no")
    assert (flac["agent_last"], flac["agent_last_reviewed"]) == ("van meijel", "none")
    assert flac["agent_first_reviewed"] == "" and flac["reviewed_by"] == "Ann"
    assert flac["reviewed_at"].endswith("Z")
    assert rows[WAV]["reviewed_by"] == "" and rows[FAILED]["error"]
    assert list(rows) == sorted(rows)  # results.csv order


def test_export_carries_the_recording_talk_decisions_and_their_reviews(client, out):
    data = review_form(client, WAV, reviewer="Ann",
                       notice_purpose=("override", "training;quality", ""),
                       agent_objected=("override", "none", ""))
    assert post(client, WAV, data).status_code == 303
    rows = {r["file"]: r for r in _read_csv(write_export(out))}
    wav, flac, mp3 = rows[WAV], rows[FLAC], rows[MP3]
    assert (wav["agent_knows_recording"], wav["notice_contradicted"],
            wav["caller_announced_recording"], wav["agent_objected"]) == ("no", "no", "yes", "no")
    assert (wav["notice_purpose"], wav["notice_purpose_reviewed"]) == ("no_notice",
                                                                       "quality;training")
    assert wav["agent_objected_reviewed"] == "none"  # the reviewer said there is none
    assert wav["agent_knows_recording_reviewed"] == ""  # not reviewed
    assert (flac["notice_purpose"], flac["agent_objected"]) == ("training", "")
    assert mp3["agent_knows_recording"] == "" and mp3["notice_purpose"] == ""  # older result


def test_pseudonymised_export_hides_agent_names(client, out, tmp_path):
    data = review_form(client, WAV, agent_first=("override", "Marike", "same person as call01"))
    assert post(client, WAV, data).status_code == 303
    target = tmp_path / "shared.csv"
    assert write_export(out, target, pseudonymise=True) == target
    text = target.read_text()
    for secret in ("marike", "meijel", "joyce", "opgenomen", "same person",
                   "onderzoek", "prima", "trainingsdoeleinden"):  # no evidence text at all
        assert secret not in text.lower()
    assert "notice_purpose_reviewed" in text.splitlines()[0]
    rows = {r["file"]: r for r in _read_csv(text)}
    flac, wav = rows[FLAC], rows[WAV]
    assert flac["agent_first"].startswith("agent-") and flac["agent_last"].startswith("agent-")
    assert flac["agent_first"] != flac["agent_last"]
    assert wav["agent_first_reviewed"] == flac["agent_first"]  # same name, same pseudonym
    assert wav["agent_first"] not in (flac["agent_first"], flac["agent_last"])
    assert rows[MP3]["agent_first"] == ""
    # the app offers the same export for download
    r = client.get("/export.csv?pseudonymise=yes")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "marike" not in r.text.lower()
    assert "marike" in client.get("/export.csv").text
    assert client.get("/export.csv?pseudonymise=maybe").status_code == 400


def test_export_command(out, capsys):
    from pipeline.cli import main

    assert main(["export", str(out), "--pseudonymise"]) == 0
    assert Path(capsys.readouterr().out.strip()) == out / "results_reviewed.csv"


# ------------------------------------------------------------------------------ access

def test_token_is_required_on_every_request_when_set(out):
    client = TestClient(create_app(out, token=TOKEN), base_url=BASE)
    for path in ("/", _url(FLAC), "/audio/" + WAV, "/static/review.css", "/export.csv"):
        assert client.get(path).status_code == 401, path
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/?token=wrong").status_code == 401
    r = client.get(f"/?token={TOKEN}&state=unreviewed", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?state=unreviewed"
    assert "HttpOnly" in r.headers["set-cookie"] and TOKEN not in r.headers["set-cookie"]
    assert client.get("/").status_code == 200  # the cookie now carries it
    r = client.get(_url(MP3) + f"?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == _url(MP3)
    r = client.get(f"{BASE}//evil.example/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/evil.example/"  # not off-site
    assert client.get("/audio/" + WAV, headers={"Range": "bytes=0-9"}).status_code == 206


def test_host_header_must_be_local_without_token(out):
    assert TestClient(create_app(out), base_url="http://evil.example").get("/").status_code \
        == 400
    for base in ("http://localhost:8000", "http://[::1]:8000"):
        assert TestClient(create_app(out), base_url=base).get("/").status_code == 200


def test_security_headers(client):
    for path in ("/", _url(FLAC), "/audio/" + WAV, "/nosuchpage"):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert client.put("/").status_code == 405
    assert client.get("/docs").status_code == 404  # no API docs page pulling in a CDN


def test_serve_refuses_a_non_local_bind_without_token(out, capsys, monkeypatch):
    monkeypatch.delenv("CALLCHECK_REVIEW_TOKEN", raising=False)
    assert serve(out, host="0.0.0.0", port=8123) == 2
    assert "without a token" in capsys.readouterr().err
    assert serve(out, host="192.168.1.5", token="short") == 2
    assert serve(out / "missing", host="127.0.0.1") == 2
    from pipeline.cli import main

    assert main(["review", str(out), "--host", "0.0.0.0"]) == 2

    started: list[tuple[str, int]] = []

    def fake_run(self, sockets=None):
        started.append((self.config.host, self.config.port))

    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setenv("CALLCHECK_REVIEW_TOKEN", TOKEN)
    assert serve(out, host="0.0.0.0", port=8123) == 0
    monkeypatch.delenv("CALLCHECK_REVIEW_TOKEN")
    assert serve(out) == 0
    assert started == [("0.0.0.0", 8123), ("127.0.0.1", 8000)]
    assert os.environ.get("CALLCHECK_REVIEW_TOKEN") is None


def test_question_and_caller_notice_reasons_are_shown_with_their_decisions():
    from pipeline.review.views import reasons_for

    reasons = ("answer_mixed", "objection_unclear", "purpose_unclear")
    assert reasons_for("agent_knows_recording", reasons) == ("answer_mixed",)
    assert reasons_for("notice_contradicted", reasons) == ("answer_mixed",)
    assert reasons_for("agent_objected", reasons) == ("objection_unclear",)
    assert reasons_for("caller_announced_recording", reasons) == ("objection_unclear",)
    assert reasons_for("notice_purpose", reasons) == ("purpose_unclear",)
    assert reasons_for("agent_name", reasons) == ()


def test_poorly_heard_reasons_are_shown_with_the_decision_they_concern():
    from pipeline.review.views import reasons_for

    reasons = ("opening_poorly_heard", "announcements_poorly_heard", "unclear_agent_start")
    assert reasons_for("agent_name", reasons) == ("opening_poorly_heard",)
    assert reasons_for("notice_before_agent", reasons) == ("announcements_poorly_heard",)
    assert reasons_for("agent_start_s", reasons) == ("unclear_agent_start",)
