"""``callcheck calibrate``: review thresholds proposed from the QA reviews.

The decision stage flags a call for review when a score falls below a threshold of
``verdicts.VerdictOptions``. With the reviews of the audit sample (unflagged calls drawn at
random, ``callcheck audit``) and of the flagged calls, each threshold can be replayed on the
calls of the batch: at a candidate value, which calls would have been flagged, and how often
the machine was wrong on the rest. The proposal keeps the audited error of every measured
decision under a target while flagging as few calls as possible; it is written as a config
file for ``callcheck analyze --config`` and changes nothing by itself.

The thresholds and the score each compares (``KNOBS``):

* ``min_agent_start_confidence``: the agent start's confidence (``unclear_agent_start``);
* ``min_heard_for_none``: the mean word probability of the announcements before the agent
  (``announcements_poorly_heard``, when no notice was found before it) and of the agent's
  opening (``opening_poorly_heard`` when no name was found, ``agent_speech_poorly_heard``
  when the agent gave no notice), recomputed from the per-call JSON: words by the role turn
  they fall in, the opening up to the caller's first words or ``opening_s``;
* ``min_notice_confidence``: the weakest notice candidate's rule confidence
  (``weak_notice_evidence``); only values from the run's up: below it, a candidate now left
  out would count, and the verdict it would give was never reviewed;
* ``min_name_confidence``: the rule confidence of a name the recogniser heard poorly
  (``name_too_weak_to_count``). Such a call is flagged ``low_asr_confidence_name`` either way,
  so this limit moves no call in or out of review: the replay shows that, and keeps the value.

A replayed score that disagrees with the review reasons the run recorded (an approximation of
the heard share, a result made with other options) is set from the reasons: a call flagged for
the knob stays flagged at every value, one not flagged is flagged only above the run's value.

The error at a candidate is estimated as in ``accuracy``: over the calls left unflagged, from
reviewed samples of them: per audit stratum the sampled calls still unflagged, and the
reviewed calls among the flagged ones that the candidate would unflag (assumed to stand for
the unreviewed ones), weighted by how many calls each part holds (``stats.stratified``). Parts
with no review are left out; a candidate whose estimate covers less than ``MIN_COVERAGE`` of
the unflagged calls for a decision is not eligible. The method note: ``docs/accuracy.md``.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analysis.config import to_toml
from pipeline.analysis.verdicts import VerdictOptions
from pipeline.review.audit import unflagged_calls
from pipeline.runs import store
from pipeline.runs.accuracy import MIN_REVIEWS
from pipeline.stats import Stratum, Weighted, stratified
from pipeline.types import CallResult, NameCategory, ReviewReason, Role, YesNo

CALIBRATED_NAME = "calibrated.toml"
GRID_STEP = 0.01  # candidate threshold values: 0.00, 0.01, ..., 1.00
MIN_COVERAGE = 0.9  # share of the unflagged calls an eligible estimate must rest on
MAX_ROUNDS = 8  # coordinate search: rounds over the thresholds at most
TABLE_STEP = 0.05  # the printed trade-off tables show values this far apart (and the chosen)


class CalibrationError(Exception):
    """The reviews cannot calibrate anything (no audit sample, nothing reviewed)."""


@dataclass(frozen=True)
class Knob:
    """A threshold of ``VerdictOptions`` that flags a call when a score is below it."""

    option: str  # the ``VerdictOptions`` field
    reasons: tuple[ReviewReason, ...]  # the review reasons it raises
    lowers: bool  # whether values below the run's can be replayed
    score: str  # what it compares, in words


KNOBS = (
    Knob("min_agent_start_confidence", (ReviewReason.UNCLEAR_AGENT_START,), True,
         "confidence of the agent start"),
    Knob("min_heard_for_none", (ReviewReason.ANNOUNCEMENTS_POORLY_HEARD,
                                ReviewReason.OPENING_POORLY_HEARD,
                                ReviewReason.AGENT_SPEECH_POORLY_HEARD), True,
         "mean word probability of the announcements / the agent's opening"),
    Knob("min_notice_confidence", (ReviewReason.WEAK_NOTICE_EVIDENCE,), False,
         "rule confidence of the weakest notice candidate"),
    Knob("min_name_confidence", (ReviewReason.NAME_TOO_WEAK_TO_COUNT,), True,
         "rule confidence of a name heard poorly"),
)
_KNOB_REASONS = frozenset(r for k in KNOBS for r in k.reasons)


@dataclass(frozen=True)
class Batch:
    """The calls analysed ok, as arrays over calls (index i: ``files[i]``)."""

    files: tuple[str, ...]
    fixed: np.ndarray  # bool: flagged by a reason no knob controls
    scores: Mapping[str, np.ndarray]  # option -> float score; inf where it cannot flag
    pool: np.ndarray  # int: audit stratum (index in ``pools``) of calls unflagged at the
    # run; the last index for calls flagged at the run
    pools: tuple[str, ...]  # stratum names, then "flagged"
    sampled: Mapping[str, np.ndarray]  # decision -> bool: a reviewed sample of its pool
    wrong: Mapping[str, np.ndarray]  # decision -> bool: the reviewer disagreed
    current: Mapping[str, float]  # option -> the run's value
    adjusted: Mapping[str, int]  # option -> scores set from the recorded reasons

    @property
    def n(self) -> int:
        return len(self.files)


@dataclass(frozen=True)
class Point:
    """The batch replayed at one set of thresholds."""

    thresholds: Mapping[str, float]
    n_flagged: int
    n_calls: int
    errors: Mapping[str, Weighted | None]  # decision -> audited error over unflagged calls
    eligible: bool  # every decision's estimate covers >= MIN_COVERAGE of the unflagged calls

    @property
    def flag_rate(self) -> float:
        return self.n_flagged / self.n_calls if self.n_calls else 0.0

    @property
    def worst(self) -> tuple[str | None, Weighted | None]:
        """The decision with the highest estimated error, and its estimate."""
        known = [(d, w) for d, w in self.errors.items() if w is not None]
        if not known:
            return None, None
        return max(known, key=lambda dw: (dw[1].rate, dw[1].ci95[1]))

    def error(self, upper: bool = False) -> float:
        """The worst decision's error (its 95 % upper bound with ``upper``); 1.0 if unknown."""
        _, w = self.worst
        if w is None:
            return 1.0
        return w.ci95[1] if upper else w.rate


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` proposes, with the trade-off behind it."""

    target: float  # the error not to exceed (0..1)
    upper: bool  # the target applies to the 95 % upper bound, not the estimate
    decisions: tuple[str, ...]  # the decisions whose error counts
    current: Point
    proposed: Point
    met: bool  # the proposal keeps every decision's error under the target
    tradeoff: Mapping[str, list[Point]]  # option -> the grid, other options as proposed
    notes: tuple[str, ...]
    n_reviews: int  # reviews the estimates rest on (sampled, over the decisions counted)

    @property
    def changes(self) -> dict[str, tuple[float, float]]:
        return {k: (self.current.thresholds[k], v) for k, v in self.proposed.thresholds.items()
                if v != self.current.thresholds[k]}


# ------------------------------------------------------------------------------ the scores

def heard(result: CallResult | None, opening_s: float
          ) -> tuple[float | None, float | None]:
    """(announcements, opening): mean recogniser word probability of the words before the
    agent start not in an AGENT turn, and of the agent's words from the agent start until the
    caller first speaks or ``opening_s`` seconds have passed; None where there are no words
    (or no agent start, or no result). Words are placed in the role turn holding their
    midpoint."""
    start = result.agent_start_s if result is not None else None
    if start is None:
        return None, None
    turns = [(t.start, t.end, t.role) for t in result.timeline.turns]

    def role_at(t: float) -> Role | None:
        return next((r for a, b, r in turns if a <= t < b), None)

    segments = result.transcript.segments if result.transcript is not None else ()
    words = sorted((w.start, w.end, w.probability) for s in segments for w in s.words
                   if w.probability is not None)
    before: list[float] = []
    opening: list[float] = []
    caller_spoke = False
    for w0, w1, p in words:
        role = role_at((w0 + w1) / 2)
        if w0 < start:
            if role != Role.AGENT:
                before.append(p)
        elif w0 <= start + opening_s and not caller_spoke:
            if role == Role.CALLER:
                caller_spoke = True
            elif role == Role.AGENT:
                opening.append(p)

    def mean(xs: list[float]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return mean(before), mean(opening)


def _scores(conn: sqlite3.Connection, out: Path, options: VerdictOptions
            ) -> dict[str, dict[str, float | None]]:
    """``{file: {option: score}}`` for the calls analysed ok (None: the knob cannot flag it)."""
    scores: dict[str, dict[str, float | None]] = {}
    machine = store.decision_table(conn)
    notices: dict[str, list[float]] = {}
    names: dict[str, float] = {}
    for r in conn.execute("SELECT file, decision, confidence, asr_confidence, detail "
                          "FROM evidence WHERE decision IN ('notice', 'name')"):
        detail = r["detail"] or ""
        if r["decision"] == "notice":
            # negated and look-alike ("rejected:") candidates are never weighed
            if not detail.startswith("negated: ") and "rejected:" not in detail:
                notices.setdefault(r["file"], []).append(r["confidence"] or 0.0)
        elif (r["asr_confidence"] is not None
              and options.min_heard_probability <= r["asr_confidence"]
              < options.min_word_probability):
            names[r["file"]] = r["confidence"] or 0.0
    for c in store.call_rows(conn, ok=True):
        file = c.file
        values = machine.get(file, {})
        heard_score = None
        if c.agent_start_s is not None:
            before, opening = heard(store.load_result(out, file), options.opening_s)
            applicable = []
            if values.get("notice_before_agent") == YesNo.NO:
                applicable.append(before)
            if (values.get("agent_name") == NameCategory.NONE
                    or values.get("notice_by_agent") == YesNo.NO):
                applicable.append(opening)
            known = [h for h in applicable if h is not None]
            heard_score = min(known) if known else None
        scores[file] = {
            "min_agent_start_confidence": (c.agent_start_confidence
                                           if c.agent_start_s is not None else None),
            "min_heard_for_none": heard_score,
            "min_notice_confidence": min(notices[file]) if file in notices else None,
            "min_name_confidence": names.get(file),
        }
    return scores


def load_batch(conn: sqlite3.Connection, out: str | Path, options: VerdictOptions) -> Batch:
    """The batch as arrays for the replay; ``options``: those the run was made with."""
    out = Path(out)
    counts = store.audit_counts(conn)
    if not counts.runs:
        raise CalibrationError("no audit sample: draw one with `callcheck audit OUT --rate "
                               "0.1` and review its calls; without it the error of the "
                               "unflagged calls is unknown")
    sample = store.audit_sample(conn)
    unflagged = unflagged_calls(conn, counts.by)  # {stratum: files}, as the draw counts them
    pools = (*sorted(set(unflagged) | set(counts.strata)), "flagged")
    stratum_of = {f: s for s, files in unflagged.items() for f in files}
    calls = store.call_rows(conn, ok=True)
    files = tuple(c.file for c in calls)
    raw = _scores(conn, out, options)
    current = {k.option: float(getattr(options, k.option)) for k in KNOBS}
    fixed = np.zeros(len(files), bool)
    pool = np.full(len(files), len(pools) - 1)
    scores = {k.option: np.full(len(files), np.inf) for k in KNOBS}
    adjusted = dict.fromkeys(current, 0)
    for i, c in enumerate(calls):
        reasons = set(c.review_reasons)
        fixed[i] = bool(reasons - _KNOB_REASONS) or (bool(c.needs_review) and not reasons)
        if not c.needs_review:
            pool[i] = pools.index(stratum_of.get(c.file, ""))
        for k in KNOBS:
            s = raw[c.file][k.option]
            flagged = bool(reasons & set(k.reasons))
            if flagged and (s is None or s >= current[k.option]):
                s, adjusted[k.option] = -np.inf, adjusted[k.option] + 1
            elif not flagged and s is not None and s < current[k.option]:
                s, adjusted[k.option] = current[k.option], adjusted[k.option] + 1
            if s is not None:
                scores[k.option][i] = s
    machine = store.decision_table(conn)
    reviews = store.reviews_by_file(conn)
    sampled, wrong = {}, {}
    # unflagged calls count through the audit sample only (a random sample); every reviewed
    # flagged call stands for the flagged calls
    counted = (pool == len(pools) - 1) | np.array([f in sample for f in files], bool)
    for decision in store.REVIEWABLE:
        reviewed = np.zeros(len(files), bool)
        bad = np.zeros(len(files), bool)
        for i, f in enumerate(files):
            rv = reviews.get(f, {}).get(decision)
            if rv is None or decision not in machine.get(f, {}):
                continue
            reviewed[i] = True
            bad[i] = not store.same_value(decision, rv["human_value"], machine[f][decision])
        sampled[decision] = reviewed & counted
        wrong[decision] = bad
    return Batch(files, fixed, scores, pool, pools, sampled, wrong, current, adjusted)


