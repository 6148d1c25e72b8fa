"""Reviews: validate what a reviewer submits, save it without losing anyone's work, list calls.

The ``reviews`` table of ``results.sqlite`` is append-only: a review never changes or deletes
an earlier one, it *supersedes* it (``supersedes`` = id of the review it replaces), and the
machine value it was made against is stored with it. So the audit trail is the table itself.

Saving uses optimistic concurrency. The call page carries, per decision, the id of the newest
review the reviewer saw (0: none) and the machine value shown. A save runs inside
``BEGIN IMMEDIATE`` (SQLite lets one writer in at a time, so check and insert are atomic): if
for any submitted decision the newest review or the machine value is no longer what the
reviewer saw, nothing at all is written and :class:`ReviewConflict` says what changed. The app
then shows the other verdict next to the reviewer's unsaved input, and a resubmit is a
deliberate decision made against the new base: two reviewers saving at once never silently
overwrite each other.

Values are checked against ``store.REVIEWABLE``: a fixed vocabulary for the yes/no and category
decisions, a person's name (letters, spaces, hyphens, apostrophes, dots) for ``agent_first`` /
``agent_last``, seconds (a float >= 0) for ``agent_start_s``, and ``store.REVIEW_VALIDATORS``
where a value is more than one of a list: ``notice_purpose`` is a ``;``-joined set of purposes
(stored in ``types.PURPOSES`` order) or ``none_stated`` / ``no_notice``, ``agent_objected`` may
be none. For the free-text decisions and ``agent_objected`` an empty value, ``none`` or ``-``
means "there is none" (stored as NULL). ``callcheck reviews import`` (``reviews_csv``) appends
through the same validation (``validate_*``, ``check_fits_call``, ``append_review``).

The queue lists every call: flagged and unreviewed first, then the unreviewed calls of the
audit sample (``audit``), then the other unreviewed ones, reviewed ones, failed analyses.
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.runs import store
from pipeline.types import (
    KNOWS_VALUES,
    NAME_CATEGORIES,
    NOTICE_SOURCES,
    OBJECTED_VALUES,
    PURPOSE_VALUES,
    YES_NO,
    ReviewReason,
)

MAX_REVIEWER = 80  # characters of a reviewer's name
MAX_COMMENT = 2000  # characters of a comment
MAX_NAME = 100  # characters of an agent name given by a reviewer
MAX_FILTER_VALUE = 200  # characters of a queue filter value or search text
MAX_AGENT_START_S = 24 * 3600.0  # seconds; far above any call the pipeline accepts
PAGE_SIZE = 100  # calls per queue page

ACTIONS = ("confirm", "override")
NONE_WORDS = store.NONE_WORDS  # free-text values that mean "there is none"
# decisions the queue can filter on, with their values; ``notice_purpose`` matches the calls
# whose purposes include the one chosen, ``agent_objected=none`` those without an objection
# to decide (the caller announced nothing)
FILTERABLE: dict[str, tuple[str, ...]] = {
    "notice_before_agent": YES_NO,
    "notice_by_agent": YES_NO,
    "notice_source": NOTICE_SOURCES,
    "notice_purpose": PURPOSE_VALUES,
    "agent_knows_recording": KNOWS_VALUES,
    "notice_contradicted": YES_NO,
    "caller_announced_recording": YES_NO,
    "agent_objected": (*OBJECTED_VALUES, "none"),
    "agent_name": NAME_CATEGORIES,
    "organisation_named": YES_NO,
}
KINDS = ("flagged", "audit")  # the queue's kinds of call: flagged by the pipeline, audit sample
_NAME_RE = re.compile(r"[^\W\d_]+(?:(?:[ '’.-]|\. )[^\W\d_]+)*\.?")


class ReviewInputError(ValueError):
    """A submitted value, name or filter is not acceptable; the message says why."""


class UnknownCallError(LookupError):
    """No call with this file name in the store."""


@dataclass(frozen=True)
class ReviewItem:
    """One decision a reviewer confirms or overrides in one save."""

    decision: str
    action: str  # "confirm" or "override" (an override to the machine's value is a confirm)
    human_value: str | None  # the verdict of the reviewer (None: there is none)
    comment: str
    base_id: int  # id of the newest review of this decision the reviewer saw (0: none)
    machine_seen: str | None  # the machine value the page showed
    raw_value: str = ""  # what was typed or chosen, to show again after a conflict


@dataclass(frozen=True)
class Conflict:
    """Why one submitted decision was not saved."""

    item: ReviewItem
    current: sqlite3.Row | None  # the newest review now (another reviewer's), or None
    machine_now: str | None  # the machine value now
    reason: str  # "review" (someone else saved) or "machine" (the analysis was re-run)


class ReviewConflict(Exception):
    """The page a reviewer saved from is out of date; nothing was saved."""

    def __init__(self, conflicts: list[Conflict], items: list[ReviewItem]):
        self.conflicts = conflicts
        self.items = items  # the whole submission, none of it saved
        super().__init__(", ".join(c.item.decision for c in conflicts))


# ------------------------------------------------------------------------------ validation

def _clean(raw: Any, what: str, max_len: int, *, required: bool = False,
           multiline: bool = False) -> str:
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ReviewInputError(f"{what}: expected text")
    text = raw.replace("\r\n", "\n").strip()
    allowed = "\n\t" if multiline else ""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in allowed for c in text):
        raise ReviewInputError(f"{what}: contains control characters")
    if not multiline:
        text = " ".join(text.split())
    if len(text) > max_len:
        raise ReviewInputError(f"{what}: longer than {max_len} characters")
    if required and not text:
        raise ReviewInputError(f"{what}: required")
    return text


def validate_reviewer(raw: Any) -> str:
    """The reviewer's name: required, one line, at most ``MAX_REVIEWER`` characters."""
    return _clean(raw, "reviewer", MAX_REVIEWER, required=True)


