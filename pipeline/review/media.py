"""The recording of a call, as a file a browser can play and seek in.

Browsers play only some of what the pipeline reads (mu-law or A-law WAV, AMR, WMA, odd
containers do not play everywhere), so a recording is decoded once with
``pipeline.analysis.audio.load_audio`` and cached as 16-bit PCM WAV inside the output folder,
``OUT/.review/audio/<sha256>.wav``, at the recording's own sample rate (at least 8 kHz) with its
channels kept. The cache name hashes the call's file name and its ``key`` (content hash and
configuration), so a re-analysed, changed recording gets a new cache file. The file is written
atomically; the app serves it with HTTP range requests, which is what lets a browser seek.

Only recordings of calls in the store are ever opened: the source is ``input_root / file``
(``input_root`` from ``store_info``), and a path that leaves ``input_root`` (``..``, an absolute
name, a symlink pointing elsewhere) is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from pipeline.analysis.audio import AudioError, AudioOptions, load_audio
from pipeline.files import UnsafePathError, resolve_inside

logger = logging.getLogger(__name__)

CACHE_DIR = ".review/audio"  # under OUT
MIN_RATE, MAX_RATE = 8000, 48000  # Hz of the cached WAV
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class MediaError(Exception):
    """The recording cannot be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 404):
        self.status = status
        super().__init__(message)


def source_path(input_root: str | Path | None, file: str) -> Path:
    """The recording of ``file`` under ``input_root``; raises :class:`MediaError` if it is
    unknown, outside ``input_root`` or missing."""
    if not input_root:
        raise MediaError("the store does not say where the recordings are (no input_root)")

    try:
        path = resolve_inside(Path(input_root), file)
    except UnsafePathError as e:
        raise MediaError(f"{e} (input folder)") from e
    if not path.is_file():
        raise MediaError(f"recording not found: {file}")
    return path


def cache_path(out: Path, file: str, key: str | None) -> Path:
    digest = hashlib.sha256(f"{file}\0{key or ''}".encode()).hexdigest()
    return out / CACHE_DIR / f"{digest}.wav"


def _lock_for(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


def playable_wav(out: Path, input_root: str | Path | None, file: str, key: str | None,
                 sample_rate: int | None = None) -> Path:
    """The cached WAV of a call's recording, made on first use (decoding takes a moment)."""
    target = cache_path(out, file, key)
    if target.is_file():
        return target
    source = source_path(input_root, file)
    with _lock_for(target.name):  # two first requests decode once
        if target.is_file():
            return target

        rate = min(MAX_RATE, max(MIN_RATE, int(sample_rate or 16000)))
        try:
            audio = load_audio(source, AudioOptions(sample_rate=rate))
        except AudioError as e:
            raise MediaError(f"the recording cannot be decoded: {e}", status=422) from e
        _write_wav(target, audio.samples, audio.sample_rate)
        logger.info("cached %s as %s", file, target.name)
    return target


def _write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV, atomically. ``samples``: (channels, n) float32 in [-1, 1]."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
    os.close(fd)
    try:
        sf.write(tmp, np.clip(samples.T, -1.0, 1.0), sample_rate, subtype="PCM_16",
                 format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
