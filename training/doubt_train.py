"""Train the doubt model (``models/doubt/doubt.json``) on analysed corpus calls.

    python -m training.doubt_train --analysed out/eval-corpus --corpus corpus \\
        --families espeak-a+human-a mbrola-b human-d human-e human-f human-h \\
        --out models/doubt/doubt.json

Every labelled call of the tuning families that ``callcheck eval`` analysed into ``--analysed``
gives one example per concern: the call's doubt features (``pipeline.analysis.doubt``) and
whether any labelled decision of that concern is wrong, whatever the rules flagged. The
features are read from the call JSON; any doubt model the run was made with only added
review reasons, which neither the features nor the labels read.

The threshold of each concern is chosen on calls of phrasing sets the model was not fitted
to: the model is fitted with one phrasing set (a ``--families`` fold) left out, in turn, and
the threshold is the one of least cost over the calls left out, all folds pooled: a wrong
verdict the model lets through costs ``--wrong-cost`` reviews of right ones. The cost counts
every call, whatever the rules flagged: at run time rules and model act together, and the
model is there for the calls where the rules meet kinds of error they were never written for,
as if they were blind. No held-back family (``held-back*``) is ever read: ``--families``
refuses them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from audio_fixtures.corpus import HELD_BACK_PREFIX
from pipeline.analysis.doubt import DOUBT_FEATURES, ConcernModel, DoubtModel, features
from pipeline.evaluation.evaluate import (
    VERDICT_KEYS,
    _dialogue_label,
    _dialogue_prediction,
    _wrong,
    read_labels,
)
from pipeline.runs.batch import result_row
from pipeline.types import CallResult, Concern, decisions_in_doubt, parse_reasons
from training.roles_train import corpus_arguments, folds

logger = logging.getLogger(__name__)

# the labelled decisions each concern's verdicts are judged by
CONCERN_DECISIONS: dict[Concern, tuple[str, ...]] = {
    Concern.AGENT_START: ("agent_start_s",),
    Concern.NAME: ("agent_name",),
    Concern.NOTICE: ("notice_before_agent", "notice_by_agent", "notice_purpose"),
    Concern.QUESTION: ("agent_knows_recording", "notice_contradicted"),
    Concern.CALLER_NOTICE: ("caller_announced_recording", "agent_objected"),
}
C_VALUE = 0.3  # L2 strength of the logistic fits (inverse): a few hundred calls, 31 features
GRID = tuple(round(0.01 * k, 2) for k in range(1, 100))
# a confident wrong verdict is the worst outcome: one costs as much as this many reviews of
# verdicts that were right (the threshold's trade-off, docs/decisions/doubt-model.md)
WRONG_COST = 10.0


def wrong_of(decision: str, lab: dict[str, str], row: dict[str, str]) -> bool | None:
    """Whether the row's decision disagrees with the label; None: not labelled."""
    if decision in (*VERDICT_KEYS, "agent_start_s"):
        return _wrong(decision, lab, row)
    truth = _dialogue_label(decision, lab.get(decision))
    return None if truth is None else _dialogue_prediction(decision, row) != truth


def examples(analysed: Path, labels: list[dict[str, str]], opening_s: float = 20.0
             ) -> list[tuple[str, dict[str, float], dict[Concern, int], dict[str, str]]]:
    """(family, features, concern -> wrong 0/1, results row) of each analysed labelled call."""
    out = []
    for lab in labels:
        family = lab.get("family", "")
        if family.startswith(HELD_BACK_PREFIX):  # folds() refuses them before this
            raise SystemExit(f"{lab['file']}: held-back family {family!r}: never trained on")
        path = analysed / "calls" / f"{lab['file']}.json"
        if not path.is_file():
            logger.warning("%s: not analysed, left out", lab["file"])
            continue
        result = CallResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
        if result.error or result.verdicts is None:
            continue
        row = result_row(result)
        wrong = {}
        for concern, decisions in CONCERN_DECISIONS.items():
            judged = [w for d in decisions if (w := wrong_of(d, lab, row)) is not None]
            if judged:
                wrong[concern] = int(any(judged))
        out.append((family, features(result, opening_s), wrong, row))
    return out


def fit(x: np.ndarray, y: np.ndarray) -> ConcernModel:
    """A standardised L2 logistic regression (threshold set later)."""
    from sklearn.linear_model import LogisticRegression

    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    clf = LogisticRegression(C=C_VALUE, max_iter=2000)
    clf.fit((x - means) / scales, y)
    names = DOUBT_FEATURES
    return ConcernModel({n: round(float(w), 5) for n, w in zip(names, clf.coef_[0], strict=True)},
                        {n: round(float(m), 5) for n, m in zip(names, means, strict=True)},
                        {n: round(float(s), 5) for n, s in zip(names, scales, strict=True)},
                        round(float(clf.intercept_[0]), 5), 1.0)


def _predict(model: ConcernModel, x: np.ndarray) -> np.ndarray:
    return np.array([model.probability(dict(zip(DOUBT_FEATURES, r, strict=True))) for r in x])


