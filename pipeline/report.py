"""``report.html``: the study's numbers for a batch, with plots and the calls to look at.

Built from ``results.sqlite`` after every ``callcheck analyze`` run (and on demand with
``callcheck report OUT``). Percentages are over the calls analysed without error; where QA
staff reviewed a decision, the reviewed value counts (the report says how many changed).
Plots are SVG made with matplotlib and embedded, so the report is one self-contained file.
"""

from __future__ import annotations

import io
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import store
from .batch import atomic_write
from .types import decisions_in_doubt, parse_reasons

MAX_GROUPS = 20  # metadata columns with more distinct values are not broken down
NAME_CATEGORIES = ("none", "first", "last", "full")


DECIDED, REVIEWED, AWAITING = "decided", "reviewed", "awaiting"


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

    def __str__(self) -> str:
        return f"{self.k} of {self.n} ({self.pct:.0f}%)" if self.n else "0 of 0"


def _rate(values: list[str | None], want: str, states: list[str]) -> Rate:
    known = [(v, st) for v, st in zip(values, states, strict=True) if v is not None]
    stands = [(v, st) for v, st in known if st != AWAITING]
    waiting = [v for v, st in known if st == AWAITING]
    return Rate(sum(v == want for v, _ in stands), len(stands),
                reviewed=sum(st == REVIEWED for _, st in stands), awaiting=len(waiting),
                awaiting_k=sum(v == want for v in waiting))


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
    for r in conn.execute("SELECT file, review_reasons FROM calls WHERE status = 'ok'"):
        doubt = decisions_in_doubt(parse_reasons(r["review_reasons"]))
        states[r["file"]] = {
            d: REVIEWED if (r["file"], d) in reviews else AWAITING if d in doubt else DECIDED
            for d in store.DECISIONS}
    return states


def summarise(table: dict[str, dict[str, str | None]],
              states: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Counts and rates over ``{file: {decision: value}}``. ``states`` (as from
    :func:`decision_states`; default: every verdict decided) keeps verdicts awaiting review out
    of the rates and counts them beside."""
    states = states or {}
    col = {name: [d.get(name) for d in table.values()] for name in store.DECISIONS}
    st = {name: [states.get(f, {}).get(name, DECIDED) for f in table]
          for name in store.DECISIONS}
    waits = sorted(float(v) for v, s in zip(col["agent_start_s"], st["agent_start_s"],
                                            strict=True) if v not in (None, "") and s != AWAITING)
    any_notice = [None if a is None else ("yes" if "yes" in (a, b) else "no")
                  for a, b in zip(col["notice_before_agent"], col["notice_by_agent"], strict=True)]
    any_state = [_either(a, b) for a, b in zip(st["notice_before_agent"], st["notice_by_agent"],
                                                strict=True)]
    found = ["yes" if v not in (None, "") else "no" for v in col["agent_start_s"]]

    def standing(name: str) -> Counter:
        return Counter(v for v, s in zip(col[name], st[name], strict=True)
                       if v and s != AWAITING)

    return {
        "n": len(table),
        "notice_before_agent": _rate(col["notice_before_agent"], "yes", st["notice_before_agent"]),
        "notice_by_agent": _rate(col["notice_by_agent"], "yes", st["notice_by_agent"]),
        "notice_any": _rate(any_notice, "yes", any_state),
        "notice_source": standing("notice_source"),
        "agent_name": {c: _rate(col["agent_name"], c, st["agent_name"]) for c in NAME_CATEGORIES},
        "organisation_named": _rate(col["organisation_named"], "yes", st["organisation_named"]),
        "greeting": standing("greeting"),
        "agent_found": _rate(found, "yes", st["agent_start_s"]),
        "wait": {
            "median": statistics.median(waits) if waits else None,
            "mean": statistics.fmean(waits) if waits else None,
            "p90": waits[min(len(waits) - 1, int(0.9 * len(waits)))] if waits else None,
            "max": waits[-1] if waits else None,
        },
        "waits": waits,
    }


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


def breakdowns(table: dict[str, dict[str, str | None]], meta: dict[str, dict[str, str]],
               states: dict[str, dict[str, str]] | None = None
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """Per metadata column with 2..MAX_GROUPS values: a summary per value. Also returns the
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
                    "groups": [(value, summarise(g, states))
                               for value, g in sorted(groups.items())]})
    return out, skipped


def build_report(conn) -> dict[str, Any]:
    """Everything the report shows, as data (also handy for tests)."""
    machine = store.decision_table(conn)
    effective = store.effective_table(conn)
    changed = sum(1 for f, d in effective.items() for k, v in d.items()
                  if machine.get(f, {}).get(k) != v)
    reviews = store.latest_reviews(conn)
    calls = [dict(r) for r in conn.execute("SELECT * FROM calls ORDER BY file")]
    flagged = [c for c in calls if c["needs_review"]]
    for c in flagged:
        c["reviewed"] = sorted(d for (f, d) in reviews if f == c["file"])
    states = decision_states(conn)
    summary = summarise(effective, states)
    groups, skipped = breakdowns(effective, store.metadata_table(conn), states)
    return {
        "n_files": len(calls),
        "n_ok": sum(c["status"] == "ok" for c in calls),
        "failed": [c for c in calls if c["status"] == "error"],
        "flagged": flagged,
        "n_reviewed_calls": len({f for f, _ in reviews}),
        "n_changed": changed,
        "summary": summary,
        "breakdowns": groups,
        "skipped_columns": skipped,
    }


def write_report(out: str | Path) -> Path:
    """Write ``OUT/report.html`` from ``OUT/results.sqlite``; returns its path."""
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
    html = env.get_template("report.html").render(
        data=data, plots=_plots(data["summary"]), out=out.name,
        generated=time.strftime("%Y-%m-%d %H:%M"))
    path = out / "report.html"
    atomic_write(path, html)
    return path
