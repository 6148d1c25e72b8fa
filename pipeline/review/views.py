"""What the call page shows, computed from a call's results (no HTML here; templates render it).

* The role timeline: one lane per kind of sound (IVR, hold = music and tones, agent, caller),
  bars as percentages of the call's duration, so the template can draw them as SVG rectangles
  (no inline styles, which the Content-Security-Policy forbids) and a click can seek.
* The transcript: segments split into pieces, the pieces that carry evidence marked with its
  kind (``notice``, ``name``, ``question``, ``purpose``, ``caller_notice``). Evidence is
  matched by time and text: a word belongs to an evidence span when its middle lies inside the
  span's times *and* it is one of the span's words (punctuation and case ignored); if no word
  passes both tests, time alone decides, and without word times the span's text is looked up
  in the segment's text.
* The decisions: machine value, confidence, evidence, the review reasons that concern each
  one, and the reviews (newest and history).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.runs import store
from pipeline.types import (
    DECISION_CONCERNS,
    PURPOSE_VALUES,
    PURPOSES,
    Evidence,
    ReviewReason,
    Role,
    Segment,
    Turn,
    Word,
    concern_of,
)

LANES: tuple[tuple[str, tuple[Role, ...]], ...] = (
    ("IVR", (Role.IVR,)), ("hold", (Role.MUSIC, Role.TONE)), ("agent", (Role.AGENT,)),
    ("caller", (Role.CALLER,)),
)
SPEECH_ROLES = (Role.IVR, Role.AGENT, Role.CALLER)
EVIDENCE_KINDS = store.EVIDENCE_KINDS  # kind -> the verdicts' evidence list
DECISION_EVIDENCE = store.DECISION_EVIDENCE  # which kind of evidence each decision rests on
# decisions whose reviewed value may join several of the values offered (``a;b``), with
# what the form says of them
MULTI_VALUED = {
    "notice_purpose": f"one or more of {', '.join(PURPOSES)} joined by ';', or "
                      f"{' or '.join(v for v in PURPOSE_VALUES if v not in PURPOSES)}",
}
SLACK_S = 0.05  # seconds of tolerance when matching times
MIN_BAR_PCT = 0.25  # narrowest visible bar, percent of the width
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Bar:
    """One turn on the timeline; times in seconds, position in percent of the call."""

    start: float
    end: float
    role: Role
    left_pct: float
    width_pct: float


@dataclass(frozen=True)
class Lane:
    name: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Marker:
    """A point on the timeline (evidence, the agent start); ``at_pct`` percent of the call."""

    kind: str  # an evidence kind (``EVIDENCE_KINDS``) or "agent_start"
    start: float  # seconds
    at_pct: float
    label: str


@dataclass(frozen=True)
class Piece:
    """A stretch of a segment's text; ``kinds`` names the evidence it belongs to, and
    ``start`` (seconds) is where a click on it seeks to."""

    text: str
    kinds: tuple[str, ...]
    start: float
    sep: str = ""  # written before the piece, outside any highlight (a space between words)


@dataclass(frozen=True)
class SegmentView:
    start: float
    end: float
    role: Role | None
    channel: int | None
    pieces: tuple[Piece, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(k for p in self.pieces for k in p.kinds))


@dataclass(frozen=True)
class DecisionView:
    name: str
    machine: str | None
    confidence: float | None
    evidence: tuple[Evidence, ...]
    evidence_kind: str | None
    reasons: tuple[ReviewReason | str, ...]
    allowed: tuple[str, ...] | None  # the values a reviewer can choose (None: free text)
    reviewable: bool
    latest: sqlite3.Row | None
    history: tuple[sqlite3.Row, ...]
    multiple: bool = False  # the value may join several of ``allowed`` with ";"
    hint: str = ""  # what the form says of the values (multi-valued decisions)


def _pct(t: float, duration: float) -> float:
    return round(100.0 * min(max(t, 0.0), duration) / duration, 3)


def duration_of(duration_s: float | None, turns: Sequence[Turn],
                segments: Sequence[Segment]) -> float:
    """The call's length in seconds (the audio's, else the last turn or segment end)."""
    ends = [float(x.end) for x in [*turns, *segments]]
    return max([float(duration_s or 0.0), *ends, 0.001])


def timeline(turns: Sequence[Turn], duration: float) -> list[Lane]:
    """The lanes of the role timeline; SILENCE is not drawn."""
    lanes = []
    for name, roles in LANES:
        bars = []
        for t in turns:
            if t.role not in roles or t.end <= t.start:
                continue
            left = _pct(t.start, duration)
            width = max(MIN_BAR_PCT, _pct(t.end, duration) - left)
            bars.append(Bar(float(t.start), float(t.end), t.role, left,
                            round(min(width, 100.0 - left), 3)))
        lanes.append(Lane(name, tuple(bars)))
    return lanes


def markers(evidence: Mapping[str, Sequence[Evidence]], agent_start_s: float | None,
            duration: float) -> list[Marker]:
    out = []
    if agent_start_s is not None:
        out.append(Marker("agent_start", float(agent_start_s), _pct(agent_start_s, duration),
                          f"agent starts at {agent_start_s:.2f} s"))
    for kind, items in evidence.items():
        for e in items:
            if e.start is not None:
                out.append(Marker(kind, float(e.start), _pct(e.start, duration),
                                  f"{kind}: {e.text}"))
    return out


def role_at(turns: Sequence[Turn], start: float, end: float) -> Role | None:
    """The speaking role that overlaps ``start``..``end`` seconds most."""
    best, best_overlap = None, 0.0
    for t in turns:
        if t.role not in SPEECH_ROLES:
            continue
        overlap = min(end, t.end) - max(start, t.start)
        if overlap > best_overlap:
            best, best_overlap = t.role, overlap
    return best


def _norm(word: str) -> str:
    return "".join(_WORD.findall(word.casefold()))


def _mark_words(words: Sequence[Word], evidence: Sequence[tuple[str, Evidence]]
                ) -> list[set[str]]:
    """Evidence kinds per word (see the module docstring)."""
    kinds: list[set[str]] = [set() for _ in words]
    for kind, e in evidence:
        if e.start is None or e.end is None:
            continue
        lo, hi = float(e.start) - SLACK_S, float(e.end) + SLACK_S
        inside = [i for i, w in enumerate(words)
                  if lo <= (float(w.start) + float(w.end)) / 2 <= hi]
        tokens = {_norm(x) for x in str(e.text or "").split()} - {""}
        matched = [i for i in inside if _norm(words[i].text.strip()) in tokens]
        for i in matched or inside:
            kinds[i].add(kind)
    return kinds


def _pieces_from_words(words: Sequence[Word], evidence: Sequence[tuple[str, Evidence]]
                       ) -> list[Piece]:
    kinds = _mark_words(words, evidence)
    pieces: list[Piece] = []
    run: list[str] = []
    run_kinds: tuple[str, ...] = ()
    run_start = 0.0
    for w, k in zip(words, kinds, strict=True):
        text = w.text.strip()
        if not text:
            continue
        key = tuple(sorted(k))
        if run and key != run_kinds:
            pieces.append(Piece(" ".join(run), run_kinds, run_start, " " if pieces else ""))
            run = []
        if not run:
            run_kinds, run_start = key, float(w.start)
        run.append(text)
    if run:
        pieces.append(Piece(" ".join(run), run_kinds, run_start, " " if pieces else ""))
    return pieces


def _pieces_from_text(text: str, start: float, end: float,
                      evidence: Sequence[tuple[str, Evidence]]) -> list[Piece]:
    spans: list[tuple[int, int, str, float]] = []
    low = text.lower()
    for kind, e in evidence:
        needle = str(e.text or "").strip().lower()
        at = low.find(needle) if needle and len(low) == len(text) else -1
        ev_start = float(e.start) if e.start is not None else start
        if at >= 0:
            spans.append((at, at + len(needle), kind, ev_start))
        elif e.start is not None and start - SLACK_S <= ev_start <= end + SLACK_S:
            spans.append((0, len(text), kind, ev_start))
    if not spans:
        return [Piece(text, (), start)]
    cuts = sorted({0, len(text), *(a for a, _, _, _ in spans), *(b for _, b, _, _ in spans)})
    pieces = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        covering = [s for s in spans if s[0] <= a and b <= s[1]]
        kinds = tuple(sorted({s[2] for s in covering}))
        pieces.append(Piece(text[a:b], kinds, min((s[3] for s in covering), default=start)))
    return pieces


def transcript(segments: Sequence[Segment], turns: Sequence[Turn],
               evidence: Mapping[str, Sequence[Evidence]]) -> list[SegmentView]:
    """The transcript with evidence marked (by word where the segments have words);
    ``evidence`` maps evidence kinds (``notice``, ``name``, ...) to evidence."""
    flat = [(kind, e) for kind, items in evidence.items() for e in items]
    out = []
    for s in segments:
        start, end = float(s.start), float(s.end)
        near = [(k, e) for k, e in flat
                if e.start is None
                or (float(e.start) < end + SLACK_S and float(e.end) > start - SLACK_S)]
        if s.words:
            pieces = _pieces_from_words(s.words, near)
        else:
            pieces = _pieces_from_text(str(s.text).strip(), start, end, near)
        out.append(SegmentView(start, end, role_at(turns, start, end), s.channel,
                               tuple(pieces)))
    return out


def reasons_for(decision: str, reasons: Iterable[ReviewReason | str]
                ) -> tuple[ReviewReason | str, ...]:
    """The call's review reasons that concern ``decision`` (``ReviewReason.concern``)."""
    want = DECISION_CONCERNS.get(decision)
    return tuple(r for r in reasons if want is not None and concern_of(r) == want)


def decisions(machine: Mapping[str, Mapping[str, Any]], evidence: Mapping[str, Any],
              reasons: Sequence[ReviewReason | str],
              history: Mapping[str, Sequence[sqlite3.Row]],
              agent_start_reasons: Sequence[str] = ()) -> list[DecisionView]:
    """One view per decision of ``store.DECISIONS``. ``machine``: decision -> {value,
    confidence}; ``history``: decision -> reviews, oldest first."""
    out = []
    for name in store.DECISIONS:
        m = machine.get(name) or {}
        kind = DECISION_EVIDENCE.get(name)
        rows = tuple(history.get(name, ()))
        extra = tuple(agent_start_reasons) if name == "agent_start_s" else ()
        out.append(DecisionView(
            name=name, machine=m.get("value"), confidence=m.get("confidence"),
            evidence=tuple(evidence.get(kind, ())) if kind else (), evidence_kind=kind,
            reasons=reasons_for(name, reasons) + extra,
            allowed=store.REVIEWABLE.get(name), reviewable=name in store.REVIEWABLE,
            latest=rows[-1] if rows else None, history=rows, multiple=name in MULTI_VALUED,
            hint=MULTI_VALUED.get(name, "")))
    return out
