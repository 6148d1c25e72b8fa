"""Transcription stage: Whisper on call audio, offline, guarded against its failure modes.

Default backend: faster-whisper (CTranslate2, int8 on CPU) with the multilingual Whisper
*base* model that ``make install`` assembles under ``models/whisper-base-ct2``. Optional
backend: openai-whisper for users who have a ``.pt`` checkpoint. Both give the same types.

Telephone audio trips Whisper in known ways, and the defaults here are chosen against them:

* temperature fallback re-decodes a window up to six times; on an 8 kHz call openai-style
  defaults ran at 1.9x real time against 0.19x for greedy decoding without fallback
  (``docs/models.md``), so decoding is greedy at temperature 0 only;
* on music and silence Whisper invents text ("Ondertiteld door de Amara.org gemeenschap"):
  Silero VAD (bundled with faster-whisper) skips non-speech, segments with a high
  no-speech probability and low confidence are dropped, and known hallucinated phrases are
  filtered; where it cannot make out speech it may write out its prompt's words instead
  ("gemeente, goedemorgen, goedemiddag, ..."), and such copies are dropped too; every
  dropped segment is kept in ``Transcript.dropped``, with its reason, for inspection;
* conditioning on previous text lets one error loop through a whole call, so it is off;
* language detection is thrown off by a music intro, so the language is fixed (Dutch).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from rapidfuzz import fuzz
from threadpoolctl import threadpool_limits

from pipeline.models import model_dir, recorded_sha256, registered, sha256_file
from pipeline.types import ModelInfo, Segment, Transcript, Word

logger = logging.getLogger(__name__)

# Phrases Whisper produces from subtitle-laden training data when it hears no speech.
# Matched after normalisation (lower case, no punctuation); see docs/domain.md.
DEFAULT_HALLUCINATIONS: tuple[str, ...] = (
    r"ondertiteld door (de )?amara( ?\.? ?org)?( gemeenschap)?",
    r"ondertiteling (door )?(de )?amara( ?\.? ?org)?( gemeenschap)?",
    r"ondertitels? (ingediend |gemaakt )?door .*",
    r"bedankt voor het kijken",
    r"dank(je|u)? (wel )?voor het kijken",
    r"bedankt voor het luisteren",
    r"abonneer (je |u )?(op|op het) (dit |mijn |het )?kanaal.*",
    r"vergeet niet te abonneren.*",
    r"tv gelderland \d*",
    r"www\.? ?\w+\.? ?(nl|com|org)",
    r"(muziek|applaus|gelach|stilte)",
    r"subtitles by the amara ?\.? ?org community",
    r"thanks? (you )?for watching",
)


@dataclass(frozen=True)
class TranscribeOptions:
    """Options of the transcription stage."""

    backend: str = "faster-whisper"  # "faster-whisper" or "openai-whisper"
    # "default" = the offline Whisper base from models/; else a local CTranslate2 directory,
    # an openai-whisper .pt file, or a hub name (needs internet, e.g. "large-v3")
    model: str = "default"
    language: str | None = "nl"  # ISO code; None = detect (unreliable after music)
    device: str = "cpu"
    compute_type: str = "int8"  # CTranslate2 compute type (int8 is fastest on CPU)
    cpu_threads: int = 2  # intra-op threads for CTranslate2 / torch
    # 1 = greedy. Beam 5 gave the lowest word error rate on real speech (0.43-0.65 -> 0.41-0.59
    # over four channels) at about 1.5x the decoding time; the search past the opening decodes
    # greedily (AnalysisOptions.search_beam_size; docs/decisions/transcription.md)
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0,)  # no fallback loop (see module docstring)
    # off: with it, one loop ("opgenomen, opgenomen, ...") carried into every later window
    # and whole openings were lost (docs/decisions/transcription.md)
    condition_on_previous_text: bool = False
    # greedy decoding on narrowband audio falls into loops ("moeilijk, moeilijk, ..."); these
    # two cheap guards stop them without a fallback re-decode (faster-whisper only)
    repetition_penalty: float = 1.1  # >1 penalises tokens already generated
    no_repeat_ngram_size: int = 4  # forbid repeating any 4-gram within a window (0 = off)
    word_timestamps: bool = True
    # Silero VAD: only speech is decoded, joined into 30 s windows (faster-whisper's own
    # handling, which keeps the context between utterances)
    vad_filter: bool = True
    # > 0: decode each stretch of speech (merged up to this many seconds) on its own instead.
    # Off: short chunks lose Whisper's context (docs/decisions/transcription.md)
    chunk_s: float = 0.0
    # Silero speech probability (0..1); band-limited telephone speech scores low, and at 0.5
    # whole utterances were lost (docs/decisions/transcription.md)
    vad_threshold: float = 0.25
    # a channel (or stretch) in which the VAD finds no speech at all, though this many seconds
    # of it are plainly sound (20 dB over its floor), is decoded once without the VAD: Silero
    # heard nothing in whole caller channels of GSM and mu-law stereo calls (0 = off;
    # docs/decisions/transcription.md)
    vad_deaf_fallback_s: float = 1.0
    chunk_pad_s: float = 0.2  # seconds of context kept around each speech chunk
    # speech stretches closer than this (seconds) are decoded together when chunking
    # (docs/decisions/options.md)
    chunk_merge_gap_s: float = 0.5
    # "fit": the encoder reads the speech plus ``encoder_margin_s`` of padding, at least
    # ``encoder_min_s``; "full": the 30 s window (faster-whisper only; docs/decisions/options.md)
    encoder_window: str = "fit"
    encoder_margin_s: float = 3.0
    encoder_min_s: float = 15.0
    no_speech_threshold: float = 0.6  # drop a segment above this no-speech probability ...
    log_prob_threshold: float = -1.0  # ... when its mean log-probability is also below this
    compression_ratio_threshold: float = 2.4  # drop segments more repetitive than this
    hallucination_patterns: tuple[str, ...] = DEFAULT_HALLUCINATIONS  # regexes, whole segment
    domain_prompt: bool = True  # prompt Whisper with call vocabulary (and the organisation)
    # words the prompt lists: no sentences (Whisper would copy a notice never heard) and no
    # menu words (it put them into agents' mouths; docs/decisions/options.md)
    prompt_vocabulary: tuple[str, ...] = (
        "gemeente", "goedemorgen", "goedemiddag", "opgenomen",
        "kwaliteitsdoeleinden", "trainingsdoeleinden",
    )
    initial_prompt: str | None = None  # overrides the generated domain prompt when set
    # the prompt primes every 30 s window, not only the first (faster-whisper's hotwords);
    # off: no gain on the fixtures, 0.46 -> 0.47 WER on real speech (docs/decisions)
    prompt_every_window: bool = False
    # a segment mostly of the prompt's own words below this mean word probability is Whisper
    # copying its prompt, not speech: dropped as "prompt_copy" (0 = off; docs/decisions/options.md)
    prompt_copy_max_probability: float = 0.05
    # ... and words that write out the prompt's list in its own order ("goedemiddag, opgenomen,
    # kwaliteitsdoeleinden", a word may be misheard to this similarity), once two of the
    # vocabulary are among them, are cut where their probability is below the second value;
    # the run's first word may have been heard and goes only below the first value
    # (``prompt_copy_max_probability``). ``prompt_copy_ignore`` words do not count: "gemeente,
    # goedemorgen" with the name lost is an opening. 0 = off (docs/decisions/options.md)
    prompt_copy_similarity: float = 0.8
    prompt_copy_keep_probability: float = 0.3
    prompt_copy_ignore: tuple[str, ...] = ("gemeente",)
    per_channel: bool | None = None  # stereo: transcribe channels apart; None = when stereo
    # a segment whose words pause longer than this (seconds) is split there: Whisper's
    # segments over VAD-joined speech run across turns, and the role stage needs the turns
    # apart (0 = keep Whisper's segments)
    split_gap_s: float = 0.5
    # whole windows of joined speech sometimes end early and skip an utterance: speech (VAD)
    # of at least this many seconds that no segment covers is decoded again on its own
    # (0 = off; docs/decisions/transcription.md)
    fill_gaps_s: float = 1.0
    # ... and so is a segment with a word stretched over more than this many seconds (or a
    # quarter second per letter, if longer): Whisper decoded only part of the window, and the
    # alignment spread the words over speech it skipped ("vastgelegd" lasting 24 s)
    max_word_s: float = 5.0


def build_prompt(options: TranscribeOptions, organisation: str | None = None) -> str | None:
    """The initial prompt: explicit text, or call vocabulary plus the organisation name."""
    if options.initial_prompt is not None:
        return options.initial_prompt or None
    if not options.domain_prompt:
        return None
    parts = []
    if organisation:
        parts.append(organisation.strip())
    parts.extend(options.prompt_vocabulary)
    return ", ".join(parts) + "." if parts else None


def normalise_text(text: str) -> str:
    """Lower case, accents folded, punctuation removed, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w\s.]", " ", text)
    text = re.sub(r"(?<!\w)\.|\.(?!\w)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def is_prompt_copy(segment: Segment, prompt_words: frozenset[str],
                   max_probability: float) -> bool:
    """Whether ``segment`` is Whisper writing out its prompt rather than speech it heard: a
    run of two or more prompt words (normalised) makes up most of its words, at a mean word
    probability below ``max_probability``. Without word probabilities it cannot tell: False."""
    if not prompt_words or not segment.words:
        return False
    tokens = [(t, w.probability) for w in segment.words for t in normalise_text(w.text).split()]
    best: list[float] = []
    run: list[float] = []
    for token, probability in tokens:
        run = [*run, probability] if token in prompt_words else []
        best = max(best, run, key=len)
    return (len(best) >= 2 and 2 * len(best) > len(tokens)
            and sum(best) / len(best) < max_probability)


