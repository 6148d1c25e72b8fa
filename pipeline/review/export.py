"""``results_reviewed.csv``: the batch's ``results.csv`` with the QA verdicts beside it.

Columns: the batch's ``RESULT_COLUMNS`` (the machine's values, unchanged), then for each
reviewable decision ``<decision>_reviewed`` (the newest human verdict; empty where nobody
reviewed it, ``none`` where a reviewer said there is none), then ``reviewed_by`` (the
reviewers of those verdicts, ``; ``-separated) and ``reviewed_at`` (the newest of them, UTC,
ISO 8601). Rows follow ``results.csv``'s order; calls only in the store come after, sorted.

``pseudonymise`` is for sharing results outside the QA team: agent names are employees' names,
so ``agent_first`` / ``agent_last`` (machine and reviewed) become stable pseudonyms
(``agent-1``, ``agent-2``, ...; the same name, ignoring case and spacing, gets the same
pseudonym everywhere in one export). Evidence text and review comments are never exported:
the other columns, including what caller and agent say of recording (``agent_knows_recording``,
``notice_contradicted``, ``notice_purpose``, ``caller_announced_recording``,
``agent_objected`` and their ``_reviewed``), hold only values from fixed vocabularies, so
nobody's words leave through them.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from pipeline.runs import store
from pipeline.runs.batch import RESULT_COLUMNS, atomic_write, result_row


def stored_row(call: store.CallRow) -> dict[str, str]:
    """The ``results.csv`` row of a call whose JSON is missing or of another run: only the
    facts of the store's ``calls`` row, no decisions."""
    empty = {k: "" for k in RESULT_COLUMNS}
    return {**empty, "file": call.file, "error": call.error or "",
            "duration_s": "" if call.duration_s is None else f"{call.duration_s:.2f}"}

NAME_COLUMNS = ("agent_first", "agent_last", "agent_first_reviewed", "agent_last_reviewed")
REVIEWED_COLUMNS = tuple(f"{d}_reviewed" for d in store.REVIEWABLE) + ("reviewed_by",
                                                                        "reviewed_at")
EXPORT_COLUMNS = tuple(RESULT_COLUMNS) + REVIEWED_COLUMNS


class Pseudonyms:
    """Stable pseudonyms for names within one export: the first name seen is ``agent-1``."""

    def __init__(self, prefix: str = "agent"):
        self.prefix = prefix
        self.names: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if not name or name == "none":
            return name
        key = " ".join(name.casefold().split())
        if key not in self.names:
            self.names[key] = f"{self.prefix}-{len(self.names) + 1}"
        return self.names[key]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _order(out: Path, files: list[str]) -> list[str]:
    ordered: list[str] = []
    try:
        with (out / "results.csv").open(newline="", encoding="utf-8") as f:
            ordered = [r["file"] for r in csv.DictReader(f) if r.get("file") in files]
    except (OSError, csv.Error, KeyError):
        pass
    seen = set(ordered)
    return list(dict.fromkeys(ordered)) + sorted(f for f in files if f not in seen)


def export_rows(out: str | Path, pseudonymise: bool = False) -> list[dict[str, str]]:
    """The rows of the export (see the module docstring)."""
    out = Path(out)
    path = out / store.STORE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {store.STORE_NAME} in {out} (run `callcheck analyze`)")
    conn = store.connect(path)
    try:
        calls = {c.file: c for c in store.call_rows(conn)}
        latest = store.reviews_by_file(conn)
    finally:
        conn.close()
    names = Pseudonyms()
    rows = []
    for file in _order(out, list(calls)):
        c = calls[file]
        result = store.load_result(out, file)
        if result is None or result.key != c.key:  # no JSON (unsafe name) or stale
            row = stored_row(c)
        else:
            row = result_row(result)
        reviews = latest.get(file, {})
        for d in store.REVIEWABLE:
            r = reviews.get(d)
            row[f"{d}_reviewed"] = "" if r is None else (
                "none" if r["human_value"] is None else r["human_value"])
        row["reviewed_by"] = "; ".join(sorted({r["reviewer"] for r in reviews.values()}))
        row["reviewed_at"] = _iso(max(r["created_at"] for r in reviews.values())) \
            if reviews else ""
        if pseudonymise:
            for col in NAME_COLUMNS:
                row[col] = names(row[col])
        rows.append({k: row.get(k, "") for k in EXPORT_COLUMNS})
    return rows


def export_csv(out: str | Path, pseudonymise: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(out, pseudonymise))
    return buf.getvalue()


def write_export(out: str | Path, output: Path | None = None, pseudonymise: bool = False
                 ) -> Path:
    """Write the export (default ``OUT/results_reviewed.csv``) atomically; -> its path."""
    out = Path(out)
    target = Path(output) if output is not None else out / "results_reviewed.csv"
    atomic_write(target, export_csv(out, pseudonymise))
    return target
