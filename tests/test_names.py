"""Misheard names snapped to lexicon names only when the audio supports it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builders import segment
from pipeline.analysis.names import NameOptions, decide_with_snaps, lexicon_candidates, snap_word
from pipeline.analysis.verdicts import VerdictOptions, decide
from pipeline.types import decisions_in_doubt

FIXTURES = Path(__file__).resolve().parent.parent / "audio_fixtures"
NAMES = sorted(["jansen", "janse", "jans", "janson", "dijkstra", "dijksma", "bakker", "baker",
                "verhoeven", "hoven", "boven", "sanne", "kees", "geest"])


class FakeScorer:
    """Scores texts by what the 'audio' said: the true text scores 0, others lose a nat per
    differing word, plus ``bias`` for texts containing a given word."""

    def __init__(self, said: str, bias: dict[str, float] | None = None):
        self.said = said.split()
        self.bias = bias or {}
        self.calls: list[list[str]] = []

    def __call__(self, samples, texts):
        self.calls.append(texts)
        out = []
        for text in texts:
            words = text.split()
            diff = sum(a != b for a, b in zip(words, self.said, strict=False))
            diff += abs(len(words) - len(self.said))
            out.append(-3.0 * diff + sum(v for k, v in self.bias.items() if k in words))
        return out


AUDIO = np.zeros(16000 * 10, np.float32)


def test_candidates_are_lexicon_names_a_few_letters_away_fewer_for_short_words():
    opts = NameOptions()
    assert "jansen" in lexicon_candidates("jansn", NAMES, opts)
    assert "dijkstra" in lexicon_candidates("dijksta", NAMES, opts)
    # two edits only for long words: "keesp" is one from "kees", two from "geest"
    assert lexicon_candidates("keesp", NAMES, opts) == ["kees"]
    assert lexicon_candidates("zzzzzz", NAMES, opts) == []


def test_a_near_miss_is_snapped_when_the_audio_prefers_the_lexicon_name():
    s = segment(1.0, None, "u spreekt met Sanne Jansn")
    snap = snap_word(s, 4, AUDIO, FakeScorer("u spreekt met Sanne Jansen"), NAMES, NameOptions())
    assert snap is not None and (snap.heard, snap.name) == ("Jansn", "Jansen")
    assert snap.score > snap.heard_score and snap.runner_up < snap.score
    assert (snap.start, snap.end) == (s.words[4].start, s.words[4].end)


def test_no_snap_when_the_audio_does_not_support_any_candidate():
    s = segment(1.0, None, "u spreekt met Sanne Jansn")
    # the audio says what Whisper wrote: every candidate scores a word worse (3 nats > margin)
    assert snap_word(s, 4, AUDIO, FakeScorer("u spreekt met Sanne Jansn"), NAMES,
                     NameOptions()) is None


def test_no_snap_when_two_candidates_are_about_as_likely():
    s = segment(1.0, None, "u spreekt met Sanne Jansn")
    scorer = FakeScorer("u spreekt met Sanne Jansen", bias={"Janse": 2.9})
    assert snap_word(s, 4, AUDIO, scorer, NAMES, NameOptions()) is None


def test_short_or_non_alphabetic_words_are_never_snapped():
    scorer = FakeScorer("met Kees")
    assert snap_word(segment(1.0, None, "met Kes"), 1, AUDIO, scorer, NAMES, NameOptions()) is None
    assert snap_word(segment(1.0, None, "met 1234"), 1, AUDIO, scorer, NAMES, NameOptions()) is None
    assert scorer.calls == []  # nothing was even scored


def _timeline(nlp, agent_text: str):
    from pipeline.analysis.roles import assign_roles
    from pipeline.types import Event, ModelInfo, SpeakerTurn, Transcript

    segs = (segment(2.0, None, "welkom bij de gemeente Zwolle"), segment(8.0, None, agent_text),
            segment(14.0, None, "goedemorgen ik heb een vraag over afval"))
    turns = [SpeakerTurn(2.0, 4.0, "IVR"), SpeakerTurn(8.0, 12.0, "AGENT"),
             SpeakerTurn(14.0, 18.0, "CALLER")]
    tr = Transcript(segs, "nl", 20.0, ModelInfo("fake", None, "fake"))
    return assign_roles(20.0, [Event(4.5, 7.5, "music")], tr, turns)


def test_verdicts_take_the_snapped_name_and_say_so_in_the_evidence(nlp):
    tl = _timeline(nlp, "goedemorgen u spreekt met Sanne Verhoevn")
    before = decide(tl, nlp=nlp)
    assert before.agent_last == "Verhoevn"
    scorer = FakeScorer("goedemorgen u spreekt met Sanne Verhoeven")
    after = decide_with_snaps(tl, before, AUDIO, scorer, nlp, VerdictOptions(), NameOptions())
    assert (after.agent_first, after.agent_last) == ("Sanne", "Verhoeven")
    assert "snapped 'Verhoevn' -> 'Verhoeven'" in after.name_evidence[0].detail
    # a name the recogniser did not write is shown for review, never asserted
    assert "name_snapped" in after.review_reasons and after.needs_review
    assert "agent_name" in decisions_in_doubt(after.review_reasons)
    assert "name_snapped" not in before.review_reasons
    # a name already in the lexicon is never re-scored; snapping off changes nothing
    scorer.calls.clear()
    assert decide_with_snaps(tl, after, AUDIO, scorer, nlp, VerdictOptions(),
                             NameOptions(snap=False)) is after
    clean = _timeline(nlp, "goedemorgen u spreekt met Sanne Jansen")
    v = decide(clean, nlp=nlp)
    assert decide_with_snaps(clean, v, AUDIO, scorer, nlp, VerdictOptions(), NameOptions()) is v
    assert scorer.calls == []


@pytest.mark.models
def test_whisper_scores_what_was_said_above_a_near_miss():
    """The real scorer on a fixture call: the agent's line as the reference transcript has it
    is likelier to Whisper than the same line with the surname changed a letter or two."""
    from pipeline.analysis.audio import load_audio
    from pipeline.analysis.transcribe import Transcriber

    audio = load_audio(FIXTURES / "calls" / "call01_ivr_notice_full.flac")
    start, end = 32.758, 37.986  # AGENT line of the reference transcript
    piece = audio.mono()[int((start - 0.3) * 16000):int((end + 0.3) * 16000)]
    scorer = Transcriber().scorer()
    said = "Goedemorgen, gemeente Oisterwijk, u spreekt met Marieke van Dijk."
    near = [said.replace("Dijk", x) for x in ("Dijks", "Duijk", "Dirk")]
    scores = scorer(piece, [said, *near])
    assert all(np.isfinite(scores)) and all(s < 0 for s in scores)
    assert scores[0] > max(scores[1:])
