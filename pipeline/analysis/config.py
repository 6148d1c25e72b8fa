"""One pipeline configuration made of the stages' option dataclasses.

Loaded from a TOML file with one table per stage (``[transcribe]``, ``[audio]``, ...),
overridden from the command line, and written next to every run's results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.analysis.agent_model import agent_start_model
from pipeline.analysis.audio import AudioOptions
from pipeline.analysis.diarize import DiarizationOptions
from pipeline.analysis.doubt import doubt_model
from pipeline.analysis.events import EventOptions
from pipeline.analysis.names import NameOptions
from pipeline.analysis.roles import RoleOptions
from pipeline.analysis.transcribe import TranscribeOptions
from pipeline.analysis.verdicts import VerdictOptions


@dataclass(frozen=True)
class AnalysisOptions:
    """How much of a call is analysed (seconds)."""

    diarize: bool = True  # speaker clusters (pyannote); off = channels, wording and order only
    window_s: float = 60.0  # transcribe this much at a time from the start
    # stop once this much after the agent start is transcribed (the verdicts read the agent's
    # opening turn, at most VerdictOptions.opening_s = 20 s long)
    after_agent_s: float = 20.0
    max_transcribe_s: float = 900.0  # never transcribe more than this without an agent
    full_transcript: bool = False  # transcribe the whole call whatever the verdicts need
    diarize_margin_s: float = 10.0  # diarize this far past the transcribed part (not all)
    # diarize in a second thread while Whisper transcribes the same stretch: the two models
    # each keep about one core busy (CTranslate2 was no faster with 2 threads than with 1 on
    # these machines, and the diarization runs on 1), so a 2-core machine does both at once
    parallel_diarization: bool = True
    # wider than the transcriber's beam: the agent's opening (from just before the agent start
    # to ``after_agent_s`` past it) is decoded again with this width once the agent is found.
    # Off: the transcriber decodes with beam 5 already (a second greedy->beam-5 pass had cost
    # half again the time for nothing measurable; docs/decisions/transcription.md)
    opening_beam_size: int = 1
    opening_pad_s: float = 0.5  # the re-decode starts this long before the agent start
    # past the opening, look for the caller's question about recording ("wordt dit gesprek
    # opgenomen?") and own notice this long after the agent start (0: opening only); the
    # transcription stops once the question is found and answered
    question_search_s: float = 90.0
    # "all": decode everything while searching, diarize on only to read a reply; "caller":
    # diarize ahead and mute the agent's speaker (slower on 2 cores: the diarization costs
    # more than the muting saves; docs/decisions/recording-talk.md)
    question_search_speech: str = "all"
    search_window_s: float = 30.0  # the search goes on this much at a time (it stops after)
    # beam width while searching past the opening (None: the transcriber's own). Greedy: the
    # search reads up to 90 s more per call, and beam 5 there took the 3-minute bench call from
    # 22x to about 16x real time (docs/decisions/transcription.md); the reply to a question
    # found is decoded with the transcriber's own width
    search_beam_size: int | None = 1



class ConfigError(ValueError):
    """A configuration file or override is invalid."""


@dataclass(frozen=True)
class PipelineConfig:
    """All stage options. Each field is the options dataclass of one stage."""

    audio: AudioOptions = field(default_factory=AudioOptions)
    events: EventOptions = field(default_factory=EventOptions)
    diarize: DiarizationOptions = field(default_factory=DiarizationOptions)
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    roles: RoleOptions = field(default_factory=RoleOptions)
    verdicts: VerdictOptions = field(default_factory=VerdictOptions)
    names: NameOptions = field(default_factory=NameOptions)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """Short hash of the resolved config: results made with another config differ."""
        # the agent-start and doubt models are named by the config but are files: their
        # content counts
        model = agent_start_model(self.roles.agent_start_model)
        doubts = doubt_model(self.verdicts.doubt_model)
        data = {**self.to_dict(), "agent_start_model_sha256": model.sha256,
                "doubt_model_sha256": doubts.sha256 if doubts else None}
        blob = json.dumps(data, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _coerce(value: Any, hint: Any) -> Any:
    """TOML has arrays and tables: turn them into the tuples and dataclasses hinted."""
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _build(hint, value)
    return value


def _build(cls, values: dict[str, Any]):
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"[{cls.__name__}] unknown option(s): {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(names))}")
    kwargs = {k: _coerce(v, hints[k]) for k, v in values.items()}
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> PipelineConfig:
    return _build(PipelineConfig, data)


def load_config(path: str | Path | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> PipelineConfig:
    """Defaults, then the TOML file (if any), then ``overrides`` ({stage: {option: value}})."""
    data: dict[str, dict[str, Any]] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read config {path}: {e}") from e
    for stage, values in (overrides or {}).items():
        data.setdefault(stage, {}).update({k: v for k, v in values.items() if v is not None})
    try:
        return from_dict(data)
    except TypeError as e:
        raise ConfigError(str(e)) from e


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(config: PipelineConfig) -> str:
    """The resolved config as TOML (``None`` values are left out: TOML has no null)."""
    lines = [f"# callcheck resolved config, fingerprint {config.fingerprint()}"]
    for stage, values in config.to_dict().items():
        lines.append(f"\n[{stage}]")
        for k, v in values.items():
            if v is not None:
                lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"
