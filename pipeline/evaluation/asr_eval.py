"""``make eval-asr``: word and character error rates on real human Dutch speech.

The recogniser is judged where it is weakest, on real voices through telephone channels:
utterances of the Debian ``fillets-ng-data-nl`` voice actors (tuning levels only, the first
half of the sorted level folders; the rest is reserved for independent tests), joined with
pauses into one recording, at 16 kHz and through 8 kHz mu-law, A-law and a GSM 06.10 round
trip. Each condition is transcribed by callcheck's transcriber and by plain faster-whisper
with the same model (greedy; beam 5 with a short call-style prompt).

With ``--corpus``, it also reads the openings of the corpus calls (``make corpus``): how often
a recording word of a notice ("opgenomen", ...) and the agent's name come out of Whisper in
the span where the reference has them, per family.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.analysis.analyze import NONSPEECH_EVENTS
from pipeline.analysis.audio import load_audio
from pipeline.analysis.events import detect_events
from pipeline.analysis.transcribe import (
    TranscribeOptions,
    Transcriber,
    normalise_text,
    resolve_model,
)

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "audio_fixtures"
CONDITIONS = ("wb16", "mulaw8", "alaw8", "gsm8")
SYSTEMS = ("callcheck", "plain-greedy", "plain-beam5-prompt")
# the short Dutch call-style prompt of the plain beam-5 baseline (issue 13's table)
PLAIN_PROMPT = "Goedemiddag, u spreekt met de gemeente. Waarmee kan ik u helpen?"
# words that carry a recording notice in the corpus references (any phrasing set)
RECORDING_WORDS = ("opgenomen", "opname", "opnemen", "vastgelegd", "geregistreerd")


def _fixture_module(name: str):
    sys.path.insert(0, str(FIXTURES))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


@dataclass(frozen=True)
class SpeechSet:
    """One recording of joined real utterances and its reference text."""

    samples: np.ndarray  # 16 kHz mono float32
    reference: str
    clips: int
    seconds: float


def real_speech(clips: int = 60, seed: int = 13) -> SpeechSet:
    """``clips`` fillets-ng utterances from the tuning levels, both voices, 0.6-1.4 s apart."""
    import soundfile as sf
    from scipy.signal import resample_poly

    corpus = _fixture_module("corpus")
    pool = corpus.fillets_clips()
    rng = random.Random(seed)
    picked = rng.sample(pool, min(clips, len(pool)))
    parts, texts = [], []
    for clip in picked:
        x, rate = sf.read(clip.path, dtype="float32", always_2d=True)
        x = x.mean(axis=1)
        if rate != 16000:
            g = np.gcd(rate, 16000)
            x = resample_poly(x, 16000 // g, rate // g).astype(np.float32)
        peak = float(np.abs(x).max()) or 1.0
        parts += [np.zeros(int(16000 * rng.uniform(0.6, 1.4)), np.float32), 0.5 * x / peak]
        texts.append(clip.text)
    parts.append(np.zeros(16000, np.float32))
    samples = np.concatenate(parts)
    return SpeechSet(samples, " ".join(texts), len(picked), samples.size / 16000)


def through_channel(samples: np.ndarray, condition: str, workdir: Path) -> np.ndarray:
    """``samples`` (16 kHz) as callcheck reads them after ``condition``'s telephone channel."""

    if condition == "wb16":
        return samples
    generate = _fixture_module("generate")
    codec = {"mulaw8": "mu-law", "alaw8": "a-law", "gsm8": "gsm"}[condition]
    path = workdir / f"{condition}.wav"
    generate.encode(samples[:, None], path, 8000, "wav", workdir, codec=codec)
    return load_audio(path).mono()


def error_rates(reference: str, hypothesis: str) -> dict[str, float]:
    """WER and CER after callcheck's normalisation (case, accents, punctuation)."""
    import jiwer

    ref, hyp = normalise_text(reference), normalise_text(hypothesis)
    words = jiwer.process_words(ref, hyp)
    return {"wer": round(words.wer, 4), "cer": round(jiwer.cer(ref, hyp), 4),
            "ref_words": len(ref.split()), "substitutions": words.substitutions,
            "deletions": words.deletions, "insertions": words.insertions}


