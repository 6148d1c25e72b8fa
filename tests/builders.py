"""Hand-made transcripts and calls for the tests: segments with evenly spread words, and a
call of IVR lines, hold music, the agent, the caller and the agent again, labelled by roles."""

from __future__ import annotations

from pipeline.types import ModelInfo, Segment, Transcript, Word


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
    from pipeline.analysis.diarize import SpeakerTurn
    from pipeline.analysis.roles import assign_roles
    from pipeline.types import Event

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