# ------------------------------------------------------------------------------ the replay

def replay(batch: Batch, thresholds: Mapping[str, float],
           decisions: Iterable[str]) -> Point:
    """The batch at ``thresholds``: calls flagged, and per decision the estimated error over
    the calls left unflagged (:func:`stats.stratified` over the audit strata and the flagged
    calls the thresholds would unflag)."""
    flagged = batch.fixed.copy()
    for option, value in thresholds.items():
        flagged |= batch.scores[option] < value
    kept = ~flagged
    size = np.bincount(batch.pool[kept], minlength=len(batch.pools))
    errors: dict[str, Weighted | None] = {}
    eligible = True
    for d in decisions:
        seen = kept & batch.sampled[d]
        n = np.bincount(batch.pool[seen], minlength=len(batch.pools))
        k = np.bincount(batch.pool[seen & batch.wrong[d]], minlength=len(batch.pools))
        w = stratified([Stratum(float(size[h]), int(n[h]), int(k[h]))
                        for h in range(len(batch.pools))])
        errors[d] = w
        if size.sum() and (w is None or w.covered < MIN_COVERAGE):
            eligible = False
    return Point(dict(thresholds), int(flagged.sum()), batch.n, errors, eligible)


def _grid(knob: Knob, current: float, step: float) -> list[float]:
    values = {round(float(v), 4) for v in np.arange(0.0, 1.0 + step / 2, step)} | {current}
    return sorted(v for v in values if knob.lowers or v >= current)


