"""Batch runner: analyse every recording under a folder, resumably, into an output folder.

Layout of ``OUT``::

    calls/<relative path>.json   one schema-versioned result per input file
    calls/<relative path>.rttm   role timeline (roles as speaker labels)
    calls/<relative path>.vtt    transcript as WebVTT, cues labelled with roles
    results.csv                  one row per input file (error empty on success)
    results.sqlite               the same as tables (calls, turns, segments, decisions,
                                 evidence, metadata) plus QA reviews (``pipeline.runs.store``)
    report.html                  counts, percentages, plots and flagged calls (``pipeline.runs.report``)
    config.toml                  the resolved configuration

``--metadata CSV`` adds columns per file (a ``file`` column relative to DIR plus any others):
they go into ``results.sqlite`` and break the report down; an ``organisation`` column (or
``organization`` / ``municipality`` / ``gemeente``) also primes Whisper with the name.

Every file is written atomically (temporary file + rename), so a run killed at any moment
leaves only complete files; a re-run skips calls whose JSON already holds a result for the
same audio content (sha256) and configuration, so nothing is lost or done twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.audio import AUDIO_SUFFIXES, is_audio_path, sha256_of
from pipeline.analysis.config import PipelineConfig, from_dict, to_toml
from pipeline.analysis.roles import format_rttm
from pipeline.files import (
    OutputPathError,
    atomic_write,
    output_path,
)
from pipeline.runs import store
from pipeline.runs.decode_cache import cached_analyzer
from pipeline.runs.report import write_report
from pipeline.runs.store import ORGANISATION_COLUMNS
from pipeline.types import (
    DIALOGUE_DECISIONS,
    CallResult,
    Role,
    SchemaError,
)

logger = logging.getLogger(__name__)

# (the DIALOGUE_DECISIONS columns are empty in the rows of results older than them)
RESULT_COLUMNS = (
    "file", "notice_before_agent", "notice_by_agent", "notice_source", "agent_name",
    "agent_first", "agent_last", "agent_start_s", "agent_start_confidence", "organisation_named",
    "greeting", *DIALOGUE_DECISIONS, "needs_review", "review_reasons", "duration_s", "error",
)


class MetadataError(ValueError):
    """The ``--metadata`` CSV cannot be used."""


class NoRecordingsError(FileNotFoundError):
    """The input folder holds no file that looks like a recording."""


def read_metadata(path: str | Path) -> dict[str, dict[str, str]]:
    """``{file: {column: value}}`` from a CSV with a ``file`` column (paths relative to DIR)."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            if "file" not in columns:
                raise MetadataError(f"{path}: no 'file' column (columns: {', '.join(columns)})")
            rows: dict[str, dict[str, str]] = {}
            for line, row in enumerate(reader, start=2):
                file = (row.get("file") or "").strip().replace("\\", "/")
                if not file:
                    raise MetadataError(f"{path}:{line}: empty file name")
                if file in rows:
                    raise MetadataError(f"{path}:{line}: {file!r} listed twice")
                rows[file] = {k: (v or "").strip() for k, v in row.items()
                              if k and k != "file"}
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise MetadataError(f"cannot read metadata {path}: {e}") from e
    return rows


def organisation_of(meta: dict[str, str] | None) -> str | None:
    for col in ORGANISATION_COLUMNS:
        for k, v in (meta or {}).items():
            if k.strip().lower() == col and v:
                return v
    return None


def find_audio(root: Path) -> list[Path]:
    """Audio files under ``root`` (recursive, sorted, symlinked folders not followed)."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if is_audio_path(Path(f)))
    return found


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a POSIX string (the file's key in all outputs)."""
    if root.is_file():
        return path.name
    return path.relative_to(root).as_posix()


