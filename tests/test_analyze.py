"""One call end to end with scripted stages: how much of a long call is transcribed and
diarized (only the start the verdicts need, unless ``full_transcript``)."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.analysis.analyze import CallAnalyzer, _cut_point, nonspeech_levels
from pipeline.analysis.audio import Audio
from pipeline.analysis.config import PipelineConfig
from pipeline.analysis.roles import assign_roles
from pipeline.types import AudioInfo, Event, ModelInfo, Role, Segment, Transcript, Word

SR = 16000
DURATION = 180.0
# (start, speaker, text): an IVR with a notice, the agent at 30 s, then a long conversation
SCRIPT = [
    (1.0, "S0", "welkom bij de gemeente Ede dit gesprek kan worden opgenomen"),
    (8.0, "S0", "er zijn nog twee wachtenden voor u"),
    (30.0, "S1", "goedemiddag gemeente Ede u spreekt met Sanne Jansen waarmee kan ik u helpen"),
    (37.0, "S2", "ja goedemiddag ik heb een vraag over mijn paspoort"),
    *[(t, "S1" if i % 2 else "S2", "en dan nog iets over de afspraak van volgende week")
      for i, t in enumerate(np.arange(44.0, 176.0, 6.0))],
]


def _segment(start: float, text: str) -> Segment:
    words = text.split()
    step = 4.0 / len(words)
    return Segment(start, start + 4.0, text, tuple(
        Word(start + i * step, start + (i + 1) * step, w, 0.9) for i, w in enumerate(words)))


class ScriptedTranscriber:
    """Returns the script's segments that start inside the requested stretch and outside
    the muted spans."""

    model_info = ModelInfo("scripted", None, "test")

    def __init__(self, script=None):
        self.script = SCRIPT if script is None else script
        self.calls: list[tuple[float, float]] = []
        self.skips: list[tuple[tuple[float, float], ...]] = []
        self.beam_calls: list[tuple[float, float, int]] = []  # the opening decoded again

    def transcribe(self, samples, sample_rate=SR, *, start=0.0, end=None, organisation=None,
                   channels=None, skip=(), beam_size=None):
        end = samples.shape[-1] / sample_rate if end is None else end
        if beam_size is None:
            self.calls.append((start, end))
            self.skips.append(tuple(skip))
        else:
            self.beam_calls.append((start, end, beam_size))
        segs = tuple(_segment(t, text) for t, _, text in self.script if start <= t < end
                     and not any(a <= t < b for a, b in skip))
        return Transcript(segs, "nl", end - start, ModelInfo("scripted", None, "test"))


class ScriptedDiarizer:
    """Speaker turns of the script, cut at the length of the audio it is given."""

    def __init__(self, fail: bool = False, script=None):
        self.script = SCRIPT if script is None else script
        self.lengths: list[float] = []
        self.threads: list[str] = []
        self.fail = fail

    def model_info(self) -> ModelInfo:
        return ModelInfo("scripted-diarizer", "ab" * 32, "test")

    def __call__(self, mono, sample_rate=SR):
        length = mono.size / sample_rate
        self.lengths.append(length)
        self.threads.append(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("diarization broke")
        turns = [SimpleNamespace(start=t, end=min(t + 4.0, length), speaker=spk)
                 for t, spk, _ in self.script if t < length]
        return SimpleNamespace(turns=turns)


def _audio() -> Audio:
    rng = np.random.default_rng(0)
    samples = (0.001 * rng.standard_normal((1, int(DURATION * SR)))).astype(np.float32)
    info = AudioInfo("long.wav", DURATION, SR, 1, "pcm_s16le", "wav", "0" * 64)
    return Audio(samples=samples, sample_rate=SR, info=info)


def _analyze(nlp, diarizer=None, script=None, **analysis):
    config = PipelineConfig()
    analysis = {"question_search_s": 0.0, **analysis}  # opening only, unless a test searches
    config = replace(config, analysis=replace(config.analysis, **analysis))
    transcriber = ScriptedTranscriber(script)
    diarizer = diarizer or ScriptedDiarizer(script=script)
    analyzer = CallAnalyzer(config, transcriber=transcriber, diarizer=diarizer, nlp=nlp)
    result = analyzer.analyze_audio(_audio(), "long.wav")
    return result, transcriber, diarizer


def test_only_the_opening_of_a_long_call_is_transcribed_and_diarized(nlp):
    result, transcriber, diarizer = _analyze(nlp)
    assert result.timeline.agent_start_s == pytest.approx(30.0)
    opts = PipelineConfig().analysis
    covered = transcriber.calls[-1][1]
    assert covered >= 30.0 + opts.after_agent_s  # the whole opening ...
    assert covered <= opts.window_s + 5.0  # ... and not much more
    # one diarization run, of the transcribed start and a margin
    assert diarizer.lengths == [pytest.approx(transcriber.calls[0][1] + opts.diarize_margin_s)]
    assert result.verdicts.notice_before_agent == "yes"
    assert (result.verdicts.agent_first, result.verdicts.agent_last) == ("Sanne", "Jansen")
    assert result.transcript.duration_s == pytest.approx(covered)
    # provenance: every model with its checksum, and the configuration
    prov = result.to_dict()["provenance"]
    assert prov["models"]["diarization"]["sha256"] == "ab" * 32
    assert prov["models"]["transcription"]["name"] == "scripted"
    assert len(prov["models"]["language"]["sha256"]) == 64
    assert len(prov["models"]["recording_talk"]["sha256"]) == 64
    config = PipelineConfig()
    config = replace(config, analysis=replace(config.analysis, question_search_s=0.0))
    assert prov["config_fingerprint"] == config.fingerprint()
    assert prov["config"]["analysis"]["after_agent_s"] == opts.after_agent_s


class PrintingDiarizer(ScriptedDiarizer):
    """A scripted diarizer that gives one voice for everyone, and voice prints by speaker."""

    def __init__(self):
        super().__init__()
        self.printed: list[tuple[float, float]] = []

    def __call__(self, mono, sample_rate=SR):
        out = super().__call__(mono, sample_rate)
        return SimpleNamespace(turns=[SimpleNamespace(start=t.start, end=t.end, speaker="S")
                                      for t in out.turns])

    def voice_prints(self, mono, sample_rate, spans):
        self.printed.extend(spans)
        voice = {spk: np.eye(3)[k] for k, spk in enumerate(("S0", "S1", "S2"))}
        # a stretch has the voice of the script line it starts in (utterances and their sides)
        return {(a, b): voice[max((t, spk) for t, spk, _ in self.script if t <= a + 1e-6)[1]]
                for a, b in spans}


def test_one_voice_from_the_diarizer_is_split_by_the_utterances_voice_prints(nlp):
    result, _, diarizer = _analyze(nlp, diarizer=PrintingDiarizer())
    assert result.timeline.agent_start_s == pytest.approx(30.0)
    assert diarizer.printed and min(a for a, _ in diarizer.printed) >= 30.0 - 0.05
    roles = {u.start: r for u, r in result.timeline.utterances}
    assert roles[30.0] == Role.AGENT and roles[37.0] == Role.CALLER
    assert roles[44.0] == Role.CALLER and roles[50.0] == Role.AGENT  # no caller wording
    assert "voices" in result.timings
    # without the prints the one voice is the agent's, but for the caller's own wording
    no_prints = PrintingDiarizer()
    no_prints.voice_prints = None
    roles = {u.start: r for u, r in _analyze(nlp, diarizer=no_prints)[0].timeline.utterances}
    assert roles[44.0] == Role.AGENT


def test_nobody_asks_the_search_goes_to_its_limit_without_more_diarization(nlp):
    opts = PipelineConfig().analysis
    result, transcriber, diarizer = _analyze(nlp, question_search_s=opts.question_search_s)
    limit = 30.0 + opts.question_search_s
    # the search windows, decoded with the search's own beam width
    assert transcriber.beam_calls[-1][1] == pytest.approx(limit)
    assert len(diarizer.lengths) == 1  # the opening's diarization only: no reply to read
    v = result.verdicts
    assert v.agent_knows_recording == "not_asked"
    assert v.searched_until_s == pytest.approx(limit)
    assert result.timings["question_search"] >= 0


def test_caller_mode_diarizes_ahead_and_mutes_the_agent(nlp):
    opts = PipelineConfig().analysis
    result, transcriber, diarizer = _analyze(nlp, question_search_s=opts.question_search_s,
                                             question_search_speech="caller")
    limit = 30.0 + opts.question_search_s
    # diarized as far as it searched, beside the decoding of the first search window
    assert diarizer.lengths[-1] >= limit and len(diarizer.lengths) == 2
    # once diarized, the agent's speaker is muted: the search costs the caller's speech
    opening_end = transcriber.calls[0][1]
    late = [s for s in result.transcript.segments
            if s.start > opening_end + opts.search_window_s + 5]
    assert late and all(s.start in {t for t, spk, _ in SCRIPT if spk == "S2"} for s in late)


def test_a_hook_sees_every_step_in_order(nlp):
    config = replace(PipelineConfig(), analysis=replace(PipelineConfig().analysis,
                                                         question_search_s=0.0))
    analyzer = CallAnalyzer(config, transcriber=ScriptedTranscriber(),
                            diarizer=ScriptedDiarizer(), nlp=nlp)
    seen = []
    result = analyzer.analyze_audio(_audio(), "long.wav", hook=lambda s, v: seen.append((s, v)))
    assert [s for s, _ in seen] == ["events", "transcript_and_roles", "verdicts"]
    assert seen[-1][1] is result.verdicts
    assert seen[1][1] == (result.transcript, result.timeline)


def test_a_question_stops_the_search_once_its_answer_is_decoded(nlp):
    script = [*(x for x in SCRIPT if x[0] < 60.0),
              (62.0, "S2", "wordt dit gesprek eigenlijk opgenomen"),
              (67.0, "S1", "ja dat klopt alle gesprekken worden opgenomen"),
              *(x for x in SCRIPT if x[0] > 72.0)]
    result, transcriber, diarizer = _analyze(nlp, script=script, question_search_s=120.0)
    v = result.verdicts
    assert v.agent_knows_recording == "yes"
    question, answer = v.question_evidence
    assert question.role == Role.CALLER and answer.role == Role.AGENT
    assert answer.start == pytest.approx(67.0, abs=0.5)
    # the search stopped after the window with the question; the reply was diarized
    opts = PipelineConfig().analysis
    assert max(b for _, b in transcriber.calls) <= 62.0 + opts.search_window_s
    assert diarizer.lengths[-1] >= 66.0 + PipelineConfig().verdicts.answer_s
    assert v.notice_contradicted == "no" and v.notice_before_agent == "yes"
    assert v.notice_by_agent == "no"  # an answer is no notice of the agent's own


def test_the_agents_opening_is_decoded_again_with_a_beam_and_replaces_its_segments(nlp):
    wider = PipelineConfig().transcribe.beam_size + 3
    result, transcriber, _ = _analyze(nlp, opening_beam_size=wider)
    opts = PipelineConfig().analysis
    ((a, b, beam),) = transcriber.beam_calls
    assert beam == wider
    # from just before the agent's first words to the end of the opening (the segment that
    # straddles it is decoded whole)
    assert a == pytest.approx(30.0 - opts.opening_pad_s)
    assert 30.0 + opts.after_agent_s <= b <= transcriber.calls[-1][1]
    starts = [s.start for s in result.transcript.segments]
    assert starts == sorted(set(starts))  # no segment twice
    assert result.transcript.options["opening_beam"][2] == beam
    # off (the default: no wider than the transcriber's own): no second pass, the same
    # verdicts on this clean script
    off, transcriber_off, _ = _analyze(nlp)
    assert transcriber_off.beam_calls == []
    assert off.verdicts == result.verdicts


def test_a_late_agent_extends_both_without_gaps(nlp):
    result, transcriber, diarizer = _analyze(nlp, window_s=20.0)
    spans = transcriber.calls
    assert spans[0][0] == 0.0
    assert all(a[1] == pytest.approx(b[0]) for a, b in zip(spans, spans[1:], strict=False))
    assert result.timeline.agent_start_s == pytest.approx(30.0)
    assert spans[-1][1] >= 50.0
    # each re-run of the diarization covers at least what is transcribed, and grows
    assert diarizer.lengths == sorted(diarizer.lengths) and diarizer.lengths[-1] >= spans[-1][1]
    assert len(diarizer.lengths) <= len(spans)


def test_full_transcript_covers_the_whole_call(nlp):
    result, transcriber, diarizer = _analyze(nlp, full_transcript=True)
    assert transcriber.calls[-1][1] == pytest.approx(DURATION)
    assert diarizer.lengths == [pytest.approx(DURATION)]
    assert result.verdicts.agent_name == "full"


def test_diarization_runs_beside_transcription_with_the_same_result(nlp):
    together, _, diarizer = _analyze(nlp, window_s=20.0)
    assert diarizer.threads and all(n.startswith("diarize") for n in diarizer.threads)
    apart, _, diarizer = _analyze(nlp, window_s=20.0, parallel_diarization=False)
    assert diarizer.threads == [threading.current_thread().name] * len(diarizer.threads)
    assert together.timeline == apart.timeline and together.verdicts == apart.verdicts
    assert together.transcript == apart.transcript
    # stage times overlap: the total is wall time, not their sum
    t = together.timings
    assert t["total"] == pytest.approx(t["events"] + t["transcribe_and_roles"] + t["voices"]
                                       + t["verdicts"] + t.get("audio", 0.0))
    # a diarization error reaches the caller (the batch turns it into an error row)
    with pytest.raises(RuntimeError, match="diarization broke"):
        _analyze(nlp, diarizer=ScriptedDiarizer(fail=True))


def test_cut_point_moves_into_silence_and_forward_when_asked():
    silences = [Event(56.0, 57.0, "silence"), Event(62.0, 63.0, "silence")]
    assert 62.0 < _cut_point(60.0, silences, 180.0) < 63.0
    assert 56.0 < _cut_point(58.0, silences, 180.0) < 57.0
    assert 62.0 < _cut_point(58.0, silences, 180.0, forward=True) < 63.0
    assert _cut_point(56.5, silences, 180.0) == 56.5  # already in a silence
    assert _cut_point(70.0, silences, 180.0) == 70.0  # none near: cut there
    assert _cut_point(200.0, silences, 180.0) == 180.0
    whole = [Event(0.0, 180.0, "silence")]
    assert _cut_point(60.0, whole, 180.0) == 60.0


# ------------------------------------------------------ stereo: channel levels of events

CALLER, LINE = 0, 1  # channels of the stereo calls below
STEREO_S = 18.0
# the line: an IVR menu, then the agent; the caller answers the agent
STEREO_SEGMENTS = (
    Segment(3.5, 7.0, "Welkom bij de gemeente Ede. Voor afval, kies 1.", channel=LINE),
    Segment(10.0, 13.0, "Goedemiddag, u spreekt met Sanne, waarmee kan ik u helpen?",
            channel=LINE),
    Segment(14.0, 17.0, "Ja goedemiddag, ik heb een vraag over mijn paspoort.", channel=CALLER),
)


def _tone(freqs: tuple[float, ...], amplitude: float, n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return sum(amplitude * np.sin(2 * np.pi * f * t) for f in freqs)


def _stereo_call(events: list[Event], sounds: dict[str, tuple]) -> Audio:
    """A few seconds of quiet stereo noise with, at each event, ``sounds[kind]``:
    (frequencies in Hz, amplitude on the caller's channel, amplitude on the line's)."""
    rng = np.random.default_rng(1)
    samples = 1e-4 * rng.standard_normal((2, int(STEREO_S * SR)))
    for e in events:
        freqs, on_caller, on_line = sounds[e.kind]
        a, b = round(e.start * SR), round(e.end * SR)
        samples[CALLER, a:b] += _tone(freqs, on_caller, b - a)
        samples[LINE, a:b] += _tone(freqs, on_line, b - a)
    info = AudioInfo("stereo.wav", STEREO_S, SR, 2, "pcm_s16le", "wav", "0" * 64)
    return Audio(samples=samples.astype(np.float32), sample_rate=SR, info=info)


def _stereo_roles(events: list[Event], audio: Audio):
    transcript = Transcript(STEREO_SEGMENTS, "nl", STEREO_S, ModelInfo("fake", None, "fake"))
    return assign_roles(STEREO_S, events, transcript, (), None, nonspeech_levels(audio, events))


def test_caller_key_presses_are_loud_on_the_callers_channel_not_the_lines():
    """Key presses are heard on the caller's side and ringback on the line's; taken together
    the loud DTMF would outweigh the soft ringback and make the caller's channel the line."""
    events = [Event(0.0, 3.0, "ringback"), Event(7.5, 7.7, "dtmf", "1"),
              Event(8.0, 8.2, "dtmf", "2")]
    audio = _stereo_call(events, {"ringback": ((425.0,), 0.0, 0.03),
                                  "dtmf": ((697.0, 1209.0), 0.25, 0.002)})
    levels = nonspeech_levels(audio, events)
    assert levels["dtmf"][CALLER] > levels["dtmf"][LINE] + 6.0
    assert levels["ringback"][LINE] > levels["ringback"][CALLER] + 6.0
    tl = _stereo_roles(events, audio)
    assert tl.caller_channel == CALLER
    assert tl.agent_start_s == pytest.approx(10.0)
    assert tl.role_at(4.0) == Role.IVR
    assert tl.role_at(11.0) == Role.AGENT
    assert tl.role_at(15.0) == Role.CALLER


