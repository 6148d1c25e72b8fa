"""Stages to swap into ``CallAnalyzer`` in place of the models, as pyannote's
``OracleClustering``: the reference transcript, the reference speaker turns or roles, or an
earlier run's own events and speaker turns held fixed. With one stage given, a change in the
verdicts is that stage's doing; ``callcheck eval`` puts its misses down to a stage this way
(:func:`pipeline.evaluation.evaluate.replay_with_reference`).

Each stage has the call shape of the one it replaces (``Transcriber``, ``Diarizer``,
``events.detect_events``, ``roles.assign_roles``; docs/architecture.md, "Stages you can swap")
and holds one call's reference: one analyzer per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.analysis.analyze import with_channels
from pipeline.analysis.audio import Audio
from pipeline.analysis.diarize import Diarization
from pipeline.analysis.roles import RoleTimeline, Utterance, read_rttm
from pipeline.types import Event, ModelInfo, Role, Segment, SpeakerTurn, Transcript, Turn, Word

REFERENCE = ModelInfo("reference", None, "reference")
# the roles of the reference RTTMs that are someone speaking (the others are tones and music)
SPEECH_ROLES = (Role.IVR, Role.AGENT, Role.CALLER)
NOISE_LETTERS = "abcdefghijklmnoprstuvwz"


@dataclass(frozen=True)
class ReferenceLine:
    """One utterance of a reference transcript; times in seconds."""

    start: float
    end: float
    role: Role
    text: str


def read_reference_transcript(path: str | Path) -> list[ReferenceLine]:
    """``start\tend\tROLE\ttext`` lines (the ``audio_fixtures/transcripts`` format); blank
    lines are skipped, anything else that does not parse raises ``ValueError``."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            if len(parts) != 4:
                raise ValueError(f"{len(parts)} tab-separated fields, want 4")
            out.append(ReferenceLine(float(parts[0]), float(parts[1]), Role(parts[2]),
                                     parts[3].strip()))
        except ValueError as e:
            raise ValueError(f"{path}:{n}: not start<TAB>end<TAB>ROLE<TAB>text ({e})") from e
    return out


def reference_segment(line: ReferenceLine, channel: int | None,
                      words: list[tuple[str, float]] | None = None) -> Segment:
    """A segment with the reference text; words spread over the line by their length, each
    heard for sure (probability 1). ``words``: (text, probability) in place of the line's
    own words (see :func:`asr_noise`)."""
    if words is None:
        words = [(t, 1.0) for t in line.text.split()]
    total = sum(len(t) + 1 for t, _ in words) or 1
    out, at = [], line.start
    for t, prob in words:
        step = (line.end - line.start) * (len(t) + 1) / total
        out.append(Word(at, at + step, t, prob))
        at += step
    return Segment(line.start, line.end, " ".join(t for t, _ in words), tuple(out),
                   channel=channel)


def asr_noise(text: str, rate: float, rng) -> list[tuple[str, float]]:
    """``text`` as a crude recogniser would give it: lower case, no punctuation, and each word
    with probability ``rate`` lost (a third of those) or misspelled by one or two letters (the
    rest), at word probability 0.3; the other words at 0.9. ``rng``: a ``random.Random``."""
    out = []
    for token in text.split():
        word = "".join(c for c in token.lower() if c.isalnum() or c in "'-")
        if not word:
            continue
        r = rng.random()
        if r < rate / 3:
            continue
        if r >= rate:
            out.append((word, 0.9))
            continue
        chars = list(word)
        for _ in range(rng.choice((1, 2))):
            i, op = rng.randrange(len(chars) + 1), rng.random()
            if op < 0.4 and i < len(chars):
                chars[i] = rng.choice(NOISE_LETTERS)
            elif op < 0.7 and i < len(chars) and len(chars) > 1:
                del chars[i]
            else:
                chars.insert(i, rng.choice(NOISE_LETTERS))
        out.append(("".join(chars), 0.3))
    return out