def plain_whisper(options: TranscribeOptions):
    """Plain faster-whisper ``WhisperModel`` on the same weights as callcheck's transcriber:
    the baseline of ``make eval-asr`` and of ``make bench``."""
    from faster_whisper import WhisperModel


    name, _ = resolve_model(options.model)
    return WhisperModel(name, device=options.device, compute_type=options.compute_type,
                        cpu_threads=options.cpu_threads, local_files_only=Path(name).is_dir())


class Systems:
    """The recognisers under test, sharing one loaded model where they can."""

    def __init__(self, options: TranscribeOptions):
        self.transcriber = Transcriber(options)
        self._plain = None
        self.options = options

    @property
    def plain(self):
        if self._plain is None:
            self._plain = plain_whisper(self.options)
        return self._plain

    def run(self, system: str, samples: np.ndarray) -> str:
        if system == "callcheck":
            return " ".join(s.text for s in self.transcriber.transcribe(samples).segments)
        beam = 5 if system == "plain-beam5-prompt" else 1
        prompt = PLAIN_PROMPT if system == "plain-beam5-prompt" else None
        segments, _ = self.plain.transcribe(samples, language=self.options.language,
                                            beam_size=beam, initial_prompt=prompt)
        return " ".join(s.text.strip() for s in segments)


def eval_real_speech(systems: Systems, speech: SpeechSet, conditions=CONDITIONS,
                     names=SYSTEMS) -> dict[str, dict[str, dict[str, Any]]]:
    """{condition: {system: error rates + seconds + real-time factor}}."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for condition in conditions:
            x = through_channel(speech.samples, condition, Path(tmp))
            out[condition] = {}
            for system in names:
                t = time.perf_counter()
                hyp = systems.run(system, x)
                seconds = time.perf_counter() - t
                out[condition][system] = {**error_rates(speech.reference, hyp),
                                          "seconds": round(seconds, 1),
                                          "rtf": round(seconds / speech.seconds, 3),
                                          "hypothesis": hyp}
                logger.info("%s %s: WER %.3f (%.0f s)", condition, system,
                            out[condition][system]["wer"], seconds)
    return out


def real_speech_eval(systems: Systems, clips: int = 60, seed: int = 13,
                     conditions=CONDITIONS, names=SYSTEMS) -> dict[str, Any]:
    """The real-speech part of ``make eval-asr`` (also run by ``make bench``)."""
    speech = real_speech(clips, seed)
    return {"real_speech_set": {"clips": speech.clips, "seconds": round(speech.seconds, 1),
                                "words": len(normalise_text(speech.reference).split()),
                                "seed": seed},
            "real_speech": eval_real_speech(systems, speech, conditions, names)}


def _reference_lines(path: Path) -> list[tuple[float, float, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        start, end, role, text = line.split("\t", 3)
        rows.append((float(start), float(end), role, text))
    return rows


def _heard(words: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The normalised words Whisper put inside ``start``..``end`` (1 s slack each side)."""
    return " ".join(t for a, b, t in words if b > start - 1.0 and a < end + 1.0)