def test_hold_music_and_ringback_loud_on_a_channel_make_it_the_line():
    events = [Event(0.0, 3.0, "ringback"), Event(7.2, 9.8, "music")]
    audio = _stereo_call(events, {"ringback": ((425.0,), 0.0, 0.03),
                                  "music": ((440.0, 554.0, 659.0), 0.001, 0.1)})
    tl = _stereo_roles(events, audio)
    assert tl.caller_channel == CALLER
    assert tl.agent_start_s == pytest.approx(10.0)
    assert tl.role_at(15.0) == Role.CALLER


def test_the_call_json_reads_back_typed_and_old_schemas_load(nlp):
    import json

    from pipeline.types import CallResult, SchemaError

    result, _, _ = _analyze(nlp)
    d = json.loads(json.dumps(result.to_dict()))
    back = CallResult.from_dict(d)
    assert json.loads(json.dumps(back.to_dict())) == d
    assert back.verdicts.notice_evidence[0].role is Role.IVR
    assert back.timeline.agent_start_s == result.timeline.agent_start_s
    old = {**d, "schema_version": "1.0",
           "verdicts": {k: v for k, v in d["verdicts"].items()
                        if k not in ("agent_knows_recording", "question_evidence")}}
    assert CallResult.from_dict(old).verdicts.agent_knows_recording == "not_asked"
    with pytest.raises(SchemaError, match="'2.0'"):
        CallResult.from_dict({**d, "schema_version": "2.0"})


