"""A small ``callcheck analyze`` output folder for the review app tests, made without models.

Real fixture recordings are copied into ``<tmp>/in`` (a mono FLAC, an 8 kHz mu-law stereo WAV
and an MP3 under a sub-folder with a non-ASCII, spaced name), and each gets a hand-made result
of the per-call JSON schema (1.1; the MP3's 1.0) (turns, segments with words, verdicts with evidence), written to
``OUT/calls/<file>.json`` and into ``results.sqlite`` exactly as the batch does. One more call
is a failed analysis, and a metadata CSV column set is stored. The FLAC's notice states its
purpose; in the WAV the caller asks whether the call is recorded and announces recording it;
the MP3's result is of the format from before those decisions (it lacks them).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

from pipeline.runs import store
from pipeline.runs.batch import RESULT_COLUMNS, atomic_write, output_path, result_row
from pipeline.types import CallResult

FIXTURE_CALLS = Path(__file__).resolve().parent.parent / "audio_fixtures" / "calls"

FLAC = "call01_ivr_notice_full.flac"
WAV = "call02_noivr_first_stereo_8k.wav"
MP3 = "sub/gesprek één 5.mp3"  # copy of call05: a folder, a space and non-ASCII characters
FAILED = "broken.wav"

AGENT_START = 32.696  # seconds
QUESTION_START = 14.5  # seconds: the WAV caller asks whether the call is recorded


def _words(start: float, text: str, step: float = 0.4, prob: float = 0.8
           ) -> list[dict[str, Any]]:
    out = []
    t = start
    for w in text.split():
        out.append({"start": round(t, 3), "end": round(t + step - 0.02, 3), "text": w,
                    "probability": prob})
        t += step
    return out


def _segment(start: float, text: str, channel: int | None = None,
             step: float = 0.4) -> dict[str, Any]:
    words = _words(start, text, step)
    return {"start": start, "end": words[-1]["end"], "text": text, "words": words,
            "channel": channel, "avg_logprob": -0.3, "no_speech_prob": 0.01,
            "compression_ratio": 1.1}


def _transcript(*segments: dict[str, Any], duration: float) -> dict[str, Any]:
    return {"segments": list(segments), "language": "nl", "duration_s": duration,
            "model": {"name": "hand-made", "sha256": None, "backend": "test"}, "options": {},
            "dropped": []}


def _turn(start: float, end: float, role: str, speaker: str | None = None,
          channel: int | None = None) -> dict[str, Any]:
    return {"start": start, "end": end, "role": role, "speaker": speaker, "channel": channel,
            "confidence": 1.0}


def _audio(name: str, duration: float, rate: int, channels: int, codec: str) -> dict[str, Any]:
    return {"path": name, "duration_s": duration, "sample_rate": rate, "channels": channels,
            "codec": codec, "container": name.rsplit(".", 1)[-1], "sha256": "0" * 64}


def flac_result() -> dict[str, Any]:
    """IVR with a recording notice, hold music, then the agent gives a full name (flagged)."""
    ivr = _segment(7.892, "Dit gesprek kan worden opgenomen voor trainingsdoeleinden.",
                   step=0.8)
    agent = _segment(33.0, "Goedemiddag gemeente Oisterwijk, u spreekt met Marike van Meijel.",
                     step=0.55)
    # name words: "Marike van Meijel." -> the last three words of the agent segment
    name_words = agent["words"][-3:]
    notice_words = ivr["words"][1:6]  # "gesprek kan worden opgenomen voor"
    purpose_word = ivr["words"][6]  # "trainingsdoeleinden."
    return {
        "schema_version": "1.1", "file": FLAC, "key": "k-flac", "error": None,
        "error_code": None, "audio": _audio(FLAC, 53.42, 16000, 1, "flac"),
        "roles": {
            "agent_start_s": AGENT_START, "agent_start_confidence": 0.68,
            "reasons": ["answered", "after_hold_or_ringback"],
            "turns": [
                _turn(0.49, 1.51, "TONE"), _turn(1.53, 3.26, "SILENCE"),
                _turn(3.19, 7.51, "IVR", "SPEAKER_00"), _turn(7.89, 13.03, "IVR", "SPEAKER_00"),
                _turn(13.75, 21.89, "IVR", "SPEAKER_00"), _turn(27.06, 32.58, "MUSIC"),
                _turn(AGENT_START, 39.0, "AGENT", "SPEAKER_01"),
                _turn(39.5, 45.0, "CALLER", "SPEAKER_02"), _turn(45.2, 53.0, "AGENT",
                                                                   "SPEAKER_01"),
            ],
        },
        "transcript": _transcript(
            _segment(3.192, "Goedemorgen en welkom bij de gemeente Oisterwijk."),
            ivr,
            _segment(13.752, "Voor afval kies een, voor paspoorten kies twee."),
            agent,
            _segment(39.6, "Ja hallo, ik heb een vraag over mijn paspoort."),
            duration=53.42),
        "verdicts": {
            "notice_before_agent": "yes", "notice_by_agent": "no", "notice_source": "ivr",
            "agent_name": "full", "agent_first": "marike", "agent_last": "van meijel",
            "organisation_named": "yes", "organisation": "gemeente Oisterwijk",
            "greeting": "goedemiddag", "agent_start_s": AGENT_START,
            "agent_start_confidence": 0.68,
            "notice_evidence": [{
                "text": "gesprek kan worden opgenomen voor", "start": notice_words[0]["start"],
                "end": notice_words[-1]["end"], "role": "IVR", "confidence": 0.9,
                "asr_confidence": 0.8, "detail": "call=gesprek"}],
            "name_evidence": [{
                "text": "marike van meijel", "start": name_words[0]["start"],
                "end": name_words[-1]["end"], "role": "AGENT", "confidence": 0.8,
                "asr_confidence": 0.4, "detail": "met: fuzzy_lexicon"}],
            "opening_text": agent["text"], "needs_review": True,
            "review_reasons": ["name_fuzzy_lexicon", "low_asr_confidence_name"],
            "agent_knows_recording": "not_asked", "notice_contradicted": "no",
            "notice_purpose": "training", "caller_announced_recording": "no",
            "agent_objected": None, "question_evidence": [],
            "purpose_evidence": [{
                "text": "trainingsdoeleinden", "start": purpose_word["start"],
                "end": purpose_word["end"], "role": "IVR", "confidence": 0.9,
                "asr_confidence": 0.8, "detail": "purpose=training"}],
            "caller_notice_evidence": [], "searched_until_s": 53.0,
        },
    }


def _evidence(segment: dict[str, Any], role: str, confidence: float, detail: str
              ) -> dict[str, Any]:
    """A whole segment as evidence."""
    return {"text": segment["text"], "start": segment["start"], "end": segment["end"],
            "role": role, "confidence": confidence, "asr_confidence": 0.8, "detail": detail}


def wav_result() -> dict[str, Any]:
    """Stereo 8 kHz mu-law: no IVR, the agent answers with a first name (not flagged); later
    the caller asks whether the call is recorded (the agent: no) and announces recording it
    (the agent does not object)."""
    agent = _segment(3.0, "gemeente Tilburg, goedemiddag met Joyce.", channel=1, step=0.6)
    name = agent["words"][-1]
    question = _segment(QUESTION_START, "Wordt dit gesprek opgenomen?", channel=0)
    answer = _segment(17.5, "Nee, dat doen wij niet.", channel=1)
    announced = _segment(20.5, "Ik neem dit gesprek zelf op voor mijn onderzoek.", channel=0)
    response = _segment(25.0, "Dat is prima.", channel=1)
    return {
        "schema_version": "1.1", "file": WAV, "key": "k-wav", "error": None, "error_code": None,
        "audio": _audio(WAV, 43.65, 8000, 2, "pcm_mulaw"),
        "roles": {"agent_start_s": 3.0, "agent_start_confidence": 0.9, "reasons": ["answered"],
                  "turns": [_turn(0.43, 1.45, "TONE"), _turn(3.0, 6.4, "AGENT", "S0", 1),
                            _turn(6.9, 9.8, "CALLER", "S1", 0),
                            _turn(10.0, 14.0, "AGENT", "S0", 1),
                            _turn(14.5, 16.2, "CALLER", "S1", 0),
                            _turn(17.5, 19.5, "AGENT", "S0", 1),
                            _turn(20.5, 24.2, "CALLER", "S1", 0),
                            _turn(25.0, 26.5, "AGENT", "S0", 1)]},
        "transcript": _transcript(
            agent, _segment(6.9, "Hallo, ik bel over de afvalkalender.", channel=0),
            _segment(10.0, "Dat kan ik voor u opzoeken.", channel=1),
            question, answer, announced, response, duration=43.65),
        "verdicts": {
            "notice_before_agent": "no", "notice_by_agent": "no", "notice_source": "none",
            "agent_name": "first", "agent_first": "joyce", "agent_last": None,
            "organisation_named": "yes", "organisation": "gemeente Tilburg",
            "greeting": "goedemiddag", "agent_start_s": 3.0, "agent_start_confidence": 0.9,
            "notice_evidence": [],
            "name_evidence": [{"text": "joyce", "start": name["start"], "end": name["end"],
                               "role": "AGENT", "confidence": 0.9, "asr_confidence": 0.8,
                               "detail": "met"}],
            "opening_text": agent["text"], "needs_review": False, "review_reasons": [],
            "agent_knows_recording": "no", "notice_contradicted": "no",
            "notice_purpose": "no_notice", "caller_announced_recording": "yes",
            "agent_objected": "no",
            "question_evidence": [_evidence(question, "CALLER", 0.9, "question"),
                                  _evidence(answer, "AGENT", 0.75, "answer: no")],
            "purpose_evidence": [],
            "caller_notice_evidence": [_evidence(announced, "CALLER", 0.85, "caller notice"),
                                       _evidence(response, "AGENT", 0.7,
                                                 "response: no objection")],
            "searched_until_s": 43.65,
        },
    }


def mp3_result() -> dict[str, Any]:
    """No notice, no name (not flagged); lives in a sub-folder with a non-ASCII name."""
    seg = _segment(2.0, "Goedemorgen, waarmee kan ik u helpen?")
    return {
        "schema_version": "1.0", "file": MP3, "key": "k-mp3", "error": None, "error_code": None,
        "audio": _audio(MP3, 12.0, 8000, 1, "mp3"),
        "roles": {"agent_start_s": 2.0, "agent_start_confidence": 0.95, "reasons": ["answered"],
                  "turns": [_turn(2.0, 5.0, "AGENT", "S0")]},
        "transcript": _transcript(seg, duration=12.0),
        "verdicts": {
            "notice_before_agent": "no", "notice_by_agent": "no", "notice_source": "none",
            "agent_name": "none", "agent_first": None, "agent_last": None,
            "organisation_named": "no", "organisation": None, "greeting": "goedemorgen",
            "agent_start_s": 2.0, "agent_start_confidence": 0.95, "notice_evidence": [],
            "name_evidence": [], "opening_text": seg["text"], "needs_review": False,
            "review_reasons": [],
        },
    }


def failed_result() -> dict[str, Any]:
    return {"schema_version": "1.0", "file": FAILED, "key": "k-bad", "audio": None,
            "error": f"{FAILED}: not a recognised audio file", "error_code": "not_audio"}


# where the hand-made evidence lies (seconds), for assertions
NOTICE_START: float = flac_result()["verdicts"]["notice_evidence"][0]["start"]
NAME_START: float = flac_result()["verdicts"]["name_evidence"][0]["start"]
PURPOSE_START: float = flac_result()["verdicts"]["purpose_evidence"][0]["start"]

METADATA = {
    FLAC: {"organisation": "gemeente Oisterwijk", "province": "Noord-Brabant"},
    WAV: {"organisation": "gemeente Tilburg", "province": "Noord-Brabant"},
    MP3: {"organisation": "gemeente Utrecht", "province": "Utrecht"},
    FAILED: {"organisation": "gemeente Zwolle", "province": "Overijssel"},
}


def build_out(tmp_path: Path) -> Path:
    """-> OUT, an analyze output over recordings copied to ``tmp_path / "in"``."""
    root = tmp_path / "in"
    out = tmp_path / "out"
    (root / "sub").mkdir(parents=True)
    shutil.copy(FIXTURE_CALLS / FLAC, root / FLAC)
    shutil.copy(FIXTURE_CALLS / WAV, root / WAV)
    shutil.copy(FIXTURE_CALLS / "call05_plain_agentnotice_8k.mp3", root / MP3)
    (root / FAILED).write_bytes(b"this is not audio")
    results = [flac_result(), wav_result(), mp3_result(), failed_result()]
    out.mkdir()
    conn = store.connect(out / store.STORE_NAME)
    store.set_info(conn, input_root=str(root.resolve()))
    for r in results:
        json_path = output_path(out, r["file"], ".json")
        atomic_write(json_path, json.dumps(r, ensure_ascii=False, indent=1))
        store.put_call(conn, CallResult.from_dict(r),
                       json_path.relative_to(out.resolve()).as_posix())
    store.put_metadata(conn, METADATA)
    conn.close()
    with (out / "results.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=RESULT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for r in sorted(results, key=lambda r: r["file"]):
            writer.writerow(result_row(CallResult.from_dict(r)))
    return out
