"""The result schema: the typed data exchanged between the pipeline stages, and the per-call
result (:class:`CallResult`) that everything after the analysis reads.

Every time is a float in **seconds** from the start of the recording. Stages meet only
through these frozen dataclasses: a stage returns new values and never mutates its input.
Closed vocabularies (event kinds, yes/no answers, name categories, review reasons) are
``StrEnum`` members: each equals, hashes and is written as its plain string value, so the
call JSON, ``results.csv`` and ``results.sqlite`` hold plain text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any


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


class EventKind(StrEnum):
    """What a non-speech event is (``pipeline.analysis.events``)."""

    MUSIC = "music"  # hold music
    RINGBACK = "ringback"  # the ringing tone before anyone answers
    BUSY = "busy"  # the busy (engaged) tone
    DTMF = "dtmf"  # a key press (``Event.label``: the digit)
    TONE = "tone"  # another steady tone (``Event.label``: its frequencies)
    SILENCE = "silence"  # nothing audible


# events that are not speech: not decoded by Whisper; their channel levels tell the line's side
NONSPEECH_EVENTS = (EventKind.MUSIC, EventKind.RINGBACK, EventKind.BUSY, EventKind.DTMF,
                    EventKind.TONE)


@dataclass(frozen=True)
class Event:
    """A non-speech event (music, tone, DTMF, silence); times in seconds."""

    start: float
    end: float
    kind: EventKind  # a plain string of the vocabulary is taken as its member
    label: str = ""  # e.g. the DTMF digit
    confidence: float = 1.0
    # what is heard of a cadenced tone (ringback, busy): its bursts, (start, end) each; empty
    # where all of [start, end] sounds. The event spans the pauses too: it is one ringing
    parts: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        if type(self.kind) is not EventKind:
            object.__setattr__(self, "kind", EventKind(self.kind))
        if not isinstance(self.parts, tuple) or any(not isinstance(p, tuple)
                                                    for p in self.parts):  # JSON lists
            object.__setattr__(self, "parts", tuple(tuple(p) for p in self.parts))

    def heard(self) -> list[tuple[float, float]]:
        """The stretches of the event that sound: its parts, or all of it."""
        return list(_clip(self.parts, self.start, self.end)) if self.parts else [
            (self.start, self.end)]

    def clipped(self, start: float, end: float) -> Event:
        """The event cut to [start, end], its parts with it."""
        return replace(self, start=start, end=end, parts=_clip(self.parts, start, end))


def _clip(spans: tuple[tuple[float, float], ...], a: float, b: float
          ) -> tuple[tuple[float, float], ...]:
    """``spans`` cut to [a, b]; those left empty are dropped."""
    return tuple((max(x, a), min(y, b)) for x, y in spans if min(y, b) > max(x, a))


@dataclass(frozen=True, order=True)
class SpeakerTurn:
    """One stretch of speech by one speaker (diarization); times in seconds from the start of
    the call, and the channel it is clearly loudest on in a stereo call."""

    start: float
    end: float
    speaker: str  # "SPEAKER_00", "SPEAKER_01", ... numbered by first appearance
    channel: int | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech with what was said; times in seconds."""

    start: float
    end: float
    text: str
    channel: int | None = None
    speaker: str | None = None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class AgentCandidate:
    """One utterance considered as the agent's first words, with its evidence."""

    utterance: Utterance
    score: float  # 0..1: the agent-start model's probability that these are the first words
    reasons: tuple[str, ...]
    features: dict[str, float] = field(default_factory=dict)  # AGENT_FEATURES that fire