def _vtt_time(t: float) -> str:
    h, rem = divmod(max(0.0, t), 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def to_webvtt(result: CallResult) -> str:
    """WebVTT of the transcript, each cue prefixed with the role at its start."""
    lines = ["WEBVTT", ""]
    turns = result.timeline.turns if result.timeline is not None else ()
    segments = result.transcript.segments if result.transcript is not None else ()
    for i, s in enumerate(segments, 1):
        role = next((t.role for t in turns if t.start <= s.start + 0.05 < t.end
                     and t.role not in (Role.SILENCE, Role.MUSIC, Role.TONE)), None)
        text = s.text.replace("-->", "->")
        lines += [str(i), f"{_vtt_time(s.start)} --> {_vtt_time(s.end)}",
                  f"<v {role}>{text}" if role else text, ""]
    return "\n".join(lines)


def result_row(result: CallResult) -> dict[str, str]:
    """The ``results.csv`` row of one call's result (the decisions it does not hold, as those
    of a result older than them, empty)."""
    v = result.verdicts
    decided = result.decisions()

    def fmt(x: Any) -> str:
        if x is None:
            return ""
        if isinstance(x, bool):
            return "yes" if x else "no"
        if isinstance(x, float):
            return f"{x:.2f}"
        return str(x)

    row = {
        "file": result.file,
        **{k: fmt(decided.get(k)) for k in (
            "notice_before_agent", "notice_by_agent", "notice_source", "agent_name",
            "agent_first", "agent_last", "agent_start_s")},
        "agent_start_confidence": fmt(v.agent_start_confidence if v else None),
        "organisation_named": fmt(decided.get("organisation_named")),
        "greeting": fmt(decided.get("greeting")),
        # absent from results made before these decisions, None for agent_objected when the
        # caller announced nothing: both empty
        **{k: fmt(decided.get(k)) for k in DIALOGUE_DECISIONS},
        "needs_review": fmt(v.needs_review) if v else "",
        "review_reasons": ";".join(v.review_reasons) if v else "",
        "duration_s": fmt(result.audio.duration_s if result.audio else None),
        "error": fmt(result.error),
    }
    return row


# ------------------------------------------------------------------------------ workers

_ANALYZER = None


def _init_worker(config_dict: dict[str, Any], decode_cache: str | None = None) -> None:
    """Load the models once per worker process (reading and filling ``decode_cache``, a
    :mod:`pipeline.runs.decode_cache` folder, where given)."""
    global _ANALYZER

    config = from_dict(config_dict)
    if decode_cache:
        _ANALYZER = cached_analyzer(config, decode_cache)
    else:
        _ANALYZER = CallAnalyzer(config)


def error_result(rel: str, error: Exception, code: str, key: str | None = None
                 ) -> CallResult:
    """The result of a call whose analysis failed (not bad audio: a bug, a model failure, a
    lost worker); the batch records it as a row with ``error`` and goes on."""

    return CallResult(file=rel, error=f"{type(error).__name__}: {error}", error_code=code,
                      key=key)


def _analyze_one(path: str, rel: str, key: str, organisation: str | None = None
                 ) -> CallResult:
    """Analyse one file in a worker; never raises (a failure becomes an error result)."""
    t0 = time.perf_counter()
    try:
        result = _ANALYZER.analyze(path, name=rel, organisation=organisation)
    except Exception as e:  # a bug or a model failure must not stop the batch
        logger.exception("analysis of %s failed", rel)
        result = error_result(rel, e, "analysis_failed")
    return replace(result, key=key, timings={
        **result.timings, "wall": round(time.perf_counter() - t0, 3)})


@dataclass(frozen=True)
class BatchSummary:
    n_files: int
    n_done: int  # analysed in this run
    n_skipped: int  # already done with the same content and config
    n_failed: int  # error rows (this run or kept from before)
    out: Path


def _load_existing(path: Path) -> CallResult | None:
    """The result in a call JSON of an earlier run; None where there is none to reuse (an
    unreadable file, or one of a schema this build cannot read: analysed again)."""
    try:
        return CallResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except SchemaError as e:
        logger.info("%s", e)
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_batch(
    root: str | Path,
    out: str | Path,
    config: PipelineConfig | None = None,
    *,
    workers: int = 1,
    quiet: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    only: list[str] | None = None,
    metadata: str | Path | dict[str, dict[str, str]] | None = None,
    report: bool = True,
    decode_cache: str | Path | None = None,
) -> BatchSummary:
    """Analyse all audio under ``root`` (or the relative paths ``only``) into ``out``; see the
    module docstring. ``decode_cache``: a folder that keeps Whisper's decodes and the
    diarizer's output by their exact inputs (:mod:`pipeline.runs.decode_cache`)."""

    root, out = Path(root), Path(out)
    config = config or PipelineConfig()
    if not root.exists():
        raise FileNotFoundError(f"no such file or folder: {root}")
    meta = read_metadata(metadata) if isinstance(metadata, str | Path) else (metadata or {})
    files = find_audio(root) if only is None else [root / rel for rel in only]
    if not files:  # before any output is written: an earlier run's results in OUT stay
        raise NoRecordingsError(
            f"no recordings under {root} (looked for {', '.join(sorted(AUDIO_SUFFIXES))})")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.rglob(".tmp-*"):  # partial writes of a killed run; never read
        stale.unlink(missing_ok=True)
    atomic_write(out / "config.toml", to_toml(config))
    fingerprint = config.fingerprint()

    names = {relative_name(p, root) for p in files}
    unknown = sorted(set(meta) - names)
    if unknown:
        logger.warning("metadata lists %d file(s) not found under %s, e.g. %s",
                       len(unknown), root, unknown[0])
    db = store.connect(out / store.STORE_NAME)
    # the review app finds the recordings here (it serves them only by call, never by path)
    store.set_info(db, input_root=str(root.resolve() if root.is_dir() else root.resolve().parent))
    todo: list[tuple[str, str, str, str | None]] = []
    rows: dict[str, CallResult] = {}
    skipped = 0
    for path in files:
        rel = relative_name(path, root)
        try:
            json_path = output_path(out, rel, ".json")
        except OutputPathError as e:
            rows[rel] = CallResult(file=rel, error=str(e), error_code="unsafe_name")
            continue
        organisation = organisation_of(meta.get(rel))
        try:
            key = f"{sha256_of(path)}:{fingerprint}"
        except OSError as e:  # unreadable: analysed anyway, so the error is recorded
            key = f"unreadable:{fingerprint}:{e}"
        if organisation:  # the prompt changes the transcript, so it is part of the key
            key += ":" + hashlib.sha256(organisation.encode()).hexdigest()[:12]
        old = _load_existing(json_path) if json_path.exists() else None
        if old is not None and old.key == key and not old.error:
            rows[rel] = old
            skipped += 1
            continue
        todo.append((str(path), rel, key, organisation))

    progress = _progress(len(todo), quiet)
    done = 0
    cache = str(decode_cache) if decode_cache else None
    for result in _execute(todo, config, workers, executor, scheduler, cache):
        _write_call(out, result)
        store.put_call(db, result, _json_name(out, result.file))
        rows[result.file] = result
        done += 1
        progress.update(1)
        progress.set_postfix_str(result.file[-40:])
    progress.close()

    ordered = [rows[relative_name(p, root)] for p in files if relative_name(p, root) in rows]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in ordered:
        writer.writerow(result_row(r))
    atomic_write(out / "results.csv", buf.getvalue())
    _sync_store(db, out, ordered, meta, prune=only is None)
    db.close()
    if report:

        write_report(out)
    failed = sum(1 for r in ordered if r.error)
    return BatchSummary(len(files), done, skipped, failed, out)


def _json_name(out: Path, rel: str) -> str | None:
    """The per-call JSON's path relative to ``OUT`` (None for a name that would escape)."""
    try:
        return output_path(out, rel, ".json").relative_to(out.resolve()).as_posix()
    except OutputPathError:
        return None


def _sync_store(db, out: Path, rows: list[CallResult], meta: dict[str, dict[str, str]],
                prune: bool) -> None:
    """Make ``results.sqlite`` hold exactly this run's rows (skipped calls, error rows of
    unsafe names and metadata included); reviews are never touched."""

    have = {r["file"]: r["key"] for r in db.execute("SELECT file, key FROM calls")}
    for r in rows:
        if r.file not in have or have[r.file] != r.key:
            store.put_call(db, r, _json_name(out, r.file))
    store.put_metadata(db, {r.file: meta.get(r.file, {}) for r in rows})
    if prune:
        store.prune(db, [r.file for r in rows])


def _write_call(out: Path, result: CallResult) -> None:
    rel = result.file
    if result.timeline is not None:
        turns = ((t.start, t.end, t.role) for t in result.timeline.turns)
        atomic_write(output_path(out, rel, ".rttm"), format_rttm(Path(rel).stem, turns))
        atomic_write(output_path(out, rel, ".vtt"), to_webvtt(result))
    # the JSON last: its presence marks the call as done
    atomic_write(output_path(out, rel, ".json"),
                 json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=str))


