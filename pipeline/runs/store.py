"""``results.sqlite``: the batch results as tables, and the QA reviews beside them.

Tables (one row per input file in ``calls``; the others reference ``calls.file``):

* ``calls``      file, key, status (ok/error), error, error_code, audio facts, agent start,
                 needs_review, review_reasons, the per-call JSON path, updated_at;
* ``turns``      the role timeline (start, end seconds; role; speaker; channel);
* ``segments``   the transcript (start, end, text, channel, mean word probability);
* ``decisions``  one row per decision (name, machine value, confidence);
* ``evidence``   what the decisions rest on, by kind (``EVIDENCE_KINDS``: notice, name,
                 question, purpose, caller_notice; text, start, end, role, confidence, detail);
* ``metadata``   the ``--metadata`` CSV columns as (file, column, value);
* ``reviews``    QA verdicts (append-only audit trail; see ``pipeline.review``), with where
                 each came from (``source``: the app or a CSV import);
* ``audit_runs``, ``audit``, ``audit_strata``  the audit sample of unflagged calls
                 (``callcheck audit``, ``pipeline.review.audit``): each draw with its rate,
                 seed, stratifying column and time; the calls it drew, by stratum; and per
                 stratum how many unflagged calls there were to draw from.

The machine tables are rewritten per call from its JSON (the JSON files stay the source of
truth); ``reviews`` and the audit tables are never touched by the batch, so re-running an
analysis keeps every human verdict and the audit sample. A store of an older version is
migrated in place when opened with ``create=True``. Writes are transactions, and the file uses WAL so the review app can read
while a batch writes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.files import OutputPathError, output_path
from pipeline.types import (  # DECISIONS, DIALOGUE_DECISIONS: the store's readers' names
    DECISIONS,  # noqa: F401
    DIALOGUE_DECISIONS,  # noqa: F401
    EVIDENCE_KINDS,
    KNOWS_VALUES,
    NAME_CATEGORIES,
    NOTICE_SOURCES,
    OBJECTED_VALUES,
    PURPOSE_VALUES,
    PURPOSES,
    YES_NO,
    CallResult,
    Evidence,
    ReviewReason,
    Role,
    Segment,
    Turn,
    Verdicts,
    parse_reasons,
)

STORE_NAME = "results.sqlite"
# --metadata columns that name the organisation called (the municipality)
ORGANISATION_COLUMNS = ("organisation", "organization", "municipality", "gemeente")
STORE_VERSION = 2  # 2: reviews.source, the audit tables

# the decisions (``DECISIONS``; the ``DIALOGUE_DECISIONS`` absent from older results) and the
# kinds of evidence (the ``evidence`` table's ``decision`` column, ``EVIDENCE_KINDS``) are
# those of the result schema (``pipeline.types``)
# which kind of evidence each decision rests on
DECISION_EVIDENCE = {
    "notice_before_agent": "notice", "notice_by_agent": "notice", "notice_source": "notice",
    "agent_name": "name", "agent_first": "name", "agent_last": "name",
    "agent_knows_recording": "question", "notice_contradicted": "question",
    "notice_purpose": "purpose",
    "caller_announced_recording": "caller_notice", "agent_objected": "caller_notice",
}
NONE_WORDS = ("", "none", "-")  # a reviewer's value that means "there is none"


def canonical_purpose(raw: str) -> str:
    """A ``notice_purpose`` value in its stored form: a ``;``-joined subset of
    ``types.PURPOSES`` (any order and spacing in, ``PURPOSES`` order out, no repeats), or
    ``none_stated`` or ``no_notice`` alone. Raises ``ValueError`` for anything else."""
    parts = {p.strip().lower() for p in raw.split(";")} - {""}
    if not parts:
        raise ValueError("empty; give purposes joined by ';', none_stated or no_notice")
    unknown = sorted(parts - set(PURPOSE_VALUES))
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))} is not one of "
                         f"{', '.join(PURPOSE_VALUES)}")
    if len(parts) > 1 and parts - set(PURPOSES):
        raise ValueError("none_stated and no_notice stand alone, not with purposes")
    return ";".join(p for p in PURPOSE_VALUES if p in parts)


def optional_objection(raw: str) -> str | None:
    """An ``agent_objected`` value: yes / no / unclear, or None (empty, ``none``, ``-``: the
    caller did not announce a recording). Raises ``ValueError`` for anything else."""
    value = raw.strip().lower()
    if value in NONE_WORDS:
        return None
    if value not in OBJECTED_VALUES:
        raise ValueError(f"{raw!r} is not one of {', '.join(OBJECTED_VALUES)} or none")
    return value


# decisions a reviewer can confirm or override, with the values the review form offers
# (None: free text)
REVIEWABLE: dict[str, tuple[str, ...] | None] = {
    "notice_before_agent": YES_NO,
    "notice_by_agent": YES_NO,
    "notice_source": NOTICE_SOURCES,
    "agent_name": NAME_CATEGORIES,
    "agent_first": None,
    "agent_last": None,
    "agent_start_s": None,
    "agent_knows_recording": KNOWS_VALUES,
    "notice_contradicted": YES_NO,
    "notice_purpose": PURPOSE_VALUES,  # offered one by one; a subset of PURPOSES may be joined
    "caller_announced_recording": YES_NO,
    "agent_objected": ("none", *OBJECTED_VALUES),
}
# decisions whose reviewed value is not simply one of the values offered: the reviewer's text
# -> the stored value (None: there is none); a ValueError says why the text is refused
REVIEW_VALIDATORS: dict[str, Callable[[str], str | None]] = {
    "notice_purpose": canonical_purpose,
    "agent_objected": optional_objection,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    file TEXT PRIMARY KEY,
    key TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error TEXT,
    error_code TEXT,
    duration_s REAL,
    sample_rate INTEGER,
    channels INTEGER,
    agent_start_s REAL,
    agent_start_confidence REAL,
    needs_review INTEGER,
    review_reasons TEXT,
    json_path TEXT,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    file TEXT NOT NULL REFERENCES calls(file) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    role TEXT NOT NULL,
    speaker TEXT,
    channel INTEGER,
    PRIMARY KEY (file, idx)
);
CREATE TABLE IF NOT EXISTS segments (
    file TEXT NOT NULL REFERENCES calls(file) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start REAL NOT NULL,
    "end" REAL NOT NULL,
    text TEXT NOT NULL,
    channel INTEGER,
    avg_probability REAL,
    PRIMARY KEY (file, idx)
);
CREATE TABLE IF NOT EXISTS decisions (
    file TEXT NOT NULL REFERENCES calls(file) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT,
    confidence REAL,
    PRIMARY KEY (file, name)
);
CREATE TABLE IF NOT EXISTS evidence (
    file TEXT NOT NULL REFERENCES calls(file) ON DELETE CASCADE,
    decision TEXT NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    start REAL,
    "end" REAL,
    role TEXT,
    confidence REAL,
    asr_confidence REAL,
    detail TEXT,
    PRIMARY KEY (file, decision, idx)
);
CREATE TABLE IF NOT EXISTS metadata (
    file TEXT NOT NULL,
    "column" TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (file, "column")
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    decision TEXT NOT NULL,
    machine_value TEXT,
    human_value TEXT,
    action TEXT NOT NULL CHECK (action IN ('confirm', 'override')),
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL,
    created_at REAL NOT NULL,
    supersedes INTEGER REFERENCES reviews(id),
    source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'import'))
);
CREATE INDEX IF NOT EXISTS reviews_by_call ON reviews(file, decision, id);
CREATE TABLE IF NOT EXISTS audit_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL CHECK (action IN ('draw', 'add', 'redraw')),
    rate REAL NOT NULL,
    seed INTEGER NOT NULL,
    by_column TEXT,
    drawn_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_strata (
    run INTEGER NOT NULL REFERENCES audit_runs(id),
    stratum TEXT NOT NULL,
    n_unflagged INTEGER NOT NULL,
    n_drawn INTEGER NOT NULL,
    PRIMARY KEY (run, stratum)
);
CREATE TABLE IF NOT EXISTS audit (
    run INTEGER NOT NULL REFERENCES audit_runs(id),
    file TEXT NOT NULL,
    stratum TEXT NOT NULL,
    seed INTEGER NOT NULL,
    rate REAL NOT NULL,
    drawn_at REAL NOT NULL,
    PRIMARY KEY (run, file)
);
"""
# ``audit.file`` has no foreign key on ``calls``: ``put_call`` deletes and re-inserts a call's
# row, and a cascade would drop the call from the sample. ``stratum`` is the value of the
# stratifying metadata column ('' for none, or when not stratified).


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older store up to ``STORE_VERSION`` (inside the schema transaction; the new
    tables come from ``SCHEMA``'s ``IF NOT EXISTS``)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(reviews)")}
    if "source" not in columns:  # version 1
        conn.execute("ALTER TABLE reviews ADD COLUMN source TEXT NOT NULL DEFAULT 'app' "
                     "CHECK (source IN ('app', 'import'))")


def connect(path: str | Path, *, create: bool = True,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """Open a results store; ``create``: also create or migrate its tables (the batch does;
    a reader of an existing store, such as one request of the review app, need not)."""
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None,
                           check_same_thread=check_same_thread)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    if create:
        conn.execute("PRAGMA journal_mode=WAL")
        with transaction(conn):
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            _migrate(conn)
            conn.execute("INSERT OR REPLACE INTO store_info VALUES ('version', ?)",
                         (str(STORE_VERSION),))
    return conn


class transaction:
    """``with transaction(conn):`` BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def set_info(conn: sqlite3.Connection, **values: Any) -> None:
    """Record facts about the run (``input_root``, ``updated_at``, ...) in ``store_info``."""
    with transaction(conn):
        conn.executemany("INSERT OR REPLACE INTO store_info VALUES (?, ?)",
                         [(k, str(v)) for k, v in values.items()])


def get_info(conn: sqlite3.Connection) -> dict[str, str]:
    return {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM store_info")}


def _decision_confidence(name: str, v: Verdicts) -> float | None:
    """The rule confidence of a decision: that of its best evidence where any one item
    suffices (notices, names, purposes, the caller's own notice); that of its weakest where
    it needs all (a question and its answer, an announcement and the response to it); None
    without evidence."""
    if name == "agent_start_s":
        return v.agent_start_confidence
    kind = DECISION_EVIDENCE.get(name)
    if kind is None:
        return None
    ev = getattr(v, EVIDENCE_KINDS[kind])
    confidences = [e.confidence or 0.0 for e in ev]
    if name == "caller_announced_recording":
        confidences = [e.confidence or 0.0 for e in ev if e.role == Role.CALLER]
    elif name == "agent_objected" and v.agent_objected is None:
        return None  # nothing announced, nothing to object to
    if name in ("agent_knows_recording", "notice_contradicted", "agent_objected"):
        return min(confidences, default=None)
    return max(confidences, default=None)


def put_call(conn: sqlite3.Connection, result: CallResult,
             json_path: str | None = None) -> None:
    """Insert or replace one call's machine results (one transaction)."""
    file, audio, tl, v = result.file, result.audio, result.timeline, result.verdicts
    with transaction(conn):
        conn.execute("DELETE FROM calls WHERE file = ?", (file,))  # cascades
        conn.execute(
            "INSERT INTO calls VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (file, result.key, "error" if result.error else "ok", result.error,
             result.error_code, audio.duration_s if audio else None,
             audio.sample_rate if audio else None, audio.channels if audio else None,
             result.agent_start_s, tl.agent_start_confidence if tl else None,
             None if v is None else int(bool(v.needs_review)),
             ";".join(v.review_reasons) if v else "", json_path, time.time()))
        conn.executemany(
            'INSERT INTO turns VALUES (?,?,?,?,?,?,?)',
            [(file, i, t.start, t.end, t.role, t.speaker, t.channel)
             for i, t in enumerate(tl.turns if tl else ())])
        seg_rows = []
        for i, s in enumerate(result.transcript.segments if result.transcript else ()):
            probs = [w.probability for w in s.words]
            seg_rows.append((file, i, s.start, s.end, s.text.strip(), s.channel,
                             sum(probs) / len(probs) if probs else None))
        conn.executemany("INSERT INTO segments VALUES (?,?,?,?,?,?,?)", seg_rows)
        if v is not None:
            # a decision that an older result lacks gets no row (no machine value)
            conn.executemany(
                "INSERT INTO decisions VALUES (?,?,?,?)",
                [(file, name, None if value is None else str(value),
                  _decision_confidence(name, v)) for name, value in result.decisions().items()])
            for decision, items in result.evidence().items():
                conn.executemany(
                    "INSERT INTO evidence VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [(file, decision, i, e.text, e.start, e.end, e.role, e.confidence,
                      e.asr_confidence, e.detail) for i, e in enumerate(items)])


