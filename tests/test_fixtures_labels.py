"""The committed synthetic call set is consistent: labels, audio, RTTM and transcripts agree.

These tests read the committed files only (no regeneration, no decoding; the generator module
is imported for its phrase tables). The set is written by ``audio_fixtures/generate.py``; see
``audio_fixtures/README.md``.
"""

from __future__ import annotations

import csv
import re
import struct
import sys
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "audio_fixtures"
sys.path.insert(0, str(FIXTURES))
import generate  # noqa: E402  (the phrase tables and the hand-labelled notice purposes)

LABEL_HEADER = [
    "file",
    "notice_before_agent",
    "notice_by_agent",
    "agent_name",
    "agent_first",
    "agent_last",
    "agent_start_s",
    "agent_knows_recording",
    "notice_contradicted",
    "notice_purpose",
    "caller_announced_recording",
    "agent_objected",
]
KNOWS = ("yes", "no", "unsure", "no_answer", "not_asked")
PURPOSES = ("quality", "training", "service", "complaints", "other")
ROLES = {"IVR", "AGENT", "CALLER", "MUSIC", "TONE"}
SPEECH_ROLES = {"IVR", "AGENT", "CALLER"}
MAX_TOTAL_BYTES = 12_000_000  # the committed set stays small enough for git
MAX_SAMPLE_BYTES = 1_500_000
EDGE_FILES = [
    "empty.wav",
    "silence.wav",
    "music_only.flac",
    "not_audio.wav",
    "truncated.mp3",
    "corrupt_header.wav",
    "zero_length.wav",
    "gemeente_één_ü.wav",
    "call_stereo.ogg",
    "call_stereo.m4a",
]


@dataclass(frozen=True)
class RttmSeg:
    start: float  # seconds
    dur: float  # seconds
    label: str


@dataclass(frozen=True)
class Header:
    """What an audio file's header says."""

    rate: int  # Hz
    channels: int
    encoding: str  # "pcm16", "mu-law", "flac", "mp3"
    duration_s: float