def prompt_copy_runs(segment: Segment, prompt_tokens: tuple[str, ...],
                     vocabulary: frozenset[str], similarity: float) -> list[tuple[int, int]]:
    """Word ranges [i, j) of ``segment`` that write out the prompt in its own order: each word
    the prompt's next token (or that token misheard, at least ``similarity`` alike), with two
    ``vocabulary`` words or more among them. Nobody says "goedemorgen, goedemiddag, opgenomen"."""
    vocab_at = {k for k, t in enumerate(prompt_tokens) if t in vocabulary}

    def at(word: Word) -> set[int]:
        tokens = normalise_text(word.text).split()
        if len(tokens) != 1:
            return set()
        return {k for k, t in enumerate(prompt_tokens) if tokens[0] == t or (
            len(t) >= 6 and fuzz.ratio(tokens[0], t) >= 100 * similarity)}

    places = [at(w) for w in segment.words]
    runs, i, chain = [], 0, places[0] if places else set()
    for k in range(1, len(places) + 1):
        nxt = {p for p in places[k] if p - 1 in chain} if k < len(places) else set()
        if nxt:
            chain = nxt
            continue
        if sum(bool(places[j] & vocab_at) for j in range(i, k)) >= 2:
            runs.append((i, k))
        i, chain = k, places[k] if k < len(places) else set()
    return runs


