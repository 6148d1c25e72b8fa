"""Evaluation against labelled calls (the ``audio_fixtures/labels.csv`` format).

``metrics.json`` holds exactly: ``n_calls``, ``n_failed``, ``notice_before_agent`` and
``notice_by_agent`` ({precision, recall, f1, accuracy}, "yes" is the positive class),
``agent_name`` ({accuracy, named_accuracy: whether a name was given at all, confusion}),
``agent_name_text`` ({accuracy}: first and last names equal, case-insensitive),
``agent_start`` ({mean_abs_error_s, within_1s, over the calls that have an agent}),
``agent_found`` ({missed: share of calls with an agent where none was
found, no_agent_right: share of calls without an agent where none was found}) and
``decided`` (per decision, :func:`coverage_and_risk`: the share decided without review and
the error rate of what was decided). Failed calls count as wrong answers (and are left out of
the agent-start error). Where the labels have ``shape``, ``family`` or ``channel`` columns,
``slices`` holds the same figures per value (:func:`slice_metrics`).
Where the labels have columns for what caller and agent say of recording (``agent_knows_recording``,
``notice_contradicted``, ``notice_purpose``, ``caller_announced_recording``,
``agent_objected``; an empty cell: not labelled for that call), ``metrics.json`` also holds,
per such decision labelled in at least one call, :func:`dialogue_metrics`: ``n`` (calls
labelled), ``accuracy``, ``confusion`` (label -> predicted -> count), ``decided`` (coverage and
risk as above), for ``agent_knows_recording`` also ``question_detection`` (precision, recall,
F1 of finding that the caller asked: any value but ``not_asked``), for ``notice_purpose``
``exact_match`` (the purposes compared as sets; the same as its accuracy) and ``per_purpose``
(precision, recall, F1 of each purpose).
Role-level DER (pyannote.metrics) against reference RTTMs goes to ``roles.json``.

Where reference transcripts exist (``transcripts/<stem>.txt``: ``start\tend\tROLE\ttext``),
``attribution.json`` says what each wrong verdict comes from. Each call goes through
``CallAnalyzer`` twice more with stages swapped (``pipeline.evaluation.oracles``), its own
events and speaker turns held fixed: with the reference text as the transcription stage
(*reference_text*: roles and verdicts run as in the pipeline) and with the reference roles as
the role stage as well (*reference_text_and_roles*: the verdict rules alone). A miss that the
reference text mends is put down to the recogniser (``asr``), one that only the reference
roles mend to the role stage (``roles``), and one that stays to the rules (``rules``).
With ``asr_noise_rates``, ``attribution.json`` also holds ``robustness``: the reference-text
replay with synthetic recogniser errors (``oracles.asr_noise``) at each word error rate, which
says how good the text must be for the verdicts to hold.
"""

from __future__ import annotations

import csv
import json
import logging
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.audio import AudioError, load_audio
from pipeline.analysis.config import PipelineConfig
from pipeline.analysis.roles import read_rttm
from pipeline.analysis.transcribe import Transcriber
from pipeline.evaluation.oracles import (
    OracleDiarizer,
    OracleEvents,
    OracleRoles,
    OracleTranscriber,
    ReferenceLine,
    read_reference_transcript,
)
from pipeline.runs.batch import result_row, run_batch
from pipeline.runs.store import DIALOGUE_DECISIONS, canonical_purpose
from pipeline.types import (
    KNOWS_VALUES,
    OBJECTED_VALUES,
    PURPOSES,
    CallResult,
    decisions_in_doubt,
    parse_reasons,
)

logger = logging.getLogger(__name__)

