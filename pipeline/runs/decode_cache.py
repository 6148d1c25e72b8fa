"""Whisper's decodes and the diarizer's turns and voice prints, kept on disk by their exact
inputs, so that analysing the same calls again after a change to the role or decision rules
decodes only the stretches the change moves.

    callcheck eval corpus --labels corpus/labels.csv --out out/eval-2 --decode-cache out/dc

A full evaluation of the corpus costs about 40 minutes on two cores; run again with the cache
after a role change it takes a few (``docs/corpus.md``). A key is the digest of the audio
samples, the stretch, the decoding options and the default models' checksums, so a changed
input is another key and nothing stale is ever read. Results are the same with or without it.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.config import PipelineConfig
from pipeline.analysis.diarize import Diarizer
from pipeline.analysis.transcribe import Transcriber
from pipeline.files import atomic_write
from pipeline.models import SHA256SUMS


def digest(*parts: Any) -> str:
    """SHA-1 of ``parts``: arrays by shape, dtype and bytes, anything else by ``repr``."""
    h = hashlib.sha1()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str((p.shape, p.dtype)).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
    return h.hexdigest()


def _models_tag() -> str:
    """The assembled default models' checksums: models rebuilt differently are other keys."""
    return SHA256SUMS.read_text(encoding="utf-8") if SHA256SUMS.is_file() else ""


class DecodeCache:
    """Results of expensive calls by the digest of their exact inputs, one pickle file per
    key under ``root``; several processes may share one folder (each write is atomic)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.hits = self.misses = 0

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        path = self.root / key[:2] / f"{key}.pkl"
        if path.exists():
            try:
                value = pickle.loads(path.read_bytes())
            except (OSError, EOFError, pickle.UnpicklingError):
                pass  # a damaged entry is computed again and replaced
            else:
                self.hits += 1
                return value
        self.misses += 1
        value = compute()
        atomic_write(path, pickle.dumps(value))
        return value


class CachedTranscriber:
    """``Transcriber`` whose decodes are read from a :class:`DecodeCache` where the same
    stretch of the same audio was decoded with the same options and models before."""

    def __init__(self, inner: Transcriber, cache: DecodeCache):
        self._inner, self._cache = inner, cache
        self._tag = digest(inner.options, _models_tag())

    def transcribe(self, samples, sample_rate=16000, **kw):
        key = digest("transcribe", self._tag, samples, sample_rate, sorted(kw.items()))
        return self._cache.get(key, lambda: self._inner.transcribe(samples, sample_rate, **kw))

    def __getattr__(self, name):  # scorer, model_info, options
        return getattr(self._inner, name)


class CachedDiarizer:
    """``Diarizer`` whose turns and voice prints are read from a :class:`DecodeCache`."""

    def __init__(self, inner: Diarizer, cache: DecodeCache):
        self._inner, self._cache = inner, cache
        self._tag = digest(getattr(inner, "options", None), _models_tag())

    def __call__(self, samples, sample_rate=16000):
        key = digest("diarize", self._tag, samples, sample_rate)
        return self._cache.get(key, lambda: self._inner(samples, sample_rate))

    def voice_prints(self, samples, sample_rate, spans):
        key = digest("prints", self._tag, samples, sample_rate, list(spans))
        return self._cache.get(key, lambda: self._inner.voice_prints(samples, sample_rate,
                                                                     spans))

    def __getattr__(self, name):  # model_info, options
        return getattr(self._inner, name)


def cached_analyzer(config: PipelineConfig, root: str | Path) -> CallAnalyzer:
    """A ``CallAnalyzer`` whose recogniser and diarizer read and fill the cache at ``root``."""
    cache = DecodeCache(root)
    return CallAnalyzer(config, transcriber=CachedTranscriber(Transcriber(config.transcribe),
                                                              cache),
                        diarizer=CachedDiarizer(Diarizer(config.diarize), cache))