class OracleTranscriber:
    """The transcription stage from given segments: a stretch asked for gets the segments
    that start in it, whatever the audio (``skip``, ``beam_size`` and the prompt change
    nothing). ``scorer``: what ``scorer()`` returns, for the names snapped to the lexicon
    (None: names as written)."""

    model_info = REFERENCE

    def __init__(self, segments, scorer=None, language: str = "nl"):
        self.segments = tuple(segments)
        self._scorer = scorer
        self.language = language

    @classmethod
    def from_reference(cls, lines: list[ReferenceLine], audio: Audio, rng=None,
                       rate: float = 0.0, scorer=None) -> OracleTranscriber:
        """The reference lines as segments, each on the channel where it is clearly louder (as
        the pipeline tags a speaker turn); ``rng`` (a ``random.Random``): the text with
        :func:`asr_noise` at word error rate ``rate``, drawn line by line in order."""
        channels = with_channels(audio, [SpeakerTurn(ln.start, ln.end, "") for ln in lines])
        return cls((reference_segment(ln, c.channel,
                                      asr_noise(ln.text, rate, rng) if rng else None)
                    for ln, c in zip(lines, channels, strict=True)), scorer)

    def scorer(self):
        return self._scorer

    def transcribe(self, samples, sample_rate: int = 16000, *, start: float = 0.0,
                   end: float | None = None, organisation: str | None = None,
                   channels: tuple[int, ...] | None = None,
                   skip: tuple[tuple[float, float], ...] = (), beam_size: int | None = None
                   ) -> Transcript:
        if end is None:
            end = samples.shape[-1] / sample_rate
        return Transcript(
            segments=tuple(s for s in self.segments if start <= s.start < end
                           and (channels is None or s.channel is None or s.channel in channels)),
            language=self.language, duration_s=round(end - start, 3), model=self.model_info,
            options={"start_s": start, "end_s": end})


class OracleDiarizer:
    """The diarization stage from given speaker turns (objects with ``start``, ``end`` and
    ``speaker``): the first seconds asked for get the turns that start in them, whole."""

    def __init__(self, turns, model: ModelInfo = REFERENCE):
        self.turns = tuple(SpeakerTurn(t.start, t.end, t.speaker) for t in turns)
        self.model = model

    @classmethod
    def from_rttm(cls, text: str) -> OracleDiarizer:
        """The speech turns of a reference RTTM (``audio_fixtures/rttm``), each role one
        speaker (the IVR, the agent, the caller)."""
        return cls(SpeakerTurn(s.start, s.end, label) for s, _, label
                   in read_rttm(text).itertracks(yield_label=True) if label in SPEECH_ROLES)

    def model_info(self) -> ModelInfo:
        return self.model

    def __call__(self, samples, sample_rate: int = 16000) -> Diarization:
        until = samples.shape[-1] / sample_rate
        return Diarization(tuple(t for t in self.turns if t.start < until), {}, self.model)


class OracleEvents:
    """The events stage from given events (``detect_events``' call shape)."""

    def __init__(self, events):
        self.events = tuple(events)

    def __call__(self, mono, sample_rate: int, options=None) -> list[Event]:
        return list(self.events)


class OracleRoles:
    """The role stage from the reference (``assign_roles``' call shape): each transcript
    segment gets the role of its reference line (the one with its times, else the one it
    overlaps most; none: left out); the turns are the reference lines transcribed so far
    (starting before ``transcript.duration_s``), the agent starts at the first AGENT line
    among them."""

    def __init__(self, lines: list[ReferenceLine]):
        self.lines = tuple(lines)
        self._by_times = {(ln.start, ln.end): ln.role for ln in reversed(self.lines)}

    def role_of(self, s: Segment) -> Role | None:
        role = self._by_times.get((s.start, s.end))
        if role is not None:
            return role
        overlap, line = max(((min(s.end, ln.end) - max(s.start, ln.start), ln)
                             for ln in self.lines), key=lambda x: x[0], default=(0.0, None))
        return line.role if overlap > 0 else None

    def __call__(self, duration_s: float, events, transcript: Transcript | None,
                 speaker_turns=(), options=None, nonspeech_levels=None,
                 voices=None) -> RoleTimeline:
        heard = transcript.duration_s if transcript is not None else 0.0
        lines = [ln for ln in self.lines if ln.start < heard]
        labelled = [(s, self.role_of(s)) for s in (transcript.segments if transcript else ())]
        return RoleTimeline(
            turns=tuple(Turn(ln.start, ln.end, ln.role) for ln in lines),
            duration_s=duration_s,
            agent_start_s=next((ln.start for ln in lines if ln.role == Role.AGENT), None),
            agent_start_confidence=1.0,
            utterances=tuple((Utterance(s.start, s.end, s.text, s.channel, None, (s,)), role)
                             for s, role in labelled if role is not None))