def put_metadata(conn: sqlite3.Connection, rows: Mapping[str, Mapping[str, str]]) -> None:
    """Replace the metadata of the given files (``{file: {column: value}}``)."""
    with transaction(conn):
        for file, cols in rows.items():
            conn.execute("DELETE FROM metadata WHERE file = ?", (file,))
            conn.executemany("INSERT INTO metadata VALUES (?,?,?)",
                             [(file, c, val) for c, val in cols.items() if c != "file"])


def prune(conn: sqlite3.Connection, keep: Iterable[str]) -> int:
    """Drop machine results of files not in ``keep`` (reviews stay). Returns how many."""
    keep = set(keep)
    gone = [r["file"] for r in conn.execute("SELECT file FROM calls") if r["file"] not in keep]
    with transaction(conn):
        conn.executemany("DELETE FROM calls WHERE file = ?", [(f,) for f in gone])
    return len(gone)


def load_result(out: str | Path, file: str) -> CallResult | None:
    """The result in the per-call JSON of ``file`` in the output folder; None where there is
    none, or it cannot be read (a schema this build does not read included)."""

    try:
        path = output_path(Path(out), file, ".json")
    except OutputPathError:
        return None
    try:
        return CallResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):  # SchemaError is a ValueError
        return None


@dataclass(frozen=True)
class CallRow:
    """One call as the ``calls`` table holds it."""

    file: str
    key: str | None  # the batch's resume key of the result it was written from
    status: str  # "ok" or "error"
    error: str | None
    error_code: str | None
    duration_s: float | None  # seconds of audio
    sample_rate: int | None  # Hz, as stored in the file
    channels: int | None
    agent_start_s: float | None  # seconds
    agent_start_confidence: float | None
    needs_review: bool | None  # None: no verdicts (the analysis failed)
    review_reasons: tuple[ReviewReason | str, ...]
    json_path: str | None  # the per-call JSON, relative to OUT
    updated_at: float  # Unix time, seconds

    @property
    def ok(self) -> bool:
        """Analysed without error (the call has decisions)."""
        return self.status == "ok"

    @classmethod
    def of(cls, row: sqlite3.Row) -> CallRow:
        return cls(row["file"], row["key"], row["status"], row["error"], row["error_code"],
                   row["duration_s"], row["sample_rate"], row["channels"], row["agent_start_s"],
                   row["agent_start_confidence"],
                   None if row["needs_review"] is None else bool(row["needs_review"]),
                   parse_reasons(row["review_reasons"]), row["json_path"], row["updated_at"])


