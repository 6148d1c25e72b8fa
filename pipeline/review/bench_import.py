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
from typing import Any

from pipeline.review.reviews_csv import export_reviews, import_reviews, read_text
from pipeline.runs import store

# (decision, reviewer's value) pairs the rows cycle through; machine values are in _result
VALUES = (
    ("notice_before_agent", "no"), ("notice_before_agent", "yes"),
    ("agent_name", "full"), ("agent_name", "first"),
    ("agent_first", "Joyce"), ("agent_last", "de Vries"),
    ("agent_start_s", "3.25"), ("notice_purpose", "training; quality"),
    ("agent_objected", "none"), ("agent_knows_recording", "no"),
)


def _result(i: int) -> dict[str, Any]:
    """A per-call result of the batch's shape, small but complete."""
    file = f"batch/{i // 500:02d}/call {i:05d}.wav"
    words = [{"start": 3.0 + 0.4 * k, "end": 3.38 + 0.4 * k, "text": w, "probability": 0.8}
             for k, w in enumerate("gemeente Tilburg goedemiddag met Joyce".split())]
    return {
        "schema_version": "1.0", "file": file, "key": f"k{i}", "error": None,
        "error_code": None, "audio": {"duration_s": 60.0, "sample_rate": 8000, "channels": 1},
        "roles": {"agent_start_s": 3.0, "agent_start_confidence": 0.9, "turns": [
            {"start": 0.5, "end": 2.5, "role": "IVR", "speaker": "S0", "channel": None},
            {"start": 3.0, "end": 9.0, "role": "AGENT", "speaker": "S1", "channel": None}]},
        "transcript": {"segments": [{"start": 3.0, "end": 5.0, "channel": None, "words": words,
                                     "text": "gemeente Tilburg, goedemiddag met Joyce."}]},
        "verdicts": {
            "notice_before_agent": "yes", "notice_by_agent": "no", "notice_source": "ivr",
            "agent_name": "first", "agent_first": "joyce", "agent_last": None,
            "organisation_named": "yes", "greeting": "goedemiddag", "agent_start_s": 3.0,
            "agent_start_confidence": 0.9, "needs_review": i % 5 == 0,
            "review_reasons": ["x"] if i % 5 == 0 else [],
            "agent_knows_recording": "not_asked", "notice_contradicted": "no",
            "notice_purpose": "training", "caller_announced_recording": "no",
            "agent_objected": None,
            "notice_evidence": [{"text": "dit gesprek wordt opgenomen", "start": 0.6,
                                 "end": 2.0, "role": "IVR", "confidence": 0.9}],
            "name_evidence": [{"text": "joyce", "start": 4.6, "end": 5.0, "role": "AGENT",
                               "confidence": 0.9}],
        },
    }


def build(folder: Path, n_calls: int, n_rows: int) -> tuple[Path, Path]:
    """-> (OUT with results.sqlite, the CSV of reviews)."""
    out = folder / "out"
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    files = []
    for i in range(n_calls):
        r = _result(i)
        store.put_call(conn, r)
        files.append(r["file"])
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