def _rank(p: Point, target: float, upper: bool, current: Mapping[str, float]
          ) -> tuple[Any, ...]:
    """Sort key: candidates that meet the target first, the fewest flags among them; else
    the lowest error; then the nearest to the run's values."""
    err = p.error(upper)
    moved = sum(abs(v - current[k]) for k, v in p.thresholds.items())
    if p.eligible and err <= target:
        return (0, p.n_flagged, err, moved)
    return (1 if p.eligible else 2, err, p.n_flagged, moved)


def calibrate(conn: sqlite3.Connection, out: str | Path, options: VerdictOptions,
              target: float = 0.02, *, decisions: Sequence[str] | None = None,
              upper: bool = False, step: float = GRID_STEP) -> Calibration:
    """Propose thresholds: from the run's ``options``, each threshold in turn set to the
    grid value that keeps every counted decision's audited error under ``target`` with the
    fewest calls flagged (or, where none does, the lowest error), the others held, until no
    threshold moves. ``decisions``: those whose error counts (default: every decision the
    audit sample has a review of); ``upper``: the target bounds the 95 % upper limit."""
    if not 0.0 < target < 1.0:
        raise CalibrationError(f"target error {target!r}: a fraction between 0 and 1")
    batch = load_batch(conn, out, options)
    unflagged = batch.pool < len(batch.pools) - 1
    measured = tuple(d for d in store.REVIEWABLE
                     if (batch.sampled[d] & unflagged).any())
    if decisions is None:
        decisions = measured
    unknown = sorted(set(decisions) - set(store.REVIEWABLE))
    if unknown:
        raise CalibrationError(f"not reviewable decisions: {', '.join(unknown)}")
    decisions = tuple(decisions)
    if not decisions or not any((batch.sampled[d] & unflagged).any() for d in decisions):
        raise CalibrationError("no call of the audit sample is reviewed yet: review some "
                               "(the queue shows them as audit calls) and run this again")
    current = dict(batch.current)
    grids = {k.option: _grid(k, current[k.option], step) for k in KNOBS}
    best = replay(batch, current, decisions)
    for _ in range(MAX_ROUNDS):
        moved = False
        for k in KNOBS:
            points = [replay(batch, {**best.thresholds, k.option: v}, decisions)
                      for v in grids[k.option]]
            choice = min(points, key=lambda p: _rank(p, target, upper, current))
            if _rank(choice, target, upper, current) < _rank(best, target, upper, current):
                best, moved = choice, True
        if not moved:
            break
    tradeoff = {k.option: [replay(batch, {**best.thresholds, k.option: v}, decisions)
                           for v in grids[k.option]] for k in KNOBS}
    notes = []
    for k in KNOBS:
        flags = {p.n_flagged for p in tradeoff[k.option]}
        if len(flags) == 1:
            notes.append(f"{k.option}: no value moves any call in or out of review here "
                         f"({k.score}); kept at {current[k.option]:g}")
        if not k.lowers:
            notes.append(f"{k.option}: only values from the run's ({current[k.option]:g}) up "
                         "are replayed (below it, candidates now left out would count, with "
                         "verdicts nobody reviewed)")
        if batch.adjusted[k.option]:
            notes.append(f"{k.option}: the replayed score of {batch.adjusted[k.option]} "
                         "call(s) disagreed with the reasons the run recorded and was set "
                         "from them")
    few = sorted(d for d, w in best.errors.items() if w is not None and w.n < MIN_REVIEWS)
    if few:
        notes.insert(0, f"the estimate of {', '.join(few)} at the proposal rests on fewer than "
                     f"{MIN_REVIEWS} reviews: a rough indication; review more audit calls "
                     "(`callcheck audit OUT --rate R --add`) or use --upper-bound")
    cur = replay(batch, current, decisions)
    n_reviews = int(sum((batch.sampled[d]).sum() for d in decisions))
    return Calibration(target, upper, decisions, cur, best,
                       best.eligible and best.error(upper) <= target, tradeoff,
                       tuple(notes), n_reviews)