def validate_comment(raw: Any) -> str:
    """A comment: optional, at most ``MAX_COMMENT`` characters, newlines kept."""
    return _clean(raw, "comment", MAX_COMMENT, multiline=True)


def validate_value(decision: str, raw: Any) -> str | None:
    """A reviewer's value for ``decision``, normalised; raises :class:`ReviewInputError`."""
    if decision not in store.REVIEWABLE:
        raise ReviewInputError(f"{decision!r} is not a reviewable decision")
    allowed = store.REVIEWABLE[decision]
    text = _clean(raw, decision, MAX_NAME)
    validator = store.REVIEW_VALIDATORS.get(decision)
    if validator is not None:
        try:
            return validator(text)
        except ValueError as e:
            raise ReviewInputError(f"{decision}: {e}") from None
    if allowed is not None:
        value = text.lower()
        if value not in allowed:
            raise ReviewInputError(f"{decision}: {text!r} is not one of {', '.join(allowed)}")
        return value
    if text.lower() in NONE_WORDS:
        return None
    if decision == "agent_start_s":
        try:
            seconds = float(text)
        except ValueError:
            raise ReviewInputError(f"agent_start_s: {text!r} is not a number of seconds") from None
        if not math.isfinite(seconds) or not 0.0 <= seconds <= MAX_AGENT_START_S:
            raise ReviewInputError(f"agent_start_s: {text!r} is not a time >= 0 in the call")
        return format_seconds(seconds)
    if not _NAME_RE.fullmatch(text):
        raise ReviewInputError(f"{decision}: {text!r} does not look like a name (letters, "
                               "spaces, hyphens, apostrophes)")
    return text


def format_seconds(seconds: float) -> str:
    """Seconds as stored for ``agent_start_s``: at most 3 decimals, no trailing zeros."""
    return f"{round(seconds, 3):.3f}".rstrip("0").rstrip(".")


same_value = store.same_value  # whether two stored values of a decision mean the same