def eval_openings(transcriber: Transcriber, corpus: Path, families: list[str] | None = None,
                  limit: int | None = None) -> dict[str, Any]:
    """Per family: share of notice recording words and of agent names (first, last) heard in
    the span where the reference has them; the opening only (up to 20 s past the agent)."""

    with (corpus / "labels.csv").open(newline="", encoding="utf-8") as f:
        labels = list(csv.DictReader(f))
    if families:
        labels = [r for r in labels if r["family"] in families]
    if limit:  # spread evenly over each family (rows of a corpus interleave the families)
        groups: dict[str, list[dict[str, str]]] = {}
        for row in labels:
            groups.setdefault(row["family"], []).append(row)
        share = max(1, limit // len(groups))
        labels = [r for rows in groups.values() for r in rows[:: max(1, len(rows) // share)][:share]]
    per: dict[str, dict[str, list[int]]] = {}
    misses: list[dict[str, str]] = []
    for row in labels:
        audio = load_audio(corpus / row["file"])
        agent = float(row["agent_start_s"]) if row["agent_start_s"] else None
        end = min(audio.duration, (agent + 20.0) if agent is not None else 60.0)
        events = detect_events(audio.mono(), audio.sample_rate)
        skip = tuple((e.start, e.end) for e in events if e.kind in NONSPEECH_EVENTS)
        tr = transcriber.transcribe(audio.samples, audio.sample_rate, end=end, skip=skip)
        words = [(w.start, w.end, t) for s in tr.segments for w in s.words
                 for t in normalise_text(w.text).split()]
        stats = per.setdefault(row["family"], {"notice_word": [], "first": [], "last": []})
        ref = corpus / "transcripts" / (Path(row["file"]).stem + ".txt")
        for start, stop, role, text in _reference_lines(ref):
            if start >= end or role == "CALLER":
                continue
            said = [w for w in RECORDING_WORDS if w in normalise_text(text).split()]
            if said:
                hit = any(w in _heard(words, start, stop).split() for w in said)
                stats["notice_word"].append(int(hit))
        if agent is not None:
            turn = next(((a, b) for a, b, role, _ in _reference_lines(ref)
                         if role == "AGENT" and abs(a - agent) < 1.0), (agent, agent + 6.0))
            heard = f" {_heard(words, *turn)} "
            for key, label in (("first", row["agent_first"]), ("last", row["agent_last"])):
                if label:
                    ok = f" {normalise_text(label)} " in heard
                    stats[key].append(int(ok))
                    if not ok:
                        misses.append({"file": row["file"], "name": label,
                                       "heard": heard.strip()})
    summary = {fam: {k: {"n": len(v), "rate": round(sum(v) / len(v), 3) if v else None}
                     for k, v in s.items()} for fam, s in per.items()}
    return {"families": summary, "name_misses": misses}


def markdown(result: dict[str, Any]) -> str:
    """The tables ``make eval-asr`` prints."""
    lines = []
    speech = result.get("real_speech")
    if speech:
        meta = result["real_speech_set"]
        lines += [f"Real speech: {meta['clips']} fillets-ng utterances, {meta['words']} words, "
                  f"{meta['seconds']:.0f} s", "",
                  "| condition | " + " | ".join(f"{s} WER / CER / RTF" for s in SYSTEMS) + " |",
                  "|---|" + "---|" * len(SYSTEMS)]
        for cond, systems in speech.items():
            cells = [f"{r['wer']:.3f} / {r['cer']:.3f} / {r['rtf']:.2f}"
                     for s in SYSTEMS if (r := systems.get(s))]
            lines.append(f"| {cond} | " + " | ".join(cells) + " |")
    openings = result.get("openings")
    if openings:
        lines += ["", "Corpus openings: share heard where the reference has it", "",
                  "| family | notice word | agent first name | agent last name |",
                  "|---|---|---|---|"]
        for fam, s in sorted(openings["families"].items()):
            cells = [f"{s[k]['rate']:.2f} ({s[k]['n']})" if s[k]["n"] else "-"
                     for k in ("notice_word", "first", "last")]
            lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _parse_set(items: list[str]) -> dict[str, Any]:
    """``key=value`` overrides of TranscribeOptions (values parsed as JSON where they can)."""
    out: dict[str, Any] = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
        if isinstance(out[key], list):
            out[key] = tuple(out[key])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluation.asr_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=120,
                        help="real utterances (default 120: fewer did not separate close settings)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--conditions", nargs="*", default=list(CONDITIONS), choices=CONDITIONS)
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--corpus", type=Path, help="also read the openings of this corpus")
    parser.add_argument("--families", nargs="*", help="corpus families (default all)")
    parser.add_argument("--limit", type=int, help="corpus calls at most (spread over the set)")
    parser.add_argument("--no-speech", action="store_true", help="skip the real-speech set")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="TranscribeOptions overrides for callcheck's transcriber")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write eval-asr.json and eval-asr.md here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    options = replace(TranscribeOptions(cpu_threads=args.threads), **_parse_set(args.set))
    systems = Systems(options)
    result: dict[str, Any] = {"options": {k: v for k, v in vars(options).items()
                                          if k != "hallucination_patterns"}}
    if not args.no_speech:
        result.update(real_speech_eval(systems, args.clips, args.seed, args.conditions,
                                       args.systems))
    if args.corpus:
        result["openings"] = eval_openings(systems.transcriber, args.corpus, args.families,
                                           args.limit)
    text = markdown(result)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "eval-asr.json").write_text(json.dumps(result, indent=1, default=str),
                                                encoding="utf-8")
        (args.out / "eval-asr.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
