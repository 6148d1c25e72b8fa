"""The audit sample: a random sample of the calls the pipeline did *not* flag, for QA to review.

Flagged calls alone say little about how often callcheck is wrong when it decides on its own;
a random sample of the unflagged calls does. ``callcheck audit OUT --rate R`` draws, in each
stratum (the values of a metadata column given with ``--by``; one stratum without it), the
fraction ``R`` of the calls analysed ok with ``needs_review`` false, and at least one call of
every non-empty stratum. The draw is recorded in ``results.sqlite`` (``audit_runs``: rate,
seed, column, time; ``audit``: the calls, by stratum; ``audit_strata``: per stratum how many
unflagged calls there were, for weighting the error rate back to the batch), so:

* it is reproducible: the same seed over the same calls draws the same sample (each stratum
  has its own generator, seeded by the seed and the stratum's name, over its calls in sorted
  order, so adding a stratum does not change the others);
* it is never redrawn silently: a second draw is refused unless ``add`` (more calls, drawn
  from those not sampled yet, ``R`` of each stratum again) or ``redraw`` (a new sample in
  place of the old; the old stays in the tables, as history) is asked for.

The sample in force is the latest ``draw`` or ``redraw`` and the ``add`` runs after it
(``store.audit_runs``); ``store.audit_counts`` counts its reviews.
"""

from __future__ import annotations

import math
import random
import secrets
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.runs import store

MODES = ("draw", "add", "redraw")
NO_STRATUM = ""  # the stratum of calls without a value in the column (and of an unstratified sample)


class AuditError(Exception):
    """The sample cannot be drawn as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Draw:
    """What one ``draw_sample`` recorded."""

    run: store.AuditRun
    strata: dict[str, tuple[int, int]]  # stratum -> (unflagged calls, calls drawn now)
    files: tuple[str, ...]  # the calls drawn now, sorted
    n_sample: int  # calls in the sample in force after this draw


def sample_size(rate: float, n: int) -> int:
    """Calls to draw from a stratum of ``n``: ``rate * n`` rounded half up, at least one when
    ``rate`` > 0 and the stratum is not empty, at most ``n``."""
    if n <= 0 or rate <= 0:
        return 0
    return min(n, max(1, math.floor(rate * n + 0.5)))


def draw_strata(candidates: Mapping[str, Sequence[str]], sizes: Mapping[str, int],
                seed: int) -> dict[str, list[str]]:
    """``sizes[s]`` files drawn at random from each stratum's ``candidates``, sorted; the same
    seed and candidates give the same draw, whatever their order."""
    drawn = {}
    for stratum, files in candidates.items():
        rng = random.Random(f"callcheck-audit:{seed}:{stratum}")
        drawn[stratum] = sorted(rng.sample(sorted(files), sizes.get(stratum, 0)))
    return drawn


def unflagged_calls(conn: sqlite3.Connection, by: str | None) -> dict[str, list[str]]:
    """``{stratum: [file, ...]}`` of the calls analysed ok that were not flagged."""
    meta = store.metadata_table(conn) if by is not None else {}
    strata: dict[str, list[str]] = {}
    for r in conn.execute("SELECT file FROM calls WHERE status = 'ok' AND needs_review = 0 "
                          "ORDER BY file"):
        stratum = (meta.get(r["file"], {}).get(by) or NO_STRATUM) if by else NO_STRATUM
        strata.setdefault(stratum, []).append(r["file"])
    return strata


def describe(runs: Sequence[store.AuditRun], n: int) -> str:
    last = runs[-1]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(runs[0].drawn_at))
    by = f", by {last.by}" if last.by else ""
    return (f"{n} call(s) drawn {when} with seed {runs[0].seed}, rate {runs[0].rate:g}{by}"
            + (f", {len(runs) - 1} addition(s)" if len(runs) > 1 else ""))


def draw_sample(conn: sqlite3.Connection, rate: float, *, seed: int | None = None,
                by: str | None = None, mode: str = "draw", now: float | None = None) -> Draw:
    """Draw and record an audit sample (one transaction). ``mode``: ``draw`` (refused when a
    sample exists), ``add`` (more calls, from those not sampled yet; ``by`` defaults to the
    sample's) or ``redraw`` (a new sample in place of the old). ``seed`` None: a random one,
    recorded. Raises :class:`AuditError`."""
    if mode not in MODES:
        raise AuditError(f"mode: one of {', '.join(MODES)}")
    if not (isinstance(rate, float | int) and 0.0 < rate <= 1.0):
        raise AuditError(f"rate {rate!r}: a fraction above 0, at most 1")
    if seed is None:
        seed = secrets.randbelow(2**31)
    elif not 0 <= seed < 2**63:
        raise AuditError(f"seed {seed}: a whole number >= 0")
    now = time.time() if now is None else now
    with store.transaction(conn):
        runs = store.audit_runs(conn)
        sampled = store.audit_sample(conn) if runs else {}
        if runs and mode == "draw":
            raise AuditError(
                f"this store already has an audit sample ({describe(runs, len(sampled))}); "
                "use --add to draw more from the calls not sampled yet, or --redraw to "
                "replace it (the old sample stays on record)")
        if mode == "add" and runs:
            current_by = runs[-1].by
            if by is not None and by != current_by:
                raise AuditError(f"the sample is stratified by {current_by or 'nothing'}, "
                                 f"not {by}: add to it without --by, or --redraw")
            by = current_by
        if mode != "add":
            sampled = {}
        if by is not None:
            columns = {r[0] for r in conn.execute('SELECT DISTINCT "column" FROM metadata')}
            if by not in columns:
                raise AuditError(f"no metadata column {by!r} (the store has: "
                                 f"{', '.join(sorted(columns)) or 'none'}; give --metadata "
                                 "to `callcheck analyze`)")
        population = unflagged_calls(conn, by)
        if not population:
            raise AuditError("no unflagged call analysed ok to draw from")
        candidates = {s: [f for f in files if f not in sampled]
                      for s, files in population.items()}
        sizes = {s: min(len(candidates[s]), sample_size(rate, len(files)))
                 for s, files in population.items()}
        if not any(sizes.values()):
            raise AuditError("every unflagged call is in the sample already")
        drawn = draw_strata(candidates, sizes, seed)
        action = "draw" if mode == "add" and not runs else mode
        cur = conn.execute("INSERT INTO audit_runs (action, rate, seed, by_column, drawn_at) "
                           "VALUES (?,?,?,?,?)", (action, float(rate), seed, by, now))
        run = store.AuditRun(int(cur.lastrowid), action, float(rate), seed, by, now)
        conn.executemany("INSERT INTO audit_strata VALUES (?,?,?,?)",
                         [(run.id, s, len(population[s]), len(drawn[s])) for s in population])
        conn.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?)",
                         [(run.id, f, s, seed, float(rate), now)
                          for s, files in drawn.items() for f in files])
    files = tuple(sorted(f for fs in drawn.values() for f in fs))
    return Draw(run, {s: (len(population[s]), len(drawn[s])) for s in sorted(population)},
                files, len(sampled) + len(files))