def _base_id(raw: Any, decision: str) -> int:
    text = raw if isinstance(raw, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ReviewInputError(f"{decision}: invalid base review id {raw!r}")
    return int(text)


def parse_submission(form: Mapping[str, Any]) -> tuple[str, list[ReviewItem]]:
    """-> (reviewer, items) from the call page's form fields.

    Fields: ``reviewer``; per decision ``action.<d>`` ("" to leave it, ``confirm``,
    ``override``), ``value.<d>``, ``comment.<d>``, ``base.<d>`` (newest review id seen, 0 for
    none) and ``machine.<d>`` (the machine value shown, "" for none). ``csrf`` is checked
    elsewhere. Any other field, an unknown decision or a bad value is refused.
    """
    reviewer = validate_reviewer(form.get("reviewer"))
    decisions: set[str] = set()
    for key in form:
        if key in ("reviewer", "csrf"):
            continue
        kind, _, decision = key.partition(".")
        if kind not in ("action", "value", "comment", "base", "machine") or not decision:
            raise ReviewInputError(f"unexpected field {key[:60]!r}")
        if decision not in store.REVIEWABLE:
            raise ReviewInputError(f"{decision[:60]!r} is not a reviewable decision")
        decisions.add(decision)
    items = []
    for decision in store.REVIEWABLE:  # fixed order, whatever the form's
        if decision not in decisions:
            continue
        action = form.get(f"action.{decision}") or ""
        if action == "":
            continue
        if action not in ACTIONS:
            raise ReviewInputError(f"{decision}: action must be confirm or override")
        machine_raw = form.get(f"machine.{decision}")
        if not isinstance(machine_raw, str) or len(machine_raw) > 1000:
            raise ReviewInputError(f"{decision}: missing the machine value the page showed")
        machine_seen = machine_raw or None
        raw_value = form.get(f"value.{decision}") or ""
        if not isinstance(raw_value, str):
            raise ReviewInputError(f"{decision}: expected text")
        comment = validate_comment(form.get(f"comment.{decision}"))
        if action == "confirm":
            human = machine_seen
        else:
            human = validate_value(decision, raw_value)
            if same_value(decision, human, machine_seen):
                action = "confirm"
        items.append(ReviewItem(decision, action, human, comment,
                                _base_id(form.get(f"base.{decision}"), decision), machine_seen,
                                raw_value[:MAX_NAME]))
    if not items:
        raise ReviewInputError("nothing to save: choose confirm or override for a decision")
    return reviewer, items


# ------------------------------------------------------------------------------ saving

def call_row(conn: sqlite3.Connection, file: str) -> store.CallRow:
    """The ``calls`` row of ``file``; raises :class:`UnknownCallError`."""
    row = store.call_row(conn, file)
    if row is None:
        raise UnknownCallError(file)
    return row


def machine_values(conn: sqlite3.Connection, file: str) -> dict[str, str | None]:
    return {r["name"]: r["value"] for r in
            conn.execute("SELECT name, value FROM decisions WHERE file = ?", (file,))}


def save_reviews(conn: sqlite3.Connection, file: str, reviewer: str, items: list[ReviewItem],
                 now: float | None = None) -> list[int]:
    """Append the reviews of one submission, all or none. -> the new review ids.

    Raises :class:`ReviewConflict` (nothing saved) when the page was out of date,
    :class:`UnknownCallError` for an unknown call and :class:`ReviewInputError` for a call
    without decisions (its analysis failed).
    """
    now = time.time() if now is None else now
    with store.transaction(conn):
        call = call_row(conn, file)
        if not call.ok:
            raise ReviewInputError("this call has no decisions to review (its analysis failed)")
        for item in items:
            check_fits_call(call, item.decision, item.human_value)
        machine = machine_values(conn, file)
        latest = store.latest_reviews(conn, file)
        conflicts = []
        for item in items:
            current = latest.get((file, item.decision))
            if (current["id"] if current is not None else 0) != item.base_id:
                conflicts.append(Conflict(item, current, machine.get(item.decision), "review"))
            elif not same_value(item.decision, machine.get(item.decision), item.machine_seen):
                conflicts.append(Conflict(item, current, machine.get(item.decision), "machine"))
        if conflicts:
            raise ReviewConflict(conflicts, items)
        ids = []
        for item in items:
            # a confirmation records the machine's value exactly as stored
            human = machine.get(item.decision) if item.action == "confirm" else item.human_value
            ids.append(append_review(conn, file, item.decision, machine.get(item.decision),
                                     human, item.action, item.comment, reviewer, now,
                                     item.base_id or None))
    return ids


def check_fits_call(call: store.CallRow, decision: str, human_value: str | None) -> None:
    """Refuse a review of a failed analysis, or an agent start after the end of the call
    (:class:`ReviewInputError`)."""
    if not call.ok:
        raise ReviewInputError("this call has no decisions to review (its analysis failed)")
    if (decision == "agent_start_s" and human_value is not None
            and call.duration_s is not None
            and float(human_value) > call.duration_s + 1.0):
        raise ReviewInputError(f"agent_start_s: {human_value} s is after the end "
                               f"of the call ({call.duration_s:.1f} s)")


def append_review(conn: sqlite3.Connection, file: str, decision: str, machine: str | None,
                  human: str | None, action: str, comment: str, reviewer: str,
                  created_at: float, supersedes: int | None, source: str = "app") -> int:
    """Append one validated review to the audit trail (inside the caller's transaction).
    -> its id."""
    cur = conn.execute(
        "INSERT INTO reviews (file, decision, machine_value, human_value, action, comment, "
        "reviewer, created_at, supersedes, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (file, decision, machine, human, action, comment, reviewer, created_at, supersedes,
         source))
    return int(cur.lastrowid)


