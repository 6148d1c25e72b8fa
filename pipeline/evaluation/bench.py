"""``make bench``: speed and memory of the stages on the fixture calls, side by side.

Each configuration runs in its own process (so peak RSS is its own) over the same calls:

* ``transcribe``: callcheck's decoding settings vs. openai-style defaults (beam 5,
  temperature fallback 0.0-1.0, conditioning on previous text);
* ``diarize``: the offline pyannote pipeline (segmentation-3.0 + CAM++);
* ``events``: tones / DTMF / music / silence detection;
* ``analyze``: the whole pipeline per call, callcheck's way (events, then transcription and
  diarization of the call's start only, window by window, until the agent's opening is covered)
  against the WhisperX-style baseline that transcribes and diarizes the whole call and then
  decides (``--full-transcript``); beside them the opening alone (no search for the caller's
  question about recording) and the search that mutes the agent's speaker. All run over the fixture
  calls and over a ~3-minute call
  built from fixture parts (``audio_fixtures/generate.py --long``), and the verdicts of the
  two are compared call by call.

* ``cli``: ``callcheck analyze`` timed as a whole process, as a user times it, over a folder
  with one copy of a ~3-minute call (the fixture opening, then real human conversation from
  fillets-ng) and over one with ``--cli-calls`` copies: the first call (imports and model
  loading included) and each further call once the models are loaded; beside it, plain
  faster-whisper transcribing the same files whole (greedy, same model, loading included).
* ``asr``: word and character error rates on real human speech through telephone channels,
  callcheck's transcriber beside plain faster-whisper (``pipeline.evaluation.asr_eval``, 40 utterances).
* ``reviews-import``: ``callcheck reviews import`` of 10,000 review rows into a store of 2,000
  calls, as a whole process (``pipeline.review.bench_import``; target under 10 s).

Real-time factor (RTF) = processing seconds / audio seconds (lower is faster). Model loading
is timed apart and not part of the RTF, except in ``cli``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.audio import load_audio
from pipeline.analysis.config import load_config
from pipeline.analysis.diarize import DiarizationOptions, Diarizer
from pipeline.analysis.events import detect_events
from pipeline.analysis.transcribe import TranscribeOptions, Transcriber
from pipeline.evaluation.asr_eval import Systems, markdown, plain_whisper, real_speech_eval

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "audio_fixtures"

CONFIGS = {
    "transcribe:callcheck": {},
    "transcribe:openai-style": {"beam_size": 5, "temperatures": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
                                "condition_on_previous_text": True,
                                "repetition_penalty": 1.0, "no_repeat_ngram_size": 0,
                                "domain_prompt": False},
    "diarize": {},
    "events": {},
    "analyze:callcheck": {},
    # the cost of looking for the caller's question past the opening (docs/decisions/
    # recording-talk.md): the opening only, and the search muting the agent's speaker
    "analyze:opening-only": {"question_search_s": 0.0},
    "analyze:search-caller": {"question_search_speech": "caller"},
    "analyze:whisperx-style": {"full_transcript": True},
    "cli": {},
    "asr": {},
    "reviews-import": {},
}
VERDICT_KEYS = ("notice_before_agent", "notice_by_agent", "notice_source", "agent_name",
                "agent_first", "agent_last")
# issue targets for the long call, 2 cores
TARGET_SPEEDUP = 20.0  # x faster than real time, end to end
TARGET_VS_BASELINE = 3.0  # x faster than the whole-call baseline
TARGET_RSS_MB = 2048  # per worker
TARGET_VS_PLAIN = 3.0  # x faster than plain whole-file transcription, as a user times it


def _calls(limit: int | None) -> list[Path]:
    calls = sorted((FIXTURES / "calls").glob("call*.*"))
    if limit:
        # spread the subset over the set (8 kHz, 16 kHz, stereo, mono are interleaved)
        step = max(1, len(calls) // limit)
        calls = calls[::step][:limit]
    return calls


def _worker(name: str, files: list[str], threads: int, repeat_files: tuple[str, ...] = (),
            repeat: int = 1) -> dict:
    """Run one configuration in this process; return timings and peak memory. Files in
    ``repeat_files`` are processed ``repeat`` times and their median time is kept (single runs
    on a shared 2-core machine vary by 15 % and more)."""

    t0 = time.perf_counter()
    kind = name.split(":")[0]
    verdicts: dict[str, dict] = {}
    if kind == "transcribe":

        overrides = dict(CONFIGS[name])
        if "temperatures" in overrides:
            overrides["temperatures"] = tuple(overrides["temperatures"])
        model = Transcriber(TranscribeOptions(cpu_threads=threads, **overrides))

        def run(audio):
            return model.transcribe(audio.samples, audio.sample_rate)
    elif kind == "analyze":

        config = load_config(None, {"analysis": CONFIGS[name],
                                    "transcribe": {"cpu_threads": threads}})
        analyzer = CallAnalyzer(config)
        # load every model now, so loading is not counted as processing
        _ = analyzer.transcriber, analyzer.diarizer.pipeline, analyzer.nlp

        def run(audio):
            return analyzer.analyze_audio(audio, Path(audio.info.path).name)
    elif kind == "diarize":

        # one torch thread: on a busy 2-core machine two threads spin-wait (6-11x slower)
        model = Diarizer(DiarizationOptions(num_threads=1))
        _ = model.pipeline  # load now, so loading is not counted as processing

        def run(audio):
            return model(audio.mono(), audio.sample_rate)
    else:

        def run(audio):
            return detect_events(audio.mono(), audio.sample_rate)
    load_s = time.perf_counter() - t0
    per_file, runs = {}, {}
    for f in files:
        audio = load_audio(f)
        times = []
        for _ in range(repeat if f in repeat_files else 1):
            t = time.perf_counter()
            result = run(audio)
            times.append(time.perf_counter() - t)
        per_file[f] = (audio.duration, statistics.median(times))
        runs[f] = [round(x, 2) for x in times]
        if kind == "analyze":
            verdicts[f] = {k: getattr(result.verdicts, k) for k in VERDICT_KEYS}
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"name": name, "load_s": round(load_s, 2), "per_file": per_file, "runs": runs,
            "verdicts": verdicts if kind == "analyze" else None,
            "peak_rss_mb": round(peak_kb / 1024)}


def _summary(result: dict, files: list[str]) -> dict:
    """Totals of one configuration over ``files``."""
    audio_s = sum(result["per_file"][f][0] for f in files)
    proc_s = sum(result["per_file"][f][1] for f in files)
    return {"calls": len(files), "audio_s": round(audio_s, 1), "proc_s": round(proc_s, 2),
            "rtf": round(proc_s / audio_s, 4) if audio_s else None}


def build_long_call(folder: Path, real: bool = False) -> Path:
    """The ~3-minute benchmark call, made from fixture parts (needs espeak-ng and sox);
    ``real``: after the opening, real human conversation from fillets-ng's tuning levels
    (Debian ``fillets-ng-data-nl``), as a user's calls have."""
    sys.path.insert(0, str(FIXTURES))
    try:
        from generate import build_long_call as build

        conversation = ()
        if real:
            from corpus import fillets_clips

            clips = fillets_clips()
            by = {who: [c for c in clips if c.speaker == who] for who in "mv"}
            conversation = tuple((c.text, c.path) for pair in zip(by["m"], by["v"], strict=False)
                                 for c in pair)
    finally:
        sys.path.pop(0)
    path = folder / ("long_call_real.wav" if real else "long_call.wav")
    build(180.0, path, conversation=conversation)
    return path


