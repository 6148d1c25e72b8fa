"""How long ``callcheck reviews import`` takes for a large spreadsheet (target: 10,000 rows in
under 10 s on 2 cores), and ``reviews export`` beside it.

    python -m pipeline.review.bench_import [--rows 10000] [--calls 2000] [--cores 2]

Builds a throw-away output folder of ``--calls`` synthetic calls (every decision set, as the
batch stores them), writes a CSV of ``--rows`` reviews over them (a mix of confirmations and
overrides of every kind of decision, comments, ``reviewed_at`` times), pins itself to
``--cores`` CPUs, and times, on a fresh copy of the store each time: the import in-process
(read, validate, append in one transaction; best and median of ``--repeat``), the whole
``callcheck reviews import`` command as a process (interpreter start and imports included),
and the export. Prints JSON. Nothing here is a model: it needs no GPU and no download.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.review.reviews_csv import export_reviews, import_reviews, read_text
from pipeline.runs import store
from pipeline.types import (
    AudioInfo,
    CallResult,
    Evidence,
    ModelInfo,
    Role,
    RoleTimeline,
    Segment,
    Transcript,
    Turn,
    Verdicts,
    Word,
)

# (decision, reviewer's value) pairs the rows cycle through; machine values are in _result
VALUES = (
    ("notice_before_agent", "no"), ("notice_before_agent", "yes"),
    ("agent_name", "full"), ("agent_name", "first"),
    ("agent_first", "Joyce"), ("agent_last", "de Vries"),
    ("agent_start_s", "3.25"), ("notice_purpose", "training; quality"),
    ("agent_objected", "none"), ("agent_knows_recording", "no"),
)


def _result(i: int) -> CallResult:
    """A per-call result of the batch's shape, small but complete."""
    file = f"batch/{i // 500:02d}/call {i:05d}.wav"
    words = tuple(Word(3.0 + 0.4 * k, 3.38 + 0.4 * k, w, 0.8)
                  for k, w in enumerate("gemeente Tilburg goedemiddag met Joyce".split()))
    return CallResult(
        file=file, key=f"k{i}",
        audio=AudioInfo(file, 60.0, 8000, 1, "pcm_s16le", "wav", "0" * 64),
        timeline=RoleTimeline(
            turns=(Turn(0.5, 2.5, Role.IVR, "S0"), Turn(3.0, 9.0, Role.AGENT, "S1")),
            duration_s=60.0, agent_start_s=3.0, agent_start_confidence=0.9),
        transcript=Transcript((Segment(3.0, 5.0, "gemeente Tilburg, goedemiddag met Joyce.",
                                       words),), "nl", 60.0, ModelInfo("bench", None, "none")),
        verdicts=Verdicts(
            notice_before_agent="yes", notice_by_agent="no", notice_source="ivr",
            agent_name="first", agent_first="joyce", agent_last=None,
            organisation_named="yes", organisation=None, greeting="goedemiddag",
            agent_start_s=3.0, agent_start_confidence=0.9,
            notice_evidence=(Evidence("dit gesprek wordt opgenomen", 0.6, 2.0, Role.IVR, 0.9),),
            name_evidence=(Evidence("joyce", 4.6, 5.0, Role.AGENT, 0.9),),
            opening_text="gemeente Tilburg, goedemiddag met Joyce.", needs_review=i % 5 == 0,
            review_reasons=("x",) if i % 5 == 0 else (), notice_purpose="training"))


def build(folder: Path, n_calls: int, n_rows: int) -> tuple[Path, Path]:
    """-> (OUT with results.sqlite, the CSV of reviews)."""
    out = folder / "out"
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    files = []
    for i in range(n_calls):
        r = _result(i)
        store.put_call(conn, r)
        files.append(r.file)
    conn.close()
    path = folder / "reviews.csv"
    t0 = time.time() - 30 * 86400
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "decision", "value", "reviewer", "comment", "reviewed_at"])
        for k in range(n_rows):
            decision, value = VALUES[k % len(VALUES)]
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + k))
            w.writerow([files[(k // len(VALUES)) % n_calls], decision, value,
                        f"Reviewer {k % 7}", "checked the opening" if k % 3 == 0 else "",
                        when])
    return out, path


def _fresh(out: Path, folder: Path, k: int) -> Path:
    copy = folder / f"run{k}"
    copy.mkdir()
    shutil.copy(out / store.STORE_NAME, copy / store.STORE_NAME)
    return copy


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000, help="review rows in the CSV")
    ap.add_argument("--calls", type=int, default=2_000, help="calls in the store")
    ap.add_argument("--cores", type=int, default=2, help="CPUs to pin to (0: no pinning)")
    ap.add_argument("--repeat", type=int, default=3, help="in-process imports to time")
    args = ap.parse_args(argv)
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    with tempfile.TemporaryDirectory(prefix="callcheck-bench-import-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        out, path = build(folder, args.calls, args.rows)
        build_s = time.perf_counter() - t
        times = []
        for k in range(args.repeat):
            copy = _fresh(out, folder, k)
            conn = store.connect(copy / store.STORE_NAME)
            t = time.perf_counter()
            summary = import_reviews(conn, read_text(path))
            times.append(time.perf_counter() - t)
            conn.close()
            assert summary.n_rows == args.rows, summary
        copy = _fresh(out, folder, args.repeat)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "reviews", "import",
                               str(copy), str(path)], capture_output=True, text=True)
        cli_s = time.perf_counter() - t
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        conn = store.connect(copy / store.STORE_NAME)
        t = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            n_export = export_reviews(conn, sink)
        export_s = time.perf_counter() - t
        conn.close()
    print(json.dumps({
        "rows": args.rows, "calls": args.calls,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "import_s": {"best": round(min(times), 3), "median": round(statistics.median(times), 3),
                     "runs": [round(x, 3) for x in times]},
        "rows_per_s": round(args.rows / min(times)),
        "cli_import_s": round(cli_s, 3), "export_s": round(export_s, 3),
        "exported": n_export, "setup_s": round(build_s, 1),
        "target_met": cli_s < 10.0,
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