def strip_prompt_copies(segments: list[Segment], prompt: str | None,
                        options: TranscribeOptions) -> tuple[list[Segment], list[Segment]]:
    """(segments with the words that copy the prompt cut out, the cut words as dropped
    segments, reason ``prompt_copy``); see ``TranscribeOptions.prompt_copy_similarity``."""
    if not prompt or options.prompt_copy_similarity <= 0:
        return segments, []
    tokens = tuple(normalise_text(prompt).split())
    vocabulary = frozenset(t for v in options.prompt_vocabulary for t in normalise_text(v).split()
                           ) - {normalise_text(w) for w in options.prompt_copy_ignore}
    kept, cut = [], []
    for s in segments:
        runs = prompt_copy_runs(s, tokens, vocabulary, options.prompt_copy_similarity)
        if not runs:
            kept.append(s)
            continue
        gone = {j for i, k in runs for j in range(i, k)
                if s.words[j].probability < (options.prompt_copy_keep_probability if j > i
                                             else options.prompt_copy_max_probability)}
        if not gone:
            kept.append(s)
            continue
        words = [w for j, w in enumerate(s.words) if j not in gone]
        copied = [w for j, w in enumerate(s.words) if j in gone]
        cut.append(with_words(s, copied, drop_reason="prompt_copy"))
        if words:
            kept.append(with_words(s, words))
        logger.debug("prompt copied at %.2f: %r", s.start, " ".join(w.text for w in copied))
    return kept, cut


def with_words(s: Segment, words, **changes) -> Segment:
    """``s`` cut down to ``words`` (some of its own, in order): their span and text; the
    pieces keep the segment's scores (they were decoded together)."""
    return replace(s, start=words[0].start, end=words[-1].end, words=tuple(words),
                   text=" ".join(w.text.strip() for w in words), **changes)


def drop_reason(segment: Segment, options: TranscribeOptions,
                patterns: tuple[re.Pattern[str], ...],
                prompt_words: frozenset[str] = frozenset()) -> str | None:
    """Why a segment should not be trusted as speech, or None to keep it. ``prompt_words``:
    the normalised words of the prompt the segment was decoded with."""
    norm = normalise_text(segment.text)
    if not norm:
        return "empty"
    if any(p.fullmatch(norm) for p in patterns):
        return "known_hallucination"
    if is_prompt_copy(segment, prompt_words, options.prompt_copy_max_probability):
        return "prompt_copy"
    if (segment.no_speech_prob > options.no_speech_threshold
            and segment.avg_logprob < options.log_prob_threshold):
        return "no_speech"
    if segment.compression_ratio > options.compression_ratio_threshold:
        return "repetition"
    return None