def plain_transcription(files: list[str], threads: int) -> None:
    """Whole-file transcription with plain faster-whisper (greedy, the same offline model):
    the baseline a user would otherwise run."""

    model = plain_whisper(TranscribeOptions(cpu_threads=threads))
    for f in files:
        segments, _ = model.transcribe(f, language="nl", beam_size=1)
        for _ in segments:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.evaluation.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=6,
                        help="number of fixture calls (default 6; 0 = all 20; the "
                        "openai-style baseline runs at ~2x real time)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads per model")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS),
                        help="configurations to run (default all)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--no-long", action="store_true",
                        help="skip the ~3-minute call in the analyze configurations")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the long call per configuration; the median counts "
                        "(default 3)")
    parser.add_argument("--cli-calls", type=int, default=4,
                        help="copies of the ~3-minute call in the cli timing (default 4)")
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeat-files", nargs="*", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain:
        plain_transcription(args.files, args.threads)
        return 0
    if args.worker:
        print(json.dumps(_worker(args.worker, args.files, args.threads,
                                 tuple(args.repeat_files), max(1, args.repeat))))
        return 0

    files = [str(p) for p in _calls(args.limit or None)]
    names = args.only or list(CONFIGS)
    long_files: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if any(n.startswith("analyze") for n in names) and not args.no_long:
            long_files = [str(build_long_call(Path(tmp)))]
        results = {}
        for name in names:
            if name == "asr":

                systems = Systems(TranscribeOptions(cpu_threads=args.threads))
                results[name] = real_speech_eval(systems, clips=40)
                print(f"  done {name}", file=sys.stderr)
                continue
            if name == "reviews-import":
                proc = subprocess.run([sys.executable, "-m", "pipeline.review.bench_import",
                                       "--cores", str(args.threads)], capture_output=True,
                                      text=True, cwd=REPO)
                if proc.returncode != 0:
                    print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                    continue
                results[name] = json.loads(proc.stdout)
                print(f"  done {name}", file=sys.stderr)
                continue
            if name == "cli":
                real = build_long_call(Path(tmp), real=True)
                results[name] = time_cli(real, max(2, args.cli_calls), Path(tmp), args.threads)
                print(f"  done {name}", file=sys.stderr)
                continue
            run_files = files + long_files if name.startswith("analyze") else files
            cmd = [sys.executable, "-m", "pipeline.evaluation.bench", "--worker", name, "--threads",
                   str(args.threads), "--repeat", str(args.repeat), "--files", *run_files,
                   "--repeat-files", *long_files]
            env = {**os.environ, "HF_HUB_OFFLINE": "1"}
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
            if proc.returncode != 0:
                print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            results[name] = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"  done {name}", file=sys.stderr)
    report = _report(results, files, long_files, args.threads)
    print(report["text"])
    if args.json:
        args.json.write_text(json.dumps(report["data"], indent=2) + "\n")
    return 0 if len(results) == len(names) else 1


