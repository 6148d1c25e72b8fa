"""Non-speech event detection on signals built here: tones, DTMF, music, speech, silence.

Every signal is generated in the test (numpy, or espeak-ng for Dutch speech), so the tests
assert on meaning: which kinds are found and where, within tolerances in seconds.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
import subprocess
import time
from math import gcd
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile
from scipy.signal import butter, resample_poly, sosfilt

from pipeline.analysis.analyze import _uncovered
from pipeline.analysis.events import detect_events, subtract_spans
from pipeline.types import Event

SR = 16000
NON_SPEECH_TONES = {"ringback", "busy", "tone", "dtmf"}

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)"
)


# --- signal builders -----------------------------------------------------------------------


def tone(freqs: tuple[float, ...], seconds: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    """Sum of sines at freqs (Hz), peak amplitude amp, shape (seconds * sr,)."""
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp / len(freqs) * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def cadence(freqs: tuple[float, ...], pattern: list[float], repeats: int, sr: int = SR):
    """Alternating on/off durations (s) from pattern, repeated; starts with a tone."""
    parts = []
    for _ in range(repeats):
        for i, seconds in enumerate(pattern):
            parts.append(tone(freqs, seconds, sr) if i % 2 == 0 else silence(seconds, sr))
    return np.concatenate(parts)


DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")


def dtmf(digits: str, on: float, off: float, sr: int = SR) -> np.ndarray:
    parts = []
    for digit in digits:
        row = next(i for i, keys in enumerate(DTMF_KEYS) if digit in keys)
        col = DTMF_KEYS[row].index(digit)
        parts += [tone((DTMF_LOW[row], DTMF_HIGH[col]), on, sr, 0.4), silence(off, sr)]
    return np.concatenate(parts)


def telephone(x: np.ndarray, sr: int = SR, out_sr: int = SR) -> np.ndarray:
    """8 kHz telephone round trip: resample, band-limit to 300-3400 Hz, 8-bit mu-law (G.711)."""
    g = gcd(sr, 8000)
    x8 = resample_poly(x, 8000 // g, sr // g)
    x8 = sosfilt(butter(4, [300, 3400], btype="band", fs=8000, output="sos"), x8)
    mu = 255.0
    encoded = np.sign(x8) * np.log1p(mu * np.minimum(np.abs(x8), 1.0)) / np.log1p(mu)
    q = np.round(encoded * 127) / 127  # 8-bit code
    x8 = np.sign(q) * ((1 + mu) ** np.abs(q) - 1) / mu
    g = gcd(out_sr, 8000)
    return resample_poly(x8, out_sr // g, 8000 // g).astype(np.float32)


def synth_music(seconds: float = 20.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """Pop-like hold music: chords, a bass line, a melody with vibrato, kick, snare, hi-hats."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)

    def note(start, length, midi, amp, harmonics=6, decay=None, vibrato=0.0):
        i0, m = int(start * sr), min(int(length * sr), n - int(start * sr))
        if m <= 0:
            return
        t = np.arange(m) / sr
        f0 = 440.0 * 2 ** ((midi - 69) / 12)
        phase = 2 * np.pi * f0 * (t + vibrato / (2 * np.pi * 5) * np.sin(2 * np.pi * 5 * t))
        env = np.minimum(1, t / 0.02) * np.clip((length - t) / 0.05, 0, 1)
        if decay:
            env *= np.exp(-t / decay)
        out[i0 : i0 + m] += amp * env * sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))

    def noise_burst(start, length, amp, highpass, decay):
        i0, m = int(start * sr), min(int(length * sr), n - int(start * sr))
        if m <= 0:
            return
        z = sosfilt(butter(2, highpass, btype="high", fs=sr, output="sos"), rng.normal(size=m))
        out[i0 : i0 + m] += amp * z * np.exp(-np.arange(m) / sr / decay)

    chords = [(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)]  # C G Am F
    scale = [72, 74, 76, 77, 79, 81, 83, 84]
    for bar in range(int(np.ceil(seconds / 2))):
        chord, t0 = chords[bar % 4], bar * 2.0
        for midi in chord:
            note(t0, 2.0, midi, 0.05)
        t = 0.0
        while t < 2.0:
            length = float(rng.choice([0.25, 0.5, 0.5, 1.0]))
            note(t0 + t, length, int(rng.choice(scale)), 0.06, harmonics=5, vibrato=0.003)
            t += length
        for beat in range(4):
            note(t0 + 0.5 * beat, 0.45, chord[0] - 12, 0.08, harmonics=4, decay=0.4)
            if beat % 2 == 0:
                note(t0 + 0.5 * beat, 0.15, 36, 0.2, harmonics=2, decay=0.05)  # kick
            else:
                noise_burst(t0 + 0.5 * beat, 0.15, 0.08, 1000, 0.05)  # snare
        for eighth in range(8):
            noise_burst(t0 + 0.25 * eighth, 0.03, 0.03, 5000, 0.01)  # hi-hat
    return (out / np.max(np.abs(out)) * 0.5).astype(np.float32)


