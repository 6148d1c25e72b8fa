"""A caller's wordless "hallo?" at the pick-up, heard in the audio (pipeline.analysis.callouts)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from builders import transcript
from pipeline.analysis.analyze import SpeakerTurn
from pipeline.analysis.callouts import heard_call_outs
from pipeline.analysis.roles import RoleOptions, assign_roles
from pipeline.analysis.vocabulary import CALL_OUT_TEXTS
from pipeline.types import Event, Segment, Word

SR = 16000
RINGBACK = [Event(0.0, 6.0, "ringback")]


class FakeScorer:
    """Scores each text by a table (call-outs, then opening starts), recording the calls."""

    def __init__(self, call_out: float, opening: float):
        self.call_out, self.opening, self.calls = call_out, opening, []

    def __call__(self, samples, texts):
        self.calls.append(len(samples))
        return [self.call_out if t in CALL_OUT_TEXTS else self.opening for t in texts]


def seg(start, end, text):
    words = text.split()
    step = (end - start) / len(words)
    return Segment(start, end, text, tuple(Word(start + k * step, start + (k + 1) * step, w, 0.9)
                                           for k, w in enumerate(words)))


def test_a_wordless_blip_after_the_pick_up_that_sounds_like_hallo_becomes_a_call_out():
    turns = [SpeakerTurn(7.0, 7.5, "SPEAKER_00"), SpeakerTurn(8.0, 11.0, "SPEAKER_00")]
    segments = [seg(8.0, 11.0, "gemeente Breda, goedemiddag")]
    mono = np.zeros(12 * SR, dtype=np.float32)
    found = heard_call_outs(mono, SR, RINGBACK, segments, turns, FakeScorer(-2.0, -6.0),
                            RoleOptions())
    assert [(s.start, s.end, s.text) for s in found] == [(7.0, 7.5, CALL_OUT_TEXTS[0])]
    assert found[0].words and 0.0 < found[0].words[0].probability <= 1.0


@pytest.mark.parametrize("why, turn, segments, events, options, scores", [
    ("an opening start is as likely", SpeakerTurn(7.0, 7.5, "S"), [], RINGBACK, RoleOptions(),
     (-4.0, -5.0)),
    ("the recogniser has words there", SpeakerTurn(7.0, 7.5, "S"), [seg(7.0, 7.5, "ja")],
     RINGBACK, RoleOptions(), (-2.0, -6.0)),
    ("long for a call-out", SpeakerTurn(7.0, 9.0, "S"), [], RINGBACK, RoleOptions(),
     (-2.0, -6.0)),
    ("no pick-up just before", SpeakerTurn(17.0, 17.5, "S"), [], RINGBACK, RoleOptions(),
     (-2.0, -6.0)),
    ("stereo: the channel tells", SpeakerTurn(7.0, 7.5, "S", 0), [], RINGBACK, RoleOptions(),
     (-2.0, -6.0)),
    ("the check is off", SpeakerTurn(7.0, 7.5, "S"), [], RINGBACK,
     RoleOptions(callout_check_margin=0.0), (-2.0, -6.0)),
])
def test_no_call_out_is_written_where_the_audio_or_the_call_does_not_say_so(
        why, turn, segments, events, options, scores):
    scorer = FakeScorer(*scores)
    mono = np.zeros(20 * SR, dtype=np.float32)
    assert heard_call_outs(mono, SR, events, segments, [turn], scorer, options) == [], why


def test_without_a_scorer_nothing_is_checked():
    mono = np.zeros(12 * SR, dtype=np.float32)
    assert heard_call_outs(mono, SR, RINGBACK, [], [SpeakerTurn(7.0, 7.5, "S")], None,
                           RoleOptions()) == []


def test_the_call_out_heard_moves_the_agent_start_to_the_answer():
    """Mono: ringback, a wordless half second and the agent in one voice cluster, then the
    caller's question in another. Read as speech without words the blip is the agent start;
    as a call-out, the answer is."""
    turns = [SpeakerTurn(7.0, 7.5, "SPEAKER_00"), SpeakerTurn(8.0, 11.0, "SPEAKER_00"),
             SpeakerTurn(11.6, 14.0, "SPEAKER_01")]
    segments = [seg(8.0, 11.0, "Gemeente Breda, met Anna Jansen."),
                seg(11.6, 14.0, "Ik heb een vraag over mijn paspoort.")]
    mono = np.zeros(15 * SR, dtype=np.float32)
    found = heard_call_outs(mono, SR, RINGBACK, segments, turns, FakeScorer(-2.0, -6.0),
                            RoleOptions())
    before = assign_roles(15.0, RINGBACK, transcript(*segments), turns)
    after = assign_roles(15.0, RINGBACK, transcript(*sorted([*segments, *found],
                                                             key=lambda s: s.start)), turns)
    assert before.agent_start_s == pytest.approx(7.0)
    assert after.agent_start_s == pytest.approx(8.0)


def test_a_bare_hallo_right_after_the_pick_up_is_the_callers_whatever_the_answer_says():
    """The answer to "hallo?" misheard past any greeting: the call-out is still the caller's
    (never the agent start); a lone "ja" is not taken for one (it often opens a misheard
    greeting)."""
    turns = [SpeakerTurn(7.0, 7.5, "SPEAKER_00"), SpeakerTurn(8.0, 11.0, "SPEAKER_00")]
    for first, call_out in (("Hallo?", True), ("Ja, hallo?", True), ("Ja,", False)):
        segments = [seg(7.0, 7.5, first), seg(8.0, 11.0, "Toen dacht u heeft schaden aan.")]
        tl = assign_roles(12.0, RINGBACK, transcript(*segments), turns)
        feats = tl.candidates[0].features
        assert bool(feats.get("short_before_greeting")) == call_out, first


@pytest.mark.models
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_whisper_hears_hallo_in_a_wordless_blip_and_not_in_a_greeting(tmp_path):
    """The real scorer: espeak-ng's "hallo?" is written as a call-out; its "goedemiddag" and
    "gemeente" (an agent's first word Whisper lost) are not."""
    from test_diarize import speak

    from pipeline.analysis.transcribe import Transcriber

    scorer = Transcriber().scorer()
    assert scorer is not None
    for text, voice, is_call_out in (("Hallo?", ("nl+m4", 40), True),
                                     ("Goedemiddag", ("nl+f2", 60), False),
                                     ("Gemeente", ("nl+f2", 60), False)):
        said = speak(text, voice, tmp_path)
        mono = np.concatenate([np.zeros(7 * SR, np.float32), said,
                               np.zeros(2 * SR, np.float32)])
        turn = SpeakerTurn(7.0, 7.0 + len(said) / SR, "SPEAKER_00")
        found = heard_call_outs(mono, SR, RINGBACK, [], [turn], scorer,
                                RoleOptions(callout_check_max_s=2.0))
        assert bool(found) == is_call_out, (text, found)
