"""Train the recording-talk model (``pipeline.analysis.dialogue_model``) on the dev text sets.

    python -m training.dialogue_train [--out models/dialogue/recording_talk.json] [FILES...]

Never on ``heldout.jsonl``: that set measures the model (``make eval-dialogue``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import hstack
from sklearn.linear_model import LogisticRegression

from pipeline.analysis.dialogue_model import (
    CONFIDENT,
    DEFAULT_MODEL,
    PURPOSE_TASKS,
    ROOT,
    TASKS,
    text_of,
    vectorizers,
)

DATA = ROOT / "tests" / "data" / "recording_talk"
C = 10.0  # inverse regularisation of the logistic regressions
MIN_WEIGHT = 0.02  # n-grams whose weights are all smaller are left out of the file


def train_task(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit one task; -> its JSON form (the n-grams that carry weight, idf, coefficients)."""
    texts = [text_of(c) for c in cases]
    labels = [str(c["label"]) for c in cases]
    vecs = vectorizers()
    x = hstack([v.fit_transform(texts) for v in vecs]).tocsr()
    clf = LogisticRegression(C=C, max_iter=5000).fit(x, labels)
    coef = np.atleast_2d(clf.coef_)
    out: dict[str, Any] = {"classes": [str(c) for c in clf.classes_],
                           "intercept": [round(float(b), 6) for b in clf.intercept_]}
    offset, kept_coef = 0, []
    for name, v in zip(("char", "word"), vecs, strict=True):
        n = len(v.vocabulary_)
        block = coef[:, offset:offset + n]
        keep = np.flatnonzero(np.abs(block).max(axis=0) >= MIN_WEIGHT)
        inv = {i: g for g, i in v.vocabulary_.items()}
        out[name] = {"vocabulary": {inv[i]: j for j, i in enumerate(keep)},
                     "idf": [round(float(v.idf_[i]), 6) for i in keep]}
        kept_coef.append(block[:, keep])
        offset += n
    out["coef"] = np.round(np.hstack(kept_coef), 6).tolist()
    return out



def train(files: list[Path]) -> dict[str, Any]:
    cases = [json.loads(line) for f in files for line in f.read_text().splitlines()
             if line.strip()]
    tasks = {t: train_task([c for c in cases if c["task"] == t]) for t in TASKS}
    purposes = [c for c in cases if c["task"] == "purpose"]
    for task in PURPOSE_TASKS:  # yes/no per purpose: is it among the case's purposes
        purpose = task.split(":", 1)[1]
        tasks[task] = train_task([{**c, "label": purpose in str(c["label"]).split(";")}
                                  for c in purposes])
    return {"trained_on": sorted(f.name for f in files), "confident": CONFIDENT, "C": C,
            "tasks": tasks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    files = args.files or sorted(DATA.glob("dev*.jsonl"))
    if any(f.name.startswith("heldout") for f in files):
        print("error: the held-out set measures the model; never train on it", file=sys.stderr)
        return 2
    model = train(files)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{args.out}: trained on {', '.join(model['trained_on'])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