def history(conn: sqlite3.Connection, file: str) -> dict[str, list[sqlite3.Row]]:
    """Every review of ``file`` by decision, oldest first."""
    out: dict[str, list[sqlite3.Row]] = {}
    for r in conn.execute("SELECT * FROM reviews WHERE file = ? ORDER BY id", (file,)):
        out.setdefault(r["decision"], []).append(r)
    return out


# ------------------------------------------------------------------------------ the queue

@dataclass(frozen=True)
class QueueFilter:
    """Which calls the queue shows. Verdict filters apply to the current value: the newest
    human verdict where there is one, else the machine's."""

    verdicts: tuple[tuple[str, str], ...] = ()  # (decision, value)
    needs_review: bool | None = None
    state: str | None = None  # "reviewed" (any decision reviewed) or "unreviewed"
    status: str | None = None  # "ok" or "error"
    kind: str | None = None  # "flagged" (needs review) or "audit" (in the audit sample)
    metadata: tuple[tuple[str, str], ...] = ()  # (column, value)
    q: str = ""  # text searched in the transcript (and the file name)
    page: int = 1

    def params(self, **change: Any) -> dict[str, str]:
        """Query parameters that reproduce this filter (with ``change`` applied)."""
        p: dict[str, str] = dict(self.verdicts)
        if self.needs_review is not None:
            p["needs_review"] = "yes" if self.needs_review else "no"
        for key in ("state", "status", "kind"):
            if getattr(self, key):
                p[key] = getattr(self, key)
        p.update({f"meta.{c}": v for c, v in self.metadata})
        if self.q:
            p["q"] = self.q
        if self.page != 1:
            p["page"] = str(self.page)
        for k, v in change.items():
            if v is None:
                p.pop(k, None)
            else:
                p[k] = str(v)
        return p


def parse_filter(params: Iterable[tuple[str, str]], metadata_columns: Iterable[str]
                 ) -> QueueFilter:
    """A :class:`QueueFilter` from query parameters; empty values mean "any". Unknown
    parameters, decisions, columns or values raise :class:`ReviewInputError`."""
    columns = set(metadata_columns)
    verdicts: dict[str, str] = {}
    meta: dict[str, str] = {}
    kw: dict[str, Any] = {}
    seen: set[str] = set()
    for key, raw in params:
        if key in seen:
            raise ReviewInputError(f"parameter {key[:60]!r} given twice")
        seen.add(key)
        value = _clean(raw, key[:60], MAX_FILTER_VALUE)
        if not value:
            continue
        if key in FILTERABLE:
            if value not in FILTERABLE[key]:
                raise ReviewInputError(f"{key}: {value!r} is not one of "
                                       f"{', '.join(FILTERABLE[key])}")
            verdicts[key] = value
        elif key == "needs_review":
            if value not in ("yes", "no"):
                raise ReviewInputError("needs_review: yes or no")
            kw["needs_review"] = value == "yes"
        elif key == "state":
            if value not in ("reviewed", "unreviewed"):
                raise ReviewInputError("state: reviewed or unreviewed")
            kw["state"] = value
        elif key == "status":
            if value not in ("ok", "error"):
                raise ReviewInputError("status: ok or error")
            kw["status"] = value
        elif key == "kind":
            if value not in KINDS:
                raise ReviewInputError(f"kind: {' or '.join(KINDS)}")
            kw["kind"] = value
        elif key.startswith("meta."):
            column = key.removeprefix("meta.")
            if column not in columns:
                raise ReviewInputError(f"no metadata column {column[:60]!r}")
            meta[column] = value
        elif key == "q":
            kw["q"] = value
        elif key == "page":
            if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 10**6:
                raise ReviewInputError("page: a positive number")
            kw["page"] = int(value)
        else:
            raise ReviewInputError(f"unknown parameter {key[:60]!r}")
    return QueueFilter(verdicts=tuple(verdicts.items()), metadata=tuple(sorted(meta.items())),
                       **kw)