@functools.lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def filter_segments(segments: list[Segment], options: TranscribeOptions,
                    prompt: str | None = None) -> tuple[list[Segment], list[Segment]]:
    """Split into (kept, dropped) by :func:`drop_reason`; dropped segments carry their
    reason. ``prompt``: the initial prompt the segments were decoded with."""
    patterns = _compiled(options.hallucination_patterns)
    words = frozenset(normalise_text(prompt).split()) if prompt else frozenset()
    kept, dropped = [], []
    for s in segments:
        reason = drop_reason(s, options, patterns, words)
        if reason is None:
            kept.append(s)
        else:
            logger.debug("dropped segment %.2f-%.2f (%s): %r", s.start, s.end, reason, s.text)
            dropped.append(replace(s, drop_reason=reason))
    return kept, dropped


class TranscriptionError(RuntimeError):
    """The model could not be loaded or failed on a call."""


class Backend(Protocol):
    """A Whisper implementation: 16 kHz mono float32 in, segments (seconds) out."""

    model_info: ModelInfo

    def transcribe(self, samples: np.ndarray, options: TranscribeOptions,
                   prompt: str | None) -> tuple[list[Segment], str]: ...


def resolve_model(name: str) -> tuple[str, str | None]:
    """-> (path or hub name, recorded sha256 of the weights when known): ``default``, a name
    registered with ``callcheck models add``, a local directory, or a hub name, which is
    refused with what to do where model hubs are off (``HF_HUB_OFFLINE``)."""

    if name == "default":
        path = model_dir("whisper-base")
        return str(path), recorded_sha256("whisper-base-ct2/model.bin")
    entry = registered().get(name)
    if entry is not None:
        if not Path(entry["path"]).is_dir():
            raise TranscriptionError(f"model {name!r} is registered at {entry['path']}, which "
                                     "is gone: register it again with `callcheck models add`")
        return entry["path"], entry["sha256"]
    if Path(name).exists() or os.environ.get("HF_HUB_OFFLINE", "") not in ("1", "true", "True"):
        return name, None
    raise TranscriptionError(
        f"model {name!r} is not on this machine and model hubs are off (HF_HUB_OFFLINE=1). "
        f"Use the offline default (--model default), a local CTranslate2 directory (--model "
        f"/path/to/dir), or register one by name: callcheck models add {name} /path/to/dir; "
        f"with internet, unset HF_HUB_OFFLINE and faster-whisper downloads {name!r} once.")


def _content_frames(features: np.ndarray) -> int:
    """Frames before faster-whisper's zero padding (a log-mel frame of real audio, even
    of digital silence, is never exactly zero in all bins)."""
    live = np.flatnonzero(np.any(features.reshape(-1, features.shape[-2], features.shape[-1])
                                 != 0, axis=(0, 1)))
    return int(live[-1]) + 1 if live.size else 0


