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

MAX_GROUPS = 20  # metadata columns with more distinct values are not broken down
NAME_CATEGORIES = ("none", "first", "last", "full")


@dataclass(frozen=True)
class Rate:
    """k of n, with the percentage."""

    k: int
    n: int

    @property
    def pct(self) -> float | None:
        return 100.0 * self.k / self.n if self.n else None

    def __str__(self) -> str:
        return f"{self.k} of {self.n} ({self.pct:.0f}%)" if self.n else "0 of 0"


def _rate(values: list[str | None], want: str) -> Rate:
    known = [v for v in values if v is not None]
    return Rate(sum(v == want for v in known), len(known))


def summarise(table: dict[str, dict[str, str | None]]) -> dict[str, Any]:
    """Counts and rates over ``{file: {decision: value}}``."""
    col = {name: [d.get(name) for d in table.values()] for name in store.DECISIONS}
    waits = sorted(float(v) for v in col["agent_start_s"] if v not in (None, ""))
    any_notice = [None if a is None else ("yes" if "yes" in (a, b) else "no")
                  for a, b in zip(col["notice_before_agent"], col["notice_by_agent"], strict=True)]
    return {
        "n": len(table),
        "notice_before_agent": _rate(col["notice_before_agent"], "yes"),
        "notice_by_agent": _rate(col["notice_by_agent"], "yes"),
        "notice_any": _rate(any_notice, "yes"),
        "notice_source": Counter(v for v in col["notice_source"] if v),
        "agent_name": {c: _rate(col["agent_name"], c) for c in NAME_CATEGORIES},
        "organisation_named": _rate(col["organisation_named"], "yes"),
        "greeting": Counter(v for v in col["greeting"] if v),
        "agent_found": Rate(len(waits), len(table)),
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
    axes[0].set_title("Recording notice")
    names = summary["agent_name"]
    axes[1].bar(list(names), [names[c].pct or 0 for c in names],
                color=["#c44e52", "#dd8452", "#937860", "#55a868"])
    axes[1].set_ylim(0, 100)
    axes[1].set_ylabel("% of calls")
    axes[1].set_title("Agent gave name")
    plots["verdicts"] = _svg(fig)
    if summary["waits"]:
        fig, ax = plt.subplots(figsize=(8, 2.4))
        ax.hist(summary["waits"], bins=min(30, max(5, len(summary["waits"]) // 2)),
                color="#4c72b0")
        ax.set_xlabel("seconds until the live agent spoke")
        ax.set_ylabel("calls")
        ax.set_title("Wait until the agent answered")
        plots["wait"] = _svg(fig)
    return plots


def breakdowns(table: dict[str, dict[str, str | None]],
               meta: dict[str, dict[str, str]]) -> tuple[list[dict[str, Any]], list[str]]:
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
                    "groups": [(value, summarise(g)) for value, g in sorted(groups.items())]})
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
    summary = summarise(effective)
    groups, skipped = breakdowns(effective, store.metadata_table(conn))
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
