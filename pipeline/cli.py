"""The ``callcheck`` command. Heavy imports happen after argument parsing (instant ``--help``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

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
    from .config import load_config

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
    from .audio import AudioError, load_audio
    from .transcribe import Transcriber, TranscriptionError

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


def cmd_models(args: argparse.Namespace) -> int:
    from .models import main as models_main

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

    p = sub.add_parser("models", help="install, verify or list the offline default models")
    p.add_argument("action", choices=["install", "verify", "list"])
    p.add_argument("names", nargs="*", help="models (default: all)")
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
