#!/usr/bin/env python3
"""Generate labelled synthetic Dutch "mystery calls" to municipalities (espeak-ng + sox).

Every call is a declarative :class:`CallSpec`: a list of parts (ringback, IVR sentences, DTMF,
hold music, agent and caller turns). The same spec builds the audio and writes the labels, the
reference RTTM and the reference transcript, so the labels cannot drift from the audio:

- ``notice_before_agent`` / ``notice_by_agent`` come from the ``notice`` flag on the parts, never
  from matching the text;
- ``agent_name`` comes from the :class:`Intro` on the agent's opening turn;
- the recording-talk labels (:data:`RECORDING_LABELS`) come from the ``asks_recording`` /
  ``announces_recording`` flags on caller turns, the ``answer`` / ``objected`` kinds on the
  agent's reply and the hand-labelled ``purposes`` on each notice (:data:`NOTICE_PURPOSES`);
- every time comes from the rendered timeline, where each espeak-ng utterance is trimmed to its
  voiced onset/offset (measured with numpy) before it is placed.

After writing, each file is decoded again with sox and its energy envelope is cross-correlated
with the timeline, so a codec delay (mp3) or a filter delay cannot shift the labels unnoticed.

Usage::

    python audio_fixtures/generate.py --out audio_fixtures        # the committed set
    python audio_fixtures/generate.py --long /tmp/long_call.wav    # a ~3 min call, on demand

Needs numpy, the installed package (``pipeline.analysis.vocabulary``: the greetings shared with the
rules), the ``espeak-ng`` and ``sox`` programs (sox with mp3 support: libsox-fmt-all), and
PyAV for the one m4a edge file (skipped with a warning without it).
"""

from __future__ import annotations

import argparse
import csv
import logging
import random
import shutil
import struct
import subprocess
import tempfile
import wave
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from pipeline.analysis.vocabulary import GREETINGS_IN_FULL

log = logging.getLogger(__name__)
T = TypeVar("T")

SR = 16000  # Hz; every timeline is built at this rate, 8 kHz files are derived by sox
SEED = 20240611  # fixed seed: the committed set is reproducible
# what caller and agent say about recording (see recording_labels); appended to the labels
RECORDING_LABELS = (
    "agent_knows_recording",
    "notice_contradicted",
    "notice_purpose",
    "caller_announced_recording",
    "agent_objected",
)
LABEL_HEADER = (
    "file",
    "notice_before_agent",
    "notice_by_agent",
    "agent_name",
    "agent_first",
    "agent_last",
    "agent_start_s",
    *RECORDING_LABELS,
)
# purposes a recording notice can state, in the order notice_purpose joins them
PURPOSES = ("quality", "training", "service", "complaints", "other")
KNOWS_KINDS = ("yes", "no", "unsure", "no_answer")  # the agent's answer to the question
OBJECTED_KINDS = ("yes", "no", "unclear")  # the agent's response to the caller's notice
MANIFEST_HEADER = (
    "file",
    "format",
    "encoding",
    "sample_rate",
    "channels",
    "duration_s",
    "noise",
    "ivr_voice",
    "agent_voice",
    "caller_voice",
    "description",
)
SPEECH_RMS_DBFS = -20.0  # level of every utterance (RMS over its voiced frames)
# a recording (fillets-ng's voice actors) ends in a reverberant decay of 0.5-1 s, about 3 dB
# per 50 ms, that is no speech: its label ends where the level stays this far under the line's
# peak (its audio keeps the decay). Synthetic speech ends in digital silence, so its voiced
# span is its speech. At 45 dB the labels held 0.75 s of decay a line on average, which the
# role error counted as caller speech missed
RECORDING_FLOOR_DB = 30.0
MUSIC_RMS_DBFS = -25.0
TONE_DBFS = -16.0  # peak level of each sine in ringback / DTMF tones
MAX_ALIGN_ERROR_S = 0.004  # a written file may lag its timeline by at most this much

# --------------------------------------------------------------------------------------------
# Parts of a call (the declarative spec)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: variant name, pitch (0..99), speed (words per minute), word gap."""

    name: str  # e.g. "nl+f5"
    pitch: int = 50
    speed: int = 140
    gap: int = 4  # espeak-ng -g: extra pause between words, in units of 10 ms

    def __str__(self) -> str:
        return f"{self.name} -p {self.pitch} -s {self.speed} -g {self.gap}"


@dataclass(frozen=True)
class Intro:
    """The name an agent gives for themself in the opening turn (empty strings: not given)."""

    first: str = ""
    last: str = ""  # includes the interfix, e.g. "de Vries"

    @property
    def kind(self) -> str:
        """``none``, ``first``, ``last`` or ``full``."""
        if self.first and self.last:
            return "full"
        return "first" if self.first else "last" if self.last else "none"


@dataclass(frozen=True)
class Ringback:
    """Dutch ringback: 425 Hz, 1 s on / 4 s off; the last off period is cut to ``last_off_s``."""

    cycles: int = 2
    last_off_s: float = 1.0


@dataclass(frozen=True)
class Dtmf:
    """DTMF digits pressed by the caller (real dual-tone pairs, 100-200 ms each); heard on the
    line's side (an exchange that echoes them) or, with ``on_caller``, on the caller's."""

    digits: str
    on_caller: bool = False


@dataclass(frozen=True)
class Music:
    """Hold music of ``seconds`` length."""

    seconds: float


@dataclass(frozen=True)
class Ivr:
    """A recorded announcement; ``notice`` marks a real (non-negated) recording notice and
    ``purposes`` (set on every notice, from a hand-labelled table) the purposes it states."""

    text: str
    notice: bool = False
    purposes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Agent:
    """A turn of a live agent.

    ``intro`` is set on the opening turn only (``Intro()`` when no name is given); ``notice``
    marks a recording notice said by the agent; ``voice`` overrides the call's agent voice
    (a colleague after a transfer); ``clip``: a recording of ``text`` to play in place of
    the synthetic voice (real human speech); ``purposes``: set on a notice, what it states
    (hand-labelled). ``answer`` (one of :data:`KNOWS_KINDS`) marks the agent's reply to the
    caller's question whether the call is recorded (a reply is never a notice: "ja, alle
    gesprekken worden opgenomen" has ``notice`` False); ``objected`` (one of
    :data:`OBJECTED_KINDS`) marks the response to the caller's own recording notice.
    """

    text: str
    notice: bool = False
    intro: Intro | None = None
    voice: Voice | None = None
    clip: str = ""
    purposes: tuple[str, ...] | None = None
    answer: str = ""
    objected: str = ""


@dataclass(frozen=True)
class Caller:
    """A turn of the caller (the researcher); ``clip``: a recording of ``text`` to play in
    place of the synthetic voice (real human speech). ``asks_recording``: the turn asks
    whether the call is recorded; ``announces_recording``: the caller says they record it."""

    text: str
    clip: str = ""
    asks_recording: bool = False
    announces_recording: bool = False


Part = Ringback | Dtmf | Music | Ivr | Agent | Caller


@dataclass(frozen=True)
class CallSpec:
    """Everything needed to build one call and its labels."""

    stem: str  # file name without extension; also the RTTM uri
    parts: tuple[Part, ...]
    ivr_voice: Voice
    agent_voice: Voice
    caller_voice: Voice
    channels: int = 1  # 1: mixed; 2: caller on ``caller_channel``, the line on the other
    rate: int = SR  # 16000 or 8000 (8 kHz: 300-3400 Hz band, ``codec`` when wav)
    fmt: str = "wav"  # wav, mp3, flac or ogg
    noise_dbfs: float | None = None  # RMS of added background noise, None for none
    caller_channel: int = 0  # stereo: 0 = caller left, 1 = caller right
    codec: str = "mu-law"  # 8 kHz wav: "mu-law", "a-law" or "gsm" (a GSM 06.10 round trip)
    line_gain_db: float = 0.0  # level of everything from the line, relative to the default
    caller_gain_db: float = 0.0  # level of the caller's side
    description: str = ""  # one line for the README table

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.fmt}"

    @property
    def encoding(self) -> str:
        if self.fmt == "wav":
            return self.codec if self.rate == 8000 else "pcm16"
        return self.fmt

    def voice_for(self, part: Ivr | Agent | Caller) -> Voice:
        if isinstance(part, Ivr):
            return self.ivr_voice
        if isinstance(part, Agent):
            return part.voice or self.agent_voice
        return self.caller_voice


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seg:
    """One labelled stretch of the timeline; times in seconds."""

    start: float
    end: float
    role: str  # IVR, AGENT, CALLER, MUSIC, TONE
    text: str = ""
    part: int = -1  # index of the part in CallSpec.parts