def test_the_search_past_the_opening_decodes_with_its_own_beam_width(nlp):
    """``search_beam_size`` sets the width of the search windows only; the opening keeps
    the transcriber's own (None: the transcriber's own everywhere)."""
    opts = PipelineConfig().analysis
    assert opts.search_beam_size == 1  # greedy: the search reads up to 90 s more per call
    _, plain, _ = _analyze(nlp, question_search_s=opts.question_search_s,
                           search_beam_size=None)
    assert plain.beam_calls == []
    _, searched, _ = _analyze(nlp, question_search_s=opts.question_search_s)
    assert searched.beam_calls and {b for _, _, b in searched.beam_calls} == {1}
    opening_end = searched.calls[-1][1]
    assert all(a >= opening_end for a, _, _ in searched.beam_calls)
    assert searched.beam_calls[-1][1] == pytest.approx(30.0 + opts.question_search_s)


def test_a_callers_wordless_hallo_at_the_pick_up_is_heard_and_listed(nlp):
    """Ringback, half a second of speech Whisper wrote nothing for, then the agent: with a
    scorer that hears "hallo?" there, the call-out is among the segments, listed in the
    transcript's options, and the agent start is the answer, not the blip."""
    from test_callouts import FakeScorer

    script = [(8.0, "S0", "gemeente Ede met Sanne Jansen waarmee kan ik u helpen"),
              (13.0, "S1", "ja ik heb een vraag over mijn paspoort")]

    class Diarizer(ScriptedDiarizer):
        def __call__(self, mono, sample_rate=SR):
            turns = [SimpleNamespace(start=7.0, end=7.5, speaker="S0"),
                     *super().__call__(mono, sample_rate).turns]
            return SimpleNamespace(turns=turns)

    class Transcriber(ScriptedTranscriber):
        def __init__(self, scorer):
            super().__init__(script)
            self._scorer = scorer

        def scorer(self):
            return self._scorer

    config = replace(PipelineConfig(), analysis=replace(PipelineConfig().analysis,
                                                        question_search_s=0.0))
    results = []
    for scorer in (FakeScorer(-2.0, -6.0), None):
        analyzer = CallAnalyzer(config, transcriber=Transcriber(scorer),
                                diarizer=Diarizer(script=script), nlp=nlp,
                                events=lambda *a: [Event(0.0, 6.0, "ringback")])
        results.append(analyzer.analyze_audio(_audio(), "hallo.wav"))
    heard, unheard = results
    assert heard.transcript.options["call_outs_heard"] == [[7.0, 7.5, "Hallo?"]]
    assert [s.text for s in heard.transcript.segments][0] == "Hallo?"
    assert heard.timeline.agent_start_s == pytest.approx(8.0)
    assert "call_outs_heard" not in unheard.transcript.options
    assert unheard.timeline.agent_start_s == pytest.approx(7.0)