# ------------------------------------------------------------------------------ output

def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _err(p: Point) -> str:
    d, w = p.worst
    if w is None:
        return "unknown"
    covers = "" if w.covered >= MIN_COVERAGE else f", covers {_pct(w.covered)}"
    return (f"{_pct(w.rate)} [{_pct(w.ci95[0])}-{_pct(w.ci95[1])}] {d} "
            f"({w.n} review{'' if w.n == 1 else 's'}{covers})")


def _rows(points: list[Point], option: str, now: float, chosen: float) -> list[str]:
    """Table rows of a trade-off: every ``TABLE_STEP`` and the run's and the proposed value,
    neighbouring values with the same outcome in one row."""
    groups: list[list[Point]] = []
    for p in points:
        v = p.thresholds[option]
        if abs(round(v / TABLE_STEP) * TABLE_STEP - v) > 1e-9 and v not in (now, chosen):
            continue
        if groups and (groups[-1][-1].n_flagged, _err(groups[-1][-1])) == (p.n_flagged, _err(p)):
            groups[-1].append(p)
        else:
            groups.append([p])
    rows = []
    for g in groups:
        lo, hi = g[0].thresholds[option], g[-1].thresholds[option]
        span = f"{lo:.2f}" if lo == hi else f"{lo:.2f}-{hi:.2f}"
        values = [p.thresholds[option] for p in g]
        mark = ((f"  <- proposed {chosen:g}" if chosen in values else "")
                + (f"  <- now {now:g}" if now in values else ""))
        p = g[0]
        rows.append(f"  {span:>9}  {p.n_flagged:5d} ({_pct(p.flag_rate):>6})  {_err(p)}"
                    f"{'' if p.eligible else ' (too few reviews)'}{mark}")
    return rows


