"""One call end to end: audio -> events -> speakers -> transcript -> roles -> verdicts.

Real calls last minutes while the verdicts need only the opening, so the transcript is made
window by window from the start and stops once the agent's opening turn is covered
(``AnalysisOptions.after_agent_s`` past the agent start); speaker diarization likewise covers
only the start of the call, ``diarize_margin_s`` past the transcribed part (re-run on a longer
stretch when the transcription goes on). ``full_transcript`` transcribes and diarizes all.
Models are loaded once per ``CallAnalyzer`` (one per worker process).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from pipeline import __version__
from pipeline.analysis import dialogue, dialogue_model
from pipeline.analysis.agent_model import agent_start_model
from pipeline.analysis.audio import Audio, AudioError, load_audio, rms_dbfs
from pipeline.analysis.callouts import heard_call_outs
from pipeline.analysis.config import AnalysisOptions, PipelineConfig  # noqa: F401  (AnalysisOptions: its home was here)
from pipeline.analysis.diarize import Diarizer
from pipeline.analysis.doubt import doubt_model, with_doubts
from pipeline.analysis.events import detect_events, subtract_spans
from pipeline.analysis.language import load_nlp
from pipeline.analysis.names import decide_with_snaps
from pipeline.analysis.roles import (
    MIN_VOICE_PRINTS,
    RoleTimeline,
    assign_roles,
    voice_change_spans,
    voice_spans,
)
from pipeline.analysis.transcribe import Transcriber
from pipeline.analysis.verdicts import decide
from pipeline.types import (
    NONSPEECH_EVENTS,
    CallResult,
    Event,
    Role,
    Segment,
    SpeakerTurn,
    Transcript,
)

logger = logging.getLogger(__name__)

# a step's name and its result, called after each step of ``CallAnalyzer.analyze``
Hook = Callable[[str, Any], None]


class CallAnalyzer:
    """Analyses calls with models loaded once. Each stage can be swapped for another of the
    same call shape (tests, workers, and the reference stages of
    ``pipeline.evaluation.oracles``, as pyannote's ``OracleClustering``): ``transcriber``
    (``Transcriber.transcribe``), ``diarizer`` (``Diarizer.__call__``), ``nlp`` (the spaCy
    language stage), ``events`` (:func:`detect_events`), ``roles`` (:func:`assign_roles`);
    None: the configured one (models loaded on first use)."""

    def __init__(self, config: PipelineConfig | None = None, *, transcriber=None,
                 diarizer=None, nlp=None, events: Callable[..., list[Event]] | None = None,
                 roles: Callable[..., RoleTimeline] | None = None):
        self.config = config if config is not None else PipelineConfig()
        self._transcriber = transcriber
        self._diarizer = diarizer
        self._nlp = nlp
        self.detect_events = events if events is not None else detect_events
        self.assign_roles = roles if roles is not None else assign_roles
        self._provenance: dict[str, Any] | None = None

    @property
    def transcriber(self):
        if self._transcriber is None:
            self._transcriber = Transcriber(self.config.transcribe)
        return self._transcriber

    @property
    def diarizer(self):
        if self._diarizer is None:
            self._diarizer = Diarizer(self.config.diarize)
        return self._diarizer

    @property
    def nlp(self):
        if self._nlp is None:
            self._nlp = load_nlp()
        return self._nlp

    def analyze(self, path: str | Path, name: str | None = None,
                organisation: str | None = None, hook: Hook | None = None) -> CallResult:
        """Analyse one recording. Bad audio gives a result with ``error``; other failures
        raise (the batch runner turns them into error rows). ``hook(step, value)`` is called
        after each step with its result, as pyannote's ``apply(hook=...)``: "audio"
        (``AudioInfo``), "events", "transcript_and_roles" ((transcript, timeline)),
        "verdicts"."""
        name = name or str(path)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        try:
            audio = load_audio(path, self.config.audio)
        except AudioError as e:
            return CallResult(file=name, error=str(e), error_code=e.code,
                              timings={"audio": time.perf_counter() - t0})
        timings["audio"] = time.perf_counter() - t0
        if hook is not None:
            hook("audio", audio.info)
        return self.analyze_audio(audio, name, organisation, timings, hook)

    def analyze_audio(self, audio: Audio, name: str, organisation: str | None = None,
                      timings: dict[str, float] | None = None, hook: Hook | None = None
                      ) -> CallResult:
        timings = dict(timings or {})
        # numpy's BLAS on one thread throughout: results must not depend on the thread
        # variables of the process (a Dask worker pins them to 1, a local one does not)
        with threadpool_limits(limits=1, user_api="blas"):
            return self._analyze_audio(audio, name, organisation, timings,
                                       hook or (lambda step, value: None))

    def _analyze_audio(self, audio: Audio, name: str, organisation: str | None,
                       timings: dict[str, float], hook: Hook) -> CallResult:

        mono = audio.mono()

        t = time.perf_counter()
        events = self.detect_events(mono, audio.sample_rate, self.config.events)
        timings["events"] = time.perf_counter() - t
        hook("events", tuple(events))

        t = time.perf_counter()
        transcript, timeline, speaker_turns = self._transcribe_until_opening(
            audio, mono, events, organisation, timings)
        # wall time of transcription, roles and any diarization not overlapped with them
        timings["transcribe_and_roles"] = time.perf_counter() - t
        if not self.config.analysis.parallel_diarization:
            timings["transcribe_and_roles"] -= timings.get("diarize", 0.0)
        hook("transcript_and_roles", (transcript, timeline))

        t = time.perf_counter()
        timeline = self._split_voices(audio, mono, events, transcript, timeline, speaker_turns)
        timings["voices"] = time.perf_counter() - t

        t = time.perf_counter()
        searched = transcript.options.get("end_s")
        searched = None if searched is None or searched >= audio.duration else searched
        verdicts = decide(timeline, self.config.verdicts, nlp=self.nlp, transcribed_s=searched)
        # misheard names snapped to lexicon names only where the audio supports them
        scorer = getattr(self.transcriber, "scorer", lambda: None)()
        verdicts = decide_with_snaps(timeline, verdicts, mono, scorer, self.nlp,
                                     self.config.verdicts, self.config.names,
                                     transcribed_s=searched)
        result = CallResult(file=name, audio=audio.info, events=tuple(events),
                            speaker_turns=tuple(speaker_turns), transcript=transcript,
                            timeline=timeline, verdicts=verdicts, timings=timings,
                            provenance=self.provenance())
        # generic signals that make a verdict the rules assert likely wrong: flagged
        result = with_doubts(result, doubt_model(self.config.verdicts.doubt_model),
                             self.config.verdicts.opening_s)
        timings["verdicts"] = time.perf_counter() - t
        hook("verdicts", result.verdicts)
        # wall time: with parallel diarization its seconds are inside transcribe_and_roles
        # (the question search is part of transcribe_and_roles)
        timings["total"] = sum(v for k, v in timings.items() if k != "question_search" and (
            k != "diarize" or not self.config.analysis.parallel_diarization))
        return result

    def provenance(self) -> dict[str, Any]:
        """What produced a result: callcheck's version, each model with its checksum, and the
        configuration (with its fingerprint, part of the resume key)."""
        if self._provenance is None:

            models: dict[str, Any] = {"transcription": asdict(self.transcriber.model_info)}
            if self.config.analysis.diarize:
                models["diarization"] = asdict(self.diarizer.model_info())
            models["language"] = _spacy_model_info(self.nlp)
            agent = agent_start_model(self.config.roles.agent_start_model)
            models["agent_start"] = {"name": agent.name, "sha256": agent.sha256,
                                     "threshold": agent.threshold}
            doubts = doubt_model(self.config.verdicts.doubt_model)
            models["doubt"] = ({"name": doubts.name, "sha256": doubts.sha256}
                               if doubts is not None else None)
            talk = dialogue_model.load()  # None: the rules alone read the recording talk
            models["recording_talk"] = ({"name": talk.path, "sha256": talk.sha256}
                                        if talk is not None else None)
            self._provenance = {"callcheck": __version__, "models": models,
                                "config_fingerprint": self.config.fingerprint(),
                                "config": self.config.to_dict()}
        return self._provenance

    def _split_voices(self, audio: Audio, mono: np.ndarray, events: list[Event],
                      transcript: Transcript, timeline: RoleTimeline, speaker_turns
                      ) -> RoleTimeline:
        """The roles labelled again with the voice prints of the utterances from the agent
        start on (mono calls; ``roles.voice_spans``), where the diarizer gives prints, and once
        more with the prints of the sides of the utterances that may hold both voices
        (``roles.voice_change_spans``)."""
        roles = self.config.roles
        prints = getattr(self.diarizer, "voice_prints", None)
        agent = timeline.agent_start_s
        if (prints is None or not self.config.analysis.diarize or agent is None
                or timeline.caller_channel is not None or roles.voice_split_max_similarity <= 0):
            return timeline
        spans = voice_spans(timeline, roles)
        if len(spans) < MIN_VOICE_PRINTS:
            return timeline
        voices = prints(mono, audio.sample_rate, spans)
        levels = nonspeech_levels(audio, events)
        timeline = self.assign_roles(audio.duration, events, transcript, speaker_turns, roles,
                                     levels, voices=voices)
        sides = [s for s in voice_change_spans(timeline, voices, roles) if s not in voices]
        if not sides:
            return timeline
        voices = {**voices, **prints(mono, audio.sample_rate, sides)}
        return self.assign_roles(audio.duration, events, transcript, speaker_turns, roles,
                                 levels, voices=voices)

    def _diarize_until(self, audio: Audio, mono: np.ndarray, until: float,
                       timings: dict[str, float]) -> tuple[SpeakerTurn, ...]:
        """Speaker turns of the call's first ``until`` seconds (channels tagged)."""
        t = time.perf_counter()
        n = min(mono.size, int(round(until * audio.sample_rate)))
        turns = with_channels(audio, self.diarizer(mono[:n], audio.sample_rate).turns)
        timings["diarize"] = timings.get("diarize", 0.0) + time.perf_counter() - t
        return turns

    def _transcribe_until_opening(self, audio: Audio, mono: np.ndarray, events: list[Event],
                                  organisation: str | None, timings: dict[str, float]
                                  ) -> tuple[Transcript, RoleTimeline, tuple[SpeakerTurn, ...]]:
        opts = self.config.analysis
        duration = audio.duration
        limit = duration if opts.full_transcript else min(duration, opts.max_transcribe_s)
        silences = [e for e in events if e.kind == "silence"]
        # hold music and tones are not decoded (they only give Whisper something to invent)
        skip = tuple((e.start, e.end) for e in events if e.kind in NONSPEECH_EVENTS)
        levels = nonspeech_levels(audio, events)
        if not opts.diarize or duration < 1.0:
            mono = None
        speaker_turns: tuple[SpeakerTurn, ...] = ()
        diarized_until = 0.0
        segments: list[Segment] = []
        dropped: list[Segment] = []
        heard: list[Segment] = []  # callers' call-outs found in the audio
        start, target, forward = 0.0, opts.window_s, False
        pool = ThreadPoolExecutor(1, "diarize") if opts.parallel_diarization else None
        try:
            while True:
                # into a silence near the target, but always forward
                end = max(_cut_point(target, silences, limit, forward), min(limit, start + 1.0))
                pending: Future | None = None
                if mono is not None and diarized_until < end:
                    # from the start again (one clustering for all of it), and at least twice
                    # as far as before, so a late agent costs few re-runs
                    until = duration if opts.full_transcript else min(
                        duration, max(end + opts.diarize_margin_s, 2 * diarized_until))
                    if pool is not None:
                        pending = pool.submit(self._diarize_until, audio, mono, until, timings)
                    else:
                        speaker_turns = self._diarize_until(audio, mono, until, timings)
                    diarized_until = until
                # (should Whisper fail, the pool's shutdown below waits for the diarization)
                part = self.transcriber.transcribe(
                    audio.samples, audio.sample_rate, start=start, end=end,
                    organisation=organisation, skip=skip)
                if pending is not None:
                    speaker_turns = pending.result()  # a diarization error is raised here
                if mono is not None and audio.channels == 1:
                    part = self._with_call_outs(part, segments, heard, mono,
                                                audio.sample_rate, events, speaker_turns)
                transcript, timeline = self._opening_step(
                    part, segments, dropped, end, duration, events, speaker_turns, levels,
                    heard)
                agent = timeline.agent_start_s
                done_opening = agent is not None and agent + opts.after_agent_s <= end
                if end >= limit or (done_opening and not opts.full_transcript):
                    transcript, timeline = self._beam_opening(
                        audio, transcript, timeline, end, events, speaker_turns, levels,
                        organisation, skip)
                    return self._search_talk(audio, mono, events, transcript, timeline,
                                             speaker_turns, levels, organisation, skip, end,
                                             diarized_until, timings, pool)
                start = end
                # with the agent found, only the rest of the opening is needed
                target, forward = start + opts.window_s, False
                if agent is not None and not opts.full_transcript:
                    # the rest of the opening: cut after it, never before
                    target, forward = min(target, agent + opts.after_agent_s), True
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _search_talk(self, audio: Audio, mono: np.ndarray | None, events: list[Event],
                     transcript: Transcript, timeline: RoleTimeline, speaker_turns, levels,
                     organisation: str | None, skip: tuple[tuple[float, float], ...],
                     end: float, diarized_until: float, timings: dict[str, float],
                     pool: ThreadPoolExecutor | None = None
                     ) -> tuple[Transcript, RoleTimeline, tuple[SpeakerTurn, ...]]:
        """Transcribe on past the opening, ``search_window_s`` at a time, until the caller's
        question about recording is found and its answer decoded, or ``question_search_s``
        past the agent start. Diarization goes ahead in ``pool`` as in the opening; in
        "caller" mode a window it covers is decoded with the agent's speaker muted, and the
        reply window (``VerdictOptions.answer_s``) after a question or the caller's own
        notice is decoded again with everyone."""
        opts = self.config.analysis
        agent = timeline.agent_start_s
        if opts.question_search_s <= 0 or agent is None:
            return transcript, timeline, speaker_turns
        t0 = time.perf_counter()
        duration = audio.duration
        limit = min(duration, opts.max_transcribe_s, agent + opts.question_search_s)
        answer_s = self.config.verdicts.answer_s
        caller_mode = opts.question_search_speech == "caller" and mono is not None
        silences = [e for e in events if e.kind == "silence"]
        segments, dropped = list(transcript.segments), list(transcript.dropped)
        pos, covered = end, diarized_until  # searched up to; speaker turns in hand up to
        full = [(0.0, end)]  # stretches decoded with everyone
        done: set[tuple[float, str]] = set()  # replies decoded: (time, what)
        while True:
            found = self._talk_found(timeline)
            for what, u in list(found.items()):
                if (u.end, what) in done:
                    continue
                done.add((u.end, what))
                reply_end = min(duration, u.end + answer_s)
                if mono is not None and diarized_until < reply_end:
                    # who answers: the speaker turns past the question, beside the decoding
                    until = min(duration, reply_end + opts.diarize_margin_s)
                    pending = (pool.submit(self._diarize_until, audio, mono, until, timings)
                               if pool is not None else None)
                    if pending is None:
                        speaker_turns = self._diarize_until(audio, mono, until, timings)
                    diarized_until = covered = until
                else:
                    pending = None
                for a, b in _uncovered(u.end, reply_end, full):
                    part = self.transcriber.transcribe(
                        audio.samples, audio.sample_rate, start=a, end=b,
                        organisation=organisation, skip=skip)
                    segments = [s for s in segments if not a <= s.start < b] + list(
                        part.segments)
                    dropped.extend(part.dropped)
                    full.append((a, b))
                    pos = max(pos, b)
                if pending is not None:
                    speaker_turns = pending.result()
                segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
                transcript, timeline = self._talk_step(transcript, segments, dropped, pos,
                                                       duration, events, speaker_turns, levels)
                found = self._talk_found(timeline)  # the roles were labelled again
            if "question" in found or pos >= limit:
                break
            stop = max(_cut_point(pos + opts.search_window_s, silences, limit),
                       min(limit, pos + 1.0))
            pending: Future | None = None
            if caller_mode and diarized_until < min(duration, stop):
                # ahead to the end of the search at once, beside the decoding
                until = min(duration, max(limit + opts.diarize_margin_s, 2 * diarized_until))
                if pool is not None:
                    pending = pool.submit(self._diarize_until, audio, mono, until, timings)
                else:
                    speaker_turns, covered = self._diarize_until(audio, mono, until, timings), until
                diarized_until = until
            mute = skip
            if caller_mode and covered >= stop and timeline.agent_speaker is not None:
                mute = skip + tuple((t.start, t.end) for t in speaker_turns
                                    if t.speaker == timeline.agent_speaker and t.end > pos)
            else:
                full.append((pos, stop))
            part = self.transcriber.transcribe(audio.samples, audio.sample_rate, start=pos,
                                               end=stop, organisation=organisation, skip=mute,
                                               beam_size=opts.search_beam_size)
            if pending is not None:
                speaker_turns, covered = pending.result(), diarized_until
            segments.extend(part.segments)
            dropped.extend(part.dropped)
            pos = stop
            transcript, timeline = self._talk_step(transcript, segments, dropped, pos, duration,
                                                   events, speaker_turns, levels)
        timings["question_search"] = time.perf_counter() - t0
        return transcript, timeline, speaker_turns

    def _talk_found(self, timeline: RoleTimeline) -> dict[str, Any]:
        """The first caller question about recording and the first caller notice found so
        far: {"question" | "caller_notice": utterance}."""
        found: dict[str, Any] = {}
        for u, role in timeline.utterances:
            if role != Role.CALLER or not u.text:
                continue
            for what, find in (("question", dialogue.find_question),
                               ("caller_notice", dialogue.find_caller_notice)):
                if what not in found and (hit := find(u.text, self.nlp)) and hit.counted:
                    found[what] = u
        return found

    def _talk_step(self, transcript: Transcript, segments: list[Segment],
                   dropped: list[Segment], end: float, duration: float, events: list[Event],
                   speaker_turns, levels) -> tuple[Transcript, RoleTimeline]:
        transcript = replace(transcript, segments=tuple(segments), dropped=tuple(dropped),
                             duration_s=round(end, 3),
                             options={**transcript.options, "end_s": end})
        timeline = self.assign_roles(duration, events, transcript, speaker_turns,
                                     self.config.roles, levels)
        return transcript, timeline

    def _beam_opening(self, audio: Audio, transcript: Transcript, timeline: RoleTimeline,
                      end: float, events: list[Event], speaker_turns, levels,
                      organisation: str | None, skip: tuple[tuple[float, float], ...]
                      ) -> tuple[Transcript, RoleTimeline]:
        """The agent's opening decoded again with ``opening_beam_size`` and the roles
        labelled again on it; segments that straddle its edges are decoded again whole."""
        opts = self.config.analysis
        agent = timeline.agent_start_s
        if opts.opening_beam_size <= self.config.transcribe.beam_size or agent is None:
            return transcript, timeline
        a = max(0.0, agent - opts.opening_pad_s)
        b = min(end, agent + opts.after_agent_s)
        for s in (*transcript.segments, *transcript.dropped):
            if s.start < a < s.end:
                a = max(0.0, s.start, agent - 5.0)
            if s.start < b < s.end:
                b = min(end, s.end)
        if b - a < 0.5:
            return transcript, timeline
        part = self.transcriber.transcribe(audio.samples, audio.sample_rate, start=a, end=b,
                                           organisation=organisation, skip=skip,
                                           beam_size=opts.opening_beam_size)
        heard = {tuple(h) for h in transcript.options.get("call_outs_heard", ())}  # kept
        outside = [s for s in transcript.segments
                   if s.start < a or s.start >= b or (s.start, s.end, s.text) in heard]
        dropped = [s for s in transcript.dropped if s.start < a or s.start >= b]
        segments = sorted([*outside, *part.segments],
                          key=lambda s: (s.start, s.channel if s.channel is not None else -1))
        dropped = sorted([*dropped, *part.dropped], key=lambda s: s.start)
        options = {**transcript.options, "opening_beam": [round(a, 3), round(b, 3),
                                                          opts.opening_beam_size]}
        transcript = replace(transcript, segments=tuple(segments), dropped=tuple(dropped),
                             options=options)
        timeline = self.assign_roles(audio.duration, events, transcript, speaker_turns,
                                     self.config.roles, levels)
        return transcript, timeline

    def _with_call_outs(self, part: Transcript, segments: list[Segment], heard: list[Segment],
                        mono: np.ndarray, sample_rate: int, events: list[Event],
                        speaker_turns) -> Transcript:
        """``part`` with the callers' "hallo?" at a pick-up that Whisper wrote no words for,
        where the audio says so (:func:`~pipeline.analysis.callouts.heard_call_outs`); each
        is also added to ``heard``."""
        scorer = getattr(self.transcriber, "scorer", lambda: None)()
        found = heard_call_outs(mono, sample_rate, events, [*segments, *part.segments],
                                speaker_turns, scorer, self.config.roles)
        if not found:
            return part
        heard.extend(found)
        return replace(part, segments=tuple(sorted([*part.segments, *found],
                                                   key=lambda s: (s.start, s.end))))

    def _opening_step(self, part: Transcript, segments: list[Segment], dropped: list[Segment],
                      end: float, duration: float, events: list[Event], speaker_turns,
                      levels, heard: Sequence[Segment] = ()) -> tuple[Transcript, RoleTimeline]:
        """Add one transcribed stretch and label the call so far (``heard``: the call-outs
        found in the audio so far, already among the segments, listed in the options)."""
        segments.extend(part.segments)
        dropped.extend(part.dropped)
        listed = [[s.start, s.end, s.text] for s in heard]
        transcript = Transcript(
            segments=tuple(segments), language=part.language, duration_s=round(end, 3),
            model=part.model, options={**part.options, "start_s": 0.0, "end_s": end,
                                       **({"call_outs_heard": listed} if listed else {})},
            dropped=tuple(dropped))
        timeline = self.assign_roles(duration, events, transcript, speaker_turns,
                                     self.config.roles, levels)
        return transcript, timeline


def _spacy_model_info(nlp) -> dict[str, Any]:
    """Name, version, path and one sha256 over every file of a spaCy pipeline: the NER
    weights and the rule data saved with the components alike."""
    meta = getattr(nlp, "meta", {}) or {}
    path = Path(nlp.path) if getattr(nlp, "path", None) else None
    sha = None
    if path is not None and path.is_dir():
        h = hashlib.sha256()
        for f in sorted(f for f in path.rglob("*") if f.is_file() and f.name != "MODEL_CARD.md"):
            h.update(f.relative_to(path).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(f.read_bytes()).digest())
        sha = h.hexdigest()
    return {"name": f"{meta.get('lang', '?')}_{meta.get('name', '?')}",
            "version": meta.get("version"), "path": str(path) if path else None,
            "sha256": sha, "backend": "spacy"}


def with_channels(audio: Audio, turns) -> tuple[SpeakerTurn, ...]:
    """Tag each speaker turn with its channel when one channel is clearly louder (> 6 dB):
    in a stereo call that tells the caller from the line even where nothing was recognised."""

    out = []
    for t in turns:
        channel = None
        if audio.channels == 2:
            piece = audio.crop(t.start, t.end)
            levels = [rms_dbfs(piece[c]) for c in range(2)]
            if abs(levels[0] - levels[1]) > 6.0:
                channel = int(np.argmax(levels))
        out.append(SpeakerTurn(t.start, t.end, t.speaker, channel))
    return tuple(out)


def nonspeech_levels(audio: Audio, events: list[Event]) -> dict[str, dict[int, float]] | None:
    """Stereo: level (dB) of each channel during music and tones, per event kind
    (``{"dtmf": {0: -12.0, 1: -40.0}, "music": {...}}``; None if mono or there are none).
    Kinds are kept apart because they come from different sides: key presses from the
    caller, ringback and hold music from the line."""
    if audio.channels != 2:
        return None
    spans: dict[str, list[Event]] = {}
    for e in events:
        if e.kind in NONSPEECH_EVENTS:
            spans.setdefault(e.kind, []).append(e)
    if not spans:
        return None

    return {kind: {c: rms_dbfs(np.concatenate([audio.crop(e.start, e.end)[c] for e in es]))
                   for c in range(2)}
            for kind, es in spans.items()}


def _uncovered(a: float, b: float, spans: list[tuple[float, float]]
               ) -> list[tuple[float, float]]:
    """The parts of [a, b) that no span covers (seconds), each at least 0.5 s long."""
    return [(x, y) for x, y in subtract_spans((a, b), spans) if y - x >= 0.5]


def _cut_point(target: float, silences: list[Event], limit: float,
               forward: bool = False) -> float:
    """Window end at ``target``, or in the nearest silence within 5 s so no word is cut
    (``forward``: only in a silence after ``target``)."""
    if target >= limit:
        return limit

    def distance(s: Event) -> float:
        return max(0.0, s.start - target, target - s.end)

    near = [s for s in silences if distance(s) <= 5.0 and (not forward or s.end >= target)]
    if not near:
        return target
    best = min(near, key=distance)
    margin = min(0.1, (best.end - best.start) / 2)  # a little inside the silence
    return min(limit, max(best.start + margin, min(best.end - margin, target)))