def out_of_fold(fams: list[str], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(wrong) of each call (fold ``fams``, features ``x``, label ``y``) from a model fitted
    without its fold."""
    p = np.zeros(len(y))
    for fam in sorted(set(fams)):
        test = np.array([f == fam for f in fams])
        if y[~test].min() == y[~test].max():
            p[test] = float(y[~test][0])
            continue
        p[test] = _predict(fit(x[~test], y[~test]), x[test])
    return p


def choose_threshold(p: np.ndarray, y: np.ndarray, wrong_cost: float) -> tuple[float, dict]:
    """The threshold of least cost on the calls left out: each wrong verdict the model would
    not doubt (p < t) costs ``wrong_cost``, each right one it would doubt (sent to a person)
    costs 1; of equal costs the highest threshold (fewest reviews). With its counts."""
    best = None
    for t in (*GRID, 1.0):
        kept = p < t
        wrong, flagged_right = int(y[kept].sum()), int((~kept & (y == 0)).sum())
        cost = wrong_cost * wrong + flagged_right
        if best is None or cost <= best[0]:
            best = (cost, t, {"kept": int(kept.sum()), "wrong": wrong,
                              "doubted": int((~kept).sum()), "doubted_right": flagged_right})
    return best[1], best[2]


def _xy(rows, concern: Concern) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, wrong (0/1) and whether the rules left the concern decided, of the rows
    that judge ``concern``."""
    judged = [(f, w[concern], row) for _, f, w, row in rows if concern in w]
    x = np.array([[f[k] for k in DOUBT_FEATURES] for f, _, _ in judged]).reshape(-1, len(
        DOUBT_FEATURES))
    y = np.array([w for _, w, _ in judged], dtype=int)
    ruled = np.array([not (set(CONCERN_DECISIONS[concern]) & decisions_in_doubt(
        parse_reasons(row.get("review_reasons")))) for _, _, row in judged], dtype=bool)
    return x, y, ruled


def _counts(p: np.ndarray, y: np.ndarray, ruled: np.ndarray, t: float) -> dict[str, int]:
    both = ruled & (p < t)
    return {"calls": int(len(y)), "wrong": int(y.sum()), "rules_decided": int(ruled.sum()),
            "rules_wrong": int(y[ruled].sum()), "both_decided": int(both.sum()),
            "both_wrong": int(y[both].sum())}


def first_look_thresholds(rows, look_rows, look_fold: str, wrong_cost: float
                          ) -> dict[Concern, tuple[float, dict]]:
    """Per concern: the threshold of least cost on the calls of one phrasing set analysed by
    rules that had never seen it (``look_rows``), among those the rules left decided, with a
    model fitted without that set: the situation of every new set of calls."""
    others = [r for r in rows if r[0] != look_fold]
    out = {}
    for concern in CONCERN_DECISIONS:
        x, y, _ = _xy(others, concern)
        lx, ly, lruled = _xy(look_rows, concern)
        if not len(ly) or y.min() == y.max():
            out[concern] = (1.0, {"calls": int(len(ly))})
            continue
        p = _predict(fit(x, y), lx)
        t, _ = choose_threshold(p[lruled], ly[lruled], wrong_cost)
        out[concern] = (t, _counts(p, ly, lruled, t))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    corpus_arguments(ap)
    ap.add_argument("--out", type=Path, help="model file to write (default: report only)")
    ap.add_argument("--wrong-cost", type=float, default=WRONG_COST,
                    help="a wrong verdict left undoubted costs this many needless reviews")
    ap.add_argument("--first-look", nargs=2, metavar=("ANALYSED", "FAMILY"),
                    help="choose the thresholds on FAMILY as analysed into ANALYSED by rules "
                    "that had not seen it (an older build), not on all folds left out")
    ap.add_argument("--report", type=Path, help="write the figures as JSON")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fold_of = folds(args.families)
    labels = [r for r in read_labels(args.corpus / "labels.csv") if r.get("family") in fold_of]
    rows = [(fold_of[fam], f, w, row) for fam, f, w, row in examples(args.analysed, labels)]
    looked = None
    if args.first_look:
        run, family = Path(args.first_look[0]), args.first_look[1]
        if family not in fold_of:
            ap.error(f"--first-look {family}: not one of the tuning families")
        look_rows = [(fold_of[fam], f, w, row) for fam, f, w, row in examples(
            run, [lab for lab in labels if lab["family"] == family])]
        looked = first_look_thresholds(rows, look_rows, fold_of[family], args.wrong_cost)
    concerns, report = {}, {}
    for concern in CONCERN_DECISIONS:
        x, y, ruled = _xy(rows, concern)
        p = out_of_fold([fold for fold, _, w, _ in rows if concern in w], x, y)
        t, alone = choose_threshold(p, y, args.wrong_cost)
        report[concern.value] = {"left_out": {"threshold": t, "alone": alone,
                                              **_counts(p, y, ruled, t)}}
        if looked is not None:
            t = looked[concern][0]
            report[concern.value]["first_look"] = {"threshold": t, **looked[concern][1]}
            report[concern.value]["left_out"]["at_first_look_threshold"] = _counts(
                p, y, ruled, t)
        model = fit(x, y)
        concerns[concern] = ConcernModel(model.weights, model.means, model.scales, model.bias, t)
        logger.info("%-14s %s", concern.value, json.dumps(report[concern.value]))
    if args.report:
        args.report.write_text(json.dumps(report, indent=1) + "\n")
    if args.out:
        meta = {"trained_on": sorted(fold_of), "folds": args.families, "calls": len(rows),
                "wrong_cost": args.wrong_cost, "C": C_VALUE,
                "thresholds_from": (f"first look at {args.first_look[1]}" if args.first_look
                                    else "all folds left out"), "figures": report}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(DoubtModel("doubt-lr-1", concerns, meta=meta).to_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())