def espeak(text: str, voice: str, *extra: str, tmp_path: Path, sr: int = SR) -> np.ndarray:
    path = tmp_path / f"espeak_{abs(hash((text, voice, extra)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, *extra, "-w", str(path), text], check=True)
    rate, pcm = wavfile.read(path)
    g = gcd(rate, sr)
    return resample_poly(pcm.astype(np.float32) / 32768, sr // g, rate // g).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def of_kind(events: list[Event], *kinds: str) -> list[Event]:
    return [e for e in events if e.kind in kinds]


def covered(events: list[Event], kinds: set[str], start: float, end: float) -> float:
    """Share (0..1) of [start, end] seconds covered by events of the given kinds."""
    total = sum(max(0.0, min(e.end, end) - max(e.start, start)) for e in events if e.kind in kinds)
    return total / (end - start)


def assert_well_formed(events: list[Event], duration: float) -> None:
    for e in events:
        assert 0.0 <= e.start < e.end <= duration + 1e-6, e
    for a, b in zip(events, events[1:], strict=False):
        assert a.end <= b.start + 1e-9, (a, b)


SPEECH_TEXT = (
    "Welkom bij de gemeente Zwolle. Dit gesprek kan worden opgenomen voor trainings- en "
    "kwaliteitsdoeleinden. Voor vragen over afval, kies 1. Voor paspoorten, kies 2."
)
HOLD_TEXT = (
    "Alle medewerkers zijn momenteel in gesprek. Uw gesprek is belangrijk voor ons. "
    "U wordt zo spoedig mogelijk geholpen."
)


# --- call-progress tones -------------------------------------------------------------------


def test_dutch_ringback_cadence_is_one_ringback_event():
    x = np.concatenate([silence(0.5), cadence((425,), [1.0, 4.0], 3)])  # rings 0.5-1.5 ... 11.5

    events = detect_events(x, SR)

    rings = of_kind(events, "ringback")
    assert len(rings) == 1
    assert rings[0].start == pytest.approx(0.5, abs=0.05)
    assert rings[0].end == pytest.approx(11.5, abs=0.05)
    assert rings[0].label == "425"
    # what is heard: the three rings, not the pauses between them
    assert [(round(a, 1), round(b, 1)) for a, b in rings[0].heard()] == [
        (0.5, 1.5), (5.5, 6.5), (10.5, 11.5)]
    assert not of_kind(events, "music", "tone", "busy", "dtmf")
    assert covered(events, {"silence"}, 11.6, 15.4) == 1.0  # after the last ring
    assert_well_formed(events, len(x) / SR)


@pytest.mark.parametrize("rate", [8000, 16000])
def test_ringback_survives_the_telephone_round_trip(rate):
    x = telephone(np.concatenate([silence(0.5), cadence((425,), [1.0, 4.0], 2)]), out_sr=rate)

    rings = of_kind(detect_events(x, rate), "ringback")

    assert len(rings) == 1
    assert rings[0].start == pytest.approx(0.5, abs=0.05)
    assert rings[0].end == pytest.approx(6.5, abs=0.05)


def test_single_ring_before_answer_is_ringback():
    x = np.concatenate([silence(0.4), tone((425,), 1.0), silence(1.5)])

    rings = of_kind(detect_events(x, SR), "ringback")

    assert [(round(r.start, 1), round(r.end, 1)) for r in rings] == [(0.4, 1.4)]


def test_busy_cadence_is_busy():
    x = np.concatenate([silence(0.3), cadence((425,), [0.5, 0.5], 6)])

    events = detect_events(x, SR)

    busy = of_kind(events, "busy")
    assert len(busy) == 1
    assert busy[0].start == pytest.approx(0.3, abs=0.05)
    assert busy[0].end == pytest.approx(5.8, abs=0.05)
    assert not of_kind(events, "ringback", "tone", "music")


@pytest.mark.parametrize(
    ("freqs", "pattern", "label"),
    [
        ((400, 450), [0.4, 0.2, 0.4, 2.0], "400+450"),  # UK double ring
        ((440, 480), [2.0, 4.0], "440+480"),  # US
    ],
)
def test_foreign_ringback_cadences_are_ringback(freqs, pattern, label):
    x = np.concatenate([silence(0.3), cadence(freqs, pattern, 3)])

    rings = of_kind(detect_events(x, SR), "ringback")

    assert len(rings) == 1
    assert rings[0].label == label
    assert rings[0].start == pytest.approx(0.3, abs=0.05)


def test_steady_beep_is_a_tone():
    x = np.concatenate([silence(0.5), tone((1000,), 2.0), silence(1.0)])

    events = detect_events(x, SR)

    tones = of_kind(events, "tone")
    assert len(tones) == 1
    assert tones[0].label == "1000"
    assert (tones[0].start, tones[0].end) == pytest.approx((0.5, 2.5), abs=0.05)
    assert not of_kind(events, "music", "ringback", "busy")


# --- DTMF ----------------------------------------------------------------------------------

ALL_KEYS = "0123456789*#ABCD"


def _dtmf_truth(digits: str, start: float, on: float, off: float) -> list[tuple[str, float]]:
    return [(d, start + i * (on + off)) for i, d in enumerate(digits)]


@pytest.mark.parametrize("channel", ["clean", "telephone", "8k"])
def test_dtmf_digits_are_decoded_in_order_with_times(channel):
    x = np.concatenate([silence(0.5), dtmf(ALL_KEYS, 0.07, 0.06), silence(0.5)])
    rate = SR
    if channel == "telephone":
        x = telephone(x)
    elif channel == "8k":
        x, rate = telephone(x, out_sr=8000), 8000

    digits = of_kind(detect_events(x, rate), "dtmf")

    assert "".join(e.label for e in digits) == ALL_KEYS
    for event, (_, start) in zip(digits, _dtmf_truth(ALL_KEYS, 0.5, 0.07, 0.06), strict=True):
        assert event.start == pytest.approx(start, abs=0.015)
        assert event.end == pytest.approx(start + 0.07, abs=0.015)


def test_repeated_digit_with_short_gap_is_two_presses():
    x = np.concatenate([silence(0.5), dtmf("5599", 0.04, 0.04), silence(0.5)])

    digits = of_kind(detect_events(x, SR), "dtmf")

    assert [e.label for e in digits] == ["5", "5", "9", "9"]


def test_click_and_20ms_dual_tone_are_not_dtmf():
    click = silence(2.0)
    click[SR : SR + SR // 50] = np.random.default_rng(1).normal(0, 0.5, SR // 50)  # 20 ms
    burst = np.concatenate([silence(0.5), dtmf("5", 0.02, 0.0), silence(0.5)])

    assert not of_kind(detect_events(click, SR), "dtmf", "tone")
    assert not of_kind(detect_events(burst, SR), "dtmf")


# --- music ---------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["clean", "telephone", "8k"])
def test_synthetic_hold_music_is_music(channel):
    x, rate = synth_music(20.0), SR
    if channel == "telephone":
        x = telephone(x)
    elif channel == "8k":
        x, rate = telephone(x, out_sr=8000), 8000

    events = detect_events(x, rate)

    assert covered(events, {"music"}, 0.0, 20.0) >= 0.95
    assert not of_kind(events, *NON_SPEECH_TONES)


def test_music_between_silences_keeps_its_edges():
    x = np.concatenate([silence(2.0), synth_music(12.0), silence(2.0)])

    music = of_kind(detect_events(x, SR), "music")

    assert len(music) == 1
    assert (music[0].start, music[0].end) == pytest.approx((2.0, 14.0), abs=0.3)


@needs_espeak
@pytest.mark.parametrize(
    "voice",
    [("nl",), ("nl+f3",), ("nl+m3",), ("nl+m7", "-p", "30"), ("nl+f4", "-p", "64", "-s", "150")],
    ids=["nl", "nl+f3", "nl+m3", "nl+m7-p30", "nl+f4-p64-monotone"],
)
def test_dutch_tts_speech_is_neither_music_nor_tone(voice, tmp_path):
    x = espeak(SPEECH_TEXT, *voice, tmp_path=tmp_path)
    x = np.concatenate([x, telephone(x)])  # as recorded, and after an 8 kHz mu-law line

    events = detect_events(x, SR)

    assert not of_kind(events, "music", *NON_SPEECH_TONES), events


def _real_speech_sample() -> Path | None:
    """pyannote.audio ships 30 s of real two-speaker English speech; use it when present."""
    try:
        spec = importlib.util.find_spec("pyannote.audio")
    except ModuleNotFoundError:  # no pyannote namespace at all
        return None
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "sample" / "sample.wav"
    return path if path.exists() else None


@pytest.mark.skipif(_real_speech_sample() is None, reason="pyannote.audio sample not installed")
def test_real_human_speech_is_neither_music_nor_tone():
    rate, pcm = wavfile.read(_real_speech_sample())
    x = pcm.astype(np.float32) / 32768

    for signal, sr in ((x, rate), (telephone(x, rate, 8000), 8000)):
        assert not of_kind(detect_events(signal, sr), "music", *NON_SPEECH_TONES)


@needs_espeak
@pytest.mark.parametrize("voice", [("nl+f3", "-p", "42"), ("nl+m6", "-p", "40"), ("nl",)])
def test_voice_over_quieter_music_is_speech_not_music(voice, tmp_path):
    v = espeak(HOLD_TEXT, *voice, tmp_path=tmp_path)
    bed = synth_music(len(v) / SR + 1)[: v.size]
    x = v + bed * rms(v) / rms(bed) / 10 ** (6 / 20)  # voice 6 dB above the music

    events = detect_events(x, SR)

    assert covered(events, {"music"}, 0.0, v.size / SR) <= 0.05


@needs_espeak
def test_music_under_a_quiet_voice_is_music(tmp_path):
    v = espeak(HOLD_TEXT, "nl+f3", tmp_path=tmp_path)
    bed = synth_music(len(v) / SR + 1)[: v.size]
    x = v + bed * rms(v) / rms(bed) * 10 ** (10 / 20)  # music 10 dB above the voice

    events = detect_events(x, SR)

    assert covered(events, {"music"}, 0.0, v.size / SR) >= 0.9


@needs_espeak
def test_music_then_agent_switches_within_a_second(tmp_path):
    agent = espeak(
        "Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen, waarmee kan ik u helpen?",
        "nl+m3",
        tmp_path=tmp_path,
    )
    x = np.concatenate([synth_music(12.0) * 0.6, agent])

    events = detect_events(x, SR)

    music = of_kind(events, "music")
    assert len(music) == 1
    assert music[0].end == pytest.approx(12.0, abs=1.0)
    assert covered(events, {"music", *NON_SPEECH_TONES}, 13.0, x.size / SR) == 0.0


# --- silence -------------------------------------------------------------------------------


def test_digital_silence_is_one_silence_event():
    events = detect_events(silence(3.0), SR)

    assert [(e.kind, e.start, e.end) for e in events] == [("silence", 0.0, 3.0)]


def test_low_noise_only_is_silence():
    x = np.random.default_rng(2).normal(0, 10 ** (-70 / 20), 3 * SR).astype(np.float32)

    events = detect_events(x, SR)

    assert covered(events, {"silence"}, 0.0, 3.0) == 1.0


@needs_espeak
def test_pause_between_utterances_is_silence(tmp_path):
    v = espeak("Goedemorgen, u spreekt met Sanne.", "nl+f3", tmp_path=tmp_path)
    noise = np.random.default_rng(3).normal(0, 10 ** (-65 / 20), 2 * SR).astype(np.float32)
    x = np.concatenate([v, noise, v])
    pause = (v.size / SR, v.size / SR + 2.0)

    silences = of_kind(detect_events(x, SR), "silence")

    inside = [e for e in silences if e.start < pause[1] and e.end > pause[0]]
    assert len(inside) == 1
    # espeak adds its own quiet lead-in and tail, so the silence may be longer, not shorter.
    assert inside[0].start <= pause[0] + 0.1
    assert inside[0].end >= pause[1] - 0.1


# --- a whole call, API and speed -----------------------------------------------------------


def _synthetic_call(tmp_path: Path) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Ringback, IVR, DTMF, hold music, agent; returns the signal and where each part is (s)."""
    parts: list[tuple[str, np.ndarray]] = [
        ("lead", silence(0.5)),
        ("ringback", cadence((425,), [1.0, 4.0], 2)[: int(6.0 * SR)]),
        ("ivr", espeak(SPEECH_TEXT, "nl+f3", "-p", "42", tmp_path=tmp_path) * 0.7),
        ("dtmf", np.concatenate([silence(0.3), dtmf("1", 0.1, 0.0), silence(0.6)])),
        ("music", synth_music(15.0) * 0.6),
        ("agent", espeak(HOLD_TEXT, "nl+m3", tmp_path=tmp_path) * 0.8),
    ]
    spans, t = {}, 0.0
    for name, x in parts:
        spans[name] = (t, t + x.size / SR)
        t += x.size / SR
    return np.concatenate([x for _, x in parts]), spans


@needs_espeak
def test_synthetic_call_events_in_their_places(tmp_path):
    x, spans = _synthetic_call(tmp_path)
    x = telephone(x)

    events = detect_events(x, SR)

    assert_well_formed(events, x.size / SR)
    assert covered(events, {"ringback"}, 0.6, 6.4) == 1.0
    assert [e.label for e in of_kind(events, "dtmf")] == ["1"]
    assert covered(events, {"music"}, spans["music"][0] + 0.5, spans["music"][1] - 0.5) == 1.0
    for speech in ("ivr", "agent"):
        assert covered(events, {"music", *NON_SPEECH_TONES}, *spans[speech]) <= 0.02


def test_empty_input_gives_no_events():
    assert detect_events(np.zeros(0, dtype=np.float32), SR) == []


def test_very_short_input_is_handled():
    events = detect_events(silence(0.01), SR)

    assert all(e.kind == "silence" for e in events)


def test_stereo_input_is_rejected():
    with pytest.raises(ValueError, match="mono"):
        detect_events(np.zeros((SR, 2), dtype=np.float32), SR)


def test_three_minute_call_is_fast():
    x = np.concatenate([synth_music(60.0), cadence((425,), [1.0, 4.0], 12), synth_music(60.0)])
    detect_events(x[:SR], SR)  # warm up imports and FFT plans

    start = time.perf_counter()
    detect_events(x, SR)
    elapsed = time.perf_counter() - start

    # ~0.005x real time measured on 2 cores; the bound leaves room for a loaded CI machine.
    assert elapsed < 0.05 * x.size / SR


# --- time spans (pyannote.core) ------------------------------------------------------------


def _subtract_by_hand(span, taken):
    """The hand-written subtraction that ``subtract_spans`` replaced, as the reference."""
    pieces = [span]
    for a, b in taken:
        nxt = []
        for s, e in pieces:
            if b <= s or a >= e:
                nxt.append((s, e))
                continue
            if a > s:
                nxt.append((s, a))
            if b < e:
                nxt.append((b, e))
        pieces = nxt
    return pieces


def test_subtract_spans_agrees_with_the_hand_written_one_on_random_spans():
    rng = random.Random(7)
    for _ in range(3000):
        grid = rng.choice((None, 0.5, 0.1))  # on a grid, spans touch and share their edges

        def t(grid=grid):
            x = rng.uniform(0.0, 20.0)
            return round(x / grid) * grid if grid else x

        s = t()
        span = (s, s + rng.uniform(0.001, 10.0))
        taken = [(a, a + rng.uniform(0.001, 5.0)) for a in (t() for _ in range(rng.randrange(6)))]
        want = _subtract_by_hand(span, taken)
        assert subtract_spans(span, taken) == want, (span, taken)
        assert _uncovered(*span, taken) == [(a, b) for a, b in want if b - a >= 0.5]


def test_subtract_spans_edges():
    assert subtract_spans((0.0, 10.0), []) == [(0.0, 10.0)]
    assert subtract_spans((0.0, 10.0), [(2.0, 3.0), (2.5, 4.0), (9.0, 12.0)]) == [(0.0, 2.0),
                                                                                  (4.0, 9.0)]
    assert subtract_spans((0.0, 10.0), [(-1.0, 11.0)]) == []
    assert subtract_spans((0.0, 10.0), [(10.0, 11.0), (-1.0, 0.0)]) == [(0.0, 10.0)]  # touching
    # an empty span covers nothing (the hand-written one cut at it)
    assert subtract_spans((0.0, 10.0), [(5.0, 5.0)]) == [(0.0, 10.0)]
