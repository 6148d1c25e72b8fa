"""How often the machine is wrong, measured by the QA reviews: ``OUT/accuracy.json`` and the
accuracy section of ``report.html``.

Per reviewable decision (``store.REVIEWABLE``), on the calls whose decision has a review (the
newest review of it counts; the machine value is the one in the store now, compared with
``store.same_value``):

* ``audit``: the calls of the audit sample (``callcheck audit``: a random sample of the calls
  the pipeline did not flag, drawn per stratum). Its error rate is weighted back to all the
  unflagged calls of the batch, stratum by stratum (a reviewed call of stratum h stands for
  ``unflagged_h / reviewed_h`` calls, ``unflagged_h`` counted at the draw), with a Wilson
  interval at the effective sample size (``stats.stratified``). This is the estimate of how
  often what callcheck decides on its own is wrong;
* ``flagged``: the flagged calls outside the sample that were reviewed: how often the machine's
  reading of the calls it sent to review was wrong (a plain Wilson interval; these are the
  calls QA chose or was sent to, not a random sample of anything);
* ``confusion``: machine value against reviewer value over every reviewed call.

Reviews of unflagged calls outside the sample (looked at by choice) count in the confusion
table only. The method, with the formulas, is in ``docs/accuracy.md``.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.runs import store
from pipeline.stats import Stratum, stratified, wilson
from pipeline.types import decisions_in_doubt

ACCURACY_NAME = "accuracy.json"
ACCURACY_VERSION = 1
MIN_REVIEWS = 30  # an estimate resting on fewer reviews carries a warning
ABOUT = (
    "Machine against QA reviewer, per reviewable decision, on reviewed calls (the newest "
    "review of a decision counts; the machine value is the one in results.sqlite now). "
    "'rate' is the ERROR rate: the share of reviewed decisions where the reviewer's value "
    "differs from the machine's (1 - agree/n for 'flagged'); 'ci95' its 95 % interval, both "
    "fractions 0..1. 'audit': the audit sample of calls the pipeline did not flag "
    "(`callcheck audit`), its rate weighted back to all unflagged calls of the batch by "
    "stratum (a reviewed call of a stratum stands for unflagged/reviewed calls of it), with "
    "a Wilson interval at the effective sample size: the error rate of what callcheck "
    "decides on its own. 'flagged': flagged calls outside the sample that were reviewed, "
    "unweighted, Wilson interval; 'decision_in_doubt': those whose review reasons concern "
    "this decision. 'confusion': {machine value: {reviewer value: reviews}} over every "
    "reviewed call (free-text decisions: 'value'/'none' for the machine, 'same'/'different'/"
    "'none' for the reviewer). 'n' is how many reviews an estimate rests on; 'warning' says "
    f"when that is fewer than {MIN_REVIEWS}. Method: docs/accuracy.md."
)


@dataclass(frozen=True)
class Estimate:
    """An error rate from ``n`` reviews (``agree`` of them agreeing with the machine)."""

    n: int  # reviews it rests on
    agree: int
    rate: float | None  # error rate 0..1 (weighted for the audit sample); None without reviews
    ci95: tuple[float, float] | None  # 95 % interval of ``rate``
    warning: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)  # group-specific facts

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "agree": self.agree,
                "rate": None if self.rate is None else round(self.rate, 4),
                "ci95": None if self.ci95 is None else [round(self.ci95[0], 4),
                                                        round(self.ci95[1], 4)],
                "warning": self.warning, **self.extra}


@dataclass(frozen=True)
class DecisionAccuracy:
    """What the reviews say of one decision."""

    decision: str
    audit: Estimate
    flagged: Estimate
    confusion: dict[str, dict[str, int]]  # machine label -> reviewer label -> reviews
    not_counted: int  # reviews of unflagged calls outside the audit sample

    @property
    def n_reviews(self) -> int:
        return self.audit.n + self.flagged.n + self.not_counted

    def to_dict(self) -> dict[str, Any]:
        return {"audit": self.audit.to_dict(), "flagged": self.flagged.to_dict(),
                "confusion": self.confusion, "not_counted": self.not_counted}


@dataclass(frozen=True)
class Accuracy:
    """Everything :func:`measure` found (also what the report shows)."""

    decisions: dict[str, DecisionAccuracy]
    sample: store.AuditCounts
    n_ok: int  # calls analysed without error
    n_flagged: int  # of those, flagged for review
    n_reviews: int  # newest reviews counted, over all decisions

    @property
    def has_sample(self) -> bool:
        return bool(self.sample.runs)


def _few(n: int) -> str | None:
    if n >= MIN_REVIEWS:
        return None
    return (f"rests on {n} review(s), fewer than {MIN_REVIEWS}: the interval is wide; treat "
            "the rate as a rough indication" if n else "no reviews yet")


def _label(decision: str, value: str | None) -> str:
    """A machine value as a row of the confusion table: the value itself, or for free-text
    decisions (names, agent start) only whether there is one (``value`` / ``none``)."""
    if value is None:
        return "none"
    return value if store.REVIEWABLE.get(decision) is not None else "value"


def _reviewer_label(decision: str, human: str | None, machine: str | None) -> str:
    """A reviewer's value as a column: the value, or for free-text decisions ``same`` /
    ``different`` (from the machine's) / ``none``."""
    if store.REVIEWABLE.get(decision) is not None:
        return "none" if human is None else human
    if human is None:
        return "none"
    return "same" if store.same_value(decision, human, machine) else "different"


def _audit_estimate(decision: str, counts: store.AuditCounts) -> Estimate:
    if not counts.runs:
        return Estimate(0, 0, None, None, "no audit sample: draw one with `callcheck audit "
                        "OUT --rate 0.1` and review its calls; until then the error rate of "
                        "what callcheck decides on its own is unknown")
    tallies = counts.by_stratum.get(decision, {})
    strata = []
    detail = {}
    for name, s in counts.strata.items():
        t = tallies.get(name, store.AuditTally(0, 0, 0))
        strata.append(Stratum(s.n_unflagged, t.n_reviewed, t.n_wrong))
        detail[name] = {"unflagged": s.n_unflagged, "sampled": s.n_sampled,
                        "reviewed": t.n_reviewed, "agree": t.n_reviewed - t.n_wrong,
                        "weight": (round(s.n_unflagged / t.n_reviewed, 3) if t.n_reviewed
                                   else None)}
    total = counts.decisions.get(decision, store.AuditTally(0, 0, 0))
    w = stratified(strata)
    warnings = [m for m in (_few(total.n_reviewed),) if m]
    extra: dict[str, Any] = {"unreviewed": total.n_unreviewed, "strata": detail}
    if w is not None:
        extra.update(unweighted_rate=round(total.n_wrong / total.n_reviewed, 4),
                     n_effective=round(w.n_effective, 1), covers=round(w.covered, 4))
        if w.covered < 1.0:
            missing = sorted(n or "(no value)" for n, s in detail.items()
                             if not s["reviewed"] and s["unflagged"])
            warnings.append(f"no review yet in stratum {', '.join(missing)}: the rate covers "
                            f"{100 * w.covered:.0f}% of the unflagged calls")
    if total.n_unreviewed:
        warnings.append(f"{total.n_unreviewed} call(s) of the sample not reviewed yet")
    warning = "; ".join(warnings) or None
    if w is None:
        return Estimate(0, 0, None, None, warning, extra)
    return Estimate(total.n_reviewed, total.n_reviewed - total.n_wrong, w.rate, w.ci95,
                    warning, extra)


def _plain(pairs: list[bool]) -> tuple[int, int, float | None, tuple[float, float] | None]:
    n, agree = len(pairs), sum(pairs)
    if not n:
        return 0, 0, None, None
    lo, hi = wilson(n - agree, n)
    return n, agree, (n - agree) / n, (lo, hi)


def measure(conn: sqlite3.Connection) -> Accuracy:
    """Agreement of machine and reviewers per reviewable decision (see the module docstring)."""
    counts = store.audit_counts(conn)
    sample = store.audit_sample(conn) if counts.runs else {}
    machine = store.decision_table(conn)  # calls analysed ok
    reviews = store.reviews_by_file(conn)
    calls = {c.file: c for c in store.call_rows(conn, ok=True)}
    result = {}
    n_reviews = 0
    for decision in store.REVIEWABLE:
        flagged: list[bool] = []
        in_doubt: list[bool] = []
        not_counted = 0
        confusion: dict[str, Counter] = {}
        for file, by_decision in reviews.items():
            r = by_decision.get(decision)
            if r is None or file not in machine or decision not in machine[file]:
                continue
            m, h = machine[file][decision], r["human_value"]
            agree = store.same_value(decision, h, m)
            confusion.setdefault(_label(decision, m), Counter())[
                _reviewer_label(decision, h, m)] += 1
            n_reviews += 1
            call = calls.get(file)
            if file in sample:
                continue  # counted by ``store.audit_counts``
            if call is not None and call.needs_review:
                flagged.append(agree)
                if decision in decisions_in_doubt(call.review_reasons):
                    in_doubt.append(agree)
            else:
                not_counted += 1
        n, agree, rate, ci = _plain(flagged)
        dn, dagree, drate, dci = _plain(in_doubt)
        doubt = {"n": dn, "agree": dagree, "rate": None if drate is None else round(drate, 4),
                 "ci95": None if dci is None else [round(dci[0], 4), round(dci[1], 4)]}
        result[decision] = DecisionAccuracy(
            decision, _audit_estimate(decision, counts),
            Estimate(n, agree, rate, ci, _few(n), {"decision_in_doubt": doubt}),
            {m: dict(sorted(c.items())) for m, c in sorted(confusion.items())}, not_counted)
    return Accuracy(result, counts, n_ok=len(calls),
                    n_flagged=sum(bool(c.needs_review) for c in calls.values()),
                    n_reviews=n_reviews)


def accuracy_document(acc: Accuracy) -> dict[str, Any]:
    """``accuracy.json``: ``{"<decision>": {"audit": {...}, "flagged": {...}, "confusion":
    {...}}}`` beside ``about`` (what the numbers mean), ``version`` and ``audit_sample``."""
    s = acc.sample
    doc: dict[str, Any] = {
        "about": ABOUT,
        "version": ACCURACY_VERSION,
        "min_reviews": MIN_REVIEWS,
        "calls": {"ok": acc.n_ok, "flagged": acc.n_flagged,
                  "unflagged": acc.n_ok - acc.n_flagged},
        "audit_sample": None if not s.runs else {
            "by": s.by,
            "runs": [{"action": r.action, "rate": r.rate, "seed": r.seed, "by": r.by,
                      "drawn_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.drawn_at))}
                     for r in s.runs],
            "n_sampled": s.n_sampled, "n_unreviewed": s.n_unreviewed,
            "strata": {k: {"unflagged": v.n_unflagged, "sampled": v.n_sampled,
                           "unreviewed": v.n_unreviewed} for k, v in s.strata.items()},
        },
    }
    for decision, d in acc.decisions.items():
        doc[decision] = d.to_dict()
    return doc