@cache
def read_csv(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def labels() -> list[dict[str, str]]:
    return read_csv("labels.csv")[1]


def manifest() -> dict[str, dict[str, str]]:
    return {row["file"]: row for row in read_csv("calls.csv")[1]}


def stem(row: dict[str, str]) -> str:
    return Path(row["file"]).stem


def read_rttm(name: str) -> list[RttmSeg]:
    segs = []
    for line in (FIXTURES / "rttm" / f"{name}.rttm").read_text(encoding="utf-8").splitlines():
        f = line.split()
        assert len(f) == 10, line
        assert f[0] == "SPEAKER" and f[1] == name and f[2] == "1", line
        assert f[5:7] == ["<NA>", "<NA>"] and f[8:] == ["<NA>", "<NA>"], line
        segs.append(RttmSeg(float(f[3]), float(f[4]), f[7]))
    return segs


def read_transcript(name: str) -> list[tuple[float, float, str, str]]:
    lines = []
    path = FIXTURES / "transcripts" / f"{name}.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        start, end, role, text = line.split("\t")
        lines.append((float(start), float(end), role, text))
    return lines


def wav_header(data: bytes) -> Header:
    """Parse the RIFF/WAVE chunks of a PCM or mu-law wav."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    pos, fmt, n_bytes = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
        elif cid == b"data":
            n_bytes = size
            break
        pos += 8 + size + (size & 1)
    assert fmt is not None and n_bytes is not None
    tag, channels, rate, _, block_align, bits = fmt
    encoding = {(1, 16): "pcm16", (7, 8): "mu-law"}[(tag, bits)]
    return Header(rate, channels, encoding, n_bytes / block_align / rate)


def flac_header(data: bytes) -> Header:
    """Parse the STREAMINFO block of a FLAC file."""
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # first block is STREAMINFO
    info = int.from_bytes(data[8 + 10 : 8 + 18], "big")  # rate, channels, bits, total samples
    rate = info >> 44
    channels = ((info >> 41) & 0x7) + 1
    total = info & ((1 << 36) - 1)
    return Header(rate, channels, "flac", total / rate)


def mp3_header(data: bytes) -> Header:
    """Parse the first MPEG audio frame header; duration from the (constant) bitrate."""
    pos = 0
    if data[:3] == b"ID3":
        size = data[6:10]
        pos = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    while not (data[pos] == 0xFF and data[pos + 1] & 0xE0 == 0xE0):
        pos += 1
    h = int.from_bytes(data[pos : pos + 4], "big")
    version = (h >> 19) & 0x3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    assert (h >> 17) & 0x3 == 1, "not layer III"
    rates = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
    kbps_table = (
        (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
        if version == 3
        else (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
    )
    rate = rates[version][(h >> 10) & 0x3]
    kbps = kbps_table[(h >> 12) & 0xF]
    channels = 1 if (h >> 6) & 0x3 == 3 else 2
    return Header(rate, channels, "mp3", (len(data) - pos) * 8 / (kbps * 1000))


def audio_header(path: Path) -> Header:
    data = path.read_bytes()
    parse = {".wav": wav_header, ".flac": flac_header, ".mp3": mp3_header}[path.suffix]
    return parse(data)


# --------------------------------------------------------------------------------------------


def test_labels_header_is_exact():
    first_line = (FIXTURES / "labels.csv").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == ",".join(LABEL_HEADER)


def test_about_twenty_five_calls_are_labelled():
    assert 20 <= len(labels()) <= 30
    assert len({row["file"] for row in labels()}) == len(labels())


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_label_values_are_valid(row):
    assert re.fullmatch(r"calls/call\d\d_[a-z0-9_]+\.(wav|mp3|flac)", row["file"])
    assert row["notice_before_agent"] in ("yes", "no")
    assert row["notice_by_agent"] in ("yes", "no")
    kind, first, last = row["agent_name"], row["agent_first"], row["agent_last"]
    assert kind in ("none", "first", "last", "full")
    assert bool(first) == (kind in ("first", "full"))
    assert bool(last) == (kind in ("last", "full"))
    assert re.fullmatch(r"\d+\.\d\d", row["agent_start_s"])
    assert row["agent_knows_recording"] in KNOWS
    notice = "yes" in (row["notice_before_agent"], row["notice_by_agent"])
    contradicted = notice and row["agent_knows_recording"] in ("no", "unsure")
    assert row["notice_contradicted"] == ("yes" if contradicted else "no")
    purpose = row["notice_purpose"]
    if not notice:
        assert purpose == "no_notice"
    elif purpose != "none_stated":
        named = purpose.split(";")
        assert named == [p for p in PURPOSES if p in named], purpose  # known, in order, once
    assert row["caller_announced_recording"] in ("yes", "no")
    if row["caller_announced_recording"] == "yes":
        assert row["agent_objected"] in ("yes", "no", "unclear")
    else:
        assert row["agent_objected"] == ""


def test_labels_cover_every_case():
    rows = labels()
    assert {r["agent_name"] for r in rows} == {"none", "first", "last", "full"}
    assert {r["notice_before_agent"] for r in rows} == {"yes", "no"}
    assert {r["notice_by_agent"] for r in rows} == {"yes", "no"}
    # an agent notice without an advance notice: a notice, but not an advance one
    assert any(r["notice_by_agent"] == "yes" and r["notice_before_agent"] == "no" for r in rows)
    assert any(" " in r["agent_last"] for r in rows), "no surname with an interfix"
    assert {r["agent_knows_recording"] for r in rows} == set(KNOWS)
    assert {r["notice_contradicted"] for r in rows} == {"yes", "no"}
    assert {r["caller_announced_recording"] for r in rows} == {"yes", "no"}
    assert {r["agent_objected"] for r in rows} == {"yes", "no", "unclear", ""}
    stated = {p for r in rows for p in r["notice_purpose"].split(";")}
    assert stated == {*PURPOSES, "none_stated", "no_notice"}
    asked = [r for r in rows if r["agent_knows_recording"] != "not_asked"]
    assert any(r["notice_contradicted"] == "yes" and r["notice_before_agent"] == "yes"
               for r in asked), "no IVR notice that the agent's answer contradicts"
    files = manifest()
    assert {m["channels"] for m in files.values()} == {"1", "2"}
    assert {m["sample_rate"] for m in files.values()} == {"8000", "16000"}
    assert {m["format"] for m in files.values()} == {"wav", "mp3", "flac"}


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_every_labelled_file_has_audio_rttm_and_transcript(row):
    assert (FIXTURES / row["file"]).is_file()
    assert (FIXTURES / "rttm" / f"{stem(row)}.rttm").is_file()
    assert (FIXTURES / "transcripts" / f"{stem(row)}.txt").is_file()
    assert row["file"] in manifest()


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_rttm_segments_are_well_formed(row):
    segs = read_rttm(stem(row))
    assert segs
    assert {s.label for s in segs} <= ROLES
    assert all(s.start >= 0 and s.dur > 0 for s in segs)
    assert [s.start for s in segs] == sorted(s.start for s in segs)
    speech = [s for s in segs if s.label in SPEECH_ROLES]
    for a, b in zip(speech, speech[1:], strict=False):
        assert a.start + a.dur <= b.start + 1e-3, "speech segments overlap"


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_agent_start_matches_first_agent_rttm_segment(row):
    agent = [s for s in read_rttm(stem(row)) if s.label == "AGENT"]
    assert agent, "no AGENT segment"
    assert abs(float(row["agent_start_s"]) - agent[0].start) <= 0.05


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_transcript_lines_match_rttm_speech_segments(row):
    speech = [s for s in read_rttm(stem(row)) if s.label in SPEECH_ROLES]
    lines = read_transcript(stem(row))
    assert len(lines) == len(speech)
    for (start, end, role, text), seg in zip(lines, speech, strict=True):
        assert role == seg.label
        assert abs(start - seg.start) < 1e-3 and abs(end - (seg.start + seg.dur)) < 2e-3
        assert text.strip()


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_first_agent_turn_says_the_labelled_name(row):
    first_agent = next(text for _, _, role, text in read_transcript(stem(row)) if role == "AGENT")
    for name in (row["agent_first"], row["agent_last"]):
        assert name.lower() in first_agent.lower()


def _has(text: str, pool) -> bool:
    return any(phrase in text for phrase in pool)


def test_phrase_tables_are_hand_labelled_and_apart():
    notices = [*generate.IVR_NOTICES, *generate.IVR_NOTICES_MORE, *generate.AGENT_NOTICES]
    assert sorted(generate.NOTICE_PURPOSES) == sorted(notices)  # every notice, nothing else
    assert all(set(p) <= set(PURPOSES) for p in generate.NOTICE_PURPOSES.values())
    assert set(generate.RECORDING_ANSWERS) == {"yes", "no", "unsure", "no_answer"}
    assert set(generate.AGENT_RESPONSES) == {"yes", "no", "unclear"}
    pools = [generate.RECORDING_QUESTIONS, generate.CALLER_ANNOUNCEMENTS,
             *generate.RECORDING_ANSWERS.values(), *generate.AGENT_RESPONSES.values()]
    assert all(len(pool) >= 3 for pool in pools)  # several phrasings each
    talk = [x for pool in pools for x in pool]
    assert len(set(talk)) == len(talk)  # no phrase in two pools (kinds stay apart)
    # neither a look-alike nor anything said about recording after the opening is a notice
    for text in (*generate.LOOKALIKES, *talk, *(x for pair in generate.LOOKALIKE_QUESTIONS
                                                 for x in pair)):
        assert not _has(text, generate.NOTICE_PURPOSES), text


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_recording_labels_agree_with_the_transcript(row):
    lines = read_transcript(stem(row))
    # notices, and their purposes, only from the hand table
    ivr = [t for _, _, role, t in lines if role == "IVR" and t in generate.NOTICE_PURPOSES]
    agent = [p for _, _, role, t in lines if role == "AGENT" for p in generate.AGENT_NOTICES
             if p in t]
    assert (row["notice_by_agent"] == "yes") == bool(agent)
    stated = {x for phrase in ivr + agent for x in generate.NOTICE_PURPOSES[phrase]}
    want = ";".join(p for p in PURPOSES if p in stated) or "none_stated"
    assert row["notice_purpose"] == (want if ivr + agent else "no_notice")
    # the question and the answer: the caller line asks, the next agent line answers
    asks = [k for k, (_, _, role, t) in enumerate(lines)
            if role == "CALLER" and t in generate.RECORDING_QUESTIONS]
    kind = row["agent_knows_recording"]
    assert len(asks) == (kind != "not_asked")
    if asks:
        reply = next(t for _, _, role, t in lines[asks[0]:] if role == "AGENT")
        assert reply in generate.RECORDING_ANSWERS[kind]
    answers = [t for _, _, role, t in lines if role == "AGENT"
               and any(t in pool for pool in generate.RECORDING_ANSWERS.values())]
    assert len(answers) == len(asks)
    # the caller's own notice opens their first turn after the agent's; the agent responds
    caller = [t for _, _, role, t in lines if role == "CALLER"]
    announced = [k for k, (_, _, role, t) in enumerate(lines)
                 if role == "CALLER" and _has(t, generate.CALLER_ANNOUNCEMENTS)]
    assert (row["caller_announced_recording"] == "yes") == bool(announced)
    if announced:
        assert lines[announced[0]][3] == caller[0]
        reply = lines[announced[0] + 1]
        assert reply[2] == "AGENT" and reply[3] in generate.AGENT_RESPONSES[row["agent_objected"]]


def test_lookalike_caller_questions_are_not_the_question():
    rows = {stem(r): r for r in labels()}
    with_lookalikes = [s for s in rows
                       if any(t in [q for q, _ in generate.LOOKALIKE_QUESTIONS]
                              for _, _, _, t in read_transcript(s))]
    assert with_lookalikes
    assert all(rows[s]["agent_knows_recording"] == "not_asked" for s in with_lookalikes)


@pytest.mark.parametrize("row", labels(), ids=stem)
def test_audio_header_matches_manifest(row):
    meta = manifest()[row["file"]]
    head = audio_header(FIXTURES / row["file"])
    assert head.rate == int(meta["sample_rate"])
    assert head.channels == int(meta["channels"])
    assert head.encoding == meta["encoding"]
    if head.rate == 8000 and meta["format"] == "wav":
        assert head.encoding == "mu-law"
    tolerance = 0.3 if head.encoding == "mp3" else 0.01  # mp3 ends on a whole frame
    assert abs(head.duration_s - float(meta["duration_s"])) <= tolerance
    assert 25.0 <= head.duration_s <= 60.5
    last_end = max(s.start + s.dur for s in read_rttm(stem(row)))
    assert last_end <= float(meta["duration_s"])


def test_total_size_is_at_most_10_mb():
    def size(inside: bool) -> int:
        return sum(p.stat().st_size for p in FIXTURES.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts
                   and ("corpus_sample" in p.parts) == inside)

    assert size(False) <= MAX_TOTAL_BYTES, f"{size(False) / 1e6:.2f} MB"
    # the committed sample of `make corpus` (espeak-ng calls only) stays a sample
    assert size(True) <= MAX_SAMPLE_BYTES, f"{size(True) / 1e6:.2f} MB"


@pytest.mark.parametrize("name", EDGE_FILES)
def test_edge_file_exists(name):
    assert (FIXTURES / "edge" / name).is_file()


def test_edge_files_are_what_the_readme_says():
    edge = FIXTURES / "edge"
    assert (edge / "empty.wav").stat().st_size == 0
    with wave.open(str(edge / "silence.wav")) as w:
        assert (w.getframerate(), w.getnchannels()) == (16000, 1)
        assert w.getnframes() == 10 * 16000
        assert not any(w.readframes(w.getnframes()))
    with wave.open(str(edge / "zero_length.wav")) as w:
        assert w.getnframes() == 0
    with wave.open(str(edge / "gemeente_één_ü.wav")) as w:
        assert w.getnframes() > 16000
    assert not (edge / "not_audio.wav").read_bytes().startswith(b"RIFF")
    with pytest.raises((wave.Error, EOFError)):
        wave.open(str(edge / "corrupt_header.wav")).close()
    music = flac_header((edge / "music_only.flac").read_bytes())
    assert abs(music.duration_s - 30.0) < 0.01
    assert (edge / "call_stereo.ogg").read_bytes()[:4] == b"OggS"
    assert (edge / "call_stereo.m4a").read_bytes()[4:8] == b"ftyp"
    truncated = mp3_header((edge / "truncated.mp3").read_bytes())  # starts as a valid mp3
    assert (truncated.rate, truncated.channels) == (16000, 1)
    for name in EDGE_FILES:
        assert f"`{name}`" in (FIXTURES / "README.md").read_text(encoding="utf-8")