@dataclass(frozen=True)
class Rendered:
    """A built call: audio at :data:`SR` and its labelled segments."""

    spec: CallSpec
    caller: np.ndarray  # (n,) float32, the caller's side
    line: np.ndarray  # (n,) float32, everything heard from the line
    segments: tuple[Seg, ...]

    @property
    def duration_s(self) -> float:
        return len(self.line) / SR

    def audio(self) -> np.ndarray:
        """(n, channels) float32 as written: stereo is [caller, line] (or [line, caller] with
        ``caller_channel`` 1), mono their sum."""
        if self.spec.channels == 2:
            pair = [self.caller, self.line]
            return np.stack(pair if self.spec.caller_channel == 0 else pair[::-1], axis=1)
        return (self.caller + self.line)[:, None]

    def labels(self) -> dict[str, str]:
        """The labels.csv row (without ``file``), derived from the spec flags and the timeline."""
        parts = self.spec.parts
        first = next((i for i, p in enumerate(parts) if isinstance(p, Agent)), None)
        before = parts if first is None else parts[:first]
        intro = Intro()
        start = ""
        if first is not None:
            intro = parts[first].intro or Intro()
            start = f"{next(s.start for s in self.segments if s.part == first):.2f}"
        before_agent = any(isinstance(p, Ivr) and p.notice for p in before)
        by_agent = any(isinstance(p, Agent) and p.notice for p in parts)
        return {
            "notice_before_agent": _yes(before_agent),
            "notice_by_agent": _yes(by_agent),
            "agent_name": intro.kind,
            "agent_first": intro.first,
            "agent_last": intro.last,
            "agent_start_s": start,
            **recording_labels(self.spec.stem, parts, before_agent or by_agent),
        }

    def rttm(self) -> str:
        return "".join(
            f"SPEAKER {self.spec.stem} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> "
            f"{s.role} <NA> <NA>\n"
            for s in self.segments
        )

    def transcript(self) -> str:
        return "".join(
            f"{s.start:.3f}\t{s.end:.3f}\t{s.role}\t{s.text}\n" for s in self.segments if s.text
        )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def recording_labels(stem: str, parts: Sequence[Part], notice: bool) -> dict[str, str]:
    """The :data:`RECORDING_LABELS` of a call, from the flags on its parts (never its text).

    ``notice``: the call has a notice before the agent or by the agent. A question must be
    followed by the agent's answer part (``no_answer`` is a part too: the agent talks past
    it), a caller's notice by the agent's response part; anything else is a spec error.
    """
    notices = [p for p in parts if isinstance(p, Ivr | Agent) and p.notice]
    if any(p.purposes is None for p in notices):
        raise GenerateError(f"{stem}: a notice without hand-labelled purposes")
    stated = {x for p in notices for x in p.purposes or ()}
    if stated - set(PURPOSES):
        raise GenerateError(f"{stem}: unknown purposes {sorted(stated - set(PURPOSES))}")
    purpose = ";".join(x for x in PURPOSES if x in stated) or "none_stated"

    def reply(flag: str, field: str, kinds: tuple[str, ...]) -> str:
        """The kind on the agent part that follows the caller part with ``flag``, or ""."""
        asks = [i for i, p in enumerate(parts) if isinstance(p, Caller) and getattr(p, flag)]
        replies = [i for i, p in enumerate(parts) if isinstance(p, Agent) and getattr(p, field)]
        if len(asks) > 1 or len(replies) != len(asks) or (asks and replies[0] < asks[0]):
            raise GenerateError(f"{stem}: {flag} and the agent's {field} do not pair up")
        kind = getattr(parts[replies[0]], field) if replies else ""
        if kind and kind not in kinds:
            raise GenerateError(f"{stem}: {field}={kind!r}, want one of {kinds}")
        return kind

    knows = reply("asks_recording", "answer", KNOWS_KINDS) or "not_asked"
    objected = reply("announces_recording", "objected", OBJECTED_KINDS)
    return {
        "agent_knows_recording": knows,
        "notice_contradicted": _yes(notice and knows in ("no", "unsure")),
        "notice_purpose": purpose if notices else "no_notice",
        "caller_announced_recording": _yes(bool(objected)),
        "agent_objected": objected,
    }