@functools.lru_cache(maxsize=1)
def _window_class(base: type) -> type:
    """``base`` (faster-whisper's WhisperModel) with an encoder that reads only the speech
    of each window plus a margin, instead of the whole padded 30 s (see
    ``TranscribeOptions.encoder_window``). CTranslate2 takes any number of frames up to 3000;
    the encoder's cost falls with the frames (2 cores: 1.0 s for 3000, 0.33 s for 1500)."""

    class WindowedWhisperModel(base):
        encoder_margin_frames: int | None = None  # None: the whole window
        encoder_min_frames: int = 0

        def encode(self, features):
            margin = self.encoder_margin_frames
            total = features.shape[-1]
            if margin is not None and total > 0:
                step = 100  # whole seconds
                frames = _content_frames(features) + margin
                frames = max(frames, self.encoder_min_frames)
                frames = min(total, max(step, -(-frames // step) * step))
                features = features[..., :frames]
            return super().encode(features)

    return WindowedWhisperModel


class FasterWhisperBackend:
    """faster-whisper (CTranslate2). Accepts an already-built ``WhisperModel`` for tests."""

    def __init__(self, options: TranscribeOptions, model=None):
        self.options = options
        if model is not None:
            self.model = model
            self.model_info = ModelInfo(name="<injected>", sha256=None, backend="faster-whisper")
            return
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:  # pragma: no cover - a core dependency
            raise TranscriptionError("faster-whisper is not installed: run `make install`") from e
        name, sha = resolve_model(options.model)
        local = Path(name).is_dir()
        try:
            self.model = _window_class(WhisperModel)(
                name, device=options.device, compute_type=options.compute_type,
                cpu_threads=options.cpu_threads, local_files_only=local,
            )
            if options.encoder_window != "full":
                self.model.encoder_margin_frames = int(round(options.encoder_margin_s * 100))
                self.model.encoder_min_frames = int(round(options.encoder_min_s * 100))
        except Exception as e:
            raise TranscriptionError(f"cannot load faster-whisper model {name!r}: {e}") from e
        if sha is None and local and (Path(name) / "model.bin").is_file():

            sha = sha256_file(Path(name) / "model.bin")
        self.model_info = ModelInfo(name=name, sha256=sha, backend="faster-whisper")

    def transcribe(self, samples, options, prompt):
        temps = list(options.temperatures)
        segments_iter, info = self.model.transcribe(
            samples,
            language=options.language,
            beam_size=options.beam_size,
            best_of=1,
            temperature=temps if len(temps) > 1 else temps[0],
            condition_on_previous_text=options.condition_on_previous_text,
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            word_timestamps=options.word_timestamps,
            vad_filter=options.vad_filter,
            vad_parameters={"threshold": options.vad_threshold} if options.vad_filter else None,
            # faster-whisper's own VAD defaults: with min_silence_duration_ms=500 it returned
            # no segments at all on some calls (faster-whisper 1.2.1)
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            initial_prompt=None if options.prompt_every_window else prompt,
            hotwords=prompt if options.prompt_every_window else None,
            without_timestamps=False,
        )
        out = []
        for s in segments_iter:  # a generator: decoding happens while iterating
            words = tuple(
                Word(start=float(w.start), end=float(w.end), text=w.word.strip(),
                     probability=float(w.probability))
                for w in (s.words or ())
            )
            out.append(Segment(
                start=float(s.start), end=float(s.end), text=s.text.strip(), words=words,
                avg_logprob=float(s.avg_logprob), no_speech_prob=float(s.no_speech_prob),
                compression_ratio=float(s.compression_ratio),
            ))
        return out, info.language


class OpenAIWhisperBackend:
    """openai-whisper (PyTorch) for users with a ``.pt`` checkpoint (``pip install .[openai]``)."""

    def __init__(self, options: TranscribeOptions, model=None):
        self.options = options
        try:
            import whisper
        except ImportError as e:
            raise TranscriptionError(
                "the openai-whisper backend needs the optional extra: pip install '.[openai]'"
            ) from e
        self._whisper = whisper
        if model is not None:
            self.model = model
            self.model_info = ModelInfo(name="<injected>", sha256=None, backend="openai-whisper")
            return
        name = options.model
        if name == "default":
            raise TranscriptionError(
                "the openai-whisper backend needs a checkpoint: set --model to a .pt file "
                "(the offline default model is in CTranslate2 format for faster-whisper)"
            )
        try:
            self.model = whisper.load_model(name, device=options.device)
        except Exception as e:
            raise TranscriptionError(f"cannot load openai-whisper model {name!r}: {e}") from e
        sha = None
        if Path(name).is_file():

            sha = sha256_file(Path(name))
        self.model_info = ModelInfo(name=name, sha256=sha, backend="openai-whisper")

    def transcribe(self, samples, options, prompt):
        import torch

        torch.set_num_threads(options.cpu_threads)
        temps = tuple(options.temperatures)
        result = self._whisper.transcribe(
            self.model,
            samples,
            language=options.language,
            temperature=temps if len(temps) > 1 else temps[0],
            beam_size=options.beam_size if options.beam_size > 1 else None,
            condition_on_previous_text=options.condition_on_previous_text,
            word_timestamps=options.word_timestamps,
            no_speech_threshold=options.no_speech_threshold,
            logprob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            initial_prompt=prompt,
            fp16=False,
            verbose=None,
        )
        out = []
        for s in result["segments"]:
            words = tuple(
                Word(start=float(w["start"]), end=float(w["end"]), text=w["word"].strip(),
                     probability=float(w["probability"]))
                for w in s.get("words", ())
            )
            out.append(Segment(
                start=float(s["start"]), end=float(s["end"]), text=s["text"].strip(),
                words=words, avg_logprob=float(s["avg_logprob"]),
                no_speech_prob=float(s["no_speech_prob"]),
                compression_ratio=float(s["compression_ratio"]),
            ))
        return out, result.get("language") or options.language or ""


BACKENDS = {"faster-whisper": FasterWhisperBackend, "openai-whisper": OpenAIWhisperBackend}


class Transcriber:
    """Transcribes call audio with one loaded model (load once, call many times)."""

    def __init__(self, options: TranscribeOptions | None = None, backend: Backend | None = None):
        self.options = options or TranscribeOptions()
        if backend is None:
            try:
                factory = BACKENDS[self.options.backend]
            except KeyError as e:
                raise TranscriptionError(
                    f"unknown backend {self.options.backend!r}; choose from {sorted(BACKENDS)}"
                ) from e
            backend = factory(self.options)
        self.backend = backend

    @property
    def model_info(self) -> ModelInfo:
        return self.backend.model_info

    def scorer(self):
        """A :class:`WhisperScorer` on this model (None: the backend cannot
        score texts against audio)."""
        model = getattr(self.backend, "model", None)
        if model is None or not hasattr(getattr(model, "model", None), "align"):
            return None
        if getattr(self, "_scorer", None) is None:
            self._scorer = WhisperScorer(model, self.options.language or "nl")
        return self._scorer

    @property
    def _decode_options(self) -> TranscribeOptions:
        # chunks are speech already: the backend's own VAD would only cut them again
        if self.options.chunk_s > 0 and self.options.vad_filter:
            return replace(self.options, vad_filter=False)
        return self.options

    def _chunks(self, signal: np.ndarray, sample_rate: int,
                skip: tuple[tuple[float, float], ...] = ()) -> list[tuple[float, float]]:
        """Speech stretches of ``signal`` (seconds), merged up to ``chunk_s``; stretches
        mostly inside a ``skip`` span (seconds from the signal start) are left out."""
        total = signal.size / sample_rate
        if self.options.chunk_s <= 0 or not self.options.vad_filter:
            return [(0.0, total)]
        pad = self.options.chunk_pad_s
        chunks: list[list[float]] = []
        for a, b in self._speech(signal, sample_rate, self.options.chunk_s, skip):
            if (chunks and b - chunks[-1][0] <= self.options.chunk_s
                    and a - chunks[-1][1] < self.options.chunk_merge_gap_s):
                chunks[-1][1] = b
            else:
                chunks.append([a, b])
        return [(max(0.0, a - pad), min(total, b + pad)) for a, b in chunks]

    def _speech(self, signal: np.ndarray, sample_rate: int, max_s: float,
                away: tuple[tuple[float, float], ...] = ()) -> list[tuple[float, float]]:
        """Stretches of speech (Silero VAD at ``vad_threshold``, at most ``max_s`` long;
        seconds) that no span in ``away`` covers by half."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        speech = get_speech_timestamps(
            signal, VadOptions(threshold=self.options.vad_threshold, max_speech_duration_s=max_s,
                               min_silence_duration_ms=300, speech_pad_ms=0),
            sampling_rate=sample_rate)
        out = []
        for ts in speech:
            a, b = ts["start"] / sample_rate, ts["end"] / sample_rate
            if sum(max(0.0, min(b, s1) - max(a, s0)) for s0, s1 in away) <= 0.5 * (b - a):
                out.append((a, b))
        return out

    def _decode(self, signal: np.ndarray, sample_rate: int, c0: float, c1: float,
                decode: TranscribeOptions, prompt: str | None) -> tuple[list[Segment], str]:
        """Backend segments of ``signal[c0:c1]`` (seconds), times relative to ``c0``."""
        piece = signal[int(c0 * sample_rate):int(c1 * sample_rate)]
        try:
            # one BLAS thread for the log-mel features: the result then does not depend on
            # OPENBLAS/OMP_NUM_THREADS (Dask sets them to 1 in its workers), and it is faster
            with threadpool_limits(limits=1, user_api="blas"):
                return self.backend.transcribe(piece, decode, prompt)
        except Exception as e:
            raise TranscriptionError(f"transcription failed: {e}") from e

    def _uncovered(self, signal: np.ndarray, sample_rate: int,
                   covered: list[tuple[float, float]],
                   skip: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
        """Stretches of speech (Silero VAD) of at least ``fill_gaps_s`` that no segment in
        ``covered`` overlaps by half, nor a ``skip`` span (seconds), padded."""
        pad, total = self.options.chunk_pad_s, signal.size / sample_rate
        return [(max(0.0, a - pad), min(total, b + pad))
                for a, b in self._speech(signal, sample_rate, 20.0, (*covered, *skip))
                if b - a >= self.options.fill_gaps_s]

    def transcribe(
        self,
        samples: np.ndarray,
        sample_rate: int = 16000,
        *,
        start: float = 0.0,
        end: float | None = None,
        organisation: str | None = None,
        channels: tuple[int, ...] | None = None,
        skip: tuple[tuple[float, float], ...] = (),
        beam_size: int | None = None,
    ) -> Transcript:
        """Transcribe ``samples`` (shape (n,) or (channels, n), 16 kHz float32).

        Only the stretch ``start``..``end`` (seconds) is decoded; times in the result are
        seconds from the start of the recording. ``skip``: spans (seconds) known not to be
        speech, e.g. hold music found by the events stage; voice activity inside them is not
        decoded (Whisper turns music into subtitles that never were). A stereo input is transcribed per channel
        when ``options.per_channel`` allows (segments then carry their channel) and mixed
        otherwise. ``channels`` limits which channels are transcribed. ``beam_size``: this
        stretch with another beam width than ``options.beam_size``.
        """
        decode = self._decode_options
        if beam_size is not None:
            decode = replace(decode, beam_size=beam_size)
        if sample_rate != 16000:
            raise TranscriptionError(f"Whisper needs 16 kHz audio, got {sample_rate} Hz")
        x = np.atleast_2d(np.asarray(samples, dtype=np.float32))  # (channels, n)
        total = x.shape[1] / sample_rate
        end = total if end is None else min(end, total)
        a, b = int(round(start * sample_rate)), int(round(end * sample_rate))
        x = x[:, a:b]
        per_channel = self.options.per_channel
        if per_channel is None:
            per_channel = x.shape[0] > 1
        if per_channel and x.shape[0] > 1:
            picks = channels if channels is not None else tuple(range(x.shape[0]))
            inputs = [(c, x[c]) for c in picks]
        else:
            inputs = [(None, x.mean(axis=0, dtype=np.float32) if x.shape[0] > 1 else x[0])]

        prompt = build_prompt(self.options, organisation)
        segments: list[Segment] = []
        language = self.options.language or ""
        for channel, signal in inputs:
            if signal.size < sample_rate // 10:  # < 0.1 s: nothing Whisper can use
                continue
            rel_skip = tuple((s0 - start, s1 - start) for s0, s1 in skip
                             if s1 > start and s0 < end)
            signal = _muted(signal, sample_rate, rel_skip)
            chunks = self._chunks(signal, sample_rate, rel_skip)
            ours: list[Segment] = []
            for c0, c1 in chunks:
                raw, language = self._decode(signal, sample_rate, c0, c1, decode, prompt)
                ours.extend(_shift(s, start + c0, channel) for s in raw)
            if len(chunks) == 1 and self.options.fill_gaps_s > 0 and self.options.vad_filter:
                # speech the whole-window pass skipped, decoded on its own (no inner VAD);
                # a segment with a stretched word skipped some, and its times are not to be
                # trusted: its speech is decoded again in the same way
                ours = [s for s in ours if not _stretched(s, self.options.max_word_s)]
                covered = [(s.start - start, s.end - start) for s in ours]
                for c0, c1 in self._uncovered(signal, sample_rate, covered, rel_skip):
                    raw, _ = self._decode(signal, sample_rate, c0, c1,
                                          replace(decode, vad_filter=False), prompt)
                    ours.extend(_shift(s, start + c0, channel) for s in raw)
            loud = (_loud_frames(signal, sample_rate)
                    if not ours and decode.vad_filter and self.options.vad_deaf_fallback_s > 0
                    else None)
            if (loud is not None
                    and np.count_nonzero(loud) * LOUD_FRAME_S >= self.options.vad_deaf_fallback_s):
                # the VAD heard no speech at all where the signal is plainly not silent
                # (Silero rejects some narrowband callers' channels whole): decoded once
                # without it, Whisper's own guards still on
                raw, language = self._decode(signal, sample_rate, 0.0, signal.size / sample_rate,
                                             replace(decode, vad_filter=False), prompt)
                # without the VAD Whisper also writes words over the channel's silence (a
                # greeting the prompt suggests): only words over sound are kept
                ours.extend(_shift(s, start, channel) for s in _over_sound(raw, loud))
            segments.extend(ours)
        segments, copied = strip_prompt_copies(segments, prompt, self.options)
        if self.options.split_gap_s > 0:
            segments = [p for s in segments for p in split_at_pauses(s, self.options.split_gap_s)]
        segments.sort(key=lambda s: (s.start, s.channel if s.channel is not None else -1))
        kept, dropped = filter_segments(segments, self.options, prompt)
        dropped = sorted([*copied, *dropped], key=lambda s: s.start)
        used = asdict(self.options)
        used.update(prompt=prompt, per_channel=bool(per_channel), start_s=start, end_s=end,
                    beam_size=decode.beam_size)
        return Transcript(
            segments=tuple(kept), language=language, duration_s=round(end - start, 6),
            model=self.model_info, options=used, dropped=tuple(dropped),
        )


LOUD_FRAME_S = 0.02


def _loud_frames(signal: np.ndarray, sample_rate: int, above_floor_db: float = 20.0,
                 min_dbfs: float = -50.0) -> np.ndarray:
    """Per 20 ms frame of ``signal``: louder than its quiet floor (10th percentile of the
    frames) by ``above_floor_db`` and than ``min_dbfs``; sound, not line noise or silence."""
    n = int(LOUD_FRAME_S * sample_rate)
    if signal.size < n:
        return np.zeros(0, bool)
    frames = signal[: signal.size // n * n].reshape(-1, n).astype(np.float64)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    return db > max(np.percentile(db, 10) + above_floor_db, min_dbfs)


def _over_sound(segments: list[Segment], loud: np.ndarray, pad_s: float = 0.2
                ) -> list[Segment]:
    """``segments`` cut down to the words with sound (``loud``: :func:`_loud_frames` of the
    signal they were decoded from) within ``pad_s`` of them, as word times are that loose; a
    segment without words is kept over sound."""

    def heard(a: float, b: float) -> bool:
        i, j = max(0, int((a - pad_s) / LOUD_FRAME_S)), int((b + pad_s) / LOUD_FRAME_S) + 1
        return bool(loud[i:j].any())

    out = []
    for s in segments:
        if not s.words:
            if heard(s.start, s.end):
                out.append(s)
            continue
        words = [w for w in s.words if heard(w.start, w.end)]
        if words:
            out.append(s if len(words) == len(s.words) else with_words(s, words))
    return out


def _stretched(segment: Segment, max_word_s: float) -> bool:
    """Whether a word of ``segment`` lasts longer than ``max_word_s`` (or 0.25 s a letter)."""
    return max_word_s > 0 and any(
        w.end - w.start > max(max_word_s, 0.25 * len(w.text.strip())) for w in segment.words)


def split_at_pauses(segment: Segment, gap_s: float) -> list[Segment]:
    """``segment`` cut where its words pause longer than ``gap_s``; the pieces keep the
    segment's scores (they were decoded together)."""
    words = segment.words
    if len(words) < 2:
        return [segment]
    runs, run = [], [words[0]]
    for prev, w in zip(words, words[1:], strict=False):
        if w.start - prev.end > gap_s:
            runs.append(run)
            run = []
        run.append(w)
    runs.append(run)
    if len(runs) == 1:
        return [segment]
    return [with_words(segment, r) for r in runs]


def _muted(signal: np.ndarray, sample_rate: int,
           spans: tuple[tuple[float, float], ...]) -> np.ndarray:
    """``signal`` with ``spans`` (seconds) set to silence, so neither the VAD nor Whisper
    hears hold music or tones there; times stay where they were."""
    if not spans:
        return signal
    out = signal.copy()
    for s0, s1 in spans:
        out[max(0, int(s0 * sample_rate)):max(0, int(s1 * sample_rate))] = 0.0
    return out


def _shift(s: Segment, offset: float, channel: int | None) -> Segment:
    """Move a segment (and its words) by ``offset`` seconds and tag its channel."""
    if offset == 0.0 and channel is None:
        return s
    words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in s.words)
    return replace(s, start=s.start + offset, end=s.end + offset, words=words, channel=channel)


@functools.lru_cache(maxsize=2)
def get_transcriber(options: TranscribeOptions) -> Transcriber:
    """One loaded model per options (per worker process)."""
    return Transcriber(options)


__all__ = [
    "Backend", "FasterWhisperBackend", "OpenAIWhisperBackend", "Transcriber",
    "TranscribeOptions", "TranscriptionError", "build_prompt", "filter_segments", "with_words",
    "get_transcriber", "normalise_text",
]


class WhisperScorer:
    """Log-probability of texts given a stretch of audio, from a loaded faster-whisper model."""

    def __init__(self, model, language: str = "nl"):
        from faster_whisper.tokenizer import Tokenizer

        self.model = model
        self.tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual,
                                   task="transcribe", language=language)

    def __call__(self, samples: np.ndarray, texts: list[str]) -> list[float]:
        """Sum of log token probabilities of each text on ``samples`` (16 kHz, <= 30 s)."""
        from faster_whisper.audio import pad_or_trim

        model = self.model
        features = model.feature_extractor(samples[: 30 * 16000])
        frames = min(features.shape[-1], model.feature_extractor.nb_max_frames)
        encoded = model.encode(pad_or_trim(features))
        scores = []
        for text in texts:
            tokens = self.tokenizer.encode(" " + text.strip())
            result = model.model.align(encoded, self.tokenizer.sot_sequence, [tokens], frames)
            probs = result[0].text_token_probs
            scores.append(float(sum(math.log(max(p, 1e-12)) for p in probs)))
        return scores
