"""Audio front-end: every format decodes to 16 kHz float32 with channels kept; bad input
gets a typed, clear error; input files are never modified."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipeline.analysis.audio import (
    AudioError,
    AudioFileNotFoundError,
    AudioOptions,
    AudioTooLongError,
    CorruptAudioError,
    EmptyAudioFileError,
    NotAudioError,
    ZeroDurationError,
    load_audio,
)

SR = 16000


def tone(freq: float, seconds: float, sr: int, channels: int = 1) -> np.ndarray:
    """(n, channels) float32 sine; channel c gets frequency freq * (c + 1)."""
    t = np.arange(int(seconds * sr)) / sr
    cols = [0.5 * np.sin(2 * np.pi * freq * (c + 1) * t) for c in range(channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def encode_pyav(path: Path, data: np.ndarray, sr: int, codec: str, rate: int | None = None):
    """Write (n, channels) float32 with FFmpeg through PyAV (mp3, aac/m4a, opus)."""
    import av

    rate = rate or sr
    layout = "mono" if data.shape[1] == 1 else "stereo"
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        frame_size = 960 if codec == "libopus" else 1024
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate)
        for i in range(0, len(data), frame_size):
            chunk = np.ascontiguousarray(data[i:i + frame_size].T)  # planar (channels, n)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = sr
            for f in resampler.resample(frame):
                out.mux(stream.encode(f))
        for f in resampler.resample(None):
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))


def fundamental(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


@pytest.mark.parametrize(
    "name,sr,channels,subtype",
    [
        ("pcm16.wav", 16000, 1, "PCM_16"),
        ("mulaw8k.wav", 8000, 1, "ULAW"),
        ("stereo44k.wav", 44100, 2, "PCM_16"),
        ("call.flac", 16000, 1, "PCM_16"),
        ("stereo8k.flac", 8000, 2, "PCM_16"),
        ("call.ogg", 16000, 1, "VORBIS"),
    ],
)
def test_soundfile_formats_decode_to_16k_with_channels(tmp_path, name, sr, channels, subtype):
    path = tmp_path / name
    sf.write(path, tone(440, 2.0, sr, channels), sr, subtype=subtype)
    audio = load_audio(path)
    assert audio.sample_rate == SR
    assert audio.samples.dtype == np.float32
    assert audio.channels == channels
    assert audio.info.sample_rate == sr and audio.info.channels == channels
    assert audio.duration == pytest.approx(2.0, abs=0.02)
    assert audio.info.duration_s == pytest.approx(2.0, abs=0.02)
    # the content survives resampling: channel c is a sine at 440 * (c + 1) Hz
    for c in range(channels):
        assert fundamental(audio.channel(c), SR) == pytest.approx(440 * (c + 1), abs=3)


def test_mulaw_codec_is_reported(tmp_path):
    path = tmp_path / "line.wav"
    sf.write(path, tone(300, 1.0, 8000), 8000, subtype="ULAW")
    info = load_audio(path).info
    assert info.codec == "pcm_mulaw" and info.container == "wav"


@pytest.mark.parametrize(
    "name,codec,channels,sr",
    [
        ("call.mp3", "libmp3lame", 1, 16000),
        ("stereo.mp3", "libmp3lame", 2, 44100),
        ("call.m4a", "aac", 2, 16000),
        ("call.opus", "libopus", 1, 48000),
    ],
)
def test_compressed_formats_decode_with_pyav(tmp_path, name, codec, channels, sr):
    path = tmp_path / name
    encode_pyav(path, tone(500, 3.0, sr, channels), sr, codec)
    audio = load_audio(path)
    assert audio.sample_rate == SR
    assert audio.channels == channels
    assert audio.duration == pytest.approx(3.0, abs=0.15)  # encoder padding
    assert fundamental(audio.channel(0), SR) == pytest.approx(500, abs=5)
    expected = {"libmp3lame": "mp3", "aac": "aac", "libopus": "opus"}[codec]
    assert audio.info.codec == expected


def test_mono_mix_of_stereo(tmp_path):
    path = tmp_path / "s.wav"
    data = np.zeros((16000, 2), np.float32)
    data[:, 0] = 0.5
    sf.write(path, data, SR, subtype="FLOAT")
    audio = load_audio(path)
    assert audio.mono().shape == (16000,)
    assert audio.mono().mean() == pytest.approx(0.25, abs=1e-3)


def test_missing_file(tmp_path):
    with pytest.raises(AudioFileNotFoundError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioFileError, match="empty"):
        load_audio(path)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(NotAudioError) as err:
        load_audio(path)
    assert err.value.code == "not_audio"


def test_directory_is_not_audio(tmp_path):
    with pytest.raises(NotAudioError):
        load_audio(tmp_path)


def test_truncated_mp3_is_corrupt(tmp_path):
    full = tmp_path / "full.mp3"
    encode_pyav(full, tone(500, 10.0, SR), SR, "libmp3lame")
    cut = tmp_path / "cut.mp3"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 5])
    with pytest.raises(CorruptAudioError, match="truncated|decode"):
        load_audio(cut)


def test_broken_wav_header_is_corrupt(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, tone(440, 1.0, SR), SR)
    bad = tmp_path / "bad.wav"
    raw = bytearray(good.read_bytes())
    raw[8:16] = b"XXXXXXXX"  # destroy "WAVEfmt "
    bad.write_bytes(bytes(raw[:200]))
    with pytest.raises((CorruptAudioError, NotAudioError)) as err:
        load_audio(bad)
    assert err.value.code in {"corrupt_audio", "not_audio"}


def test_zero_frames_is_zero_duration(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 1), np.float32), SR)
    with pytest.raises(ZeroDurationError):
        load_audio(path)


def test_too_long_is_refused(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros((SR * 3, 1), np.float32), SR)
    with pytest.raises(AudioTooLongError):
        load_audio(path, AudioOptions(max_duration_s=2.0))


def test_errors_share_a_base_with_a_code(tmp_path):
    with pytest.raises(AudioError) as err:
        load_audio(tmp_path / "missing.flac")
    assert err.value.code == "not_found"
    assert "missing.flac" in str(err.value)


def test_non_ascii_file_name(tmp_path):
    path = tmp_path / "gemeente_één_ü.flac"
    sf.write(path, tone(440, 1.0, SR), SR)
    assert load_audio(path).duration == pytest.approx(1.0, abs=0.01)


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "keep.wav"
    sf.write(path, tone(440, 1.0, 8000, 2), 8000, subtype="ULAW")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    mtime = path.stat().st_mtime_ns
    audio = load_audio(path)
    assert audio.info.sha256 == before
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert path.stat().st_mtime_ns == mtime


def test_wav_name_holding_mp3_bytes_still_decodes(tmp_path):
    src = tmp_path / "x.mp3"
    encode_pyav(src, tone(500, 2.0, SR), SR, "libmp3lame")
    renamed = tmp_path / "misnamed.wav"
    shutil.copy(src, renamed)
    assert load_audio(renamed).duration == pytest.approx(2.0, abs=0.15)


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox (apt) is needed to write 8 kHz a-law")
def test_sox_alaw_telephone_file(tmp_path):
    src = tmp_path / "src.wav"
    sf.write(src, tone(400, 1.0, 8000), 8000)
    path = tmp_path / "alaw.wav"
    subprocess.run(["sox", str(src), "-e", "a-law", str(path)], check=True)
    audio = load_audio(path)
    assert audio.info.codec == "pcm_alaw" and audio.info.sample_rate == 8000
    assert fundamental(audio.channel(0), SR) == pytest.approx(400, abs=3)


EDGE = Path(__file__).resolve().parent.parent / "audio_fixtures" / "edge"


@pytest.mark.parametrize(
    "name,error",
    [
        ("empty.wav", EmptyAudioFileError),
        ("not_audio.wav", NotAudioError),
        ("truncated.mp3", CorruptAudioError),
        ("zero_length.wav", ZeroDurationError),
    ],
)
def test_committed_edge_fixtures_give_their_errors(name, error):
    with pytest.raises(error):
        load_audio(EDGE / name)


def test_committed_silence_and_music_fixtures_decode():
    assert load_audio(EDGE / "silence.wav").duration > 1
    assert load_audio(EDGE / "music_only.flac").duration > 5