class Tts:
    """espeak-ng behind a cache; returns utterances trimmed to their voiced onset/offset."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._cache: dict[tuple[str, Voice], np.ndarray] = {}
        self._clips: dict[str, tuple[np.ndarray, int]] = {}

    def clip(self, path: str) -> tuple[np.ndarray, int]:
        """A recording (any format sox reads) as :meth:`say` returns speech: 16 kHz mono,
        trimmed to its voiced span, level-normalised; with the sample where its speech ends
        and its reverberant tail begins (:data:`RECORDING_FLOOR_DB`), for the labels."""
        if path not in self._clips:
            res = self.workdir / "clip_16k.wav"
            _run(["sox", "-R", "-D", path, "-r", str(SR), "-c", "1", "-b", "16", str(res)])
            x = read_pcm16(res)[:, 0]
            on, off = voiced_span(x)
            x = x[on:off]
            x = (x * _gain_to(x, SPEECH_RMS_DBFS)).astype(np.float32)
            self._clips[path] = (x, voiced_span(x, floor_db=RECORDING_FLOOR_DB)[1])
        return self._clips[path]

    def say(self, text: str, voice: Voice) -> np.ndarray:
        """(n,) float32 at :data:`SR`, starting at the first voiced frame, level-normalised."""
        key = (text, voice)
        if key not in self._cache:
            raw = self.workdir / "tts_raw.wav"
            res = self.workdir / "tts_16k.wav"
            cmd = [
                "espeak-ng", "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed),
                "-g", str(voice.gap),
            ]  # fmt: skip
            _run([*cmd, "-w", str(raw), text])
            _run(["sox", "-R", "-D", str(raw), "-r", str(SR), "-b", "16", str(res)])
            x = read_pcm16(res)[:, 0]
            on, off = voiced_span(x)
            x = x[on:off]
            self._cache[key] = (x * _gain_to(x, SPEECH_RMS_DBFS)).astype(np.float32)
        return self._cache[key]


def voiced_span(x: np.ndarray, rate: int = SR, floor_db: float = 45.0) -> tuple[int, int]:
    """Sample range [on, off) whose 5 ms frames are within ``floor_db`` of the loudest frame."""
    hop = int(0.005 * rate)
    n = len(x) // hop
    if n == 0:
        return 0, len(x)
    db = 10 * np.log10((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - floor_db)
    # refine to the first/last sample above 1% of the peak inside the edge frames
    on = loud[0] * hop
    off = min(len(x), (loud[-1] + 1) * hop)
    thr = 0.01 * np.abs(x).max()
    head = np.flatnonzero(np.abs(x[on : on + hop]) > thr)
    tail = np.flatnonzero(np.abs(x[off - hop : off]) > thr)
    on += int(head[0]) if len(head) else 0
    off = off - hop + int(tail[-1]) + 1 if len(tail) else off
    return int(on), int(off)


def _gain_to(x: np.ndarray, rms_dbfs: float) -> float:
    """Gain that brings the RMS of the voiced (non-silent) 20 ms frames of x to rms_dbfs."""
    hop = int(0.02 * SR)
    n = max(1, len(x) // hop)
    frames = np.resize(x, n * hop).reshape(n, hop)
    e = (frames**2).mean(axis=1)
    active = e[e > e.max() * 1e-3]
    rms = float(np.sqrt(active.mean())) if len(active) else 1.0
    return 10 ** (rms_dbfs / 20) / max(rms, 1e-9)


def tone(freqs: Sequence[float], seconds: float, peak_dbfs: float = TONE_DBFS) -> np.ndarray:
    """Sum of sines (each at ``peak_dbfs``) with 5 ms raised-cosine ramps; (n,) float32."""
    t = np.arange(int(round(seconds * SR))) / SR
    x = sum(np.sin(2 * np.pi * f * t) for f in freqs) * 10 ** (peak_dbfs / 20)
    ramp = min(int(0.005 * SR), len(t) // 2)
    if ramp:
        w = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp))
        x[:ramp] *= w
        x[-ramp:] *= w[::-1]
    return x.astype(np.float32)


DTMF_FREQS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


def hold_music(seconds: float, seed: int) -> np.ndarray:
    """Music-like audio: chord pads, a bass line, a plucked melody and hi-hats; (n,) float32.

    A I-V-vi-IV progression in a seeded key and tempo; every note has several harmonics and a
    percussive envelope so the result has rhythm and timbre, not a steady tone.
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * SR))
    out = np.zeros(n + SR, dtype=np.float64)
    bpm = float(rng.choice([84, 96, 108, 120]))
    beat = 60.0 / bpm
    root = 261.63 * 2 ** (int(rng.choice([-3, 0, 2, 5, 7])) / 12)  # around middle C
    chords = [(0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)]
    scale = [0, 2, 4, 7, 9, 12, 14, 16]  # major pentatonic over two octaves

    def note(
        start: float, dur: float, semis: float, amp: float, harm: Sequence[float], decay: float
    ) -> None:
        i0 = int(start * SR)
        m = min(int(dur * SR), len(out) - i0)
        if m <= 0:
            return
        t = np.arange(m) / SR
        f0 = root * 2 ** (semis / 12)
        env = np.minimum(1.0, t / 0.01) * np.exp(-t / decay)
        wave_ = sum(
            a * np.sin(2 * np.pi * f0 * (k + 1) * t)
            for k, a in enumerate(harm)
            if f0 * (k + 1) < 0.45 * SR
        )
        out[i0 : i0 + m] += amp * env * wave_

    n_beats = int(np.ceil(seconds / beat))
    melody_pos = 3
    for b in range(n_beats):
        chord = chords[(b // 4) % len(chords)]
        t0 = b * beat
        if b % 2 == 0:  # pad re-struck every two beats
            for s in chord:
                note(t0, 2 * beat, s, 0.10, (1.0, 0.5, 0.3, 0.2), 0.8)
        note(t0, beat, chord[0] - 12, 0.22, (1.0, 0.6, 0.25), 0.25)  # bass
        for half in (0, 1):  # melody in eighths, a seeded random walk on the scale
            if rng.random() < 0.8:
                melody_pos = int(np.clip(melody_pos + rng.integers(-2, 3), 0, len(scale) - 1))
                note(
                    t0 + half * beat / 2,
                    beat / 2,
                    12 + scale[melody_pos],
                    0.12,
                    (1.0, 0.6, 0.35, 0.2, 0.1),
                    0.18,
                )
        i0 = int((t0 + beat / 2) * SR)  # hi-hat on the off-beat
        m = int(0.03 * SR)
        if i0 + m < len(out):
            hat = np.diff(rng.normal(0.0, 1.0, m + 1)) * np.exp(-np.arange(m) / (0.008 * SR))
            out[i0 : i0 + m] += 0.03 * hat
    x = out[:n]
    x *= _gain_to(x, MUSIC_RMS_DBFS)
    fade = min(int(0.05 * SR), n // 2)
    if fade:
        x[:fade] *= np.linspace(0, 1, fade)
        x[-fade:] *= np.linspace(1, 0, fade)
    return x.astype(np.float32)


def _gap(prev: Part | None, part: Part, rng: random.Random) -> float:
    """Silence in seconds before ``part``, drawn from a range that fits what comes before it."""
    if prev is None:
        return rng.uniform(0.3, 0.7)
    if isinstance(prev, Ringback):
        return 0.0  # Ringback already ends with its own off period
    if isinstance(part, Dtmf):
        return rng.uniform(0.6, 1.1)
    if isinstance(prev, Music) or isinstance(part, Music):
        return rng.uniform(0.15, 0.35)
    return rng.uniform(0.35, 0.85)


def render(spec: CallSpec, tts: Tts) -> Rendered:
    """Build the audio of ``spec`` and its labelled segments."""
    rng = random.Random(zlib.crc32(spec.stem.encode()))
    clips: list[tuple[int, np.ndarray, bool]] = []  # (start sample, audio, on caller side)
    segs: list[Seg] = []
    t = 0  # samples
    prev: Part | None = None

    def place(x: np.ndarray, role: str, idx: int, text: str = "", caller: bool = False,
              spoken: int | None = None) -> int:
        """Put ``x`` at the current time ``t``, labelled over its first ``spoken`` samples
        (all of it by default); returns its length in samples."""
        clips.append((t, x, caller))
        segs.append(Seg(t / SR, (t + (len(x) if spoken is None else spoken)) / SR, role, text,
                        idx))
        return len(x)

    for idx, part in enumerate(spec.parts):
        t += int(round(_gap(prev, part, rng) * SR))
        prev = part
        match part:
            case Ringback(cycles=cycles, last_off_s=last_off):
                for c in range(cycles):
                    place(tone([425.0], 1.0), "TONE", idx)
                    t += int((1.0 + (4.0 if c < cycles - 1 else last_off)) * SR)
            case Dtmf(digits=digits, on_caller=on_caller):
                for k, d in enumerate(digits):
                    if k:
                        t += int(rng.uniform(0.08, 0.15) * SR)
                    x = tone(DTMF_FREQS[d], rng.uniform(0.10, 0.20), TONE_DBFS + 3)
                    t += place(x, "TONE", idx, caller=on_caller)
            case Music(seconds=seconds):
                x = hold_music(seconds, zlib.crc32(f"{spec.stem}/{idx}".encode()))
                t += place(x, "MUSIC", idx)
            case Ivr() | Agent() | Caller():
                role = type(part).__name__.upper()
                clip = getattr(part, "clip", "")
                x, spoken = (tts.clip(clip) if clip
                             else (tts.say(part.text, spec.voice_for(part)), None))
                t += place(x, role, idx, part.text, caller=isinstance(part, Caller),
                           spoken=spoken)
    n = t + int(rng.uniform(0.4, 0.8) * SR)
    caller = np.zeros(n, dtype=np.float32)
    line = np.zeros(n, dtype=np.float32)
    for start, x, on_caller in clips:
        (caller if on_caller else line)[start : start + len(x)] += x
    caller *= np.float32(10 ** (spec.caller_gain_db / 20))
    line *= np.float32(10 ** (spec.line_gain_db / 20))
    if spec.noise_dbfs is not None:
        nrng = np.random.default_rng(zlib.crc32(spec.stem.encode()))
        level = 10 ** (spec.noise_dbfs / 20)
        for track in (caller, line):
            # brown-ish hum plus hiss: a one-pole low-pass of white noise, mixed with white
            white = nrng.normal(0.0, 1.0, n)
            low = np.convolve(white, 0.05 * 0.95 ** np.arange(200), mode="same")
            noise = low / (low.std() + 1e-9) + 0.5 * white
            track += (level * noise / noise.std()).astype(np.float32)
    segs.sort(key=lambda s: (s.start, s.part))
    return Rendered(spec, caller, line, tuple(segs))


# --------------------------------------------------------------------------------------------
# Writing and checking files
# --------------------------------------------------------------------------------------------


class GenerateError(RuntimeError):
    """A fixture could not be built or failed its own check."""


def _run(cmd: Sequence[str]) -> None:
    try:
        subprocess.run(cmd, check=True, capture_output=True)
    except FileNotFoundError as e:
        raise GenerateError(
            f"{cmd[0]} is not installed (apt-get install espeak-ng sox libsox-fmt-all)"
        ) from e
    except subprocess.CalledProcessError as e:
        raise GenerateError(f"{' '.join(cmd)} failed: {e.stderr.decode(errors='replace')}") from e


def write_pcm16(path: Path, audio: np.ndarray, rate: int = SR) -> None:
    """Write (n, channels) float audio in [-1, 1] as a 16-bit PCM wav (stdlib only)."""
    a = np.atleast_2d(audio.T).T
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def read_pcm16(path: Path) -> np.ndarray:
    """Read a 16-bit PCM wav as (n, channels) float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as w:
        ch = w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (x.reshape(-1, ch) / 32768.0).astype(np.float32)


def decode(path: Path, workdir: Path) -> tuple[np.ndarray, int]:
    """Decode any file sox reads to ((n, channels) float32, sample rate)."""
    tmp = workdir / "decoded.wav"
    _run(["sox", "-R", str(path), "-e", "signed-integer", "-b", "16", str(tmp)])
    with wave.open(str(tmp), "rb") as w:
        rate = w.getframerate()
    return read_pcm16(tmp), rate


_MP3_DELAY: dict[tuple[int, int, int], int] = {}


def mp3_delay(rate: int, channels: int, kbps: int, workdir: Path) -> int:
    """Samples that sox+LAME prepend to an mp3 (encoder + decoder delay), measured once.

    sox writes no LAME/Xing gapless header, so every decoder outputs this delay; the generator
    trims it from the start before encoding so the decoded mp3 lines up with the labels.
    """
    key = (rate, channels, kbps)
    if key not in _MP3_DELAY:
        n0 = rate // 2
        x = np.zeros((rate, channels), dtype=np.float32)
        x[n0 : n0 + rate // 50] = (
            0.5 * np.sin(2 * np.pi * 1000 * np.arange(rate // 50) / rate)[:, None]
        )
        src, mp3 = workdir / "delay.wav", workdir / "delay.mp3"
        write_pcm16(src, x, rate)
        _run(["sox", "-R", str(src), "-C", str(kbps), str(mp3)])
        y, _ = decode(mp3, workdir)
        mono = np.abs(y).max(axis=1)
        _MP3_DELAY[key] = int(np.argmax(mono > 0.3 * mono.max())) - int(
            np.argmax(np.abs(x[:, 0]) > 0.3 * 0.5)
        )
        log.debug(
            "mp3 delay at %d Hz, %d ch, %d kbps: %d samples", rate, channels, kbps, _MP3_DELAY[key]
        )
    return _MP3_DELAY[key]


def encode(audio: np.ndarray, path: Path, rate: int, fmt: str, workdir: Path,
           codec: str = "mu-law") -> None:
    """Write (n, channels) float audio at :data:`SR` to ``path`` in ``fmt`` at ``rate``.

    8 kHz output is band-limited to 300-3400 Hz like a telephone line; 8 kHz wav is ``codec``
    (mu-law, a-law, or 16-bit PCM after a GSM 06.10 round trip, channel by channel).
    """
    channels = audio.shape[1]
    if fmt == "wav" and rate == SR:
        write_pcm16(path, audio, SR)
        return
    if fmt == "wav" and codec == "gsm":
        sides = []
        for c in range(channels):  # sox's GSM is mono 8 kHz only
            narrow, gsm, back = (workdir / f"gsm_{c}{ext}" for ext in (".wav", ".gsm", "_rt.wav"))
            encode(audio[:, c : c + 1], narrow, rate, "wav", workdir, codec="pcm16")
            _run(["sox", "-R", str(narrow), "-t", "gsm", str(gsm)])
            _run(["sox", "-R", "-t", "gsm", "-r", str(rate), str(gsm), "-b", "16", str(back)])
            sides.append(read_pcm16(back)[:, 0])
        n = min(len(x) for x in sides)
        write_pcm16(path, np.stack([x[:n] for x in sides], axis=1), rate)
        return
    src = workdir / "encode_src.wav"
    write_pcm16(src, audio, SR)
    opts: list[str]
    effects: list[str] = []
    if rate != SR:
        effects = ["sinc", "300-3400", "rate", "-h", str(rate)]
    if fmt == "wav":
        opts = {"mu-law": ["-e", "mu-law", "-b", "8"], "a-law": ["-e", "a-law", "-b", "8"],
                "pcm16": ["-e", "signed-integer", "-b", "16"]}[codec]
    elif fmt == "flac":
        opts = ["-b", "16", "-C", "8"]
    elif fmt == "ogg":
        opts = ["-C", "3"]
    elif fmt == "mp3":
        kbps = (32 if rate == SR else 16) * (3 if channels == 2 else 2) // 2
        opts = ["-C", str(kbps)]
        delay = mp3_delay(rate, channels, kbps, workdir)
        if delay > 0:  # drop the delay at the start, give the same length back at the end
            effects += ["trim", f"{delay}s", "pad", "0", f"{delay}s"]
    else:
        raise GenerateError(f"unknown format {fmt!r}")
    _run(["sox", "-R", "-D", str(src), *opts, str(path), *effects])


def _envelope(x: np.ndarray, rate: int, hop_s: float = 0.002) -> np.ndarray:
    """Log energy per ``hop_s`` frame of a mono signal."""
    hop = max(1, int(rate * hop_s))
    n = len(x) // hop
    return np.log10((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-7)


def measure_lag(
    ref: np.ndarray,
    ref_rate: int,
    y: np.ndarray,
    rate: int,
    max_lag_s: float = 0.3,
    hop_s: float = 0.002,
) -> float:
    """Seconds by which ``y`` lags ``ref`` (mono signals), from envelope cross-correlation."""
    a = _envelope(ref, ref_rate, hop_s)
    b = _envelope(y, rate, hop_s)
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    m = int(max_lag_s / hop_s)
    scores = [
        float(np.dot(a[: n - k], b[k:n])) if k >= 0 else float(np.dot(a[-k:n], b[: n + k]))
        for k in range(-m, m + 1)
    ]
    return (int(np.argmax(scores)) - m) * hop_s


def check_written(rendered: Rendered, path: Path, workdir: Path) -> None:
    """Decode ``path`` and check rate, channels, duration, alignment and channel order."""
    spec = rendered.spec
    y, rate = decode(path, workdir)
    if rate != spec.rate or y.shape[1] != spec.channels:
        raise GenerateError(
            f"{path.name}: {rate} Hz x {y.shape[1]} ch, want {spec.rate} x {spec.channels}"
        )
    if len(y) / rate < rendered.duration_s - 0.05:
        raise GenerateError(
            f"{path.name}: decoded {len(y) / rate:.2f} s, built {rendered.duration_s:.2f} s"
        )
    mix = rendered.caller + rendered.line
    lag = measure_lag(mix, SR, y.sum(axis=1), rate)
    if abs(lag) > MAX_ALIGN_ERROR_S:
        raise GenerateError(f"{path.name}: decoded audio lags its labels by {lag * 1000:.0f} ms")
    if spec.channels == 2:
        env = [_envelope(y[:, c], rate) for c in range(2)]
        ref = [_envelope(rendered.caller, SR), _envelope(rendered.line, SR)]
        if spec.caller_channel == 1:
            ref = ref[::-1]
        n = min(len(env[0]), len(ref[0]))
        silent = [float(np.ptp(r[:n])) == 0.0 for r in ref]  # e.g. a caller who never speaks
        if any(silent):
            quiet = silent.index(True)
            if np.abs(y[:, quiet]).max() > 0.01:
                raise GenerateError(f"{path.name}: channel {quiet} should be silent")
            return
        corr = [[float(np.corrcoef(e[:n], r[:n])[0, 1]) for r in ref] for e in env]
        if not (corr[0][0] > corr[0][1] and corr[1][1] > corr[1][0]):
            raise GenerateError(f"{path.name}: channels are not as specified: {corr}")


@dataclass(frozen=True)
class Written:
    """What :func:`write_call` produced for one call."""

    rendered: Rendered
    audio_path: Path
    labels: dict[str, str]  # the labels.csv row, ``file`` included
    manifest: dict[str, str]  # the calls.csv row


def write_call(
    rendered: Rendered,
    audio_path: Path,
    rttm_path: Path,
    txt_path: Path,
    workdir: Path,
    rel_to: Path | None = None,
) -> Written:
    """Write the audio, the RTTM and the transcript of a call, check the audio, return rows."""
    spec = rendered.spec
    for p in (audio_path, rttm_path, txt_path):
        p.parent.mkdir(parents=True, exist_ok=True)
    encode(rendered.audio(), audio_path, spec.rate, spec.fmt, workdir, spec.codec)
    check_written(rendered, audio_path, workdir)
    rttm_path.write_text(rendered.rttm(), encoding="utf-8")
    txt_path.write_text(rendered.transcript(), encoding="utf-8")
    rel = audio_path.relative_to(rel_to).as_posix() if rel_to else audio_path.name
    manifest = {
        "file": rel,
        "format": spec.fmt,
        "encoding": spec.encoding,
        "sample_rate": str(spec.rate),
        "channels": str(spec.channels),
        "duration_s": f"{rendered.duration_s:.2f}",
        "noise": "" if spec.noise_dbfs is None else f"{spec.noise_dbfs:.0f} dBFS",
        "ivr_voice": str(spec.ivr_voice) if any(isinstance(p, Ivr) for p in spec.parts) else "",
        "agent_voice": str(spec.agent_voice),
        "caller_voice": str(spec.caller_voice),
        "description": spec.description,
    }
    return Written(rendered, audio_path, {"file": rel, **rendered.labels()}, manifest)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


# --------------------------------------------------------------------------------------------
# Phrase pools (Dutch)
# --------------------------------------------------------------------------------------------

MUNICIPALITIES = [
    "Zwolle", "Utrecht", "Amersfoort", "Groningen", "Eindhoven", "Tilburg", "Ede", "Bergen",
    "Hof van Twente", "Texel", "Apeldoorn", "Leeuwarden", "Nijmegen", "Dordrecht", "Maastricht",
    "Zutphen", "Oisterwijk", "Heerenveen", "Delft", "Gouda", "Vaals", "Hoorn", "Almere", "Emmen",
    "Assen", "Middelburg", "Venlo", "Haarlem", "Leiden", "Deventer", "Den Haag", "Westerkwartier",
]  # fmt: skip
FIRST_F = [
    "Sanne", "Anouk", "Fleur", "Lotte", "Marieke", "Esther", "Ingrid", "Fatima", "Yvonne", "Noor",
    "Iris", "Els", "Petra", "Naima",
]  # fmt: skip
FIRST_M = [
    "Pieter", "Jeroen", "Mohammed", "Bas", "Ruud", "Kees", "Thijs", "Daan", "Martijn", "Wouter",
    "Sem", "Hans", "Erik", "Joost",
]  # fmt: skip
SURNAMES = [
    "Jansen", "de Vries", "van der Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
    "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker",
    "Brouwer", "de Wit", "Dijkstra", "ten Brink", "van 't Hek", "van den Heuvel", "Yilmaz",
    "El Amrani", "Kok", "van Beek", "Postma",
]  # fmt: skip
SURNAMES_INTERFIX = [s for s in SURNAMES if s[0].islower()]  # "de Vries", "van 't Hek", ...
# the calls are made in office hours: no "goedenavond"
GREETINGS = [g for g in GREETINGS_IN_FULL if g != "goedenavond"]

IVR_WELCOME = [
    "Welkom bij de gemeente {muni}.",
    "{Greet}, en welkom bij de gemeente {muni}.",
    "U bent verbonden met het Klantcontactcentrum van de gemeente {muni}.",
    "Welkom bij gemeente {muni}. Fijn dat u belt.",
]
IVR_NOTICES = [
    "Dit gesprek kan worden opgenomen voor trainings- en kwaliteitsdoeleinden.",
    "Gesprekken worden opgenomen om onze dienstverlening te verbeteren.",
    "Wij maken u erop attent dat dit telefoongesprek wordt opgenomen.",
    "Ter verbetering van onze dienstverlening kunnen gesprekken worden opgenomen.",
    "Let op: dit gesprek wordt mogelijk opgenomen voor opleidingsdoeleinden.",
    "Voor kwaliteitsdoeleinden worden telefoongesprekken opgenomen. Meer informatie vindt u in "
    "onze privacyverklaring.",
]
LOOKALIKES = [
    "Gesprekken worden niet opgenomen.",
    "Uw gegevens worden opgenomen in ons systeem.",
    "Uw gesprek is belangrijk voor ons.",
    "Uw vraag wordt in behandeling genomen.",
    "Wij nemen uw gesprek zo snel mogelijk aan.",
    "Dit gesprek wordt niet opgenomen of bewaard.",
]
AGENT_NOTICES = [
    "Ik meld u even dat dit gesprek wordt opgenomen.",
    "Even voor de duidelijkheid: dit gesprek wordt opgenomen.",
    "Ik wil u erop wijzen dat wij dit gesprek opnemen voor trainingsdoeleinden.",
]
# Notices with purposes the pools above do not state (klachten, other); new calls only, so the
# draws of the earlier calls stay as they were.
IVR_NOTICES_MORE = [
    "Gesprekken kunnen worden opgenomen voor de behandeling van klachten en om onze "
    "dienstverlening te verbeteren.",
    "Dit gesprek wordt opgenomen om gemaakte afspraken vast te leggen.",
    "Wij nemen dit gesprek op voor kwaliteitsdoeleinden en ter voorkoming van fraude.",
    "Om klachten goed te kunnen afhandelen, worden alle gesprekken opgenomen.",
]
# Hand labels, not a rule on the text: the purposes each notice states. quality = kwaliteit;
# training = training, opleiding, coaching; service = dienstverlening, service, "u beter van
# dienst zijn"; complaints = klachten; other = any other purpose; () = no purpose stated.
NOTICE_PURPOSES: dict[str, tuple[str, ...]] = {
    # IVR_NOTICES
    "Dit gesprek kan worden opgenomen voor trainings- en kwaliteitsdoeleinden.":
        ("training", "quality"),
    "Gesprekken worden opgenomen om onze dienstverlening te verbeteren.": ("service",),
    "Wij maken u erop attent dat dit telefoongesprek wordt opgenomen.": (),
    "Ter verbetering van onze dienstverlening kunnen gesprekken worden opgenomen.": ("service",),
    "Let op: dit gesprek wordt mogelijk opgenomen voor opleidingsdoeleinden.": ("training",),
    "Voor kwaliteitsdoeleinden worden telefoongesprekken opgenomen. Meer informatie vindt u in "
    "onze privacyverklaring.": ("quality",),
    # IVR_NOTICES_MORE
    "Gesprekken kunnen worden opgenomen voor de behandeling van klachten en om onze "
    "dienstverlening te verbeteren.": ("complaints", "service"),
    "Dit gesprek wordt opgenomen om gemaakte afspraken vast te leggen.": ("other",),
    "Wij nemen dit gesprek op voor kwaliteitsdoeleinden en ter voorkoming van fraude.":
        ("quality", "other"),
    "Om klachten goed te kunnen afhandelen, worden alle gesprekken opgenomen.": ("complaints",),
    # AGENT_NOTICES
    "Ik meld u even dat dit gesprek wordt opgenomen.": (),
    "Even voor de duidelijkheid: dit gesprek wordt opgenomen.": (),
    "Ik wil u erop wijzen dat wij dit gesprek opnemen voor trainingsdoeleinden.": ("training",),
}
# The caller asks whether the call is recorded; the agent's answer, by kind (KNOWS_KINDS). An
# answer is not a notice (Agent.notice stays False), whatever it says.
RECORDING_QUESTIONS = [
    "Mag ik u iets vragen: wordt dit gesprek opgenomen?",
    "Wordt dit gesprek eigenlijk opgenomen?",
    "Even tussendoor, wordt dit telefoongesprek opgenomen?",
    "Ik vroeg me af: worden deze gesprekken opgenomen?",
    "Weet u of dit gesprek wordt opgenomen?",
]
RECORDING_ANSWERS = {
    "yes": ["Ja, alle gesprekken worden opgenomen.",
            "Ja, dat klopt. Wij nemen onze gesprekken op voor kwaliteitsdoeleinden.",
            "Ja hoor, dit gesprek wordt opgenomen."],
    "no": ["Nee, wij nemen geen gesprekken op.",
           "Nee hoor, dit gesprek wordt niet opgenomen.",
           "Nee, dat doen wij hier niet."],
    "unsure": ["Dat weet ik eerlijk gezegd niet.",
               "Goede vraag. Dat weet ik niet zeker, dat zou ik moeten navragen.",
               "Ik denk het wel, maar ik weet het niet zeker."],
    "no_answer": ["Laten we eerst uw vraag afhandelen.",
                  "Een ogenblik, ik pak even uw gegevens erbij.",
                  "Daar kom ik straks even op terug."],
}  # fmt: skip
# The caller's own notice at the start of their first turn; the agent's response by kind
# (OBJECTED_KINDS: yes = objects, no = accepts, unclear).
CALLER_ANNOUNCEMENTS = [
    "Ik wil u laten weten dat ik dit gesprek opneem.",
    "Voor de duidelijkheid: ik neem dit gesprek op.",
    "Ik meld u even dat ik dit telefoongesprek opneem.",
]
AGENT_RESPONSES = {
    "yes": ["Daar ga ik niet mee akkoord. Ik wil niet dat u dit gesprek opneemt.",
            "Dat vind ik niet prettig. Wilt u de opname stoppen?",
            "Nee, dat mag niet zonder mijn toestemming."],
    "no": ["Dat is goed, geen probleem.",
           "Prima, dat mag. Wat kan ik voor u doen?",
           "Oké, dat is in orde."],
    "unclear": ["Hm, oké. Wat is uw vraag?",
                "Ik weet niet of dat zomaar mag. Zegt u het maar.",
                "Aha. Nou, vertelt u het maar."],
}  # fmt: skip
# Caller questions that sound like the recording question and are not, with the agent's reply
LOOKALIKE_QUESTIONS = [
    ("Neemt u contact met mij op als het geregeld is?",
     "Ja, u krijgt binnen een week bericht van ons."),
    ("Wordt mijn aanvraag opgenomen in het systeem?", "Ja, die staat er nu in."),
    ("Neemt u dit ook mee in de beoordeling?", "Ja, dat nemen we mee."),
    ("Wordt mijn melding ook opgenomen in het dossier?",
     "Ja hoor, die voeg ik aan uw dossier toe."),
]  # fmt: skip
MENUS = [
    "Voor afval, kies 1. Voor paspoorten en rijbewijzen, toets 2. Voor andere vragen, kies 3.",
    "Voor belastingen, toets 1. Voor een melding over de openbare ruimte, toets 2.",
    "Kies 1 voor burgerzaken, 2 voor afval en 3 voor vergunningen.",
]
WAITS = [
    "Een ogenblik geduld alstublieft. U wordt zo spoedig mogelijk geholpen.",
    "Alle medewerkers zijn in gesprek. Blijft u aan de lijn.",
    "U wordt doorverbonden met een medewerker.",
    "Er zijn nog twee wachtenden voor u.",
]
INTRO_PATTERNS = {
    "spreekt": "u spreekt met {name}",
    "met": "met {name}",
    "naam": "mijn naam is {name}",
    "lijn": "u heeft {name} aan de lijn",
    "hier": "{name} hier",
}
OPENINGS = [
    "Gemeente {muni}, {greet}, {intro}. Waarmee kan ik u helpen?",
    "{Greet}, {intro}, gemeente {muni}. Wat kan ik voor u doen?",
    "{Greet}, gemeente {muni}, {intro}.",
    "Klantcontactcentrum gemeente {muni}, {intro}, {greet}.",
]
OPENINGS_NO_NAME = [
    "Gemeente {muni}, {greet}, waarmee kan ik u helpen?",
    "{Greet}, gemeente {muni}, zegt u het maar.",
    "{Greet}, Klantcontactcentrum, wat kan ik voor u doen?",
    "Burgerzaken gemeente {muni}, {greet}.",
]
TOPICS = [
    ("Ik wil graag een afspraak maken voor een nieuw paspoort.",
     "Dat kan. Ik plan de afspraak nu voor u in. Welke dag komt u het beste uit?",
     "Donderdagochtend zou fijn zijn.",
     "Donderdag om tien uur is er nog plek. Neemt u een pasfoto en uw oude paspoort mee."),
    ("Ik heb een vraag over het ophalen van grofvuil.",
     "Grofvuil halen wij op afspraak op. Wat wilt u laten ophalen?",
     "Een oude bank en twee stoelen.",
     "Dat meld ik voor u aan. Zet u het dinsdagochtend voor acht uur aan de straat."),
    ("Mijn groene container is deze week niet geleegd.",
     "Wat vervelend. Op welk adres staat de container?",
     "Op de Dorpsstraat nummer twaalf.",
     "Ik heb een melding gemaakt. De container wordt morgen alsnog geleegd."),
    ("Ik ben verhuisd en wil mijn nieuwe adres doorgeven.",
     "Dat kunt u het beste via onze website doen, met uw DigiD.",
     "Ik heb helaas nog geen DigiD.",
     "Dan kunt u langskomen op het gemeentehuis. Neemt u wel een geldig legitimatiebewijs mee."),
    ("Ik heb een vraag over mijn parkeervergunning.",
     "Gaat het om een nieuwe aanvraag of om een verlenging?",
     "Om een verlenging, hij verloopt volgende maand.",
     "U krijgt binnenkort vanzelf een brief over de verlenging. U hoeft verder niets te doen."),
    ("Ik heb een vraag over de aanslag gemeentelijke belastingen.",
     "Daar kan ik u mee helpen. Wat is uw vraag precies?",
     "Ik wil graag in termijnen betalen.",
     "Dat kan. Ik zet een automatische incasso in tien termijnen voor u klaar."),
    ("Ik wil een kapotte lantaarnpaal melden.",
     "Dank u wel voor uw melding. Waar staat de lantaarnpaal?",
     "Bij de speeltuin aan de Kerkweg.",
     "Ik heb het doorgegeven. Een monteur komt binnen vijf werkdagen langs."),
    ("Ik wil een boom in mijn tuin laten kappen. Heb ik daar een vergunning voor nodig?",
     "Dat hangt af van de dikte van de stam. Weet u hoe dik de boom is?",
     "Ongeveer dertig centimeter.",
     "Dan heeft u een omgevingsvergunning nodig. Die kunt u online aanvragen."),
]  # fmt: skip
FOLLOW_UPS = [
    ("En kan ik dat ook per e-mail ontvangen?", "Ja hoor, dat stuur ik u vandaag nog toe."),
    ("Tot hoe laat bent u vandaag bereikbaar?", "Wij zijn op werkdagen bereikbaar tot vijf uur."),
]
CALLER_SELF = [
    "{Greet}, u spreekt met {name}. ",
    "{Greet}, mijn naam is {name}. ",
    "Ja, {greet}, met {name}. ",
]
CALLER_OPEN = ["{Greet}. ", "Ja, {greet}. ", "Hallo, {greet}. ", ""]
CLOSINGS_CALLER = [
    "Dank u wel, dan weet ik genoeg.",
    "Prima, bedankt voor uw hulp.",
    "Heel fijn, dank u wel.",
]
CLOSINGS_AGENT = [
    "Graag gedaan. Nog een fijne dag.",
    "Geen dank. Fijne dag verder.",
    "Graag gedaan, tot ziens.",
]

# Voices are chosen so that Whisper base (the default recogniser) hears the espeak-ng Dutch
# about as well as it can: 125-155 wpm with a short word gap (-g 4-5) instead of 155-185 wpm
# without one, and the variants and pitches it recognised best (a high -p made every variant
# worse). Klatt variants (nl+klatt*) are not used: after the 8 kHz band-pass the Silero VAD in
# front of Whisper hears almost none of their speech. Variants are split between the roles so
# that IVR, agent and caller stay distinct for a speaker-embedding model (see docs/domain.md): the
# IVR variants (f5, m7) are used by no agent or caller (f2 is left out: it sounds like f5).
VOICES_IVR = [Voice("nl+f5", 56, 132, 5), Voice("nl+m7", 42, 140, 4), Voice("nl+f5", 46, 132, 5)]
# agents: the speed is drawn per call within +-12 wpm of the one given here
VOICES_AGENT_F = [Voice("nl+f1", 42, 138, 4), Voice("nl+f3", 52, 138, 5),
                  Voice("nl+f4", 56, 138, 5)]  # fmt: skip
VOICES_AGENT_M = [Voice("nl", 45, 142, 4), Voice("nl+m1", 40, 142, 4), Voice("nl+m5", 50, 142, 4)]
VOICES_CALLER_F = [Voice("nl+f3", 40, 135, 5), Voice("nl+f4", 38, 135, 4)]
VOICES_CALLER_M = [Voice("nl+m4", 38, 135, 4), Voice("nl+m8", 40, 135, 4)]


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _fill(template: str, **kw: str) -> str:
    """Format ``template``; ``{Greet}`` and ``{Muni}``-style keys take the capitalised value."""
    kw |= {_cap(k): _cap(v) for k, v in kw.items()}
    return _cap(template.format(**kw))


# --------------------------------------------------------------------------------------------
# Scenarios: what each committed call covers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """The choices that make one fixture call; the phrasing is drawn from the seeded pools."""

    suffix: str  # appended to "callNN_" in the file name
    name: str = "full"  # none / first / last / full: what the agent says of their own name
    pattern: str = "spreekt"  # key of INTRO_PATTERNS
    title: bool = False  # "mevrouw/meneer" before a last name
    interfix: bool = False  # the agent's surname has an interfix ("van der Berg")
    ivr: str = "notice"  # none / plain / notice / lookalike / late_notice (notice after music)
    menu: bool = False  # IVR menu followed by DTMF
    music_s: float | None = None  # hold music before the agent (None: 3-7 s, 0: none)
    ringback: int = 1  # ringback cycles (0: none)
    agent_notice: str = ""  # "" / "opening" (in the opening turn) / "later" (after the question)
    caller_self: bool = False  # the caller says their own name
    transfer: str = ""  # "" / "mention" (a colleague's name) / "colleague" (who then speaks)
    agent_female: bool = True
    hard: bool = False  # caller has the agent's sex and a close pitch
    exchanges: int = 0  # follow-up question/answer pairs after the topic's two pairs
    closing: bool = True  # thanks and goodbye at the end (False: the recording stops earlier)
    # speech turns kept after the agent's opening (None: all); the recording stops after the
    # last one. Everything is still drawn, so the other calls' names and phrasing stay the same.
    turns: int | None = None
    channels: int = 1
    rate: int = SR
    fmt: str = "wav"
    noise_dbfs: float | None = None
    # recording talk (calls 21-27): drawn only when set, so the earlier calls stay as they were
    notice_pool: str = ""  # IVR notices from "" IVR_NOTICES / "more" IVR_NOTICES_MORE
    ask: str = ""  # the caller asks whether the call is recorded; the answer's kind
    ask_after: int = 0  # exchanges after the caller's topic turn (0: right after that turn)
    announce: str = ""  # the caller announces recording; the agent objects: yes / no / unclear
    lookalike_questions: int = 0  # caller questions that sound like the recording question


# fmt: off
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("ivr_notice_full", name="full", pattern="spreekt", menu=True, turns=2, fmt="flac"),
    Scenario("noivr_first_stereo_8k", name="first", pattern="met", ivr="none", music_s=0,
             exchanges=1, agent_female=False, channels=2, rate=8000),
    Scenario("lookalike_last", name="last", pattern="met", title=True, ivr="lookalike",
             menu=True, turns=2, fmt="mp3"),
    Scenario("notice_none_callername_stereo", name="none", caller_self=True,
             agent_female=False, turns=4, channels=2, fmt="mp3"),
    Scenario("plain_agentnotice_8k", name="full", pattern="naam", ivr="plain", menu=True,
             agent_notice="opening", turns=3, rate=8000, fmt="mp3"),
    Scenario("notice_longmusic_first", name="first", pattern="spreekt", music_s=20.0,
             closing=False, turns=2, fmt="mp3"),
    Scenario("noivr_none_agentnotice_transfer_hard_stereo_8k", name="none", ivr="none",
             music_s=0, ringback=2, agent_notice="later", transfer="mention", hard=True,
             agent_female=False, channels=2, rate=8000),
    Scenario("lookalike_full_interfix_noise_8k", name="full", pattern="lijn", interfix=True,
             ivr="lookalike", menu=True, turns=4, rate=8000, noise_dbfs=-45.0),
    Scenario("notice_last_callername_stereo", name="last", pattern="met", title=True,
             caller_self=True, agent_female=False, turns=4, channels=2, fmt="mp3"),
    Scenario("notice_first_hier_noise", name="first", pattern="hier", agent_female=False,
             turns=2, fmt="mp3", noise_dbfs=-48.0),
    Scenario("noivr_full_hard_8k", name="full", pattern="naam", ivr="none", music_s=0,
             ringback=0, exchanges=2, hard=True, rate=8000),
    Scenario("plain_none_colleague_stereo_8k", name="none", ivr="plain", menu=True,
             transfer="colleague", turns=3, channels=2, rate=8000, fmt="flac"),
    Scenario("notice_full_agentnotice", name="full", pattern="lijn", agent_notice="later",
             agent_female=False, turns=5, fmt="mp3"),
    Scenario("noivr_last_bare", name="last", pattern="met", ivr="none", music_s=0,
             exchanges=1, turns=6),
    Scenario("latenotice_first_noise_8k", name="first", pattern="naam", ivr="late_notice",
             turns=4, rate=8000, fmt="mp3", noise_dbfs=-42.0),
    Scenario("notice_none_callername_8k", name="none", caller_self=True, agent_female=False,
             rate=8000),
    Scenario("plain_full_hard", name="full", pattern="met", ivr="plain", menu=True, hard=True,
             agent_female=False, turns=4, fmt="mp3"),
    Scenario("noivr_first_agentnotice", name="first", pattern="spreekt", ivr="none", music_s=0,
             agent_notice="opening", exchanges=1, fmt="flac"),
    Scenario("notice_last_noise_stereo", name="last", pattern="spreekt", title=True,
             turns=4, channels=2, fmt="mp3", noise_dbfs=-46.0),
    Scenario("notice_full_hier_8k", name="full", pattern="hier", menu=True,
             agent_female=False, turns=4, rate=8000, fmt="flac"),
    # the caller asks whether the call is recorded, or announces recording themself
    Scenario("notice_ask_yes_topic", name="full", pattern="naam", ask="yes", ask_after=0,
             ringback=0, music_s=2.0, turns=4, fmt="mp3"),
    Scenario("notice_ask_no_later_8k", name="first", pattern="met", notice_pool="more",
             ask="no", ask_after=2, agent_female=False, ringback=0, music_s=2.5, closing=False,
             rate=8000),
    Scenario("noivr_announce_unclear_ask_unsure_stereo", name="last", pattern="spreekt",
             title=True, ivr="none", music_s=0, announce="unclear", ask="unsure", ask_after=2,
             closing=False, channels=2, fmt="mp3"),
    Scenario("noivr_agentnotice_ask_noanswer_8k", name="none", ivr="none", music_s=0,
             agent_notice="opening", ask="no_answer", ask_after=0, agent_female=False,
             rate=8000, fmt="flac"),
    Scenario("latenotice_announce_objects_noise_8k", name="full", pattern="lijn",
             ivr="late_notice", notice_pool="more", announce="yes", agent_female=False,
             ringback=0, turns=4, rate=8000, fmt="mp3", noise_dbfs=-44.0),
    Scenario("noivr_announce_accepts_stereo_8k", name="first", pattern="hier", ivr="none",
             music_s=0, announce="no", exchanges=1, channels=2, rate=8000, fmt="mp3"),
    Scenario("notice_lookalike_questions", name="last", pattern="met", notice_pool="more",
             lookalike_questions=2, ringback=0, music_s=0, closing=False,
             agent_female=False, fmt="mp3"),
)
# fmt: on


class Picker:
    """Seeded choices that avoid repeating a value until its pool is used up."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._left: dict[int, list] = {}  # id of a module-level pool -> values not drawn yet

    def pick(self, pool: Sequence[T], avoid: Iterable[T] = ()) -> T:
        """A value of ``pool`` not in ``avoid``, drawn without replacement until it runs out."""
        left = self._left.setdefault(id(pool), [])
        avoid = set(avoid)
        choices = [x for x in left if x not in avoid]
        if not choices:
            left[:] = list(pool)
            self.rng.shuffle(left)
            choices = [x for x in left if x not in avoid]
        x = choices[0]
        left.remove(x)
        return x


def build_spec(sc: Scenario, stem: str, pk: Picker) -> CallSpec:
    """Turn a scenario into a full call spec, drawing phrasing, names and voices from ``pk``."""
    rng = pk.rng
    muni = pk.pick(MUNICIPALITIES)
    greet = pk.pick(GREETINGS)
    first_pool = FIRST_F if sc.agent_female else FIRST_M
    first, last = pk.pick(first_pool), pk.pick(SURNAMES_INTERFIX if sc.interfix else SURNAMES)
    intro = Intro(
        first=first if sc.name in ("first", "full") else "",
        last=last if sc.name in ("last", "full") else "",
    )
    # voices: the caller is of the other sex unless the call is meant to be hard
    caller_female = sc.agent_female if sc.hard else not sc.agent_female
    agent_base = pk.pick(VOICES_AGENT_F if sc.agent_female else VOICES_AGENT_M)
    caller_pool = VOICES_CALLER_F if caller_female else VOICES_CALLER_M
    caller_voice = pk.pick(caller_pool)
    if sc.hard:  # same sex and a pitch close to the agent's
        caller_voice = replace(caller_voice, pitch=agent_base.pitch + rng.choice([-6, -4, 4, 6]))
    agent_voice = replace(agent_base, speed=agent_base.speed + rng.randint(-12, 12))
    ivr_voice = pk.pick(VOICES_IVR)

    parts: list[Part] = []
    if sc.ringback:
        parts.append(Ringback(sc.ringback, last_off_s=rng.uniform(0.6, 2.0)))
    if sc.ivr != "none":
        parts.append(Ivr(_fill(pk.pick(IVR_WELCOME), muni=muni, greet=greet)))
        if sc.ivr == "notice":
            parts.append(_ivr_notice(sc, pk))
        elif sc.ivr in ("lookalike", "plain"):
            if sc.ivr == "lookalike" or rng.random() < 0.5:
                parts.append(Ivr(pk.pick(LOOKALIKES)))
        if sc.menu:
            parts.append(Ivr(pk.pick(MENUS)))
            parts.append(Dtmf(rng.choice("123")))
        parts.append(Ivr(pk.pick(WAITS)))
    music = round(rng.uniform(3.0, 7.0), 1) if sc.music_s is None else sc.music_s
    if music:
        if sc.ivr == "late_notice":  # notice only in the waiting loop, between music
            half = round(music / 2, 1)
            parts += [Music(half), _ivr_notice(sc, pk), Music(half)]
        else:
            parts.append(Music(music))

    # the agent's opening turn
    if intro.kind == "none":
        opening = _fill(pk.pick(OPENINGS_NO_NAME), muni=muni, greet=greet)
    else:
        name = {
            "full": f"{first} {last}",
            "first": first,
            "last": (("mevrouw " if sc.agent_female else "meneer ") if sc.title else "") + last,
        }[intro.kind]
        said = INTRO_PATTERNS[sc.pattern].format(name=name)
        opening = _fill(pk.pick(OPENINGS), muni=muni, greet=greet, intro=said)
    parts.append(Agent(opening, intro=intro))
    agent_notice = pk.pick(AGENT_NOTICES) if sc.agent_notice else ""
    if sc.agent_notice == "opening":  # a separate sentence right after the introduction
        parts.append(Agent(f"{agent_notice} Wat kan ik voor u doen?", notice=True,
                           purposes=NOTICE_PURPOSES[agent_notice]))

    # the caller's question, the answers, the closing
    q, a1, c2, a2 = pk.pick(TOPICS)
    if sc.caller_self:
        cf = pk.pick(FIRST_M if not caller_female else FIRST_F, avoid=[first])
        cname = f"{cf} {pk.pick(SURNAMES, avoid=[last])}"
        lead = _fill(pk.pick(CALLER_SELF), greet=greet, name=cname)
    else:
        lead = _fill(pk.pick(CALLER_OPEN), greet=greet) if rng.random() < 0.7 else ""
    if sc.announce:  # the caller's own notice opens their first turn; the agent responds
        parts.append(Caller(lead + pk.pick(CALLER_ANNOUNCEMENTS), announces_recording=True))
        parts.append(Agent(pk.pick(AGENT_RESPONSES[sc.announce]), objected=sc.announce))
        lead = ""
    topic = len(parts)  # the caller's topic turn
    parts.append(Caller(lead + q))
    if sc.agent_notice == "later":
        parts.append(Agent(agent_notice, notice=True, purposes=NOTICE_PURPOSES[agent_notice]))
    if sc.transfer:
        colleague_female = rng.random() < 0.5
        cl = pk.pick(SURNAMES, avoid=[last])
        title = "mevrouw" if colleague_female else "meneer"
        if sc.transfer == "mention":
            parts.append(
                Agent(
                    f"{a1.split('.')[0]}. Mijn collega {title} {cl} weet daar meer "
                    f"van, {title} {cl} belt u morgen terug."
                )
            )
            parts.append(Caller(pk.pick(CLOSINGS_CALLER)))
            parts.append(Agent(pk.pick(CLOSINGS_AGENT)))
        else:
            parts.append(Agent(f"Daarvoor verbind ik u door met {title} {cl}. Een ogenblik."))
            parts.append(Music(rng.uniform(2.5, 4.5)))
            colleague = pk.pick(
                VOICES_AGENT_F if colleague_female else VOICES_AGENT_M, avoid=[agent_base]
            )
            parts.append(
                Agent(
                    _fill(
                        "{greet}, met {name}. {answer}",
                        greet=pk.pick(GREETINGS),
                        name=f"{title} {cl}",
                        answer=a1,
                    ),
                    voice=colleague,
                )
            )
            parts.append(Caller(c2))
            parts.append(Agent(a2, voice=colleague))
    else:
        parts += [Agent(a1), Caller(c2), Agent(a2)]
        for cq, aa in FOLLOW_UPS[: sc.exchanges]:
            parts += [Caller(cq), Agent(aa)]
        if sc.closing:
            parts += [Caller(pk.pick(CLOSINGS_CALLER)), Agent(pk.pick(CLOSINGS_AGENT))]

    if sc.ask or sc.lookalike_questions:
        parts = _insert_questions(parts, topic, sc, pk)
    if sc.turns is not None:
        parts = _end_after(parts, sc.turns)
    return CallSpec(
        stem=stem,
        parts=tuple(parts),
        ivr_voice=ivr_voice,
        agent_voice=agent_voice,
        caller_voice=caller_voice,
        channels=sc.channels,
        rate=sc.rate,
        fmt=sc.fmt,
        noise_dbfs=sc.noise_dbfs,
        description=describe(sc, muni, music),
    )


def _ivr_notice(sc: Scenario, pk: Picker) -> Ivr:
    """An IVR recording notice with its hand-labelled purposes."""
    phrase = pk.pick(IVR_NOTICES_MORE if sc.notice_pool == "more" else IVR_NOTICES)
    return Ivr(phrase, notice=True, purposes=NOTICE_PURPOSES[phrase])


def exchange_ends(parts: Sequence[Part], after: int) -> list[int]:
    """Positions right after each agent reply that closes an exchange, past ``parts[after]``:
    an agent part followed by a caller part or by the end of the call."""
    return [i + 1 for i in range(after + 1, len(parts))
            if isinstance(parts[i], Agent)
            and (i + 1 == len(parts) or isinstance(parts[i + 1], Caller))]


def _insert_questions(parts: list[Part], topic: int, sc: Scenario, pk: Picker) -> list[Part]:
    """``parts`` with the caller's recording question and the agent's answer (right after the
    topic turn, or after ``sc.ask_after`` exchanges from the topic turn on), and with
    look-alike questions after the topic's two exchanges."""
    ends = exchange_ends(parts, topic)
    inserts: list[tuple[int, list[Part]]] = []
    if sc.ask:
        at = topic + 1 if sc.ask_after == 0 else ends[sc.ask_after - 1]
        inserts.append((at, [Caller(pk.pick(RECORDING_QUESTIONS), asks_recording=True),
                             Agent(pk.pick(RECORDING_ANSWERS[sc.ask]), answer=sc.ask)]))
    pairs = [pk.pick(LOOKALIKE_QUESTIONS) for _ in range(sc.lookalike_questions)]
    if pairs:
        inserts.append((ends[1], [part for cq, aa in pairs for part in (Caller(cq), Agent(aa))]))
    out = list(parts)
    for at, new in sorted(inserts, key=lambda x: -x[0]):  # stable: the question goes first
        out[at:at] = new
    return out


def _end_after(parts: list[Part], turns: int) -> list[Part]:
    """``parts`` up to the ``turns``-th speech turn after the agent's opening turn."""
    first = next(i for i, p in enumerate(parts) if isinstance(p, Agent))
    n = 0
    for i in range(first + 1, len(parts)):
        if isinstance(parts[i], Agent | Caller):
            n += 1
            if n == turns:
                return parts[: i + 1]
    return parts


def describe(sc: Scenario, muni: str, music_s: float) -> str:
    """One readable line about what a scenario contains."""
    bits = [f"gemeente {muni}"]
    bits.append(
        {
            "none": "no IVR",
            "plain": "IVR without notice",
            "notice": "IVR with notice",
            "lookalike": "IVR with a notice look-alike",
            "late_notice": "notice in the waiting loop",
        }[sc.ivr]
    )
    if sc.menu and sc.ivr != "none":
        bits.append("menu + DTMF")
    if music_s:
        bits.append(f"{music_s:g} s music")
    bits.append(
        f"agent name {sc.name}"
        + (f" ('{INTRO_PATTERNS[sc.pattern]}')" if sc.name != "none" else "")
    )
    if sc.agent_notice:
        bits.append(f"agent notice ({sc.agent_notice})")
    if sc.caller_self:
        bits.append("caller gives own name")
    if sc.transfer:
        bits.append(
            {"mention": "colleague named", "colleague": "transfer to a colleague"}[sc.transfer]
        )
    if sc.turns is not None:
        bits.append(f"ends {sc.turns} turns after the agent's opening")
    if sc.hard:
        bits.append("hard: same-sex voices")
    if sc.announce:
        bits.append("caller announces recording, agent "
                    + {"yes": "objects", "no": "accepts", "unclear": "neither objects nor accepts"}[
                        sc.announce])
    if sc.ask:
        when = "right after the topic" if sc.ask_after == 0 else f"after {sc.ask_after} exchanges"
        bits.append(f"caller asks if recorded ({when}), answer {sc.ask}")
    if sc.lookalike_questions:
        bits.append("caller questions that are not about recording")
    return "; ".join(bits)


def fixture_specs(seed: int = SEED) -> list[CallSpec]:
    """The specs of the committed call set."""
    pk = Picker(seed)
    return [build_spec(sc, f"call{i:02d}_{sc.suffix}", pk) for i, sc in enumerate(SCENARIOS, 1)]


# --------------------------------------------------------------------------------------------
# The long call (benchmarks) and the edge files
# --------------------------------------------------------------------------------------------


def build_long_call(
    seconds: float = 180.0, out: Path | str | None = None, seed: int = SEED + 1,
    conversation: Sequence[tuple[str, str]] = (),
) -> Rendered:
    """Build a call of at least ``seconds`` from the same parts as the fixtures.

    IVR with a notice, hold music, the agent's opening (full name) and then a long caller/agent
    conversation: synthetic, or with ``conversation`` ((text, recording) pairs, e.g. real
    speech from fillets-ng) the caller and the agent take turns reading those. Returns the :class:`Rendered` call: ``audio()`` at :data:`SR`, and
    ``labels()``, ``rttm()`` and ``transcript()`` give its references. With ``out`` (e.g.
    ``long.wav``; the suffix sets the format, 16 kHz mono) the audio is also written, with
    ``<stem>.rttm``, ``<stem>.txt`` and ``<stem>.labels.csv`` beside it.
    """
    out_path = Path(out) if out is not None else None
    fmt = out_path.suffix.lstrip(".").lower() if out_path else "wav"
    stem = out_path.stem if out_path else "long_call"
    pk = Picker(seed)
    base = build_spec(
        Scenario("long", name="full", pattern="spreekt", music_s=20.0, fmt=fmt), stem, pk
    )
    head = list(base.parts[:-2])  # drop the closing pair; it goes at the very end
    closing = list(base.parts[-2:])
    with tempfile.TemporaryDirectory() as tmp:
        tts = Tts(Path(tmp))
        k = 0
        while True:
            if conversation:
                lines = [conversation[(4 * k + i) % len(conversation)] for i in range(4)]
                head += [(Caller if i % 2 == 0 else Agent)(text, clip=clip)
                         for i, (text, clip) in enumerate(lines)]
            else:
                q, a1, c2, a2 = TOPICS[k % len(TOPICS)]
                head += [
                    Caller(("En dan nog iets. " if k else "") + q),
                    Agent(a1),
                    Caller(c2),
                    Agent(a2),
                ]
            k += 1
            spec = replace(
                base,
                parts=tuple(head + closing),
                description=f"long call ({k} topics) for benchmarks",
            )
            rendered = render(spec, tts)
            if rendered.duration_s >= seconds:
                break
        if out_path is not None:
            written = write_call(
                rendered,
                out_path,
                out_path.with_suffix(".rttm"),
                out_path.with_suffix(".txt"),
                Path(tmp),
            )
            write_csv(out_path.with_suffix(".labels.csv"), LABEL_HEADER, [written.labels])
    return rendered


def write_edge(edge: Path, tts: Tts, workdir: Path) -> None:
    """Write the edge-case files (see README)."""
    edge.mkdir(parents=True, exist_ok=True)
    (edge / "empty.wav").write_bytes(b"")
    write_pcm16(edge / "silence.wav", np.zeros((10 * SR, 1), dtype=np.float32))
    encode(hold_music(30.0, SEED)[:, None], edge / "music_only.flac", SR, "flac", workdir)
    (edge / "not_audio.wav").write_text(
        "This is a text file with a .wav name; it is not audio.\n", encoding="utf-8"
    )
    write_pcm16(edge / "zero_length.wav", np.zeros((0, 1), dtype=np.float32))

    agent = VOICES_AGENT_F[0]
    clip = tts.say("Gemeente Súdwest-Fryslân, goedemorgen, met Sanne de Vries.", agent)
    pad = np.zeros(int(0.5 * SR), dtype=np.float32)
    write_pcm16(edge / "gemeente_één_ü.wav", np.concatenate([pad, clip, pad])[:, None])

    # a valid 16 kHz mono mp3 of about 10 s, cut to its first 40 % of bytes
    speech = np.concatenate([pad, clip, pad, tts.say(TOPICS[0][0], VOICES_CALLER_M[0]), pad])
    full_mp3 = workdir / "full.mp3"
    encode(speech[:, None], full_mp3, SR, "mp3", workdir)
    data = full_mp3.read_bytes()
    (edge / "truncated.mp3").write_bytes(data[: int(len(data) * 0.4)])

    # a RIFF/WAVE file whose fmt chunk is broken: 0 channels, 0 Hz, and a wrong RIFF size
    pcm = (np.clip(clip[:SR], -1, 1) * 32767).astype("<i2").tobytes()  # 1 s of speech
    fmt_chunk = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 0, 0, 0, 0, 16)
    data_chunk = b"data" + struct.pack("<I", len(pcm)) + pcm
    (edge / "corrupt_header.wav").write_bytes(
        b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + b"WAVE" + fmt_chunk + data_chunk
    )

    # a short valid stereo clip: caller on the left, agent on the right
    caller = tts.say(
        "Goedemiddag, ik heb een vraag over mijn parkeervergunning.", VOICES_CALLER_M[0]
    )
    agent_clip = tts.say("Gemeente Zwolle, goedemiddag, met Anouk.", agent)
    n = len(pad) * 3 + len(caller) + len(agent_clip)
    stereo = np.zeros((n, 2), dtype=np.float32)
    stereo[len(pad) : len(pad) + len(agent_clip), 1] = agent_clip
    c0 = 2 * len(pad) + len(agent_clip)
    stereo[c0 : c0 + len(caller), 0] = caller
    encode(stereo, edge / "call_stereo.ogg", SR, "ogg", workdir)
    write_m4a(edge / "call_stereo.m4a", stereo)


def write_m4a(path: Path, audio: np.ndarray, kbps: int = 48) -> None:
    """Write (n, channels) float audio at :data:`SR` as AAC in an MP4 (.m4a) with PyAV.

    sox cannot write m4a; without PyAV the file is left as it is, with a warning.
    """
    try:
        import av
    except ImportError:
        log.warning("PyAV is not installed (pip install av): %s not rewritten", path)
        return
    layout = "stereo" if audio.shape[1] == 2 else "mono"
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=SR, layout=layout)
        stream.bit_rate = kbps * 1000
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio.T, dtype=np.float32), format="fltp", layout=layout
        )
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