@dataclass(frozen=True)
class RoleTimeline:
    """Role-labelled timeline of a call and the agent's start (seconds)."""

    turns: tuple[Turn, ...]
    duration_s: float
    agent_start_s: float | None  # first word of the live agent; None: no agent found
    agent_start_confidence: float  # 0..1
    agent_speaker: str | None = None
    caller_channel: int | None = None
    reasons: tuple[str, ...] = ()  # evidence for the agent start, or why none was found
    utterances: tuple[tuple[Utterance, Role], ...] = field(default=(), repr=False)
    # every line utterance scored as the agent's first words, in time order
    candidates: tuple[AgentCandidate, ...] = field(default=(), repr=False)

    def turns_of(self, role: Role) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role == role)

    def role_at(self, t: float) -> Role:
        for turn in self.turns:
            if turn.start <= t < turn.end:
                return turn.role
        return Role.SILENCE

    def utterances_of(self, role: Role) -> tuple[Utterance, ...]:
        return tuple(u for u, r in self.utterances if r == role)

    def to_annotation(self, uri: str = "call"):
        """pyannote.core ``Annotation`` with roles as labels (:func:`role_annotation`)."""
        return role_annotation(((t.start, t.end, t.role) for t in self.turns), uri)

    def to_rttm(self, uri: str = "call") -> str:
        """RTTM lines, roles as speaker labels (``Annotation.to_rttm`` of
        :meth:`to_annotation`)."""
        return self.to_annotation(uri).to_rttm()


def role_annotation(turns, uri: str = "call"):
    """pyannote.core ``Annotation`` of (start, end, role) triples (seconds), one track each;
    SILENCE and empty turns left out, as RTTM marks what is heard. Whitespace in ``uri``
    becomes "_" (RTTM fields are separated by spaces)."""
    # pyannote.core imports matplotlib (0.3 s): imported where used, as the heavy packages
    from pyannote.core import Annotation
    from pyannote.core import Segment as Span

    ann = Annotation(uri=re.sub(r"\s+", "_", uri))
    for i, (start, end, role) in enumerate(turns):
        if role != Role.SILENCE and end > start:
            ann[Span(start, end), i] = str(role)
    return ann


# ------------------------------------------------------------------------------ vocabularies

class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


class NoticeSource(StrEnum):
    """Who gave the call's first recording notice."""

    IVR = "ivr"
    AGENT = "agent"
    NONE = "none"


class NameCategory(StrEnum):
    """How much of a name the agent gave."""

    NONE = "none"
    FIRST = "first"
    LAST = "last"
    FULL = "full"