def call_rows(conn: sqlite3.Connection, *, ok: bool = False) -> list[CallRow]:
    """The rows of ``calls`` in file order; ``ok``: only the calls analysed without error."""
    where = " WHERE status = 'ok'" if ok else ""
    return [CallRow.of(r) for r in conn.execute(f"SELECT * FROM calls{where} ORDER BY file")]


def call_row(conn: sqlite3.Connection, file: str) -> CallRow | None:
    """The ``calls`` row of ``file``, or None."""
    row = conn.execute("SELECT * FROM calls WHERE file = ?", (file,)).fetchone()
    return None if row is None else CallRow.of(row)


def turns_of(conn: sqlite3.Connection, file: str) -> list[Turn]:
    """The role timeline of ``file`` as stored, in time order."""
    return [Turn(r["start"], r["end"], Role(r["role"]), r["speaker"], r["channel"])
            for r in conn.execute('SELECT start, "end", role, speaker, channel FROM turns '
                                  "WHERE file = ? ORDER BY idx", (file,))]


def segments_of(conn: sqlite3.Connection, file: str) -> list[Segment]:
    """The transcript of ``file`` as stored (text stripped, without words), in order."""
    return [Segment(r["start"], r["end"], r["text"], channel=r["channel"])
            for r in conn.execute('SELECT start, "end", text, channel FROM segments '
                                  "WHERE file = ? ORDER BY idx", (file,))]


