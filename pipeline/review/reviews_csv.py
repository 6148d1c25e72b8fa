"""The audit trail as CSV: reviews made in a spreadsheet come in, every review goes out.

One review a row, after a header line: ``file,decision,value,reviewer,comment`` and, optionally,
``reviewed_at`` (ISO 8601, e.g. ``2025-03-01T14:05:00Z``; a time without a zone is UTC; without
the column or the value: the time of the import). ``value`` is the reviewer's verdict, as typed
in the app's *override* box (``none`` where there is none); a value the machine also has is a
confirmation. A file that Excel wrote with ``;`` between the fields is read too.

``import_reviews`` appends through the app's own validation (``reviews.validate_*``,
``check_fits_call``, ``append_review``; ``source`` = ``import``), in one transaction: each row
that is refused (unknown file or decision, a value outside the allowed list, no reviewer, a
time in the future or before the newest stored review of that decision, which would put the
trail out of time order) is reported with its line, and if any is, nothing is imported.

``export_reviews`` writes every review of the trail in the same format, oldest first, so
the newest row of a (file, decision) is the verdict that counts; importing it into a store of
the same calls gives the same trail (times to the second).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pipeline.review.reviews import (
    NONE_WORDS,
    ReviewInputError,
    append_review,
    check_fits_call,
    same_value,
    validate_comment,
    validate_reviewer,
    validate_value,
)
from pipeline.runs import store

COLUMNS = ("file", "decision", "value", "reviewer", "comment", "reviewed_at")
REQUIRED = ("file", "decision", "value", "reviewer")
FUTURE_SLACK_S = 300.0  # seconds a reviewed_at may lie ahead of this machine's clock


@dataclass(frozen=True)
class RefusedRow:
    line: int  # where the row starts in the file (the header is line 1)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ReviewImportError(Exception):
    """The file was refused; nothing of it was imported. ``refused``: every reason, by line."""

    def __init__(self, refused: list[RefusedRow], n_rows: int = 0):
        self.refused = refused
        self.n_rows = n_rows  # data rows read (0 when the file itself was unreadable)
        super().__init__("; ".join(map(str, refused[:5]))
                         + (f" (and {len(refused) - 5} more)" if len(refused) > 5 else ""))


@dataclass(frozen=True)
class ImportSummary:
    n_rows: int  # reviews appended
    n_confirm: int
    n_override: int
    ids: tuple[int, ...]  # their ids in the ``reviews`` table, in file order


@dataclass(frozen=True)
class _Pending:
    file: str
    decision: str
    machine: str | None
    human: str | None
    action: str
    comment: str
    reviewer: str
    created_at: float


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_time(raw: str) -> float:
    """ISO 8601 -> Unix seconds; no zone means UTC. Raises ReviewInputError."""
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise ReviewInputError(f"reviewed_at: {raw!r} is not an ISO 8601 time "
                               "(e.g. 2025-03-01T14:05:00Z)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """``(line, {column: cell})`` of each non-blank data row; raises ReviewImportError for a
    header without the required columns, or with unknown or repeated ones."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ReviewImportError([RefusedRow(1, "empty file: expected a header line "
                                            f"{','.join(COLUMNS)}")]) from None
    problems = []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(map(repr, unknown))} (expected "
                        f"{', '.join(COLUMNS)})")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        problems.append(f"column(s) {', '.join(repeated)} given twice")
    if problems:
        raise ReviewImportError([RefusedRow(1, "; ".join(problems))])
    rows = []
    line = reader.line_num + 1  # where the next record starts
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # a blank line or a spreadsheet's empty row
            if len(cells) > len(header):
                rows.append((start, {"": f"{len(cells)} fields, the header has "
                                         f"{len(header)}"}))
                continue
            rows.append((start, dict(zip(header, cells + [""] * (len(header) - len(cells)),
                                         strict=True))))
    except csv.Error as e:
        raise ReviewImportError([RefusedRow(reader.line_num, f"not readable as CSV: {e}")],
                                len(rows)) from e
    return rows


