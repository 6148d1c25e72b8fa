"""``make eval-asr``: error rates, the real-speech set and the corpus-openings accounting."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.evaluation import asr_eval
from pipeline.types import ModelInfo, Segment, Transcript, Word

FIXTURES = Path(__file__).resolve().parent.parent / "audio_fixtures"
SAMPLE = FIXTURES / "corpus_sample"
FILLETS = Path("/usr/share/games/fillets-ng/sound")


def test_error_rates_ignore_case_accents_and_punctuation():
    r = asr_eval.error_rates("Goedemorgen, u spreekt met Sanne!", "goedemorgen u spreekt met sanne")
    assert r["wer"] == 0.0 and r["cer"] == 0.0 and r["ref_words"] == 5
    r = asr_eval.error_rates("u spreekt met Sanne Jansen", "u spreek met Sanne")
    assert r["wer"] == pytest.approx(2 / 5)
    assert (r["substitutions"], r["deletions"], r["insertions"]) == (1, 1, 0)
    assert 0 < r["cer"] < r["wer"]


class ReferenceTranscriber:
    """Hears exactly the reference lines (with per-word times), except ``deaf`` words."""

    def __init__(self, lines, deaf=()):
        self.lines, self.deaf = lines, set(deaf)

    def transcribe(self, samples, sample_rate=16000, *, start=0.0, end=None, skip=(), **_):
        segs = []
        for a, b, _, text in self.lines:
            if end is not None and a >= end:
                continue
            words = [w for w in text.split() if asr_eval.normalise_text(w) not in self.deaf]
            step = (b - a) / max(1, len(words))
            segs.append(Segment(a, b, " ".join(words), tuple(
                Word(a + i * step, a + (i + 1) * step, w, 0.9) for i, w in enumerate(words))))
        return Transcript(tuple(segs), "nl", (end or 0) - start, ModelInfo("ref", None, "ref"))


def _sample_lines():
    lines = []
    for f in sorted((SAMPLE / "transcripts").glob("*.txt")):
        lines += asr_eval._reference_lines(f)
    return lines


def test_openings_count_notice_words_and_names_heard_where_the_reference_has_them():
    lines = _sample_lines()
    perfect = asr_eval.eval_openings(ReferenceTranscriber(lines), SAMPLE)
    fam = perfect["families"]["espeak-a"]
    # two calls, one with a notice line before the agent; names: Veenstra; van der Meer
    assert fam["notice_word"] == {"n": 1, "rate": 1.0}
    assert fam["first"] == {"n": 0, "rate": None} and fam["last"] == {"n": 2, "rate": 1.0}
    assert perfect["name_misses"] == []
    deaf = asr_eval.eval_openings(ReferenceTranscriber(lines, deaf={"opgenomen", "meer"}),
                                  SAMPLE)
    fam = deaf["families"]["espeak-a"]
    assert fam["notice_word"]["rate"] == 0.0
    assert fam["last"] == {"n": 2, "rate": 0.5}
    assert [m["name"] for m in deaf["name_misses"]] == ["van der Meer"]
    text = asr_eval.markdown({"openings": deaf})
    assert "| espeak-a | 0.00 (1) | - | 0.50 (2) |" in text


def test_telephone_channels_give_16_khz_audio_of_the_same_length():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16000 * 2)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for condition in asr_eval.CONDITIONS:
            y = asr_eval.through_channel(x, condition, Path(tmp))
            assert y.dtype == np.float32 and abs(y.size - x.size) < 16000 * 0.05, condition
            if condition != "wb16":
                assert not np.allclose(y[: x.size], x[: y.size], atol=1e-3)  # it went through


@pytest.mark.skipif(not FILLETS.is_dir(), reason="needs Debian's fillets-ng-data-nl "
                    "(apt-get install fillets-ng-data-nl; .ci/run installs it)")
def test_real_speech_comes_from_the_tuning_levels_only():
    sys_path = str(FIXTURES)
    import sys

    sys.path.insert(0, sys_path)
    try:
        import corpus
    finally:
        sys.path.remove(sys_path)
    speech = asr_eval.real_speech(clips=6, seed=1)
    assert speech.clips == 6 and speech.samples.dtype == np.float32
    assert speech.seconds == pytest.approx(speech.samples.size / 16000)
    assert len(speech.reference.split()) >= 6 * 3
    levels = set(corpus.tuning_levels())
    all_levels = sorted(p.name for p in FILLETS.iterdir() if (p / "nl").is_dir())
    assert levels and levels <= set(all_levels[: len(all_levels) // 2])
    assert all(Path(c.path).parent.parent.name in levels for c in corpus.fillets_clips())
