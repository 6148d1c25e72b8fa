"""Batch runner: one row per file, clear errors, resumable, outputs confined to OUT."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.evaluation.evaluate import compute_metrics
from pipeline.runs.batch import (
    RESULT_COLUMNS,
    OutputPathError,
    atomic_write,
    find_audio,
    output_path,
    result_row,
    run_batch,
)
from pipeline.types import SCHEMA_VERSION, CallResult
from review_helpers import flac_result, mp3_result, wav_result

FIXTURES = Path(__file__).resolve().parent.parent / "audio_fixtures"
REPO = FIXTURES.parent


def test_output_paths_cannot_escape_out(tmp_path):
    assert output_path(tmp_path, "a/b.wav", ".json") == (tmp_path / "calls/a/b.wav.json").resolve()
    for bad in ("../x.wav", "/etc/passwd", "a/../../x.wav"):
        with pytest.raises(OutputPathError):
            output_path(tmp_path, bad, ".json")


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write(tmp_path / "x" / "r.json", "{}")
    atomic_write(tmp_path / "x" / "r.json", '{"a": 1}')
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["r.json"]
    assert json.loads((tmp_path / "x" / "r.json").read_text()) == {"a": 1}


def test_find_audio_is_recursive_and_skips_other_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.wav", "sub/b.MP3", "notes.txt", ".hidden.wav"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in find_audio(tmp_path)] == [
        "a.wav", "sub/b.MP3"]


RECORDING_TALK = ("agent_knows_recording", "notice_contradicted", "notice_purpose",
                  "caller_announced_recording", "agent_objected")


def test_results_rows_carry_what_caller_and_agent_say_of_recording():
    cols = list(RESULT_COLUMNS)
    assert cols[cols.index("greeting") + 1: cols.index("needs_review")] == list(RECORDING_TALK)
    wav = result_row(CallResult.from_dict(wav_result()))
    assert [wav[c] for c in RECORDING_TALK] == ["no", "no", "no_notice", "yes", "no"]
    flac = result_row(CallResult.from_dict(flac_result()))
    assert [flac[c] for c in RECORDING_TALK] == ["not_asked", "no", "training", "no", ""]
    assert set(wav) == set(RESULT_COLUMNS)


def test_results_rows_of_older_results_leave_the_new_decisions_empty():
    old = result_row(CallResult.from_dict(mp3_result()))  # from before these decisions
    assert "agent_knows_recording" not in mp3_result()["verdicts"]
    assert [old[c] for c in RECORDING_TALK] == [""] * 5
    assert old["agent_name"] == "none" and old["needs_review"] == "no"
    failed = result_row(CallResult("x.wav", error="not audio"))
    assert [failed[c] for c in RECORDING_TALK] == [""] * 5


def test_eval_metrics_on_hand_made_labels_are_exact():
    labels = [
        {"file": "a", "notice_before_agent": "yes", "notice_by_agent": "no", "agent_name": "full",
         "agent_first": "Sanne", "agent_last": "Jansen", "agent_start_s": "10.0"},
        {"file": "b", "notice_before_agent": "yes", "notice_by_agent": "yes",
         "agent_name": "first", "agent_first": "Joost", "agent_last": "", "agent_start_s": "3.0"},
        {"file": "c", "notice_before_agent": "no", "notice_by_agent": "no", "agent_name": "none",
         "agent_first": "", "agent_last": "", "agent_start_s": "5.0"},
        {"file": "d", "notice_before_agent": "no", "notice_by_agent": "no", "agent_name": "last",
         "agent_first": "", "agent_last": "de Vries", "agent_start_s": "7.0"},
    ]
    results = {
        "a": {"notice_before_agent": "yes", "notice_by_agent": "no", "agent_name": "full",
              "agent_first": "sanne", "agent_last": "JANSEN", "agent_start_s": "10.5",
              "error": ""},
        "b": {"notice_before_agent": "no", "notice_by_agent": "yes", "agent_name": "first",
              "agent_first": "Joost", "agent_last": "", "agent_start_s": "5.0", "error": ""},
        "c": {"notice_before_agent": "yes", "notice_by_agent": "no", "agent_name": "first",
              "agent_first": "Gemeente", "agent_last": "", "agent_start_s": "5.0", "error": ""},
        "d": {"error": "empty_file"},
    }
    m, misses = compute_metrics(labels, results)
    assert m["n_calls"] == 4 and m["n_failed"] == 1
    # notice_before_agent: truth y y n n, predicted y n y (error): TP 1, FP 1, FN 1
    assert m["notice_before_agent"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5,
                                        "accuracy": 0.25}
    # notice_by_agent: truth n y n n, predicted n y n (error): TP 1, no FP/FN
    assert m["notice_by_agent"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                    "accuracy": 0.75}
    assert m["agent_name"]["accuracy"] == 0.5
    assert m["agent_name"]["confusion"]["none"]["first"] == 1
    assert m["agent_name"]["confusion"]["last"]["error"] == 1
    # named or not, whatever the kind: a and b right, c named where none was, d failed
    assert m["agent_name"]["named_accuracy"] == 0.5
    wrong_kind, _ = compute_metrics(labels[:1], {"a": {**results["a"], "agent_name": "first"}})
    assert wrong_kind["agent_name"]["accuracy"] == 0.0
    assert wrong_kind["agent_name"]["named_accuracy"] == 1.0
    assert m["agent_name_text"]["accuracy"] == 0.5  # a (case-insensitive) and b
    assert m["agent_start"] == {"mean_abs_error_s": pytest.approx(0.833, abs=1e-3),
                                "within_1s": 0.5}
    assert set(m) == {"n_calls", "n_failed", "notice_before_agent", "notice_by_agent",
                      "agent_name", "agent_name_text", "agent_start", "agent_found", "decided"}
    assert any("d: failed" in x for x in misses)


# ------------------------------------------------------------------ real models


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _fixture_calls(n: int) -> list[Path]:
    """The first ``n`` labelled fixture calls, shortest first (keeps these tests quick)."""
    with open(FIXTURES / "calls.csv", newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: float(r["duration_s"]))
    return [FIXTURES / r["file"] for r in rows[:n]]


def _copy_calls(tmp_path: Path, n: int) -> Path:
    """A folder ``in`` with copies of the ``n`` shortest fixture calls."""
    src = tmp_path / "in"
    src.mkdir()
    for path in _fixture_calls(n):
        shutil.copy(path, src / path.name)
    return src


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch_in")
    good = _fixture_calls(1)[0]
    shutil.copy(good, d / f"good{good.suffix}")
    for name in ("empty.wav", "truncated.mp3", "not_audio.wav", "silence.wav"):
        shutil.copy(FIXTURES / "edge" / name, d / name)
    (d / "sub").mkdir()
    shutil.copy(FIXTURES / "edge" / "gemeente_één_ü.wav", d / "sub" / "gemeente_één_ü.wav")
    return d


@pytest.mark.models
def test_batch_with_bad_files_gives_one_row_each_and_goes_on(mixed_dir, tmp_path):
    out = tmp_path / "out"
    summary = run_batch(mixed_dir, out, quiet=True)
    rows = {r["file"]: r for r in _rows(out)}
    good = next(f for f in rows if f.startswith("good"))
    assert set(rows) == {good, "empty.wav", "truncated.mp3", "not_audio.wav",
                         "silence.wav", "sub/gemeente_één_ü.wav"}
    assert "empty" in rows["empty.wav"]["error"]
    assert "truncated" in rows["truncated.mp3"]["error"]
    assert "not a recognised audio file" in rows["not_audio.wav"]["error"]
    assert rows["silence.wav"]["error"] == ""
    assert rows["silence.wav"]["agent_name"] == "none"
    assert rows["silence.wav"]["agent_start_s"] == ""
    assert rows[good]["error"] == "" and rows[good]["agent_start_s"]
    assert summary.n_failed == 3
    data = json.loads((out / "calls" / f"{good}.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["verdicts"]["agent_start_s"] is not None
    assert (out / "calls" / f"{good}.rttm").read_text().count("AGENT") >= 1
    assert (out / "calls" / f"{good}.vtt").read_text().startswith("WEBVTT")
    assert (out / "config.toml").exists()
    # a second run redoes nothing that succeeded (failed calls are retried)
    again = run_batch(mixed_dir, out, quiet=True)
    assert again.n_skipped == 3 and again.n_done == 3
    assert {r["file"] for r in _rows(out)} == set(rows)


@pytest.mark.models
def test_cli_exit_code_and_kill_9_resume(tmp_path):
    src = _copy_calls(tmp_path, 3)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pipeline.cli", "analyze", str(src), "--out", str(out),
           "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True)
    def finished() -> list[Path]:
        # a call's JSON once renamed into place; ".tmp-*.json" is a write still under way
        return [p for p in (out / "calls").glob("*.json") if not p.name.startswith(".tmp-")]

    deadline = time.time() + 300
    while time.time() < deadline and not finished():
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in finished()}
    assert 1 <= len(done_before) < 3
    for p in finished():
        json.loads(p.read_text())  # every JSON present is complete
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = _rows(out)
    assert sorted(r["file"] for r in rows) == sorted(p.name for p in src.iterdir())
    assert f"{len(done_before)} already done" in result.stderr
    assert not list(out.rglob(".tmp-*"))  # leftovers of the killed run are cleaned up
    # a failing call makes the exit code non-zero
    (src / "broken.wav").write_text("not audio")
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "3 already done" in result.stderr


@pytest.mark.models
def test_dask_executor_gives_the_same_results_as_the_local_one(tmp_path):
    from distributed import LocalCluster

    src = _copy_calls(tmp_path, 2)
    (src / "broken.wav").write_text("not audio")
    local = run_batch(src, tmp_path / "local", quiet=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        remote = run_batch(src, tmp_path / "dask", quiet=True, executor="dask",
                           scheduler=cluster.scheduler_address)
    assert (remote.n_files, remote.n_done, remote.n_failed) == (3, 3, 1)
    assert (local.n_files, local.n_done, local.n_failed) == (3, 3, 1)
    assert _rows(tmp_path / "dask") == _rows(tmp_path / "local")  # the same decisions
    # Dask pins its workers' BLAS to one thread (OMP/MKL/OPENBLAS_NUM_THREADS=1), which can
    # move a float sum in the last bits, so times are compared to 0.05 s
    for path in src.iterdir():
        a, b = (json.loads((tmp_path / o / "calls" / f"{path.name}.json").read_text())
                for o in ("local", "dask"))
        assert a["key"] == b["key"]
        assert _close(a.get("verdicts"), b.get("verdicts"))
        assert _close(a.get("roles"), b.get("roles"))


def _close(a, b, tol: float = 0.05) -> bool:
    """Equal structures (dicts, lists), floats within ``tol``, everything else equal."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    return a == b


@pytest.mark.models
def test_a_decode_cache_gives_the_same_results_and_decodes_nothing_twice(tmp_path):
    """Run again with the same cache (another output folder, so nothing is skipped), the call
    is analysed anew from cached decodes: the same rows, and no decode is added."""
    src = _copy_calls(tmp_path, 1)
    cache = tmp_path / "cache"
    run_batch(src, tmp_path / "plain", quiet=True)
    first = run_batch(src, tmp_path / "a", quiet=True, decode_cache=cache)
    entries = sorted(p.name for p in cache.rglob("*.pkl"))
    assert first.n_done == 1 and entries  # decodes and the diarization were kept
    again = run_batch(src, tmp_path / "b", quiet=True, decode_cache=cache)
    assert again.n_done == 1 and again.n_skipped == 0
    assert sorted(p.name for p in cache.rglob("*.pkl")) == entries
    assert _rows(tmp_path / "b") == _rows(tmp_path / "a") == _rows(tmp_path / "plain")