@dataclass(frozen=True)
class QueueRow:
    """One call in the queue."""

    file: str
    status: str
    error: str | None
    error_code: str | None
    needs_review: bool
    review_reasons: tuple[ReviewReason | str, ...]
    duration_s: float | None
    machine: dict[str, str | None]  # decision -> machine value
    reviewed: dict[str, sqlite3.Row]  # decision -> newest review
    metadata: dict[str, str]
    audit: bool = False  # in the audit sample (``callcheck audit``)

    @property
    def group(self) -> int:
        """Queue order: 0 flagged and unreviewed, 1 audit sample and unreviewed, 2 other
        unreviewed, 3 reviewed, 4 failed."""
        if self.status != "ok":
            return 4
        if self.reviewed:
            return 3
        return 0 if self.needs_review else 1 if self.audit else 2

    def current(self, decision: str) -> str | None:
        r = self.reviewed.get(decision)
        return r["human_value"] if r is not None else self.machine.get(decision)

    def matches(self, decision: str, value: str) -> bool:
        """Whether the current value of ``decision`` is ``value`` (a queue filter)."""
        current = self.current(decision)
        if current is None:
            return value == "none" and decision == "agent_objected"
        if decision == "notice_purpose":
            return value in current.split(";")
        return current == value


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]  # this page
    n_shown: int  # calls matching the filter
    counts: dict[str, int]  # total, flagged, reviewed, failed, audit (of all calls)
    page: int
    pages: int
    metadata_values: dict[str, list[str]] = field(default_factory=dict)
    audit: store.AuditCounts | None = None  # the audit sample's reviews so far (None: none)


def metadata_columns(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute('SELECT DISTINCT "column" FROM metadata ORDER BY 1')]


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def queue(conn: sqlite3.Connection, flt: QueueFilter) -> Queue:
    """The calls matching ``flt`` in review order (see :attr:`QueueRow.group`), one page, with
    the audit sample's counts (``store.audit_counts``)."""
    machine = store.decision_table(conn)
    latest = store.reviews_by_file(conn)
    meta = store.metadata_table(conn)
    sample = store.audit_sample(conn)
    rows = [QueueRow(
        file=c.file, status=c.status, error=c.error, error_code=c.error_code,
        needs_review=bool(c.needs_review), review_reasons=c.review_reasons,
        duration_s=c.duration_s, machine=machine.get(c.file, {}),
        reviewed=latest.get(c.file, {}), metadata=meta.get(c.file, {}),
        audit=c.file in sample)
        for c in store.call_rows(conn)]
    counts = {"total": len(rows), "flagged": sum(r.needs_review for r in rows),
              "reviewed": sum(bool(r.reviewed) for r in rows),
              "failed": sum(r.status != "ok" for r in rows),
              "audit": sum(r.audit for r in rows)}
    found: set[str] | None = None
    if flt.q:
        pattern = _like(flt.q)
        found = {r[0] for r in conn.execute(
            "SELECT DISTINCT file FROM segments WHERE text LIKE ? ESCAPE '\\' "
            "UNION SELECT file FROM calls WHERE file LIKE ? ESCAPE '\\'", (pattern, pattern))}

    def keep(r: QueueRow) -> bool:
        if found is not None and r.file not in found:
            return False
        if (flt.needs_review is not None or flt.state is not None) and r.status != "ok":
            return False  # a failed analysis has nothing to review
        if flt.needs_review is not None and r.needs_review != flt.needs_review:
            return False
        if flt.state is not None and bool(r.reviewed) != (flt.state == "reviewed"):
            return False
        if flt.status is not None and r.status != flt.status:
            return False
        if flt.kind == "flagged" and not (r.status == "ok" and r.needs_review):
            return False
        if flt.kind == "audit" and not r.audit:
            return False
        if flt.verdicts and r.status != "ok":
            return False  # a failed analysis has no verdicts
        if not all(r.matches(d, v) for d, v in flt.verdicts):
            return False
        return all(r.metadata.get(c) == v for c, v in flt.metadata)

    shown = sorted((r for r in rows if keep(r)), key=lambda r: (r.group, r.file))
    pages = max(1, math.ceil(len(shown) / PAGE_SIZE))
    page = min(flt.page, pages)
    values = {c: sorted({m[c] for m in meta.values() if m.get(c)})
              for c in metadata_columns(conn)}
    return Queue(shown[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], len(shown), counts, page,
                 pages, values,
                 store.audit_counts(conn, machine=machine, latest=latest) if sample else None)
