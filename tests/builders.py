"""Hand-made transcripts and calls for the tests: segments with evenly spread words, a call
of IVR lines, hold music, the agent, the caller and the agent again, labelled by roles, and
a whole ``CallResult`` of a call for what reads results (batch, store, report, review)."""

from __future__ import annotations

from pipeline.types import (
    SCHEMA_VERSION,
    AudioInfo,
    CallResult,
    Event,
    Evidence,
    ModelInfo,
    Role,
    RoleTimeline,
    Segment,
    Transcript,
    Turn,
    Verdicts,
    Word,
)


def segment(start: float, end: float | None, text: str, channel: int | None = None,
            prob: float = 0.9, step: float = 0.4) -> Segment:
    """A segment of ``text`` whose words share [start, end] evenly (``end`` None: ``step``
    seconds a word), each heard with probability ``prob``."""
    words = text.split()
    if end is None:
        end = start + step * max(1, len(words))
    step = (end - start) / max(1, len(words))
    ws = tuple(Word(start + i * step, start + (i + 1) * step, w, prob)
               for i, w in enumerate(words))
    return Segment(start, end, text, ws, channel, -0.3, 0.05, 1.3)


def transcript(*segments: Segment, duration_s: float = 60.0) -> Transcript:
    return Transcript(tuple(segments), "nl", duration_s, ModelInfo("fake", None, "fake"))


def call(ivr: list[str], agent: list[str], caller: list[str], *, agent_after: list[str] = (),
         prob: float = 0.9):
    """IVR lines, hold music, the agent's opening, the caller, the agent again: the role
    timeline (``pipeline.analysis.roles.assign_roles``) of such a call, 3 s a line."""
    from pipeline.analysis.roles import assign_roles
    from pipeline.types import SpeakerTurn

    segs, turns, t = [], [], 2.0
    for text in ivr:
        segs.append(segment(t, t + 3.0, text, prob=prob))
        turns.append(SpeakerTurn(t, t + 3.0, "IVR_VOICE"))
        t += 3.5
    events = [Event(0.0, 1.0, "ringback")]
    if ivr:
        events.append(Event(t, t + 10.0, "music"))
        t += 10.5
    for who, lines in (("AGENT_VOICE", agent), ("CALLER_VOICE", caller),
                       ("AGENT_VOICE", agent_after)):
        for text in lines:
            segs.append(segment(t, t + 3.0, text, prob=prob))
            turns.append(SpeakerTurn(t, t + 3.0, who))
            t += 3.5
    return assign_roles(t + 1, events, transcript(*segs, duration_s=t + 1), turns)


def call_result(file: str = "a.wav", *, notice: str = "no", name: str = "full",
                first: str | None = "Sanne", reasons: tuple[str, ...] = (),
                agent_start: float | None = 10.0, duration: float = 40.0,
                key: str | None = None, schema_version: str = SCHEMA_VERSION,
                **verdicts) -> CallResult:
    """A whole ``CallResult`` of a call: an IVR (with a recording notice when ``notice`` is
    yes) until ``agent_start``, the agent's opening (with ``first`` as name), then the caller;
    ``verdicts``: other fields of the ``Verdicts`` (the recording-talk decisions, ...)."""
    ivr_text = "dit gesprek kan worden opgenomen" if notice == "yes" else "welkom bij de gemeente"
    segments = [segment(1.0, None, ivr_text)]
    turns = [Turn(0.0, segments[0].end, Role.IVR, "S0")]
    notice_ev: tuple[Evidence, ...] = ()
    if notice == "yes":
        notice_ev = (Evidence(ivr_text, 1.0, segments[0].end, Role.IVR, 0.9, 0.9, "notice"),)
    name_ev: tuple[Evidence, ...] = ()
    if agent_start is not None:
        opening = segment(agent_start, None, f"goedemiddag u spreekt met {first or 'de gemeente'}")
        segments.append(opening)
        turns += [Turn(agent_start, opening.end, Role.AGENT, "S1"),
                  Turn(opening.end + 0.5, duration, Role.CALLER, "S2")]
        if name != "none":
            w = opening.words[-1]
            name_ev = (Evidence(w.text, w.start, w.end, Role.AGENT, 0.9, 0.9, "met"),)
    fields = dict(
        notice_before_agent=notice, notice_by_agent="no",
        notice_source="ivr" if notice == "yes" else "none", agent_name=name,
        agent_first=None if name == "none" else first, agent_last=None,
        organisation_named="yes", organisation="gemeente Ede", greeting="goedemiddag",
        agent_start_s=agent_start, agent_start_confidence=0.9, notice_evidence=notice_ev,
        name_evidence=name_ev, opening_text=segments[-1].text, needs_review=bool(reasons),
        review_reasons=tuple(reasons))
    fields.update(verdicts)
    return CallResult(
        file=file, key=key, schema_version=schema_version,
        audio=AudioInfo(file, duration, 8000, 1, "pcm_s16le", "wav", "0" * 64),
        events=(Event(0.0, 0.9, "ringback"),),
        transcript=transcript(*segments, duration_s=duration),
        timeline=RoleTimeline(tuple(turns), duration, agent_start, 0.9),
        verdicts=Verdicts(**fields))
