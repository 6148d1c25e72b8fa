"""``report.html``: the study's numbers for a batch, with plots and the calls to look at.

Built from ``results.sqlite`` after every ``callcheck analyze`` run (and on demand with
``callcheck report OUT``). Percentages are over the calls analysed without error; where QA
staff reviewed a decision, the reviewed value counts (the report says how many changed).
Plots are SVG made with matplotlib and embedded, so the report is one self-contained file.

The study's figures (``study_figures``; also written to ``OUT/study.json``) are counted the
way the source study counts them, and the report says so:

* municipality level, once per municipality (the ``organisation`` metadata column; without
  it, or for a call without a value, each call is its own unit and the report says so):
  a municipality *announces* recording if any of its calls had ``notice_before_agent = yes``;
  among announcing municipalities where the caller asked whether the call is recorded
  (``agent_knows_recording`` other than ``not_asked``; ``no_answer`` counts as asked), its
  agent *did not know* if any answer was ``no`` or ``unsure``;
* call level, once per call: the agent gave no name (``agent_name = none``); the purposes a
  notice states, among calls with a notice (``notice_purpose`` other than ``no_notice``), each
  purpose counted on its own (a notice may state several) and ``none_stated``; the caller
  announced recording, and among those calls the agent objected.

Every figure is k of n with a Wilson 95 % interval (:func:`wilson`), over verdicts that stand
(decided without a review flag, or reviewed); verdicts awaiting review are left out and
counted beside (:class:`Rate`). A municipality's verdict stands once a standing call settles
it (one standing ``yes`` is enough); while an unsettled call could still change it, it awaits
review. Every figure is also broken down per value of each metadata column with
2..``MAX_GROUPS`` values (``size_class``, ...); a municipality whose calls carry different
values of a column counts under each.
"""

from __future__ import annotations

import io
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.files import atomic_write
from pipeline.runs import accuracy, store
from pipeline.runs.store import ORGANISATION_COLUMNS
from pipeline.stats import (
    wilson,  # here since the first release; tests and callers import it from here
)
from pipeline.types import (
    NAME_CATEGORIES,
    PURPOSES,
    Knows,
    NameCategory,
    Objection,
    YesNo,
    decisions_in_doubt,
)

MAX_GROUPS = 20  # metadata columns with more distinct values are not broken down
STUDY_NAME = "study.json"
STUDY_VERSION = 1
# the decisions about what caller and agent say of recording; a result older than them has
# no values for them, which then count nowhere
STUDY_DECISIONS = store.DIALOGUE_DECISIONS
_NAMES = store.DECISIONS
NOT_KNOWN = (Knows.NO, Knows.UNSURE)  # the agent's answers that count as "did not know"
# how each figure of study.json counts, written into it
STUDY_RULES = {
    "announce_before_agent": "a municipality announces if any of its calls had a recording "
                             "notice before the live agent spoke",
    "agent_did_not_know": "among announcing municipalities where the caller asked whether the "
                          "call is recorded: the agent answered no or unsure in any of them "
                          "(no answer counts as asked, not as not knowing)",
    "agent_no_name": "calls whose agent gave no first or last name",
    "purposes": "calls with a recording notice; each stated purpose counted on its own",
    "agent_objected": "calls in which the caller announced recording: the agent objected",
    "interval": "Wilson score interval, 95 %",
    "reviews": "reviewed values count in place of the machine's; verdicts awaiting review "
               "are left out of k and n and counted beside (awaiting, awaiting_k)",
}


DECIDED, REVIEWED, AWAITING = "decided", "reviewed", "awaiting"


@dataclass(frozen=True)
class FlaggedCall:
    """A call the report lists as flagged for review."""

    call: store.CallRow
    reviewed: tuple[str, ...]  # its decisions with a review, sorted