EDGE_DOC = {
    "empty.wav": "0 bytes.",
    "silence.wav": "10 s of digital silence, 16 kHz mono 16-bit PCM.",
    "music_only.flac": "30 s of synthetic hold music, no speech, 16 kHz mono.",
    "not_audio.wav": "A text file with a .wav name.",
    "truncated.mp3": "A valid 16 kHz mono mp3 of speech, cut to its first 40 % of bytes.",
    "corrupt_header.wav": "RIFF/WAVE with a broken header: RIFF size 0xFFFFFFF0, fmt chunk with "
    "0 channels and 0 Hz, followed by 1 s of valid 16-bit PCM speech data.",
    "zero_length.wav": "A valid 16 kHz mono 16-bit WAV header with 0 frames.",
    "gemeente_één_ü.wav": "Non-ASCII file name: a valid 16 kHz mono clip of an agent greeting "
    "(full name, 'Sanne de Vries').",
    "call_stereo.ogg": "A short valid stereo Ogg Vorbis clip, 16 kHz: agent greeting on channel "
    "1, then the caller on channel 0.",
    "call_stereo.m4a": "The same clip as AAC in an MP4 container (written with PyAV; decoders "
    "that ignore the edit list see 1024 priming samples first).",
}


# --------------------------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------------------------