def time_cli(call: Path, copies: int, tmp: Path, threads: int) -> dict:
    """Wall-clock seconds of ``callcheck analyze`` over 1 and over ``copies`` copies of
    ``call``, each a fresh process with a fresh OUT: what a user measures from the shell."""

    import soundfile as sf

    audio_s = sf.info(str(call)).duration
    wall = {}
    for n in (1, copies):
        folder = tmp / f"cli-{n}"
        folder.mkdir()
        for i in range(n):
            shutil.copy(call, folder / f"call{i}.wav")
        cmd = [sys.executable, "-m", "pipeline.cli", "analyze", str(folder), "--out",
               str(tmp / f"cli-out-{n}"), "--quiet", "--threads", str(threads)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=REPO,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
        wall[n] = time.perf_counter() - t0
    per_call = (wall[copies] - wall[1]) / (copies - 1)
    # the same files transcribed whole by plain faster-whisper, also a fresh process
    files = [str(p) for p in sorted((tmp / f"cli-{copies}").glob("*.wav"))]
    cmd = [sys.executable, "-m", "pipeline.evaluation.bench", "--plain", "--threads", str(threads),
           "--files", *files]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO,
                   env={**os.environ, "HF_HUB_OFFLINE": "1"})
    plain = time.perf_counter() - t0
    return {"audio_s": audio_s, "copies": copies, "first_call_s": wall[1],
            "batch_s": wall[copies], "per_call_loaded_s": per_call,
            "plain_whole_file_s": plain, "vs_plain": plain / wall[copies]}


def _cli_lines(r: dict) -> list[str]:
    n, a = r["copies"], r["audio_s"]
    return ["", f"callcheck analyze as a whole process ({a:.0f} s call, model loading included):",
            f"  1 call:  {r['first_call_s']:.1f} s wall ({a / r['first_call_s']:.1f}x real time)",
            f"  {n} calls: {r['batch_s']:.1f} s wall ({n * a / r['batch_s']:.1f}x real time)",
            f"  each call once the models are loaded: {r['per_call_loaded_s']:.1f} s "
            f"({a / r['per_call_loaded_s']:.1f}x real time); loading and start-up: "
            f"{r['first_call_s'] - r['per_call_loaded_s']:.1f} s",
            f"  plain faster-whisper, whole files, greedy, same model, {n} calls: "
            f"{r['plain_whole_file_s']:.1f} s wall: callcheck is {r['vs_plain']:.1f}x faster "
            f"({'met' if r['vs_plain'] >= TARGET_VS_PLAIN else 'NOT met'}: target "
            f">= {TARGET_VS_PLAIN:.0f}x, model loading included)"]