@dataclass(frozen=True)
class Rate:
    """k of n calls whose verdict stands (decided without review, or reviewed), and how the
    figure rests: ``reviewed`` of the n by a person, ``awaiting`` flagged calls left out of it
    (``awaiting_k`` of them read as the figure by the machine)."""

    k: int
    n: int
    reviewed: int = 0
    awaiting: int = 0
    awaiting_k: int = 0

    @property
    def pct(self) -> float | None:
        return 100.0 * self.k / self.n if self.n else None

    @property
    def decided(self) -> int:
        return self.n - self.reviewed

    @property
    def as_read(self) -> str:
        """Every call as read, the flagged ones still awaiting review included."""
        k, n = self.k + self.awaiting_k, self.n + self.awaiting
        return f"{k} of {n}"

    @property
    def basis(self) -> str:
        return (f"{self.decided} decided without review, {self.reviewed} reviewed, "
                f"{self.awaiting} awaiting review")

    @property
    def ci(self) -> tuple[float, float] | None:
        """Wilson 95 % interval in percent, None when n = 0."""
        if not self.n:
            return None
        lo, hi = wilson(self.k, self.n)
        return 100.0 * lo, 100.0 * hi

    def to_dict(self) -> dict[str, Any]:
        ci = self.ci
        return {"k": self.k, "n": self.n,
                "pct": None if self.pct is None else round(self.pct, 2),
                "ci95_pct": None if ci is None else [round(ci[0], 2), round(ci[1], 2)],
                "reviewed": self.reviewed, "awaiting": self.awaiting,
                "awaiting_k": self.awaiting_k}

    def __str__(self) -> str:
        return f"{self.k} of {self.n} ({self.pct:.0f}%)" if self.n else "0 of 0"


def _rate(values: list[str | None], want: str | Callable[[str], bool],
          states: list[str]) -> Rate:
    """``want``: the value that counts, or a test of a value (e.g. one purpose in a list)."""
    hit = want if callable(want) else (lambda v: v == want)
    known = [(v, st) for v, st in zip(values, states, strict=True) if v is not None]
    stands = [(v, st) for v, st in known if st != AWAITING]
    waiting = [v for v, st in known if st == AWAITING]
    return Rate(sum(hit(v) for v, _ in stands), len(stands),
                reviewed=sum(st == REVIEWED for _, st in stands), awaiting=len(waiting),
                awaiting_k=sum(hit(v) for v in waiting))


def _either(a: str, b: str) -> str:
    """The state of a figure made of two decisions: awaiting if either awaits review."""
    if AWAITING in (a, b):
        return AWAITING
    return REVIEWED if REVIEWED in (a, b) else DECIDED


def decision_states(conn) -> dict[str, dict[str, str]]:
    """``{file: {decision: decided | reviewed | awaiting}}`` for calls analysed without error:
    reviewed when QA staff gave a verdict, awaiting when the call's review reasons put the
    decision in doubt (``types.decisions_in_doubt``), else decided without review."""
    reviews = store.latest_reviews(conn)
    states: dict[str, dict[str, str]] = {}
    for c in store.call_rows(conn, ok=True):
        doubt = decisions_in_doubt(c.review_reasons)
        states[c.file] = {
            d: REVIEWED if (c.file, d) in reviews else AWAITING if d in doubt else DECIDED
            for d in _NAMES}
    return states