def test_the_doubt_model_named_by_the_config_flags_what_it_doubts(nlp, tmp_path):
    from pipeline.analysis.doubt import ConcernModel, DoubtModel
    from pipeline.types import Concern, ReviewReason

    always = ConcernModel({}, {}, {}, 5.0, 0.5)  # P(wrong) 0.99 whatever the call
    path = tmp_path / "doubt.json"
    path.write_text(DoubtModel("always-name", {Concern.NAME: always}).to_json())
    results = {}
    for name in ("off", str(path)):
        config = replace(PipelineConfig(), verdicts=replace(PipelineConfig().verdicts,
                                                            doubt_model=name),
                         analysis=replace(PipelineConfig().analysis, question_search_s=0.0))
        analyzer = CallAnalyzer(config, transcriber=ScriptedTranscriber(),
                                diarizer=ScriptedDiarizer(), nlp=nlp)
        results[name] = analyzer.analyze_audio(_audio(), "long.wav")
    off, doubted = results["off"].verdicts, results[str(path)].verdicts
    assert ReviewReason.MODEL_DOUBTS_NAME not in off.review_reasons
    assert doubted.review_reasons == (*off.review_reasons, ReviewReason.MODEL_DOUBTS_NAME)
    assert doubted.needs_review and doubted.agent_name == off.agent_name
    assert results[str(path)].provenance["models"]["doubt"]["name"] == "always-name"
    assert results["off"].provenance["models"]["doubt"] is None