def _report(results: dict, files: list[str], long_files: list[str], threads: int) -> dict:
    header = (f"{'configuration':26s} {'set':9s} {'calls':>5s} {'audio s':>8s} {'load s':>7s} "
              f"{'proc s':>8s} {'RTF':>7s} {'x real':>7s} {'peak RSS MB':>12s}")
    lines = [f"{len(files)} fixture calls" + (", 1 long call" if long_files else "") +
             f", {threads} threads", "", header, "-" * len(header)]
    data = []
    for name, r in results.items():
        if name == "cli":
            lines += _cli_lines(r)
            data.append({"name": name, **r})
            continue
        if name == "reviews-import":
            lines += ["", f"reviews import of {r['rows']} rows ({r['calls']} calls, "
                      f"{r['cores']} cores): {r['cli_import_s']:.2f} s as a process, "
                      f"{r['import_s']['best']:.2f} s in-process; export {r['export_s']:.2f} s "
                      f"({'met' if r['target_met'] else 'NOT met'}: target < 10 s)"]
            data.append({"name": name, **r})
            continue
        if name == "asr":

            lines += ["", markdown(r)]
            data.append({"name": name, **r})
            continue
        sets = [("fixtures", files)] + ([("long", long_files)] if long_files
                                        and name.startswith("analyze") else [])
        for set_name, set_files in sets:
            s = _summary(r, set_files)
            speed = 1.0 / s["rtf"] if s["rtf"] else float("nan")
            lines.append(f"{name:26s} {set_name:9s} {s['calls']:5d} {s['audio_s']:8.1f} "
                         f"{r['load_s']:7.2f} {s['proc_s']:8.2f} {s['rtf']:7.3f} {speed:7.1f} "
                         f"{r['peak_rss_mb']:12d}")
            data.append({"name": name, "set": set_name, **s, "load_s": r["load_s"],
                         "peak_rss_mb": r["peak_rss_mb"]})
    ours, base = results.get("analyze:callcheck"), results.get("analyze:whisperx-style")
    if ours and base:
        all_files = files + long_files
        same = [f for f in all_files if ours["verdicts"][f] == base["verdicts"][f]]
        lines += ["", f"same verdicts as the whole-call baseline: {len(same)} of "
                  f"{len(all_files)} calls"]
        for f in sorted(set(all_files) - set(same)):
            diff = {k: (ours["verdicts"][f][k], base["verdicts"][f][k]) for k in VERDICT_KEYS
                    if ours["verdicts"][f][k] != base["verdicts"][f][k]}
            lines.append(f"  {Path(f).name}: (ours, baseline) {diff}")
        for set_name, set_files in (("fixtures", files), ("long", long_files)):
            if not set_files:
                continue
            a, b = _summary(ours, set_files), _summary(base, set_files)
            lines.append(f"{set_name}: {1 / a['rtf']:.1f}x real time, "
                         f"{b['proc_s'] / a['proc_s']:.1f}x faster than the baseline")
            if set_name == "long":
                lines.append("  long call runs (s), median counted: callcheck "
                             f"{ours['runs'][set_files[0]]}, baseline {base['runs'][set_files[0]]}")
        if long_files:
            a, b = _summary(ours, long_files), _summary(base, long_files)
            checks = [
                (f"long call >= {TARGET_SPEEDUP:.0f}x real time", 1 / a["rtf"] >= TARGET_SPEEDUP),
                (f">= {TARGET_VS_BASELINE:.0f}x faster than the baseline",
                 b["proc_s"] / a["proc_s"] >= TARGET_VS_BASELINE),
                (f"peak RSS <= {TARGET_RSS_MB} MB", ours["peak_rss_mb"] <= TARGET_RSS_MB),
                ("same verdicts as the baseline", len(same) == len(all_files)),
            ]
            lines += ["", "targets (issue 5):"]
            lines += [f"  {'met' if ok else 'NOT met':8s} {what}" for what, ok in checks]
            data.append({"targets": {what: ok for what, ok in checks},
                         "same_verdicts": len(same), "calls": len(all_files)})
    return {"text": "\n".join(lines), "data": data}


if __name__ == "__main__":
    sys.exit(main())