def format_report(cal: Calibration) -> str:
    """The proposal and, per threshold, the trade-off of calls flagged against error."""
    bound = " (upper 95% bound)" if cal.upper else ""
    lines = [
        f"target: audited error{bound} <= {_pct(cal.target)} for each of "
        f"{', '.join(cal.decisions)}",
        f"now:      {cal.current.n_flagged} of {cal.current.n_calls} calls flagged "
        f"({_pct(cal.current.flag_rate)}); worst error {_err(cal.current)}",
        f"proposed: {cal.proposed.n_flagged} of {cal.proposed.n_calls} calls flagged "
        f"({_pct(cal.proposed.flag_rate)}); worst error {_err(cal.proposed)}",
    ]
    if not cal.met:
        lines.append("the target is NOT met by any replayed setting: the proposal has the "
                     "lowest error found")
    for option, (old, new) in cal.changes.items():
        lines.append(f"  [verdicts] {option}: {old:g} -> {new:g}")
    if not cal.changes:
        lines.append("  no threshold changes")
    for k in KNOBS:
        points = cal.tradeoff[k.option]
        if len({p.n_flagged for p in points}) == 1:
            continue  # said in the notes
        lines.append(f"\n{k.option} ({k.score}); the other thresholds as proposed")
        lines.append(f"  {'value':>9}  {'calls flagged':>14}  worst audited error "
                     "[95% CI], decision (reviews it rests on)")
        lines += _rows(points, k.option, cal.current.thresholds[k.option],
                       cal.proposed.thresholds[k.option])
    for n in cal.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)


def calibrated_toml(cal: Calibration, config: Any, out: str | Path) -> str:
    """The run's whole config with the proposed thresholds, as TOML for ``analyze --config``
    (a header of comments says where it comes from)."""

    verdicts = dataclasses.replace(config.verdicts, **cal.proposed.thresholds)
    new = dataclasses.replace(config, verdicts=verdicts)
    header = [
        f"# callcheck calibrate {Path(out).name}, {time.strftime('%Y-%m-%d %H:%M')}: review "
        f"thresholds from {cal.n_reviews} reviews",
        f"# target: audited error <= {_pct(cal.target)}"
        + (" (upper 95% bound)" if cal.upper else "")
        + f" for {', '.join(cal.decisions)}" + ("" if cal.met else " -- NOT met"),
        f"# flagged {_pct(cal.current.flag_rate)} -> {_pct(cal.proposed.flag_rate)}; worst "
        f"error {_err(cal.current)} -> {_err(cal.proposed)}",
        *(f"# [verdicts] {k}: {a:g} -> {b:g}" for k, (a, b) in cal.changes.items()),
        "# use: callcheck analyze DIR --out OUT --config THIS_FILE (the results of another "
        "config are made anew)",
    ]
    return "\n".join(header) + "\n" + to_toml(new)