NAME_CATEGORIES = ("none", "first", "last", "full")
VERDICT_KEYS = ("notice_before_agent", "notice_by_agent", "agent_name")
CAUSES = ("asr", "roles", "rules")
SLICE_COLUMNS = ("shape", "family", "channel")  # label columns that split the metrics
REPLAY_KINDS = ("reference_text", "reference_text_and_roles")
# the values a label of each decision about recording talk may have ("none" for
# agent_objected: the caller announced nothing; notice_purpose: see ``canonical_purpose``)
DIALOGUE_VALUES: dict[str, tuple[str, ...] | None] = {
    "agent_knows_recording": KNOWS_VALUES,
    "notice_contradicted": ("yes", "no"),
    "notice_purpose": None,
    "caller_announced_recording": ("yes", "no"),
    "agent_objected": (*OBJECTED_VALUES, "none"),
}
FAILED = "error"  # the predicted value of a call whose analysis failed


class LabelsError(ValueError):
    """A labels CSV that cannot be scored against."""


def read_labels(path: str | Path) -> list[dict[str, str]]:
    """The rows of a labels CSV; a value outside the vocabulary of a decision about
    recording talk raises :class:`LabelsError` (before any call is analysed)."""
    with open(path, newline="", encoding="utf-8") as f:
        labels = list(csv.DictReader(f))
    for line, lab in enumerate(labels, start=2):
        for key in DIALOGUE_DECISIONS:
            try:
                _dialogue_label(key, lab.get(key))
            except ValueError as e:
                raise LabelsError(f"{path}:{line}: {key}: {e}") from None
    return labels


def _dialogue_label(key: str, raw: str | None) -> str | None:
    """A label of a decision about recording talk in its canonical form; None: not labelled.
    Raises ``ValueError`` for a value outside the decision's vocabulary."""
    text = (raw or "").strip().lower()
    if not text:
        return None
    if key == "notice_purpose":
        return canonical_purpose(text)
    if text not in DIALOGUE_VALUES[key]:
        raise ValueError(f"{raw!r} is not one of {', '.join(DIALOGUE_VALUES[key])}")
    return text


def _dialogue_prediction(key: str, row: dict[str, str] | None) -> str:
    """What the pipeline said, comparable with :func:`_dialogue_label`: ``error`` for a failed
    call, ``none`` where the row has nothing (agent_objected when the caller announced
    nothing, or results made before these decisions)."""
    if row is None or row.get("error"):
        return FAILED
    value = (row.get(key) or "").strip()
    if not value:
        return "none"
    if key == "notice_purpose":
        try:
            return canonical_purpose(value)
        except ValueError:
            return value
    return value