class Knows(StrEnum):
    """The agent's answer to the caller's question whether the call is recorded."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"
    NO_ANSWER = "no_answer"  # asked, but the reply does not answer it
    NOT_ASKED = "not_asked"


class Objection(StrEnum):
    """The agent's response to the caller's own notice that they record the call."""

    YES = "yes"  # objects, or asks to stop
    NO = "no"  # accepts
    UNCLEAR = "unclear"


class Purpose(StrEnum):
    """A purpose a recording notice states (``notice_purpose`` joins them with ";")."""

    QUALITY = "quality"
    TRAINING = "training"
    SERVICE = "service"
    COMPLAINTS = "complaints"
    OTHER = "other"


# the values of the decisions about what caller and agent say of recording
# (``pipeline.analysis.dialogue``), as plain strings
KNOWS_VALUES = tuple(k.value for k in Knows)
PURPOSES = tuple(p.value for p in Purpose)  # in this order when joined
PURPOSE_VALUES = (*PURPOSES, "none_stated", "no_notice")
OBJECTED_VALUES = tuple(o.value for o in Objection)
YES_NO = tuple(v.value for v in YesNo)
NOTICE_SOURCES = tuple(s.value for s in NoticeSource)
NAME_CATEGORIES = tuple(c.value for c in NameCategory)


class Concern(StrEnum):
    """What a review reason puts in doubt: the notice, the agent's name and opening, or the
    agent start (on which the other two hang)."""

    NOTICE = "notice"
    NAME = "name"
    AGENT_START = "agent_start"
    QUESTION = "question"  # the caller's question about recording and the agent's answer
    CALLER_NOTICE = "caller_notice"  # the caller's own notice and the agent's response


class ReviewReason(StrEnum):
    """Why the verdict stage sends a call to review; ``concern`` is what each puts in doubt."""

    concern: Concern

    def __new__(cls, code: str, concern: Concern) -> ReviewReason:
        member = str.__new__(cls, code)
        member._value_ = code
        member.concern = concern
        return member

    # the recording notice (its purpose included)
    NEGATED_NOTICE_HEARD = "negated_notice_heard", Concern.NOTICE
    WEAK_NOTICE_EVIDENCE = "weak_notice_evidence", Concern.NOTICE
    NOTICE_WORDS_NOT_HEARD = "notice_words_not_heard", Concern.NOTICE
    LOW_ASR_CONFIDENCE_NOTICE = "low_asr_confidence_notice", Concern.NOTICE
    ANNOUNCEMENTS_POORLY_HEARD = "announcements_poorly_heard", Concern.NOTICE
    NEGATED_NOTICE = "negated_notice", Concern.NOTICE
    NOTICE_LOW_CONFIDENCE = "notice_low_confidence", Concern.NOTICE
    AGENT_SPEECH_POORLY_HEARD = "agent_speech_poorly_heard", Concern.NOTICE
    PURPOSE_UNCLEAR = "purpose_unclear", Concern.NOTICE
    PURPOSE_UNCERTAIN = "purpose_uncertain", Concern.NOTICE  # rules and model disagree
    # the agent's only notice comes after the opening and nobody was heard asking: the answer
    # to a question the recogniser lost ("ja, wij nemen alle gesprekken op")?
    AGENT_NOTICE_MAY_BE_ANSWER = "agent_notice_may_be_answer", Concern.NOTICE
    # a first-person notice in the agent's speech after the opening was read as the caller's
    # own (``caller_notice_not_from_caller``): was it the agent's after all? Or the agent's
    # notice, in mono, is said as a caller's own ("dat ik een opname maak van ons gesprek"):
    # was it the caller's?
    AGENT_NOTICE_MAY_BE_CALLERS = "agent_notice_may_be_callers", Concern.NOTICE
    # the agent's opening names what notices are for ("voor de kwaliteit") and no agent's
    # notice was read: one the recogniser garbled ("wanneer m'n dit gestorek op")?
    PURPOSE_WITHOUT_NOTICE = "purpose_without_notice", Concern.NOTICE
    # no notice read before the agent, yet the announcements have a recording word misheard
    # ("kan worden opgenongen") or a notice's purpose ("voor trainingen"): a garbled notice?
    POSSIBLE_NOTICE_MISSED = "possible_notice_missed", Concern.NOTICE
    # the agent's name and opening
    CALLER_LIKE_TURN = "caller_like_turn", Concern.NAME
    MULTIPLE_NAMES = "multiple_names", Concern.NAME
    NAME_LOW_CONFIDENCE = "name_low_confidence", Concern.NAME
    NAME_AMBIGUOUS_FIRST_OR_LAST = "name_ambiguous_first_or_last", Concern.NAME
    NAME_NOT_IN_LEXICON = "name_not_in_lexicon", Concern.NAME
    NAME_FUZZY_LEXICON = "name_fuzzy_lexicon", Concern.NAME
    # the name is a lexicon name put in place of the word the recogniser wrote, on the audio's
    # score (pipeline.analysis.names): shown for review, never asserted
    NAME_SNAPPED = "name_snapped", Concern.NAME
    ASR_HALLUCINATION_TEXT = "asr_hallucination_text", Concern.NAME
    LOW_ASR_CONFIDENCE_NAME = "low_asr_confidence_name", Concern.NAME
    NAME_NOT_HEARD = "name_not_heard", Concern.NAME
    NAME_TOO_WEAK_TO_COUNT = "name_too_weak_to_count", Concern.NAME
    OPENING_POORLY_HEARD = "opening_poorly_heard", Concern.NAME
    POSSIBLE_NAME_MISSED = "possible_name_missed", Concern.NAME
    # no name read, and the agent's opening starts in the middle of a sentence (Whisper writes
    # a stretch heard as a sentence's go-on in lower case): its first words, where a name
    # most often is, may be lost
    OPENING_STARTS_MID_SENTENCE = "opening_starts_mid_sentence", Concern.NAME
    # the agent start
    NO_AGENT_FOUND = "no_agent_found", Concern.AGENT_START
    UNCLEAR_AGENT_START = "unclear_agent_start", Concern.AGENT_START
    AGENT_OPENING_NOT_TRANSCRIBED = "agent_opening_not_transcribed", Concern.AGENT_START
    # the caller's question about recording and the agent's answer
    QUESTION_NOT_FROM_CALLER = "question_not_from_caller", Concern.QUESTION
    QUESTION_UNCERTAIN = "question_uncertain", Concern.QUESTION
    CALLER_SPEECH_POORLY_HEARD = "caller_speech_poorly_heard", Concern.QUESTION
    # nobody asked, yet the agent speaks of recording after the opening: an answer to a
    # question the recogniser lost?
    AGENT_TALKS_OF_RECORDING = "agent_talks_of_recording", Concern.QUESTION
    # nobody asked, yet caller speech has recording words the rules could not read as a
    # question ("wouden deze tenefoon bespreken ... opgenomen"): a garbled question?
    POSSIBLE_QUESTION_MISSED = "possible_question_missed", Concern.QUESTION
    ANSWER_UNCLEAR = "answer_unclear", Concern.QUESTION
    ANSWER_MIXED = "answer_mixed", Concern.QUESTION
    ANSWER_POORLY_HEARD = "answer_poorly_heard", Concern.QUESTION
    ANSWER_NOT_TRANSCRIBED = "answer_not_transcribed", Concern.QUESTION
    # the caller's own notice and the agent's response
    CALLER_NOTICE_UNCERTAIN = "caller_notice_uncertain", Concern.CALLER_NOTICE
    # the caller's own notice ("ik neem dit gesprek op") heard in speech labelled AGENT, after
    # the opening: one voice for both in a mono call, as a rule
    CALLER_NOTICE_NOT_FROM_CALLER = "caller_notice_not_from_caller", Concern.CALLER_NOTICE
    CALLER_NOTICE_POORLY_HEARD = "caller_notice_poorly_heard", Concern.CALLER_NOTICE
    # no notice of the caller's, yet the caller speaks of recording in the first person
    # ("ik neem dit bestreid op"): a garbled notice? Or one in mono speech given to the agent
    POSSIBLE_CALLER_NOTICE_MISSED = "possible_caller_notice_missed", Concern.CALLER_NOTICE
    OBJECTION_UNCLEAR = "objection_unclear", Concern.CALLER_NOTICE
    RESPONSE_NOT_TRANSCRIBED = "response_not_transcribed", Concern.CALLER_NOTICE
    # the doubt model (``pipeline.analysis.doubt``): generic signals of the call (how well the
    # evidence and the opening were heard, the start's cues, the channel) make a wrong verdict
    # of the concern likely, whatever the rules found
    MODEL_DOUBTS_START = "model_doubts_start", Concern.AGENT_START
    MODEL_DOUBTS_NAME = "model_doubts_name", Concern.NAME
    MODEL_DOUBTS_NOTICE = "model_doubts_notice", Concern.NOTICE
    MODEL_DOUBTS_ANSWER = "model_doubts_answer", Concern.QUESTION
    MODEL_DOUBTS_CALLER_NOTICE = "model_doubts_caller_notice", Concern.CALLER_NOTICE


# every review reason the verdict stage gives, by its code, with what it puts in doubt
REASON_CONCERNS: dict[str, Concern] = {r.value: r.concern for r in ReviewReason}


def review_reason(code: str) -> ReviewReason | str:
    """The reason of a stored code; a code this build does not know (a result of another
    version) stays the plain string, which :func:`decisions_in_doubt` counts as unsettling
    every decision."""
    try:
        return ReviewReason(code)
    except ValueError:
        return code


def concern_of(reason: ReviewReason | str) -> Concern | None:
    """What ``reason`` (a reason or its code) puts in doubt; None for an unknown code."""
    reason = review_reason(reason)
    return reason.concern if isinstance(reason, ReviewReason) else None


# what caller and agent say of recording (``Verdicts``); absent from results of schema 1.0
DIALOGUE_DECISIONS = (
    "agent_knows_recording", "notice_contradicted", "notice_purpose",
    "caller_announced_recording", "agent_objected",
)
# the call-level decisions, in the order of the store's ``decisions`` table
DECISIONS = (
    "notice_before_agent", "notice_by_agent", "notice_source", "agent_name", "agent_first",
    "agent_last", "organisation_named", "greeting", "agent_start_s", *DIALOGUE_DECISIONS,
)

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


def parse_reasons(stored: str | None) -> tuple[ReviewReason | str, ...]:
    """Review reasons from their stored form (``results.csv``, the store: ``a;b;c``)."""
    return tuple(review_reason(r) for r in (stored or "").split(";") if r)


def decisions_in_doubt(reasons: tuple[ReviewReason | str, ...] | list[ReviewReason | str]
                       ) -> frozenset[str]:
    """The decisions that a call's review reasons leave unsettled. A doubt about the agent
    start unsettles every decision (the notice's timing and the opening hang on it), and so
    does a reason this build does not know: never count a flagged verdict as settled."""
    concerns = {concern_of(r) for r in reasons}
    if None in concerns or Concern.AGENT_START in concerns:
        return frozenset(DECISION_CONCERNS)
    return frozenset(d for d, c in DECISION_CONCERNS.items() if c in concerns)


# ------------------------------------------------------------------------------ verdicts

@dataclass(frozen=True)
class Evidence:
    """What a decision rests on: a text span at a time, said by a role."""

    text: str
    start: float  # seconds
    end: float  # seconds
    role: Role
    confidence: float  # 0..1 of the language rule that found it
    asr_confidence: float | None = None  # mean word probability of the span, when known
    detail: str = ""  # which rule / pattern


@dataclass(frozen=True)
class Verdicts:
    """The call-level answers with evidence. Plain strings of a vocabulary are taken as its
    members (a result read back from JSON, a test); review reasons of another version stay
    plain strings (:func:`review_reason`)."""

    notice_before_agent: YesNo
    notice_by_agent: YesNo
    notice_source: NoticeSource  # who gave the first notice
    agent_name: NameCategory
    agent_first: str | None
    agent_last: str | None
    organisation_named: YesNo  # the agent named the organisation
    organisation: str | None
    greeting: str | None  # goedemorgen / goedemiddag / ... in the agent's opening
    agent_start_s: float | None  # seconds; also the wait until the agent answered
    agent_start_confidence: float
    notice_evidence: tuple[Evidence, ...]
    name_evidence: tuple[Evidence, ...]
    opening_text: str  # the agent's opening turn as recognised
    needs_review: bool
    review_reasons: tuple[ReviewReason | str, ...]
    # what caller and agent say of recording past the opening (``pipeline.analysis.dialogue``)
    agent_knows_recording: Knows = Knows.NOT_ASKED
    notice_contradicted: YesNo = YesNo.NO  # a notice was given and the agent said no/unsure
    notice_purpose: str = "no_notice"  # ";"-joined PURPOSES, "none_stated", "no_notice"
    caller_announced_recording: YesNo = YesNo.NO
    agent_objected: Objection | None = None  # None: the caller did not announce
    question_evidence: tuple[Evidence, ...] = ()  # the caller's question, the agent's answer
    purpose_evidence: tuple[Evidence, ...] = ()  # the purpose words of the notices
    caller_notice_evidence: tuple[Evidence, ...] = ()  # the caller's notice, the response
    searched_until_s: float | None = None  # the question was looked for up to here (seconds)

    def __post_init__(self) -> None:
        for name, vocabulary in _VERDICT_VOCABULARIES.items():
            value = getattr(self, name)
            if value is not None and type(value) is not vocabulary:
                object.__setattr__(self, name, vocabulary(value))
        object.__setattr__(self, "review_reasons",
                           tuple(review_reason(r) for r in self.review_reasons))


# the decisions of ``Verdicts`` that take a value of a closed vocabulary
_VERDICT_VOCABULARIES: dict[str, type[StrEnum]] = {
    "notice_before_agent": YesNo, "notice_by_agent": YesNo, "notice_source": NoticeSource,
    "agent_name": NameCategory, "organisation_named": YesNo, "agent_knows_recording": Knows,
    "notice_contradicted": YesNo, "caller_announced_recording": YesNo,
    "agent_objected": Objection,
}
# the kinds of evidence (the store's ``evidence.decision``) and the verdicts' list of each
EVIDENCE_KINDS = {
    "notice": "notice_evidence",  # the recording notices
    "name": "name_evidence",  # the agent's self-introduction
    "question": "question_evidence",  # the caller's question about recording, the answer
    "purpose": "purpose_evidence",  # the purpose words of the notices
    "caller_notice": "caller_notice_evidence",  # the caller's own notice, the response
}


# ------------------------------------------------------------------------------ one call

SCHEMA_VERSION = "1.1"  # 1.1: the verdicts about recording talk (pipeline.analysis.dialogue)
READABLE_SCHEMAS = ("1.0", SCHEMA_VERSION)  # call JSON that CallResult.from_dict reads
_BEFORE_TALK = ("1.0",)  # schemas made before the DIALOGUE_DECISIONS


class SchemaError(ValueError):
    """A per-call JSON of a schema version this build cannot read."""


@dataclass(frozen=True)
class CallResult:
    """Everything known about one call; ``error`` set when it could not be analysed. The
    analyser makes it; the batch writes it as the call JSON (:meth:`to_dict`); the store,
    ``results.csv``, the review app and the evaluation read it (or :meth:`from_dict` of the
    JSON)."""

    file: str
    audio: AudioInfo | None = None
    events: tuple[Event, ...] = ()
    speaker_turns: tuple[SpeakerTurn, ...] = ()
    transcript: Transcript | None = None
    timeline: RoleTimeline | None = None
    verdicts: Verdicts | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    provenance: dict[str, Any] = field(default_factory=dict)  # models, versions, config
    error: str | None = None
    error_code: str | None = None
    schema_version: str = SCHEMA_VERSION
    # the batch's resume key (audio sha256, config fingerprint, prompt); None: not from a batch
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the per-call file of ``callcheck analyze``)."""
        d: dict[str, Any] = {
            "schema_version": self.schema_version,
            "file": self.file,
            "error": self.error,
            "error_code": self.error_code,
            "audio": asdict(self.audio) if self.audio else None,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "provenance": self.provenance,
            "events": [asdict(e) for e in self.events],
            "speaker_turns": [asdict(t) for t in self.speaker_turns],
        }
        if self.timeline is not None:
            tl = self.timeline
            d["roles"] = {
                "agent_start_s": self.agent_start_s,
                "agent_start_confidence": tl.agent_start_confidence,
                "agent_speaker": tl.agent_speaker,
                "caller_channel": tl.caller_channel,
                "reasons": list(tl.reasons),
                "turns": [asdict(t) for t in tl.turns],
            }
        d["transcript"] = asdict(self.transcript) if self.transcript else None
        d["verdicts"] = asdict(self.verdicts) if self.verdicts else None
        if self.key is not None:
            d["key"] = self.key
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallResult:
        """See :func:`result_from_dict`."""
        return result_from_dict(d)

    @property
    def agent_start_s(self) -> float | None:
        """The role stage's agent start as the call JSON keeps it (seconds, 3 decimals)."""
        if self.timeline is None or self.timeline.agent_start_s is None:
            return None
        return round(self.timeline.agent_start_s, 3)

    def decisions(self) -> dict[str, Any]:
        """The call-level decisions this result holds, by name in :data:`DECISIONS` order
        (values as in :class:`Verdicts`); empty without verdicts. A result of schema 1.0 was
        made before the :data:`DIALOGUE_DECISIONS` and holds none of them (its verdicts carry
        their defaults)."""
        if self.verdicts is None:
            return {}
        names = DECISIONS if self.schema_version not in _BEFORE_TALK else tuple(
            d for d in DECISIONS if d not in DIALOGUE_DECISIONS)
        return {name: getattr(self.verdicts, name) for name in names}

    def evidence(self) -> dict[str, tuple[Evidence, ...]]:
        """The verdicts' evidence by kind (:data:`EVIDENCE_KINDS`); empty without verdicts."""
        if self.verdicts is None:
            return {}
        return {kind: getattr(self.verdicts, name) for kind, name in EVIDENCE_KINDS.items()}


def _of(cls, d: dict[str, Any]):
    """``cls`` from the keys of ``d`` it has (a newer writer's extra keys are left out)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


def _segment_from(d: dict[str, Any]) -> Segment:
    return _of(Segment, {**d, "words": tuple(Word(**w) for w in d.get("words") or ())})


def _evidence_from(items) -> tuple[Evidence, ...]:
    return tuple(_of(Evidence, {**e, "role": Role(e["role"])}) for e in items or ())


def result_from_dict(d: dict[str, Any]) -> CallResult:
    """The typed result of a per-call JSON (``CallResult.to_dict``): schema 1.0 and 1.1
    load (1.0 gets the defaults of the recording-talk verdicts); another version is a
    :class:`SchemaError` that names it. The role timeline comes back without its
    utterances (the JSON does not keep them; the transcript does)."""
    version = d.get("schema_version")
    if version not in READABLE_SCHEMAS:
        raise SchemaError(f"{d.get('file', 'a call')}: call JSON of schema {version!r}; this "
                          f"callcheck reads {', '.join(READABLE_SCHEMAS)}: analyse it again")
    audio = _of(AudioInfo, d["audio"]) if d.get("audio") else None
    t = d.get("transcript")
    transcript = None if not t else Transcript(
        segments=tuple(_segment_from(s) for s in t["segments"]), language=t["language"],
        duration_s=t["duration_s"], model=_of(ModelInfo, t["model"]),
        options=t.get("options") or {}, dropped=tuple(_segment_from(s) for s in
                                                      t.get("dropped") or ()))
    r = d.get("roles")
    timeline = None if not r else RoleTimeline(
        turns=tuple(_of(Turn, {**x, "role": Role(x["role"])}) for x in r["turns"]),
        duration_s=audio.duration_s if audio else (transcript.duration_s if transcript
                                                   else 0.0),
        agent_start_s=r["agent_start_s"], agent_start_confidence=r["agent_start_confidence"],
        agent_speaker=r.get("agent_speaker"), caller_channel=r.get("caller_channel"),
        reasons=tuple(r.get("reasons") or ()))
    v = d.get("verdicts")
    verdicts = None
    if v:
        evidence = {k: _evidence_from(v.get(k)) for k in EVIDENCE_KINDS.values()}
        verdicts = _of(Verdicts, {**v, **evidence,
                                  "review_reasons": tuple(v.get("review_reasons") or ())})
    return CallResult(
        file=d["file"], audio=audio, events=tuple(_of(Event, e) for e in d.get("events") or ()),
        speaker_turns=tuple(_of(SpeakerTurn, x) for x in d.get("speaker_turns") or ()),
        transcript=transcript, timeline=timeline, verdicts=verdicts,
        timings=dict(d.get("timings_s") or {}), provenance=d.get("provenance") or {},
        error=d.get("error"), error_code=d.get("error_code"), schema_version=version,
        key=d.get("key"))
