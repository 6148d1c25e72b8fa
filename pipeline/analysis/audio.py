"""Audio front-end: decode a call recording into 16 kHz float32 samples, channels kept.

wav/flac/ogg are read with soundfile (libsndfile); mp3/m4a/aac/opus and anything libsndfile
cannot open are decoded with PyAV (FFmpeg). Stereo calls usually carry the caller on one
channel and the line on the other, so channels are kept; ``Audio.mono()`` mixes when a stage
wants one signal. Input files are only ever opened for reading.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from pipeline.models import sha256_file as sha256_of
from pipeline.types import AudioInfo

logger = logging.getLogger(__name__)

SOUNDFILE_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga"}
AUDIO_SUFFIXES = SOUNDFILE_SUFFIXES | {
    ".mp3", ".m4a", ".mp4", ".aac", ".opus", ".wma", ".amr", ".webm", ".3gp", ".mka",
}
# First bytes of common audio containers: a file that starts like audio but does not decode
# is corrupt, one that does not is "not audio".
_AUDIO_MAGIC = (b"RIFF", b"RIFX", b"fLaC", b"OggS", b"ID3", b"\xff\xfb", b"\xff\xf3",
                b"\xff\xf2", b"\xff\xf1", b"\xff\xf9", b"FORM", b"#!AMR", b"\x1aE\xdf\xa3")

# libsndfile subtypes -> FFmpeg-style codec names, so both readers report alike
_SF_CODECS = {
    "PCM_16": "pcm_s16le", "PCM_24": "pcm_s24le", "PCM_32": "pcm_s32le", "PCM_U8": "pcm_u8",
    "PCM_S8": "pcm_s8", "FLOAT": "pcm_f32le", "DOUBLE": "pcm_f64le", "ULAW": "pcm_mulaw",
    "ALAW": "pcm_alaw", "FLAC": "flac", "VORBIS": "vorbis", "OPUS": "opus",
    "GSM610": "gsm", "IMA_ADPCM": "adpcm_ima_wav", "MS_ADPCM": "adpcm_ms",
}


class AudioError(Exception):
    """A recording could not be used. ``code`` is a short stable reason for result tables."""

    code = "audio_error"

    def __init__(self, path: str | Path, message: str):
        self.path = str(path)
        super().__init__(f"{path}: {message}")


class AudioFileNotFoundError(AudioError):
    code = "not_found"


class EmptyAudioFileError(AudioError):
    code = "empty_file"


class NotAudioError(AudioError):
    code = "not_audio"


class CorruptAudioError(AudioError):
    """Truncated or damaged: it looks like audio but does not decode completely."""

    code = "corrupt_audio"


class ZeroDurationError(AudioError):
    code = "zero_duration"


class AudioTooLongError(AudioError):
    code = "too_long"


@dataclass(frozen=True)
class AudioOptions:
    """How recordings are decoded."""

    sample_rate: int = 16000  # Hz of the samples handed to every stage (Whisper, pyannote)
    max_duration_s: float = 4 * 3600.0  # refuse longer files: 4 h mono at 16 kHz is ~0.9 GB
    truncation_tolerance: float = 0.05  # decoded/declared shortfall (fraction) seen as truncated


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio. ``samples`` has shape (channels, n), float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int  # Hz
    info: AudioInfo = field(repr=False)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.samples.shape[1] / self.sample_rate

    def mono(self) -> np.ndarray:
        """Channel mix, shape (n,)."""
        if self.channels == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)

    def channel(self, index: int) -> np.ndarray:
        """One channel, shape (n,)."""
        return self.samples[index]

    def crop(self, start: float, end: float) -> np.ndarray:
        """Samples between ``start`` and ``end`` seconds, shape (channels, m)."""
        a = max(0, int(round(start * self.sample_rate)))
        b = min(self.samples.shape[1], int(round(end * self.sample_rate)))
        return self.samples[:, a:b]


def resample(samples: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling along the last axis (anti-aliased), float32 out."""
    if orig_sr == target_sr:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    ratio = Fraction(target_sr, orig_sr)
    out = resample_poly(samples, ratio.numerator, ratio.denominator, axis=-1)
    return out.astype(np.float32, copy=False)