def evidence_of(conn: sqlite3.Connection, file: str) -> dict[str, list[Evidence]]:
    """The evidence of ``file`` by kind: every kind of ``EVIDENCE_KINDS`` (empty where there
    is none), in stored order."""
    evidence: dict[str, list[Evidence]] = {k: [] for k in EVIDENCE_KINDS}
    for r in conn.execute('SELECT decision, text, start, "end", role, confidence, '
                          "asr_confidence, detail FROM evidence WHERE file = ? "
                          "ORDER BY decision, idx", (file,)):
        evidence.setdefault(r["decision"], []).append(Evidence(
            r["text"], r["start"], r["end"], Role(r["role"]) if r["role"] else None,
            r["confidence"], r["asr_confidence"], r["detail"] or ""))
    return evidence


def latest_reviews(conn: sqlite3.Connection, file: str | None = None
                   ) -> dict[tuple[str, str], sqlite3.Row]:
    """The newest review of each (file, decision), optionally of one file."""
    sql = ("SELECT r.* FROM reviews r JOIN (SELECT file, decision, MAX(id) AS id FROM reviews "
           "{where} GROUP BY file, decision) m ON r.id = m.id")
    args: tuple[Any, ...] = ()
    where = ""
    if file is not None:
        where, args = "WHERE file = ?", (file,)
    return {(r["file"], r["decision"]): r for r in conn.execute(sql.format(where=where), args)}


