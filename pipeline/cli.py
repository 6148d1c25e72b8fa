"""The ``callcheck`` command. Heavy imports happen after argument parsing (instant ``--help``)."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.audio import AudioError, load_audio
from pipeline.analysis.config import ConfigError, PipelineConfig, load_config
from pipeline.analysis.transcribe import Transcriber, TranscriptionError
from pipeline.evaluation.evaluate import LabelsError, run_eval
from pipeline.models import main as models_main
from pipeline.review.app import serve
from pipeline.review.audit import AuditError, draw_sample
from pipeline.review.calibrate import (
    CALIBRATED_NAME,
    CalibrationError,
    calibrate,
    calibrated_toml,
    format_report,
)
from pipeline.review.export import write_export
from pipeline.review.reviews_csv import ReviewImportError, export_reviews, import_reviews, read_text
from pipeline.runs.batch import MetadataError, atomic_write, run_batch
from pipeline.runs.report import write_report
from pipeline.runs.store import DIALOGUE_DECISIONS, STORE_NAME, connect

logger = logging.getLogger("callcheck")


def _fmt_time(t: float) -> str:
    m, s = divmod(t, 60)
    return f"{int(m):02d}:{s:05.2f}"


def _add_transcribe_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("transcription")
    g.add_argument("--model", help="'default' (offline Whisper base), a local CTranslate2 "
                   "directory, an openai-whisper .pt file, or a hub name (needs internet)")
    g.add_argument("--backend", choices=["faster-whisper", "openai-whisper"],
                   help="Whisper implementation (default faster-whisper)")
    g.add_argument("--language", help="language code (default nl)")
    g.add_argument("--threads", type=int, help="CPU threads for the model (default 2)")
    g.add_argument("--beam-size", type=int, help="1 = greedy (default)")
    g.add_argument("--organisation", help="organisation name to prompt Whisper with")


def _config(args: argparse.Namespace):

    overrides = {
        "transcribe": {
            "model": getattr(args, "model", None),
            "backend": getattr(args, "backend", None),
            "language": getattr(args, "language", None),
            "cpu_threads": getattr(args, "threads", None),
            "beam_size": getattr(args, "beam_size", None),
        }
    }
    return load_config(getattr(args, "config", None), overrides)


def cmd_transcribe(args: argparse.Namespace) -> int:

    config = _config(args)
    try:
        audio = load_audio(args.file, config.audio)
    except AudioError as e:
        print(f"error ({e.code}): {e}", file=sys.stderr)
        return 2
    try:
        transcriber = Transcriber(config.transcribe)
        samples = audio.samples
        channels = None
        if args.channel is not None:
            if not 0 <= args.channel < audio.channels:
                print(f"error: --channel {args.channel} but the file has {audio.channels} "
                      "channel(s)", file=sys.stderr)
                return 2
            channels = (args.channel,)
        transcript = transcriber.transcribe(samples, audio.sample_rate, channels=channels,
                                            organisation=args.organisation)
    except TranscriptionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.json:
        out = {"audio": asdict(audio.info), "transcript": asdict(transcript)}
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    for s in transcript.segments:
        ch = f" ch{s.channel}" if s.channel is not None else ""
        print(f"[{_fmt_time(s.start)} -> {_fmt_time(s.end)}{ch}] {s.text}")
    if not transcript.segments:
        print("(no speech recognised)", file=sys.stderr)
    return 0


def _analysis_config(args: argparse.Namespace):

    overrides = {
        "analysis": {"diarize": False if getattr(args, "no_diarize", False) else None,
                     "full_transcript": True if getattr(args, "full_transcript", False)
                     else None,
                     "question_search_s": getattr(args, "question_search", None)},
        "transcribe": {"model": getattr(args, "model", None),
                       "cpu_threads": getattr(args, "threads", None)},
    }
    return load_config(args.config, overrides)


def cmd_analyze(args: argparse.Namespace) -> int:

    config = _analysis_config(args)
    try:
        summary = run_batch(args.dir, args.out, config, workers=args.workers, quiet=args.quiet,
                            executor=args.executor, scheduler=args.scheduler,
                            metadata=args.metadata, decode_cache=args.decode_cache)
    except (MetadataError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{summary.n_files} file(s): {summary.n_done} analysed, {summary.n_skipped} already "
          f"done, {summary.n_failed} failed -> {summary.out}/results.csv, report.html",
          file=sys.stderr)
    return 1 if summary.n_failed else 0


def cmd_report(args: argparse.Namespace) -> int:

    if not (args.out / STORE_NAME).is_file():
        print(f"error: {args.out / STORE_NAME} not found (run `callcheck analyze` first)",
              file=sys.stderr)
        return 2
    print(write_report(args.out))
    return 0


def _print_attribution(a: dict) -> None:
    """The replays with reference transcripts and what each miss comes from."""
    print(f"\nreplayed with the reference transcripts ({a['n_replayed']} calls):")
    for kind, what in (("reference_text", "reference text, pipeline roles"),
                       ("reference_text_and_roles", "reference text and roles")):
        m = a[kind]
        print(f"  {what:32s} notice_before_agent F1 {m['notice_before_agent']['f1']:.3f}  "
              f"notice_by_agent F1 {m['notice_by_agent']['f1']:.3f}  "
              f"agent_name acc {m['agent_name']['accuracy']:.3f}")
    for kind, m in (a.get("dialogue") or {}).items():
        knows = m.get("agent_knows_recording")
        if knows:
            q = knows["question_detection"]
            print(f"  {kind:32s} question found P {q['precision']:.3f} R {q['recall']:.3f} "
                  f"F1 {q['f1']:.3f}  agent_knows_recording acc {knows['accuracy']:.3f} "
                  f"(n={knows['n']})")
    print("misses by cause (asr / roles / rules):")
    for key, counts in a["misses_by_cause"].items():
        print(f"  {key:22s} " + " / ".join(str(counts[c]) for c in ("asr", "roles", "rules")))
    if a.get("robustness"):
        print("reference text with synthetic recogniser errors (mean of 4 draws):")
        for rate, m in a["robustness"].items():
            print(f"  word error {rate:>4s}  notice_before_agent F1 "
                  f"{m['notice_before_agent_f1']:.3f}  notice_by_agent F1 "
                  f"{m['notice_by_agent_f1']:.3f}  agent_name acc "
                  f"{m['agent_name_accuracy']:.3f}")


def _rates(text: str) -> tuple[float, ...]:
    """"0.1,0.2" -> (0.1, 0.2), each in [0, 1]."""
    try:
        rates = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from e
    if not rates or any(not 0.0 <= r <= 1.0 for r in rates):
        raise argparse.ArgumentTypeError(f"word error rates are between 0 and 1: {text!r}")
    return rates


def _num(x: float | None, width: int = 6) -> str:
    return f"{'–':>{width}s}" if x is None else f"{x:{width}.2f}"


def _print_dialogue(metrics: dict) -> None:
    """The scores of the decisions about recording talk that the labels have."""

    keys = [k for k in DIALOGUE_DECISIONS if k in metrics]
    if not keys:
        return
    print("\nwhat caller and agent say of recording (labelled calls only):")
    for key in keys:
        m = metrics[key]
        d = m["decided"]
        print(f"  {key:26s} acc {m['accuracy']:.3f}  n {m['n']}  coverage {d['coverage']}  "
              f"risk {d['risk']}")
        if "question_detection" in m:
            q = m["question_detection"]
            print(f"  {'  question asked':26s} P {q['precision']:.3f}  R {q['recall']:.3f}  "
                  f"F1 {q['f1']:.3f}")
        if "exact_match" in m:
            print(f"  {'  exact match (as sets)':26s} {m['exact_match']:.3f}")
        for label, row in m["confusion"].items():
            cells = ", ".join(f"{p} {n}" for p, n in row.items())
            print(f"    {label:24s} -> {cells}")


def cmd_eval(args: argparse.Namespace) -> int:

    config = _analysis_config(args)
    try:
        metrics, misses = run_eval(args.dir, args.labels, args.out, config,
                                   workers=args.workers, metadata=args.metadata,
                                   quiet=args.quiet, transcripts_dir=args.transcripts,
                                   asr_noise_rates=args.asr_noise,
                                   decode_cache=args.decode_cache)
    except LabelsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"calls {metrics['n_calls']}  failed {metrics['n_failed']}")
    for key in ("notice_before_agent", "notice_by_agent"):
        m = metrics[key]
        print(f"{key:22s} P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}  "
              f"acc {m['accuracy']:.3f}")
    print(f"{'agent_name':22s} acc {metrics['agent_name']['accuracy']:.3f}   "
          f"name text acc {metrics['agent_name_text']['accuracy']:.3f}")
    st = metrics["agent_start"]
    print(f"{'agent_start':22s} MAE {st['mean_abs_error_s']} s  within 1 s {st['within_1s']}")
    found = metrics["agent_found"]
    print(f"{'no agent found':22s} on calls with an agent {found['missed']}  "
          f"on calls without one {found['no_agent_right']}")
    print("\ndecided without review (coverage) and wrong among them (risk):")
    for key, d in metrics["decided"].items():
        print(f"  {key:22s} coverage {d['coverage']}  risk {d['risk']}  "
              f"({d['wrong']} wrong of {d['decided']} decided, {d['n']} calls)")
    _print_dialogue(metrics)
    for column, values in metrics.get("slices", {}).items():
        print(f"\nby {column}:")
        print(f"  {'':18s} {'n':>4s} {'nb F1':>6s} {'name':>6s} {'start':>6s} {'missed':>7s} "
              f"{'IER':>6s} {'cover':>6s} {'risk':>6s}")
        for value, m in values.items():
            d = m["decided"]
            cover = [x["coverage"] for x in d.values() if x["coverage"] is not None]
            wrong = sum(x["wrong"] for x in d.values())
            decided = sum(x["decided"] for x in d.values())
            print(f"  {value:18s} {m['n']:4d} {m['notice_before_agent_f1']:6.2f} "
                  f"{m['agent_name_accuracy']:6.2f} {_num(m['agent_start_within_1s'])} "
                  f"{_num(m['agent_found']['missed'], 7)} {_num(m['role_error_rate'])} "
                  f"{_num(sum(cover) / len(cover) if cover else None)} "
                  f"{_num(wrong / decided if decided else None)}")
    attribution = Path(args.out) / "attribution.json"
    if attribution.exists():
        _print_attribution(json.loads(attribution.read_text()))
    if misses:
        print("\nmisses:")
        for m in misses:
            print("  " + m)
    print(f"\nwritten: {Path(args.out) / 'metrics.json'}")
    return 0


def cmd_segment(args: argparse.Namespace) -> int:
    """Role timeline of one call (runs events, diarization and the transcription it needs)."""

    config = _analysis_config(args)
    result = CallAnalyzer(config).analyze(args.file, name=args.file.name)
    if result.error:
        print(f"error ({result.error_code}): {result.error}", file=sys.stderr)
        return 2
    tl = result.timeline
    if args.rttm:
        sys.stdout.write(tl.to_rttm(args.file.stem))
        return 0
    for t in tl.turns:
        extra = f"  {t.speaker}" if t.speaker else ""
        extra += f"  ch{t.channel}" if t.channel is not None else ""
        print(f"{_fmt_time(t.start)} -> {_fmt_time(t.end)}  {t.role.value:7s}{extra}")
    if tl.agent_start_s is None:
        print(f"agent start: none found ({'; '.join(tl.reasons)})")
    else:
        print(f"agent start: {tl.agent_start_s:.2f} s (confidence {tl.agent_start_confidence:.2f}"
              f"; {', '.join(tl.reasons)})")
    return 0


def cmd_review(args: argparse.Namespace) -> int:

    return serve(args.out, host=args.host, port=args.port, token=args.token)


def cmd_export(args: argparse.Namespace) -> int:

    path = write_export(args.out, args.output, pseudonymise=args.pseudonymise)
    print(path)
    return 0


def _open_store(out: Path):
    """The results store of ``out`` (migrated to the current version), or None with an
    error printed."""

    if not (out / STORE_NAME).is_file():
        print(f"error: {out / STORE_NAME} not found (run `callcheck analyze` first)",
              file=sys.stderr)
        return None
    return connect(out / STORE_NAME)


def cmd_audit(args: argparse.Namespace) -> int:

    conn = _open_store(args.out)
    if conn is None:
        return 2
    mode = "add" if args.add else "redraw" if args.redraw else "draw"
    try:
        draw = draw_sample(conn, args.rate, seed=args.seed, by=args.by, mode=mode)
    except AuditError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    run = draw.run
    print(f"audit run {run.id} ({run.action}): {len(draw.files)} call(s) drawn, seed "
          f"{run.seed}, rate {run.rate:g}" + (f", by {run.by}" if run.by else "")
          + f"; {draw.n_sample} call(s) in the sample", file=sys.stderr)
    if run.by:
        for stratum, (n, k) in draw.strata.items():
            print(f"  {stratum or '(none)':24s} {k:5d} of {n} unflagged", file=sys.stderr)
    for file in draw.files:
        print(file)
    return 0


def cmd_reviews(args: argparse.Namespace) -> int:

    conn = _open_store(args.out)
    if conn is None:
        return 2
    try:
        if args.action == "export":
            if args.file is None:
                n = export_reviews(conn, sys.stdout)
            else:


                buf = io.StringIO()
                n = export_reviews(conn, buf)
                atomic_write(args.file, buf.getvalue())
            print(f"{n} review(s) exported" + (f" to {args.file}" if args.file else ""),
                  file=sys.stderr)
            return 0
        if args.file is None:
            print("error: reviews import needs the CSV file", file=sys.stderr)
            return 2
        try:
            summary = import_reviews(conn, read_text(args.file))
        except OSError as e:
            print(f"error: cannot read {args.file}: {e}", file=sys.stderr)
            return 2
        except ReviewImportError as e:
            for r in e.refused:
                print(f"{args.file}:{r.line}: {r.reason}", file=sys.stderr)
            print(f"error: nothing imported: {len(e.refused)} row(s) refused"
                  + (f" of {e.n_rows}" if e.n_rows else ""), file=sys.stderr)
            return 2
        print(f"{summary.n_rows} review(s) imported ({summary.n_confirm} confirmed, "
              f"{summary.n_override} overridden)", file=sys.stderr)
        return 0
    finally:
        conn.close()


def cmd_calibrate(args: argparse.Namespace) -> int:

    conn = _open_store(args.out)
    if conn is None:
        return 2
    try:
        run_config = args.out / "config.toml"
        config = load_config(run_config) if run_config.is_file() else PipelineConfig()
        if not run_config.is_file():
            print(f"warning: no {run_config}: the run's thresholds taken as the defaults",
                  file=sys.stderr)
        decisions = args.decisions.split(",") if args.decisions else None
        cal = calibrate(conn, args.out, config.verdicts, args.target_error,
                        decisions=decisions, upper=args.upper_bound)
    except (CalibrationError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        conn.close()

    print(format_report(cal))
    path = args.output or args.out / CALIBRATED_NAME
    atomic_write(path, calibrated_toml(cal, config, args.out))
    print(f"wrote {path}: pass it to `callcheck analyze --config` to use these thresholds; "
          "nothing changes until then", file=sys.stderr)
    return 0 if cal.met else 1


def cmd_models(args: argparse.Namespace) -> int:

    return models_main([args.action, *args.names])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcheck",
        description="Analyse recorded phone calls: recording notices and agent introductions.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output on stderr (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("transcribe", help="print a timestamped transcript of one recording")
    p.add_argument("file", type=Path, help="audio file (wav, flac, ogg, mp3, m4a, ...)")
    p.add_argument("--json", action="store_true", help="print JSON (audio info, segments, "
                   "words, provenance) instead of text")
    p.add_argument("--channel", type=int, help="transcribe only this channel of a stereo file")
    p.add_argument("--config", type=Path, help="TOML config file")
    _add_transcribe_options(p)
    p.set_defaults(func=cmd_transcribe)

    for name, helptext in (("analyze", "analyse every recording under DIR into OUT"),
                           ("eval", "analyse labelled calls and score the verdicts")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("dir", type=Path, help="folder of recordings (searched recursively)")
        if name == "eval":
            p.add_argument("--labels", type=Path, required=True,
                           help="labels CSV (audio_fixtures/labels.csv format)")
            p.add_argument("--transcripts", type=Path,
                           help="reference transcripts (<stem>.txt: start, end, ROLE, text "
                           "tab-separated; default DIR/transcripts): the verdicts are replayed "
                           "with them and each miss is put down to ASR, roles or rules")
            p.add_argument("--asr-noise", type=_rates, default=(), metavar="RATES",
                           help="also replay the reference text with synthetic recogniser "
                           "errors at these word error rates, e.g. 0.1,0.2,0.3 (4 draws each)")
        p.add_argument("--out", type=Path, required=True, help="output folder")
        p.add_argument("--workers", type=int, default=1, help="worker processes (models "
                       "load once per worker; each needs about 1.5 GB)")
        p.add_argument("--config", type=Path, help="TOML config file")
        p.add_argument("--metadata", type=Path, help="CSV with a 'file' column (relative to "
                       "DIR) and any others: stored, used to break the report down; an "
                       "'organisation' column also primes Whisper with the name")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.add_argument("--no-diarize", action="store_true",
                       help="skip speaker clustering (faster, weaker roles on mono calls)")
        p.add_argument("--full-transcript", action="store_true",
                       help="transcribe whole calls, not only up to the agent's opening")
        p.add_argument("--question-search", type=float, metavar="SECONDS",
                       help="look for the caller's question about recording this far past "
                       "the agent start (default 90; 0: the opening only, about 3x faster)")
        p.add_argument("--model", help="Whisper model (see `transcribe --help`)")
        p.add_argument("--threads", type=int, help="CPU threads per worker")
        p.add_argument("--decode-cache", type=Path, metavar="FOLDER",
                       help="keep Whisper's decodes and the diarizer's output here by their "
                       "exact inputs: run again after a change to the role or decision rules, "
                       "only the stretches the change moves are decoded (same results)")
        if name == "analyze":
            p.add_argument("--executor", choices=["local", "dask"], default="local",
                           help="local process pool, or a Dask cluster")
            p.add_argument("--scheduler", help="Dask scheduler address (with --executor dask)")
        p.set_defaults(func=cmd_analyze if name == "analyze" else cmd_eval)

    p = sub.add_parser("segment", help="print the role timeline of one recording")
    p.add_argument("file", type=Path, help="audio file")
    p.add_argument("--rttm", action="store_true", help="print RTTM (roles as speaker labels)")
    p.add_argument("--config", type=Path, help="TOML config file")
    p.add_argument("--no-diarize", action="store_true", help="skip speaker clustering")
    p.add_argument("--model", help="Whisper model (see `transcribe --help`)")
    p.add_argument("--threads", type=int, help="CPU threads")
    p.set_defaults(func=cmd_segment)

    p = sub.add_parser("report", help="rebuild OUT/report.html from OUT/results.sqlite "
                       "(with the QA reviews so far)")
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("review", help="browser app for QA staff over an analyze output")
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default localhost; "
                   "any other needs --token)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--token", help="access token, required for a non-local --host (or set "
                   "CALLCHECK_REVIEW_TOKEN)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("export", help="results.csv with the QA reviews as extra columns")
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.add_argument("-o", "--output", type=Path, help="CSV to write (default "
                   "OUT/results_reviewed.csv)")
    p.add_argument("--pseudonymise", action="store_true", help="replace agent names by "
                   "stable pseudonyms (agent-1, ...): they are employees' names")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("audit", help="draw a random sample of the calls that were not "
                       "flagged into the review queue, to measure the machine's error rate")
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.add_argument("--rate", type=float, required=True,
                   help="fraction of the unflagged calls to draw in each stratum, e.g. 0.1 "
                   "(at least one call of each non-empty stratum)")
    p.add_argument("--seed", type=int, help="random seed (default: a random one, printed and "
                   "recorded); the same seed over the same calls draws the same sample")
    p.add_argument("--by", metavar="COLUMN", help="stratify by this --metadata column (the "
                   "same rate in each of its values)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--add", action="store_true", help="draw more calls, from those not "
                   "sampled yet, into the existing sample")
    g.add_argument("--redraw", action="store_true", help="replace the existing sample by a "
                   "new draw (the old one stays on record)")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("reviews", help="import reviews from a CSV (file,decision,value,"
                       "reviewer,comment[,reviewed_at]) or export the audit trail as one")
    p.add_argument("action", choices=["import", "export"])
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.add_argument("file", type=Path, nargs="?", help="CSV to import (required), or to write "
                   "(export; default: stdout)")
    p.set_defaults(func=cmd_reviews)

    p = sub.add_parser("calibrate", help="propose review thresholds from the reviews of the "
                       "audit sample and the flagged calls; writes a config for analyze --config")
    p.add_argument("out", type=Path, help="output folder of `callcheck analyze`")
    p.add_argument("--target-error", type=float, default=0.02, metavar="RATE",
                   help="the audited error rate (0..1) not to exceed in any decision, with as "
                   "few calls flagged as possible (default 0.02)")
    p.add_argument("--upper-bound", action="store_true", help="keep the upper end of the 95%% "
                   "interval under the target, not the estimate")
    p.add_argument("--decisions", metavar="D1,D2", help="only these decisions' errors count "
                   "(default: every decision the audit sample has reviews of)")
    p.add_argument("-o", "--output", type=Path, help="config file to write (default "
                   "OUT/calibrated.toml)")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("models", help="install, verify or list the offline default models; "
                       "`models add NAME PATH` registers a local CTranslate2 Whisper directory "
                       "to use as --model NAME")
    p.add_argument("action", choices=["install", "verify", "list", "add"])
    p.add_argument("names", nargs="*", help="models (default: all); for add: NAME PATH")
    p.set_defaults(func=cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