def _looks_like_audio(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(16)
    return head.startswith(_AUDIO_MAGIC) or head[4:8] == b"ftyp"  # ftyp: mp4/m4a


def _read_soundfile(path: Path) -> tuple[np.ndarray, int, str, str, float]:
    """-> samples (channels, n) at the file's rate, rate, codec, container, declared seconds."""
    import soundfile as sf

    info = sf.info(str(path))
    with sf.SoundFile(str(path)) as f:
        data = f.read(dtype="float32", always_2d=True)  # (n, channels)
    # libsndfile names FLAC's sample width as the subtype; the codec is FLAC all the same
    codec = "flac" if info.format == "FLAC" else _SF_CODECS.get(info.subtype, info.subtype.lower())
    declared = info.frames / info.samplerate if info.samplerate else 0.0
    return data.T.copy(), int(info.samplerate), codec, info.format.lower(), declared


def _read_pyav(path: Path) -> tuple[np.ndarray, int, str, str, float]:
    """Decode with FFmpeg through PyAV; same return as ``_read_soundfile``."""
    import av

    with av.open(str(path), mode="r") as container:
        streams = container.streams.audio
        if not streams:
            raise NotAudioError(path, "the file has no audio stream")
        stream = streams[0]
        rate = int(stream.rate or stream.codec_context.sample_rate)
        declared = 0.0
        if stream.duration is not None and stream.time_base is not None:
            declared = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            declared = container.duration / 1_000_000  # av.time_base is microseconds
        chunks: list[np.ndarray] = []
        last_packet = b""
        for packet in container.demux(stream):
            if packet.size:
                last_packet = bytes(packet)
            for frame in packet.decode():
                arr = frame.to_ndarray()  # planar (channels, n) or packed (1, n*channels)
                if arr.dtype.kind in "iu":
                    arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                if not frame.format.is_planar:
                    n_ch = len(frame.layout.channels)
                    arr = arr.reshape(-1, n_ch).T
                chunks.append(arr.astype(np.float32, copy=False))
        codec = getattr(stream.codec_context.codec, "canonical_name", stream.codec_context.name)
        fmt = container.format.name
    if codec in ("mp3", "mp2", "mp1") and last_packet:
        expected = mpeg_frame_length(last_packet)
        if expected and len(last_packet) < expected:
            # a CBR mp3 without a Xing/Info header declares no length, so a cut file only
            # shows as a final frame shorter than its own header says
            raise CorruptAudioError(
                path, f"truncated: the last MPEG audio frame has {len(last_packet)} of "
                f"{expected} bytes"
            )
    channels = len(stream.layout.channels) if stream.layout else 1
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    return data, rate, codec, fmt, declared


_MPEG_BITRATES = {  # kbit/s by (MPEG-1?, layer) and the header's bitrate index
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mpeg_frame_length(frame: bytes) -> int | None:
    """Length in bytes that an MPEG audio frame declares in its 4-byte header (None if unsure)."""
    if len(frame) < 4 or frame[0] != 0xFF or (frame[1] & 0xE0) != 0xE0:
        return None
    version = (frame[1] >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    layer = 4 - ((frame[1] >> 1) & 3)  # header codes layer III as 1
    bitrate_index, rate_index = frame[2] >> 4, (frame[2] >> 2) & 3
    padding = (frame[2] >> 1) & 1
    if version == 1 or layer == 4 or rate_index == 3 or bitrate_index in (0, 15):
        return None  # reserved values or free format
    mpeg1 = version == 3
    bitrate = _MPEG_BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _MPEG_RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    if layer == 3 and not mpeg1:
        return 72 * bitrate // rate + padding
    return 144 * bitrate // rate + padding


def load_audio(path: str | Path, options: AudioOptions | None = None) -> Audio:
    """Decode ``path`` to float32 at ``options.sample_rate`` Hz, channels kept.

    Raises a subclass of :class:`AudioError` with a clear reason for a missing, empty,
    non-audio, truncated/corrupt, zero-length or too long file.
    """
    options = options or AudioOptions()
    path = Path(path)
    if not path.exists():
        raise AudioFileNotFoundError(path, "no such file")
    if not path.is_file():
        raise NotAudioError(path, "not a regular file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyAudioFileError(path, "the file is empty (0 bytes)")

    readers = [_read_pyav]
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        readers.insert(0, _read_soundfile)
    errors: list[str] = []
    decoded = None
    for reader in readers:
        try:
            decoded = reader(path)
            break
        except AudioError:
            raise
        except Exception as e:  # libsndfile and FFmpeg raise many types for bad input
            errors.append(f"{reader.__name__.removeprefix('_read_')}: {e}")
    if decoded is None:
        if _looks_like_audio(path):
            raise CorruptAudioError(path, "looks like audio but cannot be decoded ("
                                    + "; ".join(errors) + ")")
        raise NotAudioError(path, "not a recognised audio file (" + "; ".join(errors) + ")")

    data, rate, codec, container, declared = decoded
    if rate <= 0:
        raise CorruptAudioError(path, f"invalid sample rate {rate}")
    n = data.shape[1]
    duration = n / rate
    if n == 0:
        if declared > 0:
            raise CorruptAudioError(path, f"declares {declared:.2f} s but no audio decodes")
        raise ZeroDurationError(path, "the file holds no audio frames (0 s)")
    if declared > 1.0 and duration < declared * (1 - options.truncation_tolerance) - 0.5:
        raise CorruptAudioError(
            path, f"truncated: decoded {duration:.2f} s of the {declared:.2f} s it declares"
        )
    if duration > options.max_duration_s:
        raise AudioTooLongError(
            path, f"{duration:.0f} s is longer than the limit of {options.max_duration_s:.0f} s"
        )
    if not np.all(np.isfinite(data)):
        raise CorruptAudioError(path, "decoded samples contain NaN or infinity")

    samples = resample(data, rate, options.sample_rate)
    info = AudioInfo(
        path=str(path),
        duration_s=round(duration, 6),
        sample_rate=rate,
        channels=int(data.shape[0]),
        codec=codec,
        container=container,
        sha256=sha256_of(path),
    )
    logger.debug("loaded %s: %.2f s, %d Hz, %d ch, %s", path, duration, rate, info.channels,
                 codec)
    return Audio(samples=np.ascontiguousarray(samples), sample_rate=options.sample_rate,
                 info=info)


def is_audio_path(path: Path) -> bool:
    """Whether a file name looks like a recording (used when scanning folders)."""
    return path.suffix.lower() in AUDIO_SUFFIXES and not path.name.startswith(".")


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20 * math.log10(rms) if rms > 0 else float("-inf")