def _execute(todo, config: PipelineConfig, workers: int, executor: str,
             scheduler: str | None, decode_cache: str | None = None) -> Iterator[CallResult]:
    if not todo:
        return
    config_dict = config.to_dict()
    if executor == "dask":
        yield from _execute_dask(todo, config_dict, scheduler, workers, decode_cache)
        return
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r} (local or dask)")
    if workers <= 1:
        _init_worker(config_dict, decode_cache)
        for item in todo:
            yield _analyze_one(*item)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(config_dict, decode_cache)) as pool:
        futures = [pool.submit(_analyze_one, *item) for item in todo]
        for fut in as_completed(futures):
            yield fut.result()


def _execute_dask(todo, config_dict: dict[str, Any], scheduler: str | None, workers: int,
                  decode_cache: str | None = None):
    """Run the calls as tasks on a Dask cluster (``scheduler`` address), or on a local one
    with ``workers`` processes. Workers must see the audio at the same paths (shared storage);
    results come back to this process, which alone writes ``OUT``."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as e:
        raise RuntimeError("the dask executor needs: pip install 'callcheck[dask]'") from e
    if scheduler:
        client = Client(scheduler)
    else:
        client = Client(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                        dashboard_address=None)
    try:
        futures = {client.submit(_dask_task, config_dict, decode_cache, *item, pure=False): item
                   for item in todo}
        for fut in dask_completed(futures):
            try:
                yield fut.result()
            except Exception as e:  # the worker died or the task could not run
                path, rel, key = futures[fut][:3]
                logger.error("dask task for %s failed: %s", rel, e)
                yield error_result(rel, e, "worker_failed", key)
    finally:
        client.close()


_INIT_LOCK = threading.Lock()


def _dask_task(config_dict: dict[str, Any], decode_cache: str | None, path: str, rel: str,
               key: str, organisation: str | None = None) -> CallResult:
    with _INIT_LOCK:  # once per Dask worker process, whatever its thread count
        if _ANALYZER is None:
            _init_worker(config_dict, decode_cache)
    return _analyze_one(path, rel, key, organisation)


class _NoProgress:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, quiet: bool):
    if quiet or total == 0:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="call", dynamic_ncols=True)
