"""Non-speech event detection: call-progress tones, DTMF, hold music and silence.

Hold music, ringback and keypad tones must never reach the role stage as an "agent": Whisper
invents text on music, and a diarizer happily gives a ringback tone its own speaker. This stage
marks those stretches so later stages can skip or relabel them.

Everything is computed on the audio resampled to 8 kHz and, for the music and silence features,
on the telephone band only. A call recorded as 8 kHz mu-law, band-limited to 300-3400 Hz and
resampled to 16 kHz by the audio stage then looks the same to the detectors as a wideband
recording, so thresholds do not depend on how the call was captured.

Detectors, each vectorised over frames (no Python loop per sample or per frame):

- DTMF: a single-frequency DFT at the eight keypad frequencies (the Goertzel filter's output,
  computed for all frames as one matrix product), with the classic receiver checks: one clear
  winner per group, twist limit, frequency deviation (probes 3.5% off each frequency must be
  weaker), and the two tones carrying most of the frame's power, which speech never does for
  40 ms. Both tones must also start and stop together, which two overlapping notes of a melody
  do not. Durations come from where the tones' amplitude halves, not from frame counts.
- Tones: the one or two strongest spectral peaks of 128 ms frames; a frame is tonal when they
  carry nearly all its power. Bursts of one frequency pair are grouped and their on/off cadence
  says ringback (e.g. 425 Hz 1 s on / 4 s off), busy (0.5 s / 0.5 s) or a plain tone.
- Music: the share of signal energy in spectral peaks that hold one frequency for at least
  half a second, energy-weighted over a 3 s window. Sustained notes and chords do that; speech
  pitch glides and its voiced stretches are short. A monotone voice (espeak-ng, robotic IVR)
  can hold its harmonics for seconds, but its consonants and pauses keep interrupting them, so
  the share is scaled down when the held energy keeps dropping out. Energy weighting makes a
  voice over quieter music count as speech. (Measured alternatives, 4 Hz modulation energy
  and the low-energy-frame ratio, did not separate pop music with hi-hats from speech.)
- Silence: frames below an absolute floor or far below the file's loud level, for >= 0.5 s.

Overlaps are resolved by priority: dtmf > ringback/busy/tone > music > silence.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from math import gcd

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage
from scipy.signal import resample_poly

from pipeline.types import Event

logger = logging.getLogger(__name__)

# Keypad frequencies in Hz (ITU-T Q.23) and the digit at each (low, high) pair.
DTMF_LOW_HZ = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")  # row = low tone, column = high tone

# Frequency sets in Hz of ringback tones in common numbering plans: 425 Hz (NL, most of
# Europe), 400+450 Hz (UK), 440+480 Hz (US), 440 Hz (FR, BE old), 450 Hz and 400 Hz (others).
# A single 1-2 s burst at one of these is taken as ringback even without a second ring.
RINGBACK_HZ: tuple[tuple[float, ...], ...] = (
    (425.0,),
    (400.0, 450.0),
    (440.0, 480.0),
    (440.0,),
    (450.0,),
    (400.0,),
)


@dataclass(frozen=True)
class EventOptions:
    """Options of the non-speech event detector; times in seconds, levels in dB."""

    # --- analysis --------------------------------------------------------------------------
    analysis_rate: int = 8000  # Hz; audio is resampled to this rate (telephone band) first

    # --- silence ---------------------------------------------------------------------------
    silence_abs_dbfs: float = -60.0  # frame level (dB re full scale) always counted as silent
    silence_rel_db: float = 35.0  # frames this many dB below the loud level are silent too
    silence_ref_percentile: float = 95.0  # percentile of frame levels taken as the loud level
    silence_min_s: float = 0.5  # shortest silence reported
    silence_bridge_s: float = 0.1  # louder blips (clicks) shorter than this do not end silence

    # --- DTMF ------------------------------------------------------------------------------
    dtmf_frame_s: float = 0.032  # Goertzel frame length; 32 ms resolves the 73 Hz row spacing
    dtmf_hop_s: float = 0.008  # hop between DTMF frames
    dtmf_min_s: float = 0.035  # shortest tone accepted; Q.24 receivers must accept 40 ms
    dtmf_min_dbfs: float = -45.0  # each of the two tones must be at least this loud (dBFS)
    dtmf_max_twist_db: float = 8.0  # largest level difference between the two tones
    dtmf_group_margin_db: float = 10.0  # winner must beat the other tones of its group by this
    dtmf_min_purity: float = 0.6  # share of frame power carried by the two tones (0..1)
    dtmf_max_deviation: float = 0.035  # relative; tones nearer nominal*(1+-this) are rejected
    dtmf_max_skew_s: float = 0.02  # the two tones must start and end within this of each other

    # --- call-progress tones ---------------------------------------------------------------
    tone_frame_s: float = 0.128  # frame length; 128 ms separates 400 from 450 Hz (UK ringback)
    tone_hop_s: float = 0.02  # hop between tone frames
    tone_min_hz: float = 300.0  # lowest tone frequency considered (telephone band)
    tone_max_hz: float = 3400.0  # highest tone frequency considered
    tone_min_purity: float = 0.85  # share of frame power in the two strongest peaks (0..1)
    tone_freq_tol_hz: float = 15.0  # frequencies closer than this are the same tone
    tone_burst_min_s: float = 0.1  # shortest burst that takes part in a cadence
    tone_min_s: float = 0.25  # shortest stand-alone steady tone reported as "tone"
    tone_max_gap_s: float = 6.0  # longest pause between bursts of one cadence (4 s in NL)

    # --- music -----------------------------------------------------------------------------
    music_frame_s: float = 0.064  # STFT frame for the music features (15.6 Hz bins at 8 kHz)
    music_hop_s: float = 0.01  # STFT hop; also the resolution of the music decision
    music_min_hz: float = 250.0  # music features use this band only: robust to telephone
    music_max_hz: float = 3400.0  # band limits and to hum below it
    music_peak_prominence_db: float = 6.0  # a peak rises this much above the local spectrum
    music_peak_range_db: float = 35.0  # peaks more than this below the frame maximum are ignored
    music_persist_s: float = 0.5  # a peak must hold its frequency this long to count as stable
    music_window_s: float = 3.0  # window over which the stable-energy share is averaged
    music_edge_window_s: float = 1.0  # shorter window that places the start and end of music
    music_dropout_ratio: float = 0.1  # frame whose stable energy is below this share of the
    # window's mean is a dropout (a consonant or pause interrupting held harmonics)
    music_dropout_share: tuple[float, float] = (0.35, 0.6)  # share of dropout frames in the
    # window at which the music score starts to be reduced, and at which it is zero
    music_on_threshold: float = 0.3  # music score (stable-energy share x continuity, 0..1)
    # that starts music
    music_off_threshold: float = 0.18  # score below which music ends (hysteresis)
    music_min_s: float = 2.0  # shortest music reported
    music_bridge_s: float = 1.0  # gaps shorter than this between music stretches are closed


def detect_events(
    samples: np.ndarray, sample_rate: int = 16000, options: EventOptions | None = None
) -> list[Event]:
    """Find tones, DTMF digits, hold music and silence in one mono signal.

    `samples` is float32 mono audio in [-1, 1], shape (n,), at `sample_rate` Hz. Returns sorted,
    non-overlapping events with times in seconds from the start of `samples`.
    """
    opts = options or EventOptions()
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"detect_events expects mono samples of shape (n,), got {x.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if x.size == 0:
        return []
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinite values")

    sr = opts.analysis_rate
    y = _resample(x.astype(np.float32, copy=False), sample_rate, sr)  # (m,) at sr Hz
    duration_s = x.size / sample_rate

    spec = _Spectrogram(y, sr, opts.music_frame_s, opts.music_hop_s)
    silence_db = _silence_threshold_db(spec, opts)

    dtmf = _detect_dtmf(y, sr, opts)
    tones = _detect_tones(y, sr, silence_db, opts)
    music = _detect_music(spec, dtmf + tones.cadenced, silence_db, opts)
    plain, music = _reconcile_tones_and_music(tones.plain, music, opts.music_bridge_s)
    silence = _detect_silence(spec, silence_db, opts)

    min_len = {
        "dtmf": opts.dtmf_min_s,
        "ringback": opts.tone_burst_min_s,
        "busy": opts.tone_burst_min_s,
        "tone": opts.tone_min_s,
        "music": opts.music_min_s,
        "silence": opts.silence_min_s,
    }
    events = _resolve_overlaps([dtmf, tones.cadenced + plain, music, silence], min_len)
    events = [e for e in events if e.start < duration_s]
    logger.debug("%.1f s of audio: %s", duration_s, dict(Counter(e.kind for e in events)))
    return events


# --- shared analysis ---------------------------------------------------------------------------


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling; the anti-alias filter also removes content above rate_out / 2."""
    if rate_in == rate_out:
        return x
    g = gcd(rate_in, rate_out)
    return resample_poly(x, rate_out // g, rate_in // g).astype(np.float32)


def _frames(x: np.ndarray, n: int, hop: int) -> np.ndarray:
    """View of x as frames, shape (n_frames, n); zero-pads so every sample is in a frame."""
    n_frames = max(1, int(np.ceil(max(x.size - n, 0) / hop)) + 1)
    need = (n_frames - 1) * hop + n
    if need > x.size:
        x = np.concatenate([x, np.zeros(need - x.size, dtype=x.dtype)])
    return sliding_window_view(x, n)[::hop]


class _Spectrogram:
    """Power spectrogram of the analysis signal, shared by the music and silence detectors."""

    def __init__(self, y: np.ndarray, sr: int, frame_s: float, hop_s: float) -> None:
        self.sr = sr
        self.n = int(round(frame_s * sr))  # samples per frame
        self.hop = int(round(hop_s * sr))  # samples per hop
        window = np.hanning(self.n).astype(np.float32)
        spec = scipy.fft.rfft(_frames(y, self.n, self.hop) * window, axis=1)  # complex64
        self.power = spec.real**2 + spec.imag**2  # (frames, n/2+1) float32
        self.freqs = np.fft.rfftfreq(self.n, 1.0 / sr)  # (n/2+1,) Hz
        self.duration_s = y.size / sr
        self.times = (np.arange(self.power.shape[0]) * self.hop + self.n / 2) / sr  # centres, s
        # Parseval: mean square of the windowed frame from a band of the one-sided spectrum.
        self._scale = 2.0 / (self.n * float(np.sum(window.astype(np.float64) ** 2)))
        self._levels: dict[tuple[float, float], np.ndarray] = {}

    def band(self, lo_hz: float, hi_hz: float) -> slice:
        """Slice of frequency bins within [lo_hz, hi_hz]."""
        lo = int(np.searchsorted(self.freqs, lo_hz, side="left"))
        hi = int(np.searchsorted(self.freqs, hi_hz, side="right"))
        return slice(lo, hi)

    def span(self, start: int, end: int) -> tuple[float, float]:
        """Seconds covered by frames start..end-1: hop-wide around each centre, and the file's
        own edges for runs that touch them."""
        half_hop = 0.5 * self.hop / self.sr
        t0 = 0.0 if start == 0 else self.times[start] - half_hop
        last = end == self.power.shape[0]
        t1 = self.duration_s if last else min(self.duration_s, self.times[end - 1] + half_hop)
        return float(t0), float(t1)

    def level_db(self, lo_hz: float, hi_hz: float) -> np.ndarray:
        """Frame level in dB re full scale (mean square) within [lo_hz, hi_hz], (frames,)."""
        key = (lo_hz, hi_hz)
        if key not in self._levels:
            ms = self.power[:, self.band(lo_hz, hi_hz)].sum(axis=1, dtype=np.float64)
            self._levels[key] = 10.0 * np.log10(ms * self._scale + 1e-12)
        return self._levels[key]


def _runs(mask: np.ndarray) -> np.ndarray:
    """Start and end (exclusive) indices of the True runs of a 1-D mask, shape (runs, 2)."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges.reshape(-1, 2)


def _close_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Set False runs of at most max_gap frames that lie between True runs to True."""
    out = mask.copy()
    gaps = _runs(~mask)
    for start, end in gaps:
        if start > 0 and end < mask.size and end - start <= max_gap:
            out[start:end] = True
    return out


# --- silence -----------------------------------------------------------------------------------

_SILENCE_BAND_HZ = (100.0, 3800.0)  # rumble below and aliasing guard above are ignored


def _silence_threshold_db(spec: _Spectrogram, opts: EventOptions) -> float:
    """Level in dBFS below which a frame is silent: the absolute floor or relative to the file.

    The loud level is a high percentile of the frame levels, so it follows the speech level of
    a quietly recorded call; the absolute floor covers files that are silent or noise only.
    """
    level = spec.level_db(*_SILENCE_BAND_HZ)
    audible = level[level > opts.silence_abs_dbfs]
    if audible.size == 0:
        return opts.silence_abs_dbfs
    loud = float(np.percentile(audible, opts.silence_ref_percentile))
    return max(opts.silence_abs_dbfs, loud - opts.silence_rel_db)


def _detect_silence(spec: _Spectrogram, threshold_db: float, opts: EventOptions) -> list[Event]:
    level = spec.level_db(*_SILENCE_BAND_HZ)  # (frames,) dBFS
    silent = level < threshold_db
    silent = ~_close_gaps(~silent, int(round(opts.silence_bridge_s * spec.sr / spec.hop)))
    events = []
    for start, end in _runs(silent):
        t0, t1 = spec.span(start, end)
        if t1 - t0 >= opts.silence_min_s:
            events.append(Event(t0, t1, "silence"))
    return events


# --- DTMF --------------------------------------------------------------------------------------


def _detect_dtmf(y: np.ndarray, sr: int, opts: EventOptions) -> list[Event]:
    """Keypad digits with their start and end; see the module docstring for the checks."""
    n = int(round(opts.dtmf_frame_s * sr))
    hop = int(round(opts.dtmf_hop_s * sr))
    frames = _frames(y, n, hop)  # (frames, n)
    window = np.hanning(n)
    nominal = np.array(DTMF_LOW_HZ + DTMF_HIGH_HZ)  # (8,) Hz
    dev = opts.dtmf_max_deviation
    freqs = np.concatenate([nominal, nominal * (1.0 - dev), nominal * (1.0 + dev)])  # (24,)
    phase = 2.0 * np.pi * np.outer(np.arange(n), freqs) / sr  # (n, 24)
    basis = np.concatenate([np.cos(phase), np.sin(phase)], axis=1) * window[:, None]
    proj = frames @ basis.astype(np.float32)  # (frames, 48): real and imaginary parts
    # Mean power of a sinusoid at each frequency: A^2 / 2 for amplitude A.
    k = freqs.size
    power_all = 2.0 * (proj[:, :k] ** 2 + proj[:, k:] ** 2) / float(np.sum(window)) ** 2
    tone_power = power_all[:, :8]  # (frames, 8) at the nominal frequencies
    below, above = power_all[:, 8:16], power_all[:, 16:]  # (frames, 8) at nominal * (1 -+ dev)
    frame_power = (frames**2 @ (window**2)) / float(np.sum(window**2))  # (frames,)

    low, high = tone_power[:, :4], tone_power[:, 4:]  # (frames, 4) each
    row, col = np.argmax(low, axis=1), np.argmax(high, axis=1)  # (frames,)
    idx = np.arange(frames.shape[0])
    p_low, p_high = low[idx, row], high[idx, col]
    second_low = np.sort(low, axis=1)[:, -2]
    second_high = np.sort(high, axis=1)[:, -2]
    # A tone nearer to nominal * (1 +- dev) than to nominal is off-frequency: a note of a
    # melody (F5 = 698 Hz and its harmonic 1397 Hz leak into the 697/1336 Hz filters).
    centred = (
        (p_low >= below[idx, row])
        & (p_low >= above[idx, row])
        & (p_high >= below[idx, 4 + col])
        & (p_high >= above[idx, 4 + col])
    )

    margin = 10.0 ** (opts.dtmf_group_margin_db / 10.0)
    twist = 10.0 ** (opts.dtmf_max_twist_db / 10.0)
    floor = 0.5 * 10.0 ** (opts.dtmf_min_dbfs / 10.0)  # power of a sine at dtmf_min_dbfs
    valid = (
        centred
        & (p_low >= floor)
        & (p_high >= floor)
        & (p_low >= margin * second_low)
        & (p_high >= margin * second_high)
        & (p_high <= twist * p_low)
        & (p_low <= twist * p_high)
        & (p_low + p_high >= opts.dtmf_min_purity * frame_power)
    )
    digit = np.where(valid, row * 4 + col, -1)  # (frames,) key index 0..15 or -1

    centres = (np.arange(frames.shape[0]) * hop + n / 2) / sr  # (frames,) seconds
    amp = np.sqrt(tone_power)  # (frames, 8) tone amplitudes / sqrt(2)
    events: list[Event] = []
    change = np.flatnonzero(np.diff(digit) != 0) + 1
    bounds = np.concatenate([[0], change, [digit.size]])
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        key = int(digit[start])
        if key < 0:
            continue
        r, c = divmod(key, 4)
        lo0, lo1 = _half_amplitude_edges(centres, amp[:, r], start, end)
        hi0, hi1 = _half_amplitude_edges(centres, amp[:, 4 + c], start, end)
        # A key press starts and stops both tones at once; two overlapping notes do not.
        if abs(lo0 - hi0) > opts.dtmf_max_skew_s or abs(lo1 - hi1) > opts.dtmf_max_skew_s:
            continue
        t0, t1 = 0.5 * (lo0 + hi0), 0.5 * (lo1 + hi1)
        if t1 - t0 < opts.dtmf_min_s:
            continue
        purity = float(np.median((p_low + p_high)[start:end] / (frame_power[start:end] + 1e-20)))
        label = DTMF_KEYS[r][c]
        if events and events[-1].label == label and t0 <= events[-1].end:
            # One key seen as two runs (a noisy frame in between): merge.
            t0 = events.pop().start
        events.append(Event(float(max(t0, 0.0)), float(t1), "dtmf", label, min(1.0, purity)))
    return events


def _half_amplitude_edges(
    t: np.ndarray, a: np.ndarray, start: int, end: int
) -> tuple[float, float]:
    """Start and end (s) of a tone seen in frames start..end-1 of its amplitude curve a.

    The edges are where the amplitude falls to half of the run's peak: a window centred on a
    tone's edge holds half the tone. This measures duration independently of the frame
    length, which is what lets a 20 ms burst be rejected and a 40 ms tone kept.
    """
    half = 0.5 * float(a[start:end].max())
    lo, hi = start, end - 1
    while lo > 0 and a[lo - 1] >= half:
        lo -= 1
    while hi < a.size - 1 and a[hi + 1] >= half:
        hi += 1
    t0 = _crossing(t, a, lo - 1, lo, half) if lo > 0 else float(t[lo])
    t1 = _crossing(t, a, hi, hi + 1, half) if hi < a.size - 1 else float(t[hi])
    return t0, t1


def _crossing(t: np.ndarray, a: np.ndarray, i: int, j: int, level: float) -> float:
    """Time between samples i and j where a crosses level, by linear interpolation."""
    if a[j] == a[i]:
        return float(t[i])
    frac = (level - a[i]) / (a[j] - a[i])
    return float(t[i] + np.clip(frac, 0.0, 1.0) * (t[j] - t[i]))


# --- call-progress tones -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Burst:
    """One stretch of a steady one- or two-frequency tone; times in seconds."""

    start: float
    end: float
    freqs: tuple[float, ...]  # Hz, ascending
    level_db: float  # median frame level during the burst, dBFS
    gap_db: float  # median frame level in the pause before it, dBFS (-inf: none or silent)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class _Tones:
    """Tone events split by how sure the cadence makes them."""

    cadenced: list[Event]  # ringback/busy with a repeated on/off pattern: certainly not music
    plain: list[Event]  # steady tones and single rings: may also be a long note in music


def _detect_tones(y: np.ndarray, sr: int, silence_db: float, opts: EventOptions) -> _Tones:
    bursts = _tone_bursts(y, sr, silence_db, opts)
    tones = _Tones([], [])
    group: list[_Burst] = []
    for burst in bursts + [None]:
        if group and (
            burst is None
            or not _same_freqs(burst.freqs, group[-1].freqs, opts.tone_freq_tol_hz)
            or burst.start - group[-1].end > opts.tone_max_gap_s
        ):
            cadenced, plain = _classify_cadence(group, opts)
            tones.cadenced.extend(cadenced)
            tones.plain.extend(plain)
            group = []
        if burst is not None:
            group.append(burst)
    return tones


def _tone_bursts(y: np.ndarray, sr: int, silence_db: float, opts: EventOptions) -> list[_Burst]:
    """Steady tones: frames whose power sits in one or two narrow peaks, grouped by frequency."""
    spec = _Spectrogram(y, sr, opts.tone_frame_s, opts.tone_hop_s)
    band = spec.band(opts.tone_min_hz, opts.tone_max_hz)
    k0 = band.start
    power = spec.power[:, band].astype(np.float64) + 1e-20  # (frames, bins)
    total = power.sum(axis=1)  # (frames,)
    rows = np.arange(power.shape[0])[:, None]
    lobe = np.arange(-3, 4)  # Hann main lobe +-2 bins, plus one for off-bin tones

    k1 = np.argmax(power, axis=1)  # (frames,)
    idx1 = np.clip(k1[:, None] + lobe, 0, power.shape[1] - 1)  # (frames, 7)
    e1 = power[rows, idx1].sum(axis=1)
    rest = power.copy()
    rest[rows, idx1] = 0.0
    k2 = np.argmax(rest, axis=1)
    idx2 = np.clip(k2[:, None] + lobe, 0, power.shape[1] - 1)
    e2 = rest[rows, idx2].sum(axis=1)

    bin_hz = spec.freqs[1]
    f1 = (k0 + k1 + _parabolic_offset(power, k1)) * bin_hz  # (frames,) Hz
    f2 = (k0 + k2 + _parabolic_offset(power, k2)) * bin_hz
    dual = e2 >= 0.1 * e1  # second tone within 10 dB: a two-frequency tone (e.g. 400+450)
    loud = spec.level_db(opts.tone_min_hz, opts.tone_max_hz) >= silence_db
    tonal = loud & (np.where(dual, e1 + e2, e1) >= opts.tone_min_purity * total)
    # Two harmonics of one fundamental are a voice or an instrument (a held vowel of a monotone
    # voice); signalling pairs are not in such ratios (400+450, 440+480, 480+620, 350+440 Hz).
    ratio = np.maximum(f1, f2) / np.maximum(np.minimum(f1, f2), 1.0)  # (frames,)
    harmonic = np.any(np.abs(ratio[:, None] / _HARMONIC_RATIOS - 1.0) <= 0.015, axis=1)
    tonal &= ~(dual & harmonic)
    lo_f = np.where(dual, np.minimum(f1, f2), f1)
    hi_f = np.where(dual, np.maximum(f1, f2), 0.0)  # 0: single tone

    tol = opts.tone_freq_tol_hz
    same_as_prev = np.zeros(tonal.size, dtype=bool)
    same_as_prev[1:] = (
        tonal[1:]
        & tonal[:-1]
        & (dual[1:] == dual[:-1])
        & (np.abs(np.diff(lo_f)) <= tol)
        & (np.abs(np.diff(hi_f)) <= tol)
    )
    starts = np.flatnonzero(tonal & ~same_as_prev)  # first frame of each steady stretch
    ends = np.append(starts[1:], tonal.size)[: starts.size]
    off = np.append(np.flatnonzero(~tonal), tonal.size)  # non-tonal frames, plus the end
    ends = np.minimum(ends, off[np.searchsorted(off, starts)])  # ... which also end a stretch
    long_enough = ends - starts >= 2
    starts, ends = starts[long_enough], ends[long_enough]
    strength = e1 + np.where(dual, e2, 0.0)
    level = spec.level_db(opts.tone_min_hz, opts.tone_max_hz)  # (frames,) dBFS
    bursts: list[_Burst] = []
    prev_end = 0
    for start, end in zip(starts, ends, strict=True):
        # Frames only partly covered by the tone are still pure; keep those whose tone power
        # is at least a quarter of the burst's typical power (a window centred on an edge
        # holds half the amplitude), so the burst's length is the tone's, not tone + frame.
        seg = strength[start:end]
        keep = np.flatnonzero(seg >= 0.25 * np.median(seg))
        s, e = start + keep[0], start + keep[-1] + 1
        t0, t1 = spec.span(s, e)
        if t1 - t0 < opts.tone_burst_min_s:
            continue
        freqs = (float(np.median(lo_f[s:e])),)
        if dual[s:e].mean() > 0.5:
            freqs = (freqs[0], float(np.median(hi_f[s:e])))
        # Leave out the frames next to either burst: their window still overlaps a tone.
        guard = int(np.ceil(opts.tone_frame_s / opts.tone_hop_s / 2))
        gap = level[prev_end + guard : s - guard]
        gap_db = float(np.median(gap)) if bursts and gap.size else -np.inf
        bursts.append(_Burst(t0, t1, freqs, float(np.median(level[s:e])), gap_db))
        prev_end = e
    return bursts


def _parabolic_offset(power: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Sub-bin peak offset in bins (-0.5..0.5) from a parabola through the log power."""
    rows = np.arange(power.shape[0])
    km = np.clip(k - 1, 0, power.shape[1] - 1)
    kp = np.clip(k + 1, 0, power.shape[1] - 1)
    a, b, c = (np.log(power[rows, i]) for i in (km, k, kp))
    denom = a - 2.0 * b + c
    safe = np.where(np.abs(denom) > 1e-12, denom, -1.0)
    return np.clip(np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / safe, 0.0), -0.5, 0.5)


def _same_freqs(a: tuple[float, ...], b: tuple[float, ...], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def _freq_label(freqs: tuple[float, ...]) -> str:
    return "+".join(f"{f:.0f}" for f in freqs)


def _bursts(group: list[_Burst]) -> tuple[tuple[float, float], ...]:
    return tuple((float(b.start), float(b.end)) for b in group)


def _classify_cadence(group: list[_Burst], opts: EventOptions) -> tuple[list[Event], list[Event]]:
    """Name a run of same-frequency bursts by its on/off pattern: (cadenced, plain) events.

    Only tones of 300-650 Hz whose pauses are quiet can be ringback or busy: every national
    ringback and busy tone lies there, and the rule keeps repeated notes of a melody out.
    Busy: >= 3 regular bursts of 0.15-0.8 s with equally short pauses (NL and US 0.5/0.5 s,
    congestion 0.25/0.25 s). Ringback: regular rings of 0.3-2.5 s with 1.5-6 s pauses; a ring of
    two short bursts (UK 0.4 on, 0.2 off, 0.4 on, 2 off) is joined first. A single 0.7-2.5 s
    ring at a known ringback frequency is a plain (unconfirmed) ringback. Anything else steady
    and long enough is a "tone".
    """
    freqs = group[0].freqs
    label = _freq_label(freqs)
    start, end = group[0].start, group[-1].end
    progress_band = all(_PROGRESS_HZ[0] <= f <= _PROGRESS_HZ[1] for f in freqs)
    quiet_pauses = all(b.gap_db <= b.level_db - _PAUSE_DROP_DB for b in group[1:])
    on = np.array([b.duration for b in group])
    off = np.array([b.start - a.end for a, b in zip(group[:-1], group[1:], strict=True)])

    if progress_band and quiet_pauses:
        if (
            len(group) >= 3
            and np.all((on[:-1] >= 0.15) & (on[:-1] <= 0.8))
            and np.all((off >= 0.15) & (off <= 0.8))
            and _regular(on[:-1])
            and _regular(off)
        ):
            return [Event(start, end, "busy", label, parts=_bursts(group))], []

        rings: list[list[float]] = []  # [start, end] of rings after joining double rings
        for burst in group:
            if rings and burst.start - rings[-1][1] <= 0.35 and burst.duration <= 0.6:
                rings[-1][1] = burst.end
            else:
                rings.append([burst.start, burst.end])
        ring_on = np.array([r[1] - r[0] for r in rings])
        ring_off = np.array([b[0] - a[1] for a, b in zip(rings[:-1], rings[1:], strict=True)])
        known = any(_same_freqs(freqs, f, opts.tone_freq_tol_hz) for f in RINGBACK_HZ)
        # The last ring may be cut short by the answer, so only the others must be full.
        full = ring_on[:-1]
        if (
            len(rings) >= 2
            and np.all((full >= 0.3) & (full <= 2.5))
            and np.all((ring_off >= 1.5) & (ring_off <= opts.tone_max_gap_s))
            and _regular(full)
            and _regular(ring_off)
        ):
            return [Event(start, end, "ringback", label, 1.0 if known else 0.7,
                          _bursts(group))], []
        if len(rings) == 1 and known and 0.7 <= ring_on[0] <= 2.5:
            return [], [Event(start, end, "ringback", label, 0.6)]
    plain = [
        Event(b.start, b.end, "tone", _freq_label(b.freqs))
        for b in group
        if b.duration >= opts.tone_min_s
    ]
    return [], plain


# Frequency ratios of two low harmonics of one fundamental (2:1, 3:1, 4:1, 3:2, 4:3, 5:2, 5:3).
_HARMONIC_RATIOS = np.array([2.0, 3.0, 4.0, 1.5, 4.0 / 3.0, 2.5, 5.0 / 3.0])
_PROGRESS_HZ = (300.0, 650.0)  # Hz; band of ringback and busy tones worldwide
_PAUSE_DROP_DB = 10.0  # pauses of a ringback/busy cadence are at least this much quieter


def _regular(durations: np.ndarray) -> bool:
    """True when all durations (s) are within 40% of each other, as a machine cadence is."""
    return durations.size < 2 or float(durations.max()) <= 1.4 * float(durations.min())


# --- music -------------------------------------------------------------------------------------


def _stable_energy(spec: _Spectrogram, opts: EventOptions) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: energy in long-lived spectral peaks, and all energy, in the music band.

    A peak is a local maximum at least `music_peak_prominence_db` above the spectrum smoothed
    over ~140 Hz. It is stable where a peak stays within one bin (+-15.6 Hz) of the same
    frequency for `music_persist_s`. Returns two arrays of shape (frames,), linear power.
    """
    power = spec.power[:, spec.band(opts.music_min_hz, opts.music_max_hz)] + 1e-12
    log_p = 10.0 * np.log10(power)
    local = ndimage.uniform_filter1d(log_p, 9, axis=1, mode="nearest")
    peak = np.zeros_like(log_p, dtype=bool)
    peak[:, 1:-1] = (log_p[:, 1:-1] > log_p[:, :-2]) & (log_p[:, 1:-1] >= log_p[:, 2:])
    peak &= log_p - local >= opts.music_peak_prominence_db
    peak &= log_p >= log_p.max(axis=1, keepdims=True) - opts.music_peak_range_db
    near_peak = ndimage.maximum_filter1d(peak, 3, axis=1)  # tolerate one bin of drift

    n = max(1, int(round(opts.music_persist_s / (spec.hop / spec.sr))))
    # A bin is stable in frames that belong to a run of >= n frames with a peak on it.
    held = ndimage.uniform_filter1d(near_peak.astype(np.float32), n, axis=0, mode="constant")
    full = held > 1.0 - 0.5 / n
    stable = ndimage.maximum_filter1d(full, n, axis=0, origin=0) & near_peak
    stable = ndimage.maximum_filter1d(stable, 3, axis=1)  # the peak's main lobe
    return (power * stable).sum(axis=1), power.sum(axis=1)


def _music_scores(
    spec: _Spectrogram, excluded: list[Event], silence_db: float, opts: EventOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Music score over a long window and stable-energy share over a short one, (frames,) each.

    The share is energy-weighted, so loud frames count: a voice over quiet music scores low,
    and quiet pauses cannot make a window look tonal. The long-window share is multiplied by a
    continuity factor: monotone speech (espeak-ng, some IVR voices) holds its harmonics at one
    frequency for seconds, but its consonants and pauses keep interrupting them, while in music
    some note is always sounding. Frames in `excluded` (ringback, busy, DTMF) and silent frames
    count as neither. The long window (`music_window_s`) decides; the short one
    (`music_edge_window_s`) places the edges.
    """
    stable, total = _stable_energy(spec, opts)
    valid = spec.level_db(*_SILENCE_BAND_HZ) >= silence_db  # (frames,)
    for event in excluded:
        valid &= (spec.times < event.start - 0.1) | (spec.times > event.end + 0.1)
    stable = np.where(valid, stable, 0.0)
    total = np.where(valid, total, 0.0)

    def mean(v: np.ndarray, window_s: float) -> np.ndarray:
        w = max(1, int(round(window_s / opts.music_hop_s)))
        return ndimage.uniform_filter1d(v.astype(np.float64), w, mode="constant")

    long_s, short_s = opts.music_window_s, opts.music_edge_window_s
    share = mean(stable, long_s) / np.maximum(mean(total, long_s), 1e-20)
    edge_share = mean(stable, short_s) / np.maximum(mean(total, short_s), 1e-20)
    dropout = valid & (stable < opts.music_dropout_ratio * mean(stable, long_s))
    dropout_share = mean(dropout, long_s) / np.maximum(mean(valid, long_s), 1e-9)
    lo, hi = opts.music_dropout_share
    continuity = np.clip((hi - dropout_share) / (hi - lo), 0.0, 1.0)
    return share * continuity, edge_share


def _detect_music(
    spec: _Spectrogram, excluded: list[Event], silence_db: float, opts: EventOptions
) -> list[Event]:
    """Music events from the score with hysteresis, gap bridging and a minimum length.

    Each event's ends are then moved inwards to audible frames with a tonal neighbourhood
    (the short-window share): the long window smears a boundary by up to half its length.
    """
    score, edge_share = _music_scores(spec, excluded, silence_db, opts)  # (frames,) each
    on, off = opts.music_on_threshold, opts.music_off_threshold
    audible = spec.level_db(*_SILENCE_BAND_HZ) >= silence_db
    edge_ok = (edge_share >= off) & audible

    candidate = score >= off
    active = np.zeros_like(candidate)
    for start, end in _runs(candidate):
        if np.any(score[start:end] >= on):  # a stretch above `off` must reach `on` somewhere
            active[start:end] = True
    active = _close_gaps(active, int(round(opts.music_bridge_s / opts.music_hop_s)))
    events = []
    for start, end in _runs(active):
        inside = np.flatnonzero(edge_ok[start:end])
        if inside.size == 0:
            continue
        start, end = start + inside[0], start + inside[-1] + 1
        t0, t1 = spec.span(start, end)
        if t1 - t0 >= opts.music_min_s:
            confidence = float(np.mean(score[start:end] >= on))
            events.append(Event(t0, t1, "music", "", confidence))
    return events


def _reconcile_tones_and_music(
    plain: list[Event], music: list[Event], margin_s: float
) -> tuple[list[Event], list[Event]]:
    """Steady notes in or next to music are music; music that is mostly a steady tone is a tone.

    A flute or bass note passes the tone test, and a long dial tone passes the music test.
    Plain tones (and single rings) that overlap music, or lie within `margin_s` of it, are
    dropped when they cover less than half of it; otherwise the music is dropped. Returns
    (plain tones, music) kept.
    """
    kept_music = []
    dropped: set[int] = set()
    for m in music:
        near = [
            i
            for i, t in enumerate(plain)
            if t.start < m.end + margin_s and t.end > m.start - margin_s
        ]
        covered = sum(
            max(0.0, min(plain[i].end, m.end) - max(plain[i].start, m.start)) for i in near
        )
        if covered >= 0.5 * (m.end - m.start):
            continue
        dropped.update(near)
        kept_music.append(m)
    return [t for i, t in enumerate(plain) if i not in dropped], kept_music


# --- combining ---------------------------------------------------------------------------------


def _resolve_overlaps(tiers: list[list[Event]], min_len: dict[str, float]) -> list[Event]:
    """Events of earlier tiers win; later events are cut around them and dropped if too short."""
    taken: list[tuple[float, float]] = []
    out: list[Event] = []
    for tier in tiers:
        accepted = []
        for event in sorted(tier, key=lambda e: e.start):
            for a, b in subtract_spans((event.start, event.end), taken):
                if b - a >= min_len.get(event.kind, 0.0) - 1e-9:
                    accepted.append(event.clipped(float(a), float(b)))
        # Within a tier events may touch but never overlap; trim any that do.
        kept: list[Event] = []
        for e in sorted(accepted, key=lambda e: e.start):
            if kept and e.start < kept[-1].end:
                if e.end <= kept[-1].end:
                    continue
                e = e.clipped(kept[-1].end, e.end)
            kept.append(e)
        out.extend(kept)
        taken.extend((e.start, e.end) for e in kept)
    return sorted(out, key=lambda e: (e.start, e.end))


def subtract_spans(
    span: tuple[float, float], taken: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Parts of span not covered by any interval in taken, in time order (seconds): pyannote's
    ``Timeline.extrude``. An empty interval (under 1 us) covers nothing."""
    # pyannote.core imports matplotlib (0.3 s): imported where used, as the heavy packages
    from pyannote.core import Segment, Timeline

    rest = Timeline([Segment(*span)]).extrude(Timeline([Segment(a, b) for a, b in taken]))
    return [(s.start, s.end) for s in rest]