def summarise(table: dict[str, dict[str, str | None]],
              states: dict[str, dict[str, str]] | None = None,
              units: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Counts and rates over ``{file: {decision: value}}``. ``states`` (as from
    :func:`decision_states`; default: every verdict decided) keeps verdicts awaiting review out
    of the rates and counts them beside. ``units`` (``{file: municipality}``, as from
    :func:`organisation_units`; default: each call its own) groups the calls for the
    municipality-level figures of ``study`` (:func:`study_figures`)."""
    states = states or {}
    col = {name: [d.get(name) for d in table.values()] for name in _NAMES}
    st = {name: [states.get(f, {}).get(name, DECIDED) for f in table] for name in _NAMES}
    waits = sorted(float(v) for v, s in zip(col["agent_start_s"], st["agent_start_s"],
                                            strict=True) if v not in (None, "") and s != AWAITING)
    any_notice = [None if a is None else ("yes" if YesNo.YES in (a, b) else "no")
                  for a, b in zip(col["notice_before_agent"], col["notice_by_agent"], strict=True)]
    any_state = [_either(a, b) for a, b in zip(st["notice_before_agent"], st["notice_by_agent"],
                                                strict=True)]
    found = ["yes" if v not in (None, "") else "no" for v in col["agent_start_s"]]

    def standing(name: str) -> Counter:
        return Counter(v for v, s in zip(col[name], st[name], strict=True)
                       if v and s != AWAITING)

    return {
        "n": len(table),
        "notice_before_agent": _rate(col["notice_before_agent"], YesNo.YES,
                                     st["notice_before_agent"]),
        "notice_by_agent": _rate(col["notice_by_agent"], YesNo.YES, st["notice_by_agent"]),
        "notice_any": _rate(any_notice, "yes", any_state),
        "notice_source": standing("notice_source"),
        "agent_name": {c: _rate(col["agent_name"], c, st["agent_name"]) for c in NAME_CATEGORIES},
        "organisation_named": _rate(col["organisation_named"], YesNo.YES,
                                    st["organisation_named"]),
        "greeting": standing("greeting"),
        "agent_found": _rate(found, "yes", st["agent_start_s"]),
        "wait": {
            "median": statistics.median(waits) if waits else None,
            "mean": statistics.fmean(waits) if waits else None,
            "p90": waits[min(len(waits) - 1, int(0.9 * len(waits)))] if waits else None,
            "max": waits[-1] if waits else None,
        },
        "waits": waits,
        "study": study_figures(table, states, units),
    }


def _value(v: str | None) -> str | None:
    """A stored value, with the empty string (no value) as None."""
    return v if v not in (None, "") else None


def organisation_units(files: list[str], meta: Mapping[str, Mapping[str, str]]
                       ) -> tuple[dict[str, str], str | None, int]:
    """``({file: municipality}, column, calls without one)``. The municipality is the value of
    the first metadata column of ``batch.ORGANISATION_COLUMNS`` the CSV has, compared without
    case and extra spaces; a call without a value is its own unit (keyed by its file name)."""
    columns = {c for m in meta.values() for c in m}
    column = next((c for c in ORGANISATION_COLUMNS if c in columns), None)
    units, alone = {}, 0
    for f in files:
        name = re.sub(r"\s+", " ", (meta.get(f, {}).get(column) or "") if column else "")
        name = name.strip().casefold()
        if not name:
            alone += 1
        units[f] = f"org:{name}" if name else f"call:{f}"
    return units, column, alone


def _unit_verdict(pairs: list[tuple[str | None, str]], hit: Callable[[str], bool],
                  relevant: Callable[[str], bool] = lambda v: True) -> tuple[str | None, str]:
    """One municipality's yes/no from its calls' ``(value, state)``: ``yes`` if any standing
    call hits (that settles it), else awaiting review while a call awaiting review is relevant
    (its value as read: ``yes`` if one of those hits), else ``no``; None when no call is
    relevant (the municipality is not in the figure). Reviewed when a standing call was."""
    known = [(v, s) for v, s in pairs if v is not None and relevant(v)]
    if not known:
        return None, DECIDED
    stands = [(v, s) for v, s in known if s != AWAITING]
    waiting = [v for v, s in known if s == AWAITING]
    state = REVIEWED if any(s == REVIEWED for _, s in stands) else DECIDED
    if any(hit(v) for v, _ in stands):
        return "yes", state
    if waiting:
        return ("yes" if any(hit(v) for v in waiting) else "no"), AWAITING
    return "no", state


def study_figures(table: Mapping[str, Mapping[str, str | None]],
                  states: Mapping[str, Mapping[str, str]] | None = None,
                  units: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The source study's figures over ``{file: {decision: value}}`` (reviewed values already
    in place, as ``store.effective_table`` gives): ``municipality`` level, once per unit of
    ``units`` (default: each call its own), and ``call`` level; see the module docstring."""
    states, units = states or {}, units or {}
    files = list(table)

    def pair(f: str, name: str) -> tuple[str | None, str]:
        return _value(table[f].get(name)), states.get(f, {}).get(name, DECIDED)

    by_unit: dict[str, list[str]] = {}
    for f in files:
        by_unit.setdefault(units.get(f, f"call:{f}"), []).append(f)
    announce, announce_st, unknown, unknown_st = [], [], [], []
    for fs in by_unit.values():
        a, sa = _unit_verdict([pair(f, "notice_before_agent") for f in fs],
                              lambda v: v == YesNo.YES)
        k, sk = _unit_verdict([pair(f, "agent_knows_recording") for f in fs],
                              lambda v: v in NOT_KNOWN, relevant=lambda v: v != Knows.NOT_ASKED)
        announce.append(a)
        announce_st.append(sa)
        # only municipalities that announce (as read, if that awaits review) are asked about
        unknown.append(k if a == "yes" else None)
        unknown_st.append(_either(sa, sk))

    col = {name: [pair(f, name)[0] for f in files] for name in STUDY_DECISIONS + ("agent_name",)}
    st = {name: [pair(f, name)[1] for f in files] for name in STUDY_DECISIONS + ("agent_name",)}
    purpose = [v if v != "no_notice" else None for v in col["notice_purpose"]]
    purposes = {p: _rate(purpose, lambda v, p=p: p in v.split(";"), st["notice_purpose"])
                for p in PURPOSES}
    purposes["none_stated"] = _rate(purpose, "none_stated", st["notice_purpose"])
    announced = col["caller_announced_recording"]
    objected = [o if a == YesNo.YES else None for a, o in zip(announced, col["agent_objected"],
                                                          strict=True)]
    objected_st = [_either(a, b) for a, b in zip(st["caller_announced_recording"],
                                                 st["agent_objected"], strict=True)]
    return {
        "municipality": {
            "n": len(by_unit),
            "announce_before_agent": _rate(announce, "yes", announce_st),
            "agent_did_not_know": _rate(unknown, "yes", unknown_st),
        },
        "call": {
            "n": len(files),
            "agent_no_name": _rate(col["agent_name"], NameCategory.NONE, st["agent_name"]),
            "purposes": purposes,
            "caller_announced_recording": _rate(announced, YesNo.YES,
                                                st["caller_announced_recording"]),
            "agent_objected": _rate(objected, Objection.YES, objected_st),
            "agent_objection_unclear": _rate(objected, Objection.UNCLEAR, objected_st),
            "notice_contradicted": _rate(col["notice_contradicted"], YesNo.YES,
                                         st["notice_contradicted"]),
        },
    }


def study_json(figures: Any) -> Any:
    """``study_figures`` (nested dicts of :class:`Rate`) as plain JSON values."""
    if isinstance(figures, Rate):
        return figures.to_dict()
    if isinstance(figures, Mapping):
        return {k: study_json(v) for k, v in figures.items()}
    return figures


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _plots(summary: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.fonttype": "none"})
    plots = {}
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
    notice = [summary["notice_before_agent"], summary["notice_by_agent"], summary["notice_any"]]
    axes[0].barh(["before agent", "by agent", "either"], [r.pct or 0 for r in notice],
                 color=["#4c72b0", "#55a868", "#8172b2"])
    axes[0].set_xlim(0, 100)
    axes[0].set_xlabel("% of calls")
    axes[0].set_title(f"Recording notice (of {notice[0].n} settled calls)")
    names = summary["agent_name"]
    axes[1].bar(list(names), [names[c].pct or 0 for c in names],
                color=["#c44e52", "#dd8452", "#937860", "#55a868"])
    axes[1].set_ylim(0, 100)
    axes[1].set_ylabel("% of calls")
    axes[1].set_title(f"Agent gave name (of {names['none'].n} settled calls)")
    plots["verdicts"] = _svg(fig)
    plots["wait"] = None  # no agent start stands in any call: the template says so
    if summary["waits"]:
        fig, ax = plt.subplots(figsize=(8, 2.4))
        ax.hist(summary["waits"], bins=min(30, max(5, len(summary["waits"]) // 2)),
                color="#4c72b0")
        ax.set_xlabel("seconds until the live agent spoke")
        ax.set_ylabel("calls")
        ax.set_title("Wait until the agent answered")
        plots["wait"] = _svg(fig)
    return plots


def _ci_bars(ax, labels: list[str], rates: list[Rate], title: str, ylabel: str,
             color: str | list[str] = "#4c72b0") -> None:
    """Bars of percentages with Wilson 95 % whiskers and ``k/n`` above each."""
    pct = [r.pct or 0.0 for r in rates]
    lo = [max(0.0, r.pct - r.ci[0]) if r.n else 0.0 for r in rates]
    hi = [max(0.0, r.ci[1] - r.pct) if r.n else 0.0 for r in rates]
    x = range(len(rates))
    ax.bar(x, pct, yerr=[lo, hi], capsize=3, color=color, ecolor="#333")
    for i, r in enumerate(rates):
        ax.text(i, (r.ci[1] if r.n else 0.0) + 2, f"{r.k}/{r.n}", ha="center", fontsize=7)
    ax.set_xticks(list(x), labels)
    ax.set_ylim(0, 112)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def _study_plots(data: dict[str, Any]) -> dict[str, Any]:
    """The study's figures with their 95 % intervals: overall, and per breakdown column."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.fonttype": "none"})
    study = data["summary"]["study"]
    m, c = study["municipality"], study["call"]
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.8), gridspec_kw={"width_ratios": [3, 4]},
                             layout="constrained")
    _ci_bars(axes[0], ["announce\n(munic.)", "did not know\n(announcing)", "no name\n(calls)"],
             [m["announce_before_agent"], m["agent_did_not_know"], c["agent_no_name"]],
             "Key figures (95% CI)", "%", color=["#4c72b0", "#c44e52", "#dd8452"])
    labels = [p.replace("_", " ") for p in c["purposes"]]
    _ci_bars(axes[1], labels, list(c["purposes"].values()),
             f"Stated purpose (of {c['purposes']['none_stated'].n} calls with a notice)",
             "%", color="#8172b2")
    axes[1].tick_params(axis="x", labelrotation=30)
    plots: dict[str, Any] = {"study": _svg(fig), "by": {}}
    for b in data["breakdowns"]:
        values = [str(v) for v, _ in b["groups"]]
        groups = [g["study"] for _, g in b["groups"]]
        fig, axes = plt.subplots(1, 3, figsize=(9, 3), layout="constrained")
        for ax, level, key, title in (
                (axes[0], "municipality", "announce_before_agent",
                 "Announce before the agent\n(% of municipalities, 95% CI)"),
                (axes[1], "municipality", "agent_did_not_know",
                 "Agent did not know\n(% of announcing ones asked)"),
                (axes[2], "call", "agent_no_name", "Agent gave no name\n(% of calls)")):
            _ci_bars(ax, values, [g[level][key] for g in groups], title, "%")
            if len(values) > 4:
                ax.tick_params(axis="x", labelrotation=45)
        plots["by"][b["column"]] = _svg(fig)
    return plots


def breakdowns(table: dict[str, dict[str, str | None]], meta: dict[str, dict[str, str]],
               states: dict[str, dict[str, str]] | None = None,
               units: Mapping[str, str] | None = None
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """Per metadata column with 2..MAX_GROUPS values: a summary per value, the study's
    figures included (municipalities grouped by ``units`` within each value). Also returns the
    columns left out (too many distinct values)."""
    columns = sorted({c for m in meta.values() for c in m})
    out, skipped = [], []
    for column in columns:
        groups: dict[str, dict[str, dict[str, str | None]]] = {}
        for file, decisions in table.items():
            value = meta.get(file, {}).get(column) or "(missing)"
            groups.setdefault(value, {})[file] = decisions
        if len(groups) > MAX_GROUPS or (len(groups) == len(table) and len(table) > 3):
            skipped.append(column)
            continue
        out.append({"column": column,
                    "groups": [(value, summarise(g, states, units))
                               for value, g in sorted(groups.items())]})
    return out, skipped


def build_report(conn) -> dict[str, Any]:
    """Everything the report shows, as data (also handy for tests)."""
    machine = store.decision_table(conn)
    effective = store.effective_table(conn)
    changed = sum(1 for f, d in effective.items() for k, v in d.items()
                  if machine.get(f, {}).get(k) != v)
    reviews = store.latest_reviews(conn)
    calls = store.call_rows(conn)
    flagged = [FlaggedCall(c, tuple(sorted(d for (f, d) in reviews if f == c.file)))
               for c in calls if c.needs_review]
    states = decision_states(conn)
    meta = store.metadata_table(conn)
    units, unit_column, alone = organisation_units(list(effective), meta)
    summary = summarise(effective, states, units)
    groups, skipped = breakdowns(effective, meta, states, units)
    return {
        "n_files": len(calls),
        "n_ok": sum(c.ok for c in calls),
        "failed": [c for c in calls if not c.ok],
        "flagged": flagged,
        "n_reviewed_calls": len({f for f, _ in reviews}),
        "n_changed": changed,
        "summary": summary,
        "breakdowns": groups,
        "skipped_columns": skipped,
        # how the municipality-level figures count: by this metadata column (None: per call)
        "units": {"column": unit_column, "n": summary["study"]["municipality"]["n"],
                  "calls_without": alone},
        # the machine against the reviews (``accuracy.measure``; also ``accuracy.json``)
        "accuracy": accuracy.measure(conn),
    }


def study_document(data: dict[str, Any]) -> dict[str, Any]:
    """The study's figures of :func:`build_report` as ``study.json``: overall and per value
    of each breakdown column, each figure with k, n, percent, Wilson 95 % interval (percent)
    and how it rests on reviews."""
    return {
        "version": STUDY_VERSION,
        "counting": {
            "municipality_column": data["units"]["column"],
            "municipalities": data["units"]["n"],
            "calls_without_municipality": data["units"]["calls_without"],
            "calls": data["summary"]["n"],
            "municipality_level": ["announce_before_agent", "agent_did_not_know"],
            "call_level": ["agent_no_name", "purposes", "caller_announced_recording",
                           "agent_objected", "agent_objection_unclear", "notice_contradicted"],
            "rules": STUDY_RULES,
        },
        "overall": study_json(data["summary"]["study"]),
        "breakdowns": {b["column"]: {str(v): study_json(g["study"]) for v, g in b["groups"]}
                       for b in data["breakdowns"]},
    }



def write_report(out: str | Path) -> Path:
    """Write ``OUT/report.html``, ``OUT/study.json`` (the study's figures, machine-readable)
    and ``OUT/accuracy.json`` (the machine against the reviews) from ``OUT/results.sqlite``;
    returns the report's path."""
    import jinja2

    out = Path(out)
    conn = store.connect(out / store.STORE_NAME)
    try:
        data = build_report(conn)
    finally:
        conn.close()
    env = jinja2.Environment(loader=jinja2.PackageLoader("pipeline", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["secs"] = lambda x: "–" if x is None else f"{x:.1f} s"
    env.filters["pct"] = lambda r: "–" if r.pct is None else f"{r.pct:.0f}%"
    env.filters["ci"] = lambda r: ("no interval" if r.ci is None
                                   else f"95% CI {r.ci[0]:.0f}–{r.ci[1]:.0f}%")
    # an ``accuracy.Estimate``: error rate and interval in percent
    env.filters["err"] = lambda e: ("–" if e.rate is None else f"{100 * e.rate:.1f}% "
                                    f"({100 * e.ci95[0]:.1f}–{100 * e.ci95[1]:.1f}%)")
    html = env.get_template("report.html").render(
        data=data, plots={**_plots(data["summary"]), **_study_plots(data)}, out=out.name,
        purposes=PURPOSES, generated=time.strftime("%Y-%m-%d %H:%M"),
        acc_min=accuracy.MIN_REVIEWS)
    atomic_write(out / STUDY_NAME, json.dumps(study_document(data), ensure_ascii=False,
                                              indent=1) + "\n")
    atomic_write(out / accuracy.ACCURACY_NAME,
                 json.dumps(accuracy.accuracy_document(data["accuracy"]), ensure_ascii=False,
                            indent=1) + "\n")
    path = out / "report.html"
    atomic_write(path, html)
    return path