README_HEAD = """\
# Synthetic Dutch mystery calls (test fixtures)

Generated by `generate.py` with espeak-ng (speech) and sox (codecs, 8 kHz telephone band).
**Do not edit by hand**: this README, the calls, the labels, the RTTM and the transcripts are all
written by the generator from one declarative spec per call, so labels cannot drift from audio.

Regenerate with the project venv (needs numpy, PyAV for the m4a edge file, `espeak-ng` and
`sox` with `libsox-fmt-all`; fixed seed, byte-for-byte reproducible with the same tool versions):

```
python audio_fixtures/generate.py --out audio_fixtures
```

A ~3 minute call for benchmarks (not committed; the suffix picks the format, 16 kHz mono):

```
python audio_fixtures/generate.py --long /tmp/long_call.wav   # + .rttm, .txt, .labels.csv
```

or from Python: `build_long_call(seconds=180, out="/tmp/long_call.wav")`.

## Layout

- `calls/` the calls; `labels.csv` their labels; `calls.csv` their format, voices and contents.
- `rttm/<stem>.rttm` reference segments: `SPEAKER <stem> 1 <start> <dur> <NA> <NA> <label> <NA>
  <NA>` with labels IVR, AGENT, CALLER, MUSIC, TONE (ringback and each DTMF digit are TONE).
  Speech segments span an utterance from its first to its last voiced sample (pauses between
  sentences of one utterance stay inside it).
- `transcripts/<stem>.txt` one line per utterance: `<start>\\t<end>\\t<ROLE>\\t<text>` (seconds).
- `edge/` files that are not normal calls (below).

## Labels (`labels.csv`)

`file,notice_before_agent,notice_by_agent,agent_name,agent_first,agent_last,agent_start_s,\
agent_knows_recording,notice_contradicted,notice_purpose,caller_announced_recording,agent_objected`

- `file`: path relative to this folder.
- `notice_before_agent` (yes/no): a real, non-negated recording notice was played (IVR) before
  the agent's first word. Look-alikes ("Gesprekken worden niet opgenomen", "Uw gegevens worden
  opgenomen in ons systeem", ...) are not notices.
- `notice_by_agent` (yes/no): the agent said a recording notice.
- `agent_name` (none/first/last/full) with `agent_first`, `agent_last`: the name the agent gave
  for themself in the opening turn; `agent_last` includes the interfix ("de Vries"); "met mevrouw
  Jansen" is `last`. The caller's own name, a colleague's name and the municipality are not it.
- `agent_start_s`: onset of the agent's first word in seconds (2 decimals), equal to the start
  of the first AGENT segment of the RTTM.
- `agent_knows_recording` (yes/no/unsure/no_answer/not_asked): the agent's answer when the
  caller asks "wordt dit gesprek opgenomen?"; `no_answer`: the agent talks past the question;
  `not_asked`: nobody asks (questions that only sound like it, "neemt u contact met mij op?",
  "wordt mijn aanvraag opgenomen in het systeem?", do not count). The answer ("ja, alle
  gesprekken worden opgenomen") is not a notice by the agent.
- `notice_contradicted` (yes/no): the call has a notice (before the agent or by the agent) and
  the agent answered `no` or `unsure`.
- `notice_purpose`: the purposes the call's notices state, `;`-joined in the order
  quality;training;service;complaints;other; `none_stated` when the notices state none;
  `no_notice` without a notice. Hand-labelled per notice phrase (`NOTICE_PURPOSES` in
  `generate.py`): kwaliteit; training/opleiding/coaching; dienstverlening/service/"u beter van
  dienst zijn"; klachten; any other purpose.
- `caller_announced_recording` (yes/no): the caller says they record the call ("ik wil u laten
  weten dat ik dit gesprek opneem"), at the start of their first turn.
- `agent_objected` (yes/no/unclear): the agent's response to that; empty when the caller did
  not announce.

## Audio

- Stereo calls: the caller on channel 0; the line (ringback, IVR, DTMF, music, agent) on
  channel 1. Mono calls: both mixed.
- 16 kHz calls: wav (16-bit PCM), flac or mp3. 8 kHz calls: band-limited to 300-3400 Hz; wav is
  8-bit mu-law. mp3 is written with the LAME delay trimmed (sox writes no gapless header), so
  decoded mp3 lines up with the labels; the generator decodes each file again and checks this.
- Ringback: 425 Hz, 1 s on / 4 s off. DTMF: dual-tone pairs, 100-200 ms. Hold music: chords,
  bass, melody and hi-hats with harmonics, not a steady tone.
- Voices (espeak-ng variant and pitch `-p`; speed `-s` and word gap `-g` per call in
  `calls.csv`):
  - IVR: {ivr}
  - agents: {agent}
  - callers: {caller}

  Distinct variants and pitches, as real IVR, agent and caller voices differ (see docs/domain.md);
  calls marked "hard" have a caller of the agent's sex at a close pitch. Speech is 125-155 wpm
  with a short word gap, the pace and the variants the default recogniser (Whisper base)
  transcribes best; even so it gets a large share of the words of this synthetic Dutch wrong.

## Calls

Calls 21-27 add what caller and agent say about recording after the opening (appended, so
calls 01-20 are the same files as before them): the caller asks whether the call is recorded,
right after their topic or after two exchanges, and the agent answers yes, no, unsure or talks
past it (`no_answer`); in call 22 the answer contradicts the IVR notice; the caller announces
that they record the call and the agent objects (25), accepts (26) or neither (23); call 27 has
caller questions that only sound like the question ("Neemt u contact met mij op als het
geregeld is?") and nobody asks. The notices of calls 22, 25 and 27 state purposes the others
do not (klachten, other). Phrasing: `RECORDING_QUESTIONS`, `RECORDING_ANSWERS`,
`CALLER_ANNOUNCEMENTS`, `AGENT_RESPONSES`, `LOOKALIKE_QUESTIONS`, `IVR_NOTICES_MORE` in
`generate.py`.

| file | notice before agent | notice by agent | agent name | agent start (s) | knows \
recording | notice purpose | caller announced | audio | contents |
|---|---|---|---|---|---|---|---|---|---|
"""


