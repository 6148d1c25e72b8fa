"""Judge the agent-start model the way the pipeline uses it: leave one tuning family out, train
on the others, and run the whole pipeline on the family left out.

    python -m training.roles_pipeline_cv --analysed out/eval-corpus --corpus corpus \\
        --families espeak-a mbrola-b human-a --cache out/decode-cache --out out/pipeline-cv

``training.roles_train`` scores its candidates on stored transcripts. The pipeline does not:
it decodes the call window by window around the role stage's choices and decodes the agent's
opening again with a wider beam (``CallAnalyzer._beam_opening``), so another start gives
other words. Session 21 took three role changes that won 3 calls of 180 on stored transcripts
and lost 2 held-back starts in the pipeline. Here every call is analysed by ``CallAnalyzer``
with the model trained without its family. Whisper's decodes and the diarizer's turns and
voice prints are cached by their exact inputs (``--cache``), so a second run decodes only
the stretches a changed start moves: the first run costs a full evaluation of the tuning
families, later ones a few minutes. No held-back family is ever read here (``--families``
refuses them: ``audio_fixtures.corpus.HELD_BACK_PREFIX``).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.config import PipelineConfig
from pipeline.analysis.diarize import Diarizer
from pipeline.analysis.transcribe import Transcriber
from pipeline.evaluation.evaluate import compute_metrics
from pipeline.runs.batch import result_row
from pipeline.runs.decode_cache import CachedDiarizer, CachedTranscriber, DecodeCache
from training.roles_train import choose, corpus_arguments, cross_validate, fit, fold_calls, folds

logger = logging.getLogger(__name__)


def run(analysed: Path, corpus: Path, families: list[str], cache_dir: Path, out: Path,
        c: float | None = None, threshold: float | None = None) -> dict[str, Any]:
    """Train per left-out family, analyse its calls with the pipeline, score them; the
    rows go to ``out/results.csv``, the scores to ``out/metrics.json``."""
    config = PipelineConfig()
    role_options = replace(config.roles, agent_start_model="rules")
    labels, calls = fold_calls(analysed, corpus, families, role_options)
    fold_of = folds(families)
    if c is None or threshold is None:
        c, threshold, _ = choose(cross_validate(calls))
    cache = DecodeCache(cache_dir)
    transcriber = CachedTranscriber(Transcriber(config.transcribe), cache)
    diarizer = CachedDiarizer(Diarizer(config.diarize), cache)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, str]] = {}
    for held in families:  # a fold: one family, or several spoken in one phrasing set
        model = fit([x for x in calls if x.family != held], c, threshold, name=f"cv-{held}")
        path = out / f"agent_start-without-{held}.json"
        path.write_text(model.to_json(), encoding="utf-8")
        fold = replace(config, roles=replace(config.roles, agent_start_model=str(path)))
        analyzer = CallAnalyzer(fold, transcriber=transcriber, diarizer=diarizer)
        for lab in (x for x in labels if fold_of[x["family"]] == held):
            t = time.perf_counter()
            result = analyzer.analyze(corpus / lab["file"], name=lab["file"])
            rows[lab["file"]] = result_row(result)
            logger.info("%s %.1f s (cache %d hits, %d decoded)", lab["file"],
                        time.perf_counter() - t, cache.hits, cache.misses)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(next(iter(rows.values()))))
        w.writeheader()
        w.writerows(rows.values())
    metrics = {"C": c, "threshold": threshold, "all": _scores(labels, rows)}
    for fam in sorted({x["family"] for x in labels}):
        metrics[fam] = _scores([x for x in labels if x["family"] == fam], rows)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return metrics


def _scores(labels: list[dict[str, str]], rows: dict[str, dict[str, str]]) -> dict[str, Any]:
    m, _ = compute_metrics(labels, rows)
    return {"agent_start_within_1s": m["agent_start"]["within_1s"],
            "agent_found": m["agent_found"],
            "notice_before_agent_f1": m["notice_before_agent"]["f1"],
            "agent_name_accuracy": m["agent_name"]["accuracy"],
            "decided": {k: [v["decided"], v["wrong"]] for k, v in m["decided"].items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.roles_pipeline_cv",
                                     description=__doc__.split("\n\n")[0])
    corpus_arguments(parser)
    parser.add_argument("--cache", type=Path, required=True, help="decode cache folder")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--c", type=float, help="regularisation (default: chosen as "
                        "training.roles_train chooses it)")
    parser.add_argument("--threshold", type=float, help="decision threshold (with --c)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(args.families) < 2:
        print("error: need at least two tuning folds", file=sys.stderr)
        return 2
    metrics = run(args.analysed, args.corpus, args.families, args.cache, args.out,
                  args.c, args.threshold)
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