def reviews_by_file(conn: sqlite3.Connection) -> dict[str, dict[str, sqlite3.Row]]:
    """``{file: {decision: newest review}}``."""
    grouped: dict[str, dict[str, sqlite3.Row]] = {}
    for (file, decision), r in latest_reviews(conn).items():
        grouped.setdefault(file, {})[decision] = r
    return grouped


def decision_table(conn: sqlite3.Connection) -> dict[str, dict[str, str | None]]:
    """``{file: {decision: value}}`` of the machine, for calls analysed without error."""
    table: dict[str, dict[str, str | None]] = {}
    for r in conn.execute("SELECT d.file, d.name, d.value FROM decisions d JOIN calls c "
                          "ON c.file = d.file WHERE c.status = 'ok'"):
        table.setdefault(r["file"], {})[r["name"]] = r["value"]
    return table


def effective_table(conn: sqlite3.Connection) -> dict[str, dict[str, str | None]]:
    """Like ``decision_table`` with the newest human verdict in place of the machine's."""
    table = decision_table(conn)
    for (file, decision), r in latest_reviews(conn).items():
        if file in table:
            table[file][decision] = r["human_value"]
    return table


def metadata_table(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """``{file: {column: value}}`` of the ``--metadata`` CSV."""
    table: dict[str, dict[str, str]] = {}
    for r in conn.execute('SELECT file, "column", value FROM metadata'):
        table.setdefault(r["file"], {})[r["column"]] = r["value"]
    return table


def same_value(decision: str, a: str | None, b: str | None) -> bool:
    """Whether two stored values of ``decision`` mean the same (``3.0`` == ``3``; names
    ignore case)."""
    if a is None or b is None:
        return a is None and b is None
    if decision == "agent_start_s":
        try:
            return abs(float(a) - float(b)) < 5e-4
        except ValueError:
            return a == b
    if REVIEWABLE.get(decision) is None:
        return a.casefold() == b.casefold()
    return a == b


# ------------------------------------------------------------------------------ audit sample

@dataclass(frozen=True)
class AuditRun:
    """One ``callcheck audit`` draw (a row of ``audit_runs``)."""

    id: int
    action: str  # "draw" (the first), "add" (more calls) or "redraw" (replaces the sample)
    rate: float  # fraction of each stratum's unflagged calls drawn, 0..1
    seed: int
    by: str | None  # the stratifying metadata column (None: one stratum, '')
    drawn_at: float  # Unix time, seconds


@dataclass(frozen=True)
class AuditStratum:
    """One stratum of the current audit sample."""

    n_unflagged: int  # unflagged calls analysed ok in the stratum at the latest draw
    n_sampled: int  # sampled calls of the stratum that are in the store, analysed ok
    n_unreviewed: int  # of those, calls without any review


@dataclass(frozen=True)
class AuditTally:
    """The audit sample's reviews of one decision (in one stratum, or over all)."""

    n_reviewed: int  # sampled calls with a review of the decision
    n_wrong: int  # of those, where the newest review's value differs from the machine's
    n_unreviewed: int  # sampled calls with a machine value for it and no review of it

    @property
    def error_rate(self) -> float | None:
        return self.n_wrong / self.n_reviewed if self.n_reviewed else None


@dataclass(frozen=True)
class AuditCounts:
    """What the audit sample says so far (``audit_counts``)."""

    runs: tuple[AuditRun, ...]  # the draws that make up the current sample, oldest first
    by: str | None  # the stratifying column of the sample
    strata: dict[str, AuditStratum]  # stratum -> counts ('' when not stratified)
    decisions: dict[str, AuditTally]  # reviewable decision -> tally over all strata
    by_stratum: dict[str, dict[str, AuditTally]]  # decision -> stratum -> tally

    @property
    def n_sampled(self) -> int:
        return sum(s.n_sampled for s in self.strata.values())

    @property
    def n_unreviewed(self) -> int:
        return sum(s.n_unreviewed for s in self.strata.values())


def audit_runs(conn: sqlite3.Connection, current: bool = True) -> list[AuditRun]:
    """The audit draws, oldest first; ``current``: only those of the sample in force (the
    latest ``draw`` or ``redraw`` and the ``add`` runs after it)."""
    runs = [AuditRun(r["id"], r["action"], r["rate"], r["seed"], r["by_column"], r["drawn_at"])
            for r in conn.execute("SELECT * FROM audit_runs ORDER BY id")]
    if current:
        start = max((i for i, r in enumerate(runs) if r.action != "add"), default=0)
        runs = runs[start:]
    return runs


def audit_sample(conn: sqlite3.Connection) -> dict[str, str]:
    """``{file: stratum}`` of the current audit sample (files may since have left ``calls``)."""
    runs = audit_runs(conn)
    if not runs:
        return {}
    return {r["file"]: r["stratum"] for r in conn.execute(
        "SELECT file, stratum FROM audit WHERE run >= ? ORDER BY run, file", (runs[0].id,))}


def audit_counts(conn: sqlite3.Connection, *,
                 machine: Mapping[str, Mapping[str, str | None]] | None = None,
                 latest: Mapping[str, Mapping[str, sqlite3.Row]] | None = None
                 ) -> AuditCounts:
    """Per reviewable decision, how many calls of the current audit sample were reviewed and
    how many of those the machine got wrong (newest review's value vs. the machine value in
    the store now, ``same_value``), over all and per stratum; and per stratum how many
    unflagged calls there were to draw from (for weighting back to the batch: stratum weight
    ``n_unflagged / sum(n_unflagged)``). Sampled calls no longer in the store, or whose
    analysis now failed, are left out; a decision the call has no machine value for (an older
    result) is not counted. Empty when there is no sample. ``machine`` (``decision_table``)
    and ``latest`` (``reviews_by_file``): already read, to save reading them again."""
    runs = audit_runs(conn)
    if not runs:
        return AuditCounts((), None, {}, {d: AuditTally(0, 0, 0) for d in REVIEWABLE}, {})
    sample = audit_sample(conn)
    unflagged: dict[str, int] = {}
    for r in conn.execute("SELECT stratum, n_unflagged FROM audit_strata WHERE run >= ? "
                          "ORDER BY run", (runs[0].id,)):
        unflagged[r["stratum"]] = r["n_unflagged"]  # the latest run's count wins
    machine = decision_table(conn) if machine is None else machine  # calls analysed ok
    latest = reviews_by_file(conn) if latest is None else latest
    strata: dict[str, list[int]] = {s: [0, 0] for s in unflagged}
    tallies: dict[str, dict[str, list[int]]] = {d: {} for d in REVIEWABLE}
    for file, stratum in sample.items():
        if file not in machine:
            continue
        reviewed = latest.get(file, {})
        counts = strata.setdefault(stratum, [0, 0])
        counts[0] += 1
        counts[1] += not reviewed
        for decision in REVIEWABLE:
            if decision not in machine[file]:
                continue
            t = tallies[decision].setdefault(stratum, [0, 0, 0])
            r = reviewed.get(decision)
            if r is None:
                t[2] += 1
            else:
                t[0] += 1
                t[1] += not same_value(decision, r["human_value"], machine[file][decision])
    by_stratum = {d: {s: AuditTally(*t) for s, t in sorted(per.items())}
                  for d, per in tallies.items()}
    totals = {d: AuditTally(*(sum(t[i] for t in per.values()) for i in range(3)))
              for d, per in tallies.items()}
    return AuditCounts(
        runs=tuple(runs), by=runs[-1].by,
        strata={s: AuditStratum(unflagged.get(s, 0), n, u)
                for s, (n, u) in sorted(strata.items())},
        decisions=totals, by_stratum=by_stratum)