def readme(written: Sequence[Written]) -> str:
    """The README text, with the call table built from the written calls."""

    def voices(pool: Iterable[Voice]) -> str:
        return ", ".join(sorted({f"`{v.name} -p {v.pitch}`" for v in pool}))

    text = README_HEAD.format(
        ivr=voices(VOICES_IVR),
        agent=voices(VOICES_AGENT_F + VOICES_AGENT_M),
        caller=voices(VOICES_CALLER_F + VOICES_CALLER_M),
    )
    for w in written:
        lab, man = w.labels, w.manifest
        name = lab["agent_name"]
        given = " ".join(x for x in (lab["agent_first"], lab["agent_last"]) if x)
        audio = (
            f"{man['encoding']} {int(man['sample_rate']) // 1000} kHz "
            f"{'stereo' if man['channels'] == '2' else 'mono'}, {man['duration_s']} s"
            + (", noise" if man["noise"] else "")
        )
        knows = lab["agent_knows_recording"] + (
            " (contradicts the notice)" if lab["notice_contradicted"] == "yes" else "")
        announced = lab["caller_announced_recording"] + (
            f" (objected: {lab['agent_objected']})" if lab["agent_objected"] else "")
        text += (
            f"| `{lab['file']}` | {lab['notice_before_agent']} | {lab['notice_by_agent']} | "
            f"{name}{f' ({given})' if given else ''} | {lab['agent_start_s']} | {knows} | "
            f"{lab['notice_purpose']} | {announced} | {audio} | {man['description']} |\n"
        )
    text += "\n## Edge files (`edge/`)\n\n"
    text += "".join(f"- `{name}`: {doc}\n" for name, doc in EDGE_DOC.items())
    return text


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def generate(out: Path, seed: int = SEED) -> list[Written]:
    """Write the whole fixture set under ``out`` (calls, labels, RTTM, transcripts, edge)."""
    calls, rttm, txt = out / "calls", out / "rttm", out / "transcripts"
    for d, pattern in ((calls, "call*"), (rttm, "*.rttm"), (txt, "*.txt")):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob(pattern):
            old.unlink()
    written: list[Written] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        tts = Tts(workdir)
        for spec in fixture_specs(seed):
            rendered = render(spec, tts)
            if not 25.0 <= rendered.duration_s <= 60.0:
                raise GenerateError(f"{spec.stem}: {rendered.duration_s:.1f} s, want 25-60 s")
            w = write_call(
                rendered,
                calls / spec.filename,
                rttm / f"{spec.stem}.rttm",
                txt / f"{spec.stem}.txt",
                workdir,
                rel_to=out,
            )
            log.info("%s %s", w.labels["file"], {k: v for k, v in w.labels.items() if k != "file"})
            written.append(w)
        write_edge(out / "edge", tts, workdir)
    write_csv(out / "labels.csv", LABEL_HEADER, [w.labels for w in written])
    write_csv(out / "calls.csv", MANIFEST_HEADER, [w.manifest for w in written])
    (out / "README.md").write_text(readme(written), encoding="utf-8")
    return written


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write the fixture set into (default: this folder)",
    )
    ap.add_argument(
        "--long",
        type=Path,
        metavar="OUT.wav",
        help="instead, write one long call (suffix sets the format) with labels",
    )
    ap.add_argument(
        "--seconds",
        type=float,
        default=180.0,
        help="minimum length of the --long call in seconds (default 180)",
    )
    ap.add_argument("--seed", type=int, default=SEED, help="random seed (default %(default)s)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every step")
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s"
    )
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise SystemExit(
            "espeak-ng and sox are needed: apt-get install espeak-ng sox libsox-fmt-all"
        )
    if args.long:
        r = build_long_call(args.seconds, args.long)
        log.info("wrote %s (%.1f s): %s", args.long, r.duration_s, r.labels())
        return
    written = generate(args.out, args.seed)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    log.info("wrote %d calls; %s holds %.2f MB", len(written), args.out, total / 1e6)


if __name__ == "__main__":
    main()