def _check(row: dict[str, str], calls: dict[str, Any], machine: dict[str, dict[str, Any]],
           now: float) -> tuple[_Pending | None, list[str]]:
    """One row -> the review to append, or the reasons it is refused (all of them)."""
    if "" in row:
        return None, [row[""]]
    reasons: list[str] = []

    def attempt(f, *args):
        try:
            return f(*args)
        except ReviewInputError as e:
            reasons.append(str(e))
            return None

    file = row["file"]
    call = calls.get(file)
    if call is None:
        reasons.append(f"unknown file {file[:200]!r}" if file.strip() else "file: required")
    decision = row["decision"].strip()
    if decision not in store.REVIEWABLE:
        reasons.append(f"{decision[:60]!r} is not a reviewable decision" if decision
                       else "decision: required")
    reviewer = attempt(validate_reviewer, row["reviewer"])
    comment = attempt(validate_comment, row.get("comment", ""))
    created = now
    if row.get("reviewed_at", "").strip():
        created = attempt(parse_time, row["reviewed_at"].strip())
        if created is not None and created > now + FUTURE_SLACK_S:
            reasons.append(f"reviewed_at {row['reviewed_at'].strip()} is in the future")
    if decision not in store.REVIEWABLE:
        return None, reasons
    m = machine.get(file, {}).get(decision)
    raw = row["value"]
    if m is None and raw.strip().lower() in NONE_WORDS:
        human: str | None = None  # confirms the machine's "none" (also where no value fits)
    else:
        try:
            human = validate_value(decision, raw)
        except ReviewInputError as e:
            return None, [*reasons, str(e)]
    if call is not None:
        attempt(check_fits_call, call, decision, human)
    if reasons:
        return None, reasons
    action = "confirm" if same_value(decision, human, m) else "override"
    return _Pending(file, decision, m, m if action == "confirm" else human, action, comment,
                    reviewer, created), []


def import_reviews(conn, text: str, now: float | None = None) -> ImportSummary:
    """Append the reviews of a CSV (see the module docstring), all or none. Raises
    :class:`ReviewImportError` with every refused row."""
    now = time.time() if now is None else now
    rows = read_rows(text)
    with store.transaction(conn):
        calls = {c.file: c for c in store.call_rows(conn)}
        machine: dict[str, dict[str, Any]] = {}
        for r in conn.execute("SELECT file, name, value FROM decisions"):
            machine.setdefault(r["file"], {})[r["name"]] = r["value"]
        newest = store.latest_reviews(conn)
        last_time = {k: r["created_at"] for k, r in newest.items()}
        last_who = {k: f"#{r['id']} by {r['reviewer']}" for k, r in newest.items()}
        refused: list[RefusedRow] = []
        pending: list[_Pending] = []
        for line, row in rows:
            item, reasons = _check(row, calls, machine, now)
            if item is not None:
                key = (item.file, item.decision)
                # the trail stays in time order: the newest row is the verdict that counts
                if key in last_time and int(item.created_at) < int(last_time[key]):
                    reasons = [f"reviewed_at {_iso(item.created_at)} is before the newest "
                               f"review of {item.decision} ({last_who[key]} at "
                               f"{_iso(last_time[key])}); leave reviewed_at empty to record "
                               "it as reviewed now"]
                else:
                    last_time[key], last_who[key] = item.created_at, f"line {line}"
                    pending.append(item)
            if reasons:
                refused.append(RefusedRow(line, "; ".join(reasons)))
        if refused:
            raise ReviewImportError(refused, len(rows))
        last_id = {k: r["id"] for k, r in newest.items()}
        ids = []
        for p in pending:
            key = (p.file, p.decision)
            last_id[key] = append_review(conn, p.file, p.decision, p.machine, p.human, p.action,
                                         p.comment, p.reviewer, p.created_at,
                                         last_id.get(key), source="import")
            ids.append(last_id[key])
    n_confirm = sum(p.action == "confirm" for p in pending)
    return ImportSummary(len(pending), n_confirm, len(pending) - n_confirm, tuple(ids))


def read_text(path: str | Path) -> str:
    """A CSV file's text (UTF-8, with or without Excel's byte-order mark); raises
    ReviewImportError, with the line, for bytes that are not UTF-8."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ReviewImportError([RefusedRow(line, "not UTF-8 text (save the sheet as "
                                            "CSV UTF-8)")]) from e


def export_rows(conn) -> Iterator[dict[str, str]]:
    """Every review in the trail, oldest first, in the import format."""
    for r in conn.execute("SELECT file, decision, human_value, reviewer, comment, created_at "
                          "FROM reviews ORDER BY id"):
        yield {"file": r["file"], "decision": r["decision"],
               "value": "none" if r["human_value"] is None else r["human_value"],
               "reviewer": r["reviewer"], "comment": r["comment"],
               "reviewed_at": _iso(r["created_at"])}


def export_reviews(conn, f: TextIO) -> int:
    """Write the trail as CSV to ``f``. -> the number of reviews."""
    writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in export_rows(conn):
        writer.writerow(row)
        n += 1
    return n
