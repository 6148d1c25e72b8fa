"""``make bench``: speed and memory of the stages on the fixture calls, side by side.

Each configuration runs in its own process (so peak RSS is its own) over the same calls:

* ``transcribe``: callcheck's decoding settings vs. openai-style defaults (beam 5,
  temperature fallback 0.0-1.0, conditioning on previous text);
* ``diarize``: the offline pyannote pipeline (segmentation-3.0 + CAM++);
* ``events``: tones / DTMF / music / silence detection.

Real-time factor (RTF) = processing seconds / audio seconds (lower is faster). Model loading
is timed apart and not part of the RTF.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "audio_fixtures"

CONFIGS = {
    "transcribe:callcheck": {},
    "transcribe:openai-style": {"beam_size": 5, "temperatures": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                                "condition_on_previous_text": True,
                                "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                                "domain_prompt": False},
    "diarize": {},
    "events": {},
}


def _calls(limit: int | None) -> list[Path]:
    calls = sorted((FIXTURES / "calls").glob("call*.*"))
    if limit:
        # spread the subset over the set (8 kHz, 16 kHz, stereo, mono are interleaved)
        step = max(1, len(calls) // limit)
        calls = calls[::step][:limit]
    return calls


def _worker(name: str, files: list[str], threads: int) -> dict:
    """Run one configuration in this process; return timings and peak memory."""
    from .audio import load_audio

    t0 = time.perf_counter()
    kind = name.split(":")[0]
    if kind == "transcribe":
        from .transcribe import TranscribeOptions, Transcriber

        overrides = dict(CONFIGS[name])
        if "temperatures" in overrides:
            overrides["temperatures"] = tuple(overrides["temperatures"])
        model = Transcriber(TranscribeOptions(cpu_threads=threads, **overrides))

        def run(audio):
            return model.transcribe(audio.samples, audio.sample_rate)
    elif kind == "diarize":
        from .diarize import DiarizationOptions, Diarizer

        # one torch thread: on a busy 2-core machine two threads spin-wait (6-11x slower)
        model = Diarizer(DiarizationOptions(num_threads=1))
        _ = model.pipeline  # load now, so loading is not counted as processing

        def run(audio):
            return model(audio.mono(), audio.sample_rate)
    else:
        from .events import detect_events

        def run(audio):
            return detect_events(audio.mono(), audio.sample_rate)
    load_s = time.perf_counter() - t0
    audio_s = proc_s = 0.0
    for f in files:
        audio = load_audio(f)
        t = time.perf_counter()
        run(audio)
        proc_s += time.perf_counter() - t
        audio_s += audio.duration
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"name": name, "calls": len(files), "audio_s": round(audio_s, 1),
            "load_s": round(load_s, 2), "proc_s": round(proc_s, 2),
            "rtf": round(proc_s / audio_s, 4) if audio_s else None,
            "peak_rss_mb": round(peak_kb / 1024)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=6,
                        help="number of fixture calls (default 6; 0 = all 20; the "
                        "openai-style baseline runs at ~2x real time)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per model")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS),
                        help="configurations to run (default all)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.files, args.threads)))
        return 0

    files = [str(p) for p in _calls(args.limit or None)]
    results = []
    for name in args.only or list(CONFIGS):
        cmd = [sys.executable, "-m", "pipeline.bench", "--worker", name, "--threads",
               str(args.threads), "--files", *files]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  done {name}", file=sys.stderr)
    header = f"{'configuration':26s} {'calls':>5s} {'audio s':>8s} {'load s':>7s} " \
             f"{'proc s':>8s} {'RTF':>7s} {'peak RSS MB':>12s}"
    print(f"\n{len(files)} fixture calls, {args.threads} threads\n")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['name']:26s} {r['calls']:5d} {r['audio_s']:8.1f} {r['load_s']:7.2f} "
              f"{r['proc_s']:8.2f} {r['rtf']:7.3f} {r['peak_rss_mb']:12d}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if len(results) == len(args.only or CONFIGS) else 1


if __name__ == "__main__":
    sys.exit(main())
