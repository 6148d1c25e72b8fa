"""Typed data exchanged between the pipeline stages.

Every time is a float in **seconds** from the start of the recording. Stages meet only
through these frozen dataclasses: a stage returns new values and never mutates its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Who or what is heard during a stretch of a call."""

    IVR = "IVR"  # recorded announcements and menus of the phone system
    AGENT = "AGENT"  # the live employee who answers
    CALLER = "CALLER"  # the person who placed the call (the researcher)
    MUSIC = "MUSIC"  # hold music
    TONE = "TONE"  # ringback, busy and DTMF tones
    SILENCE = "SILENCE"  # nothing audible


@dataclass(frozen=True)
class AudioInfo:
    """What the input file was, before resampling."""

    path: str
    duration_s: float  # seconds of audio in the file
    sample_rate: int  # Hz, as stored in the file
    channels: int  # as stored in the file (1 mono, 2 stereo)
    codec: str  # e.g. "pcm_s16le", "pcm_mulaw", "mp3", "flac"
    container: str  # e.g. "wav", "mp3", "flac", "ogg", "mov,mp4,m4a"
    sha256: str  # of the file's bytes; keys cached results


@dataclass(frozen=True, order=True)
class Word:
    """One recognised word; times in seconds."""

    start: float
    end: float
    text: str
    probability: float  # 0..1, the recogniser's confidence in this word


@dataclass(frozen=True)
class Segment:
    """One transcribed segment; times in seconds."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    channel: int | None = None  # source channel when transcribed per channel, else None (mix)
    avg_logprob: float = 0.0  # mean token log-probability (higher is surer)
    no_speech_prob: float = 0.0  # Whisper's probability that there is no speech
    compression_ratio: float = 1.0  # gzip ratio of the text; high values mean repetition loops
    # why the transcription stage did not trust it as speech (in ``Transcript.dropped``, e.g.
    # "known_hallucination", "prompt_copy"); None for a kept segment
    drop_reason: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """Provenance of a model used to produce a result."""

    name: str  # a local path or a pinned name
    sha256: str | None  # of the main weights file when known
    backend: str  # e.g. "faster-whisper", "openai-whisper", "pyannote.audio", "spacy"


@dataclass(frozen=True)
class Transcript:
    """The transcription of (part of) one call."""

    segments: tuple[Segment, ...]
    language: str
    duration_s: float  # seconds of audio that were transcribed
    model: ModelInfo
    options: dict = field(default_factory=dict)  # decoding options actually used
    dropped: tuple[Segment, ...] = ()  # segments removed as hallucinations / non-speech

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)


@dataclass(frozen=True, order=True)
class Turn:
    """A stretch of the call with one role; times in seconds."""

    start: float
    end: float
    role: Role
    speaker: str | None = None  # diarization cluster label, when any
    channel: int | None = None  # channel the turn was found on, when stereo
    confidence: float = 1.0  # 0..1

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Event:
    """A non-speech event (music, tone, DTMF, silence); times in seconds."""

    start: float
    end: float
    kind: str  # "music", "ringback", "busy", "dtmf", "tone", "silence"
    label: str = ""  # e.g. the DTMF digit
    confidence: float = 1.0


class Concern(StrEnum):
    """What a review reason puts in doubt: the notice, the agent's name and opening, or the
    agent start (on which the other two hang)."""

    NOTICE = "notice"
    NAME = "name"
    AGENT_START = "agent_start"
    QUESTION = "question"  # the caller's question about recording and the agent's answer
    CALLER_NOTICE = "caller_notice"  # the caller's own notice and the agent's response


# values of the decisions about what caller and agent say of recording (``pipeline.analysis.dialogue``)
KNOWS_VALUES = ("yes", "no", "unsure", "no_answer", "not_asked")
PURPOSES = ("quality", "training", "service", "complaints", "other")  # in this order when joined
PURPOSE_VALUES = (*PURPOSES, "none_stated", "no_notice")
OBJECTED_VALUES = ("yes", "no", "unclear")


# every review reason the verdict stage gives, with what it puts in doubt
REASON_CONCERNS: dict[str, Concern] = {
    **dict.fromkeys((
        "negated_notice_heard", "weak_notice_evidence", "notice_words_not_heard",
        "low_asr_confidence_notice", "announcements_poorly_heard", "negated_notice",
        "notice_low_confidence", "agent_speech_poorly_heard"), Concern.NOTICE),
    **dict.fromkeys((
        "caller_like_turn", "multiple_names", "name_low_confidence",
        "name_ambiguous_first_or_last", "name_not_in_lexicon", "name_fuzzy_lexicon",
        "asr_hallucination_text", "low_asr_confidence_name", "name_not_heard",
        "name_too_weak_to_count", "opening_poorly_heard", "possible_name_missed"),
        Concern.NAME),
    **dict.fromkeys((
        "no_agent_found", "unclear_agent_start", "agent_opening_not_transcribed"),
        Concern.AGENT_START),
    "purpose_unclear": Concern.NOTICE,
    **dict.fromkeys((
        "question_not_from_caller", "question_uncertain", "caller_speech_poorly_heard",
        "answer_unclear", "answer_mixed",
        "answer_poorly_heard", "answer_not_transcribed"), Concern.QUESTION),
    **dict.fromkeys((
        "caller_notice_uncertain", "caller_notice_poorly_heard", "objection_unclear",
        "response_not_transcribed"),
        Concern.CALLER_NOTICE),
}

# the call-level decisions (as in results.csv and the store), with what each rests on
DECISION_CONCERNS: dict[str, Concern] = {
    **dict.fromkeys(("notice_before_agent", "notice_by_agent", "notice_source",
                     "notice_purpose"), Concern.NOTICE),
    **dict.fromkeys(("agent_knows_recording", "notice_contradicted"), Concern.QUESTION),
    **dict.fromkeys(("caller_announced_recording", "agent_objected"), Concern.CALLER_NOTICE),
    **dict.fromkeys(("agent_name", "agent_first", "agent_last", "organisation_named",
                     "greeting"), Concern.NAME),
    "agent_start_s": Concern.AGENT_START,
}


def parse_reasons(stored: str | None) -> tuple[str, ...]:
    """Review reasons from their stored form (``results.csv``, the store: ``a;b;c``)."""
    return tuple(r for r in (stored or "").split(";") if r)


def decisions_in_doubt(reasons: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The decisions that a call's review reasons leave unsettled. A doubt about the agent
    start unsettles every decision (the notice's timing and the opening hang on it), and so
    does a reason this table does not know: never count a flagged verdict as settled."""
    concerns = {REASON_CONCERNS.get(r) for r in reasons}
    if None in concerns or Concern.AGENT_START in concerns:
        return frozenset(DECISION_CONCERNS)
    return frozenset(d for d, c in DECISION_CONCERNS.items() if c in concerns)