def _confusion(pairs: list[tuple[str, str]], order: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """label -> predicted -> count of the pairs, both in ``order`` (others after, sorted)."""
    def rank(v: str) -> tuple[int, str]:
        return (order.index(v) if v in order else len(order), v)

    out: dict[str, dict[str, int]] = {}
    for t in sorted({t for t, _ in pairs}, key=rank):
        preds = [p for tt, p in pairs if tt == t]
        out[t] = {p: preds.count(p) for p in sorted(set(preds), key=rank)}
    return out


def dialogue_metrics(labels: list[dict[str, str]], results: dict[str, dict[str, str]],
                     misses: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The scores of the decisions about recording talk (see the module docstring), for each
    labelled in at least one call; only calls with a label for the decision count. Failed
    calls count as wrong (predicted ``error``). ``misses``: wrong calls are appended."""
    out: dict[str, dict[str, Any]] = {}
    for key in DIALOGUE_DECISIONS:
        pairs: list[tuple[str, str]] = []
        decided = wrong_decided = 0
        for lab in labels:
            truth = _dialogue_label(key, lab.get(key))
            if truth is None:
                continue
            row = results.get(lab["file"])
            pred = _dialogue_prediction(key, row)
            pairs.append((truth, pred))
            if pred != truth and pred != FAILED and misses is not None:
                misses.append(f"{lab['file']}: {key} {truth} -> {pred}")
            if pred != FAILED and key not in decisions_in_doubt(
                    parse_reasons(row.get("review_reasons"))):
                decided += 1
                wrong_decided += pred != truth
        if not pairs:
            continue
        n = len(pairs)
        order = (*PURPOSES, "none_stated", "no_notice") if key == "notice_purpose" \
            else DIALOGUE_VALUES[key]
        m: dict[str, Any] = {
            "n": n,
            "accuracy": round(sum(t == p for t, p in pairs) / n, 4),
            "confusion": _confusion(pairs, (*order, "none", FAILED)),
            "decided": {"n": n, "decided": decided, "wrong": wrong_decided,
                        "coverage": round(decided / n, 4),
                        "risk": round(wrong_decided / decided, 4) if decided else None},
        }
        if key == "agent_knows_recording":
            m["question_detection"] = _binary(
                [("yes" if t != "not_asked" else "no",
                  "yes" if p not in ("not_asked", "none", FAILED) else "no") for t, p in pairs])
        if key == "notice_purpose":
            m["exact_match"] = m["accuracy"]  # canonical form: equal strings are equal sets
            m["per_purpose"] = {
                purpose: {k: v for k, v in _binary(
                    [("yes" if purpose in t.split(";") else "no",
                      "yes" if purpose in p.split(";") else "no") for t, p in pairs]).items()
                    if k != "accuracy"}
                for purpose in PURPOSES}
        out[key] = m
    return out


def _binary(pairs: list[tuple[str, str | None]]) -> dict[str, float]:
    tp = sum(t == "yes" and p == "yes" for t, p in pairs)
    fp = sum(t != "yes" and p == "yes" for t, p in pairs)
    fn = sum(t == "yes" and p != "yes" for t, p in pairs)
    correct = sum(t == p for t, p in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "accuracy": round(correct / len(pairs), 4) if pairs else 0.0}


def _norm(name: str | None) -> str:
    return " ".join((name or "").lower().split())


def compute_metrics(labels: list[dict[str, str]], results: dict[str, dict[str, str]]
                    ) -> tuple[dict[str, Any], list[str]]:
    """-> (metrics, misses). ``results`` maps label ``file`` to a ``results.csv`` row."""
    n = len(labels)
    failed = 0
    nb, na, names = [], [], []
    name_text_ok = 0
    start_errors: list[float] = []
    confusion = {t: {p: 0 for p in (*NAME_CATEGORIES, "error")} for t in NAME_CATEGORIES}
    misses: list[str] = []
    for lab in labels:
        row = results.get(lab["file"])
        if row is None or row.get("error"):
            failed += 1
            nb.append((lab["notice_before_agent"], None))
            na.append((lab["notice_by_agent"], None))
            names.append((lab["agent_name"], None))
            confusion[lab["agent_name"]]["error"] += 1
            misses.append(f"{lab['file']}: failed ({(row or {}).get('error', 'no result')})")
            continue
        nb.append((lab["notice_before_agent"], row["notice_before_agent"]))
        na.append((lab["notice_by_agent"], row["notice_by_agent"]))
        names.append((lab["agent_name"], row["agent_name"]))
        confusion[lab["agent_name"]][row["agent_name"] or "none"] += 1
        if (_norm(lab["agent_first"]) == _norm(row["agent_first"])
                and _norm(lab["agent_last"]) == _norm(row["agent_last"])):
            name_text_ok += 1
        else:
            misses.append(f"{lab['file']}: name {lab['agent_first']!r} {lab['agent_last']!r} "
                          f"-> {row['agent_first']!r} {row['agent_last']!r}")
        for key in ("notice_before_agent", "notice_by_agent", "agent_name"):
            if lab[key] != row[key]:
                misses.append(f"{lab['file']}: {key} {lab[key]} -> {row[key]}")
        if lab.get("agent_start_s") and row.get("agent_start_s"):
            err = abs(float(lab["agent_start_s"]) - float(row["agent_start_s"]))
            start_errors.append(err)
            if err > 1.0:
                misses.append(f"{lab['file']}: agent start {lab['agent_start_s']} -> "
                              f"{row['agent_start_s']}")
        elif lab.get("agent_start_s"):
            misses.append(f"{lab['file']}: agent start {lab['agent_start_s']} -> none found")
    with_start = [lab for lab in labels if lab.get("agent_start_s")]
    without = [lab for lab in labels if not lab.get("agent_start_s")]

    def found(lab: dict[str, str]) -> bool:
        row = results.get(lab["file"]) or {}
        return bool(row.get("agent_start_s")) and not row.get("error")

    metrics = {
        "n_calls": n,
        "n_failed": failed,
        "notice_before_agent": _binary(nb),
        "notice_by_agent": _binary(na),
        "agent_name": {
            "accuracy": round(sum(t == p for t, p in names) / n, 4) if n else 0.0,
            # the study's question (did the agent give a name at all?), whatever the kind
            "named_accuracy": (round(sum((t != "none") == (p not in (None, "none"))
                                         for t, p in names) / n, 4) if n else 0.0),
            "confusion": confusion,
        },
        "agent_name_text": {"accuracy": round(name_text_ok / n, 4) if n else 0.0},
        "agent_start": {
            "mean_abs_error_s": (round(sum(start_errors) / len(start_errors), 3)
                                 if start_errors else None),
            # calls with no agent start found count as misses
            "within_1s": (round(sum(e <= 1.0 for e in start_errors) / len(with_start), 4)
                          if with_start else None),
        },
        "agent_found": {
            "missed": (round(sum(not found(lab) for lab in with_start) / len(with_start), 4)
                       if with_start else None),
            "no_agent_right": (round(sum(not found(lab) for lab in without) / len(without), 4)
                               if without else None),
        },
        "decided": coverage_and_risk(labels, results),
        # only where the labels have them: the decisions about recording talk
        **dialogue_metrics(labels, results, misses),
    }
    for lab in without:
        if found(lab):
            misses.append(f"{lab['file']}: no agent in the call -> agent start "
                          f"{results[lab['file']]['agent_start_s']}")
    return metrics, misses


def _wrong(decision: str, lab: dict[str, str], row: dict[str, str]) -> bool:
    if decision == "agent_start_s":
        if not lab.get("agent_start_s") or not row.get("agent_start_s"):
            return bool(lab.get("agent_start_s")) != bool(row.get("agent_start_s"))
        return abs(float(lab["agent_start_s"]) - float(row["agent_start_s"])) > 1.0
    return lab[decision] != row[decision]


def coverage_and_risk(labels: list[dict[str, str]], results: dict[str, dict[str, str]]
                      ) -> dict[str, dict[str, Any]]:
    """Per decision: how many calls were decided without review (``coverage``: the call's
    review reasons leave that decision settled, ``types.decisions_in_doubt``) and how many of
    those are wrong (``risk``). A confident wrong verdict is the worst outcome; this says how
    often callcheck gives one, beside how much it decides on its own."""
    out = {}
    for decision in (*VERDICT_KEYS, "agent_start_s"):
        decided = wrong = 0
        for lab in labels:
            row = results.get(lab["file"])
            if row is None or row.get("error"):
                continue
            if decision in decisions_in_doubt(parse_reasons(row.get("review_reasons"))):
                continue
            decided += 1
            wrong += _wrong(decision, lab, row)
        out[decision] = {"n": len(labels), "decided": decided, "wrong": wrong,
                         "coverage": round(decided / len(labels), 4) if labels else None,
                         "risk": round(wrong / decided, 4) if decided else None}
    return out


def slice_metrics(labels: list[dict[str, str]], results: dict[str, dict[str, str]],
                  role_errors: dict[str, tuple[float, float]] | None = None
                  ) -> dict[str, dict[str, dict[str, Any]]]:
    """The key figures per value of each of :data:`SLICE_COLUMNS` the labels have:
    ``{column: {value: {n, notice_before_agent_f1, notice_by_agent_f1, agent_name_accuracy,
    agent_named_accuracy, agent_start_within_1s, agent_found, decided, role_error_rate}}}``.
    ``role_errors``: per call (error, total) seconds of the role-level identification error."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for column in SLICE_COLUMNS:
        values = sorted({lab.get(column) or "" for lab in labels} - {""})
        if not values:
            continue
        out[column] = {}
        for value in values:
            part = [lab for lab in labels if lab.get(column) == value]
            m, _ = compute_metrics(part, results)
            errs = [role_errors[lab["file"]] for lab in part
                    if role_errors and lab["file"] in role_errors]
            total = sum(t for _, t in errs)
            out[column][value] = {
                "n": len(part),
                "notice_before_agent_f1": m["notice_before_agent"]["f1"],
                "notice_by_agent_f1": m["notice_by_agent"]["f1"],
                "agent_name_accuracy": m["agent_name"]["accuracy"],
                "agent_named_accuracy": m["agent_name"]["named_accuracy"],
                "agent_start_within_1s": m["agent_start"]["within_1s"],
                "agent_found": m["agent_found"],
                "decided": m["decided"],
                "role_error_rate": round(sum(e for e, _ in errs) / total, 4) if total else None,
            }
    return out


def role_der(reference_dir: Path, out: Path, files: list[str]) -> dict[str, Any]:
    """Role-level error rate (DER with roles as fixed labels, i.e. identification error rate) per call and overall (pyannote.metrics).

    SILENCE is not scored (RTTM marks what is heard); a 0.25 s collar around reference
    boundaries forgives edge jitter of music and speech onsets.
    """
    from pyannote.metrics.identification import IdentificationErrorRate

    # roles are fixed labels: the identification error rate compares role to role, where
    # DiarizationErrorRate would first map hypothesis labels to reference labels
    metric = IdentificationErrorRate(collar=0.25, skip_overlap=False)
    per_call, components = {}, {}
    for rel in files:
        ref_path = reference_dir / f"{Path(rel).stem}.rttm"
        hyp_path = out / "calls" / f"{rel}.rttm"
        if not ref_path.exists() or not hyp_path.exists():
            continue
        ref, hyp = read_rttm(ref_path.read_text()), read_rttm(hyp_path.read_text())
        detail = metric(ref, hyp, detailed=True)
        per_call[rel] = round(detail["identification error rate"], 4)
        components[rel] = (detail["identification error rate"] * detail["total"],
                           detail["total"])
    return {"der": round(abs(metric), 4) if per_call else None, "per_call": per_call,
            "components": components}


def replay_with_reference(result: CallResult, lines: list[ReferenceLine], audio, config,
                          nlp=None, noise: tuple[float, int] | None = None,
                          kinds: tuple[str, ...] = REPLAY_KINDS,
                          scorer=None) -> dict[str, dict[str, str]]:
    """Verdict rows (``results.csv`` form) for one analysed call run again through
    ``CallAnalyzer`` with the reference text as its transcription stage
    (``reference_text``), and the reference roles as its role stage as well
    (``reference_text_and_roles``); ``result`` is the call's result, ``audio`` its loaded audio.
    The events and speaker turns are the call's own, held fixed, and so is the stretch that
    was transcribed: the reference lines that start in it, all given at once
    (``full_transcript``), so that only the text (and the roles) differ from the pipeline's
    run. ``noise``: (word error rate, seed) of ``oracles.asr_noise`` on the reference text;
    ``kinds``: the replays wanted; ``scorer``: a ``names.WhisperScorer`` to snap misheard
    names as ``analyze`` does (None: names as written)."""

    transcribed = result.transcript.duration_s
    lines = [ln for ln in lines if ln.start < transcribed]
    rng = random.Random(noise[1]) if noise else None
    transcriber = OracleTranscriber.from_reference(
        lines, audio, rng, noise[0] if noise else 0.0, scorer)
    diarizer = OracleDiarizer(result.speaker_turns)
    events = OracleEvents(result.events)
    config = replace(config, analysis=replace(config.analysis, full_transcript=True))
    rows = {}
    for key, roles in (("reference_text", None), ("reference_text_and_roles", OracleRoles(lines))):
        if key not in kinds:
            continue
        analyzer = CallAnalyzer(config, transcriber=transcriber, diarizer=diarizer,
                                events=events, roles=roles, nlp=nlp)
        rows[key] = result_row(analyzer.analyze_audio(audio, result.file))
    return rows


def attribute_misses(labels: list[dict[str, str]], results: dict[str, dict[str, str]],
                     replays: dict[str, dict[str, dict[str, str]]]) -> dict[str, Any]:
    """Per call and verdict: the cause of each miss (``asr``, ``roles`` or ``rules``), with
    the metrics of both replays (see the module docstring)."""
    per_call: dict[str, dict[str, str]] = {}
    counts = {key: dict.fromkeys(CAUSES, 0) for key in VERDICT_KEYS}
    for lab in labels:
        row, replay = results.get(lab["file"]), replays.get(lab["file"])
        if row is None or row.get("error") or replay is None:
            continue
        causes = {}
        for key in VERDICT_KEYS:
            if row[key] == lab[key]:
                continue
            if replay["reference_text"][key] == lab[key]:
                cause = "asr"
            elif replay["reference_text_and_roles"][key] == lab[key]:
                cause = "roles"
            else:
                cause = "rules"
            causes[key] = f"{cause}: {lab[key]} -> {row[key]}"
            counts[key][cause] += 1
        if causes:
            per_call[lab["file"]] = causes
    replayed = [lab for lab in labels if lab["file"] in replays]
    metrics = {}
    for kind in REPLAY_KINDS:
        rows = {f: r[kind] for f, r in replays.items()}
        metrics[kind], _ = compute_metrics(replayed, rows)
        # per family, shape and channel: a target "with the reference text" is read on each
        # held-back family alone (every family named held-back*: held-back, held-back-g)
        if slices := slice_metrics(replayed, rows):
            metrics[kind]["slices"] = slices
    # the decisions about recording talk with the reference text: what the rules reach when
    # the recogniser hears every word (the question found, the answer read)
    dialogue = {kind: dialogue_metrics(replayed, {f: r[kind] for f, r in replays.items()})
                for kind in REPLAY_KINDS}
    return {"n_replayed": len(replayed), "misses_by_cause": counts, "per_call": per_call,
            **metrics, "dialogue": dialogue}


@dataclass(frozen=True)
class ReplayCall:
    """One analysed call ready to be replayed: its result, reference lines and audio."""

    file: str
    result: CallResult
    lines: list[ReferenceLine]
    audio: Any  # pipeline.analysis.audio.Audio


def load_replayable(root: Path, out: Path, labels: list[dict[str, str]], transcripts: Path,
                    config) -> list[ReplayCall]:
    """Every labelled call analysed into ``out`` that has a reference transcript, each read
    once for all replays; a bad reference or recording costs only its call."""

    calls = []
    for lab in labels:
        ref = transcripts / f"{Path(lab['file']).stem}.txt"
        call = out / "calls" / f"{lab['file']}.json"
        if not ref.exists() or not call.exists():
            continue
        try:
            result = CallResult.from_dict(json.loads(call.read_text()))
        except (ValueError, KeyError, TypeError) as e:  # SchemaError is a ValueError
            logger.warning("no replay of %s: %s", lab["file"], e)
            continue
        if result.error or result.transcript is None:
            continue
        try:
            lines = read_reference_transcript(ref)
            audio = load_audio(root / lab["file"], config.audio if config else None)
        except (ValueError, OSError, AudioError) as e:  # costs its call, not the eval
            logger.warning("no replay of %s: %s", lab["file"], e)
            continue
        calls.append(ReplayCall(lab["file"], result, lines, audio))
    return calls


def replay_calls(calls: list[ReplayCall], config, nlp=None
                 ) -> dict[str, dict[str, dict[str, str]]]:
    """:func:`replay_with_reference` for each call; -> {file: {replay kind: results.csv
    row}}."""
    return {c.file: replay_with_reference(c.result, c.lines, c.audio, config, nlp)
            for c in calls}


def robustness(calls: list[ReplayCall], labels: list[dict[str, str]], config,
               rates: tuple[float, ...], seeds: int = 4, nlp=None, scorer=None
               ) -> dict[str, dict[str, float]]:
    """How the verdicts hold up as the text gets worse: the reference-text replay with
    :func:`asr_noise` at each word error rate, ``seeds`` draws each; -> {rate: mean metrics}."""
    replayed = [lab for lab in labels if lab["file"] in {c.file for c in calls}]
    curve: dict[str, dict[str, float]] = {}
    for rate in rates:
        runs = []
        for seed in range(seeds):
            rows = {c.file: replay_with_reference(c.result, c.lines, c.audio, config, nlp,
                                                  noise=(rate, seed),
                                                  kinds=("reference_text",),
                                                  scorer=scorer)["reference_text"]
                    for c in calls}
            runs.append(compute_metrics(replayed, rows)[0])
        def mean(get, runs=runs) -> float:
            return round(sum(get(m) or 0.0 for m in runs) / len(runs), 4)

        curve[f"{rate:g}"] = {
            "notice_before_agent_f1": mean(lambda m: m["notice_before_agent"]["f1"]),
            "notice_by_agent_f1": mean(lambda m: m["notice_by_agent"]["f1"]),
            "agent_name_accuracy": mean(lambda m: m["agent_name"]["accuracy"]),
            "agent_start_within_1s": mean(lambda m: m["agent_start"]["within_1s"]),
        }
    return curve


def run_eval(root: str | Path, labels_path: str | Path, out: str | Path, config=None, *,
             workers: int = 1, quiet: bool = False, rttm_dir: str | Path | None = None,
             metadata: str | Path | None = None, transcripts_dir: str | Path | None = None,
             asr_noise_rates: tuple[float, ...] = (), decode_cache: str | Path | None = None
             ) -> tuple[dict[str, Any], list[str]]:
    """Analyse the labelled calls under ``root`` into ``out`` and score them
    (``decode_cache``: as in ``run_batch``)."""

    root, out = Path(root), Path(out)
    labels = read_labels(labels_path)
    run_batch(root, out, config, workers=workers, quiet=quiet,
              only=[lab["file"] for lab in labels], metadata=metadata,
              decode_cache=decode_cache)
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        results = {r["file"]: r for r in csv.DictReader(f)}
    metrics, misses = compute_metrics(labels, results)
    rttm_dir = Path(rttm_dir) if rttm_dir else root / "rttm"
    roles = None
    if rttm_dir.is_dir():
        roles = role_der(rttm_dir, out, [lab["file"] for lab in labels])
        components = roles.pop("components")
        (out / "roles.json").write_text(json.dumps(roles, indent=2) + "\n")
    slices = slice_metrics(labels, results, components if roles else None)
    if slices:
        metrics["slices"] = slices
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    transcripts = Path(transcripts_dir) if transcripts_dir else root / "transcripts"
    if transcripts.is_dir():
        if config is None:

            config = PipelineConfig()
        calls = load_replayable(root, out, labels, transcripts, config)
        attribution = attribute_misses(labels, results, replay_calls(calls, config))
        if asr_noise_rates:
            scorer = None
            if config.names.snap:

                scorer = Transcriber(config.transcribe).scorer()
            attribution["robustness"] = robustness(calls, labels, config,
                                                   tuple(asr_noise_rates), scorer=scorer)
        (out / "attribution.json").write_text(json.dumps(attribution, indent=2) + "\n")
    else:
        (out / "attribution.json").unlink(missing_ok=True)  # not one of an earlier run
    return metrics, misses
