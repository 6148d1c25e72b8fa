"""A learned second opinion for the recording-talk rules (``pipeline.dialogue``): one logistic
regression per task over character and word n-grams (scikit-learn), trained on the labelled
dev text sets (``tests/data/recording_talk/dev*.jsonl``), never on ``heldout.jsonl``.

The rules give the span and the cue a person can check; the model reads paraphrases the rules
do not know ("dat is mij niet bekend", "gaat dit op de band?"). Where the two disagree the
confident one (``CONFIDENT``) decides and the call goes to review. Weights are plain JSON
(``models/dialogue/recording_talk.json``, ``make train-dialogue``); nothing is pickled.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "dialogue" / "recording_talk.json"
DATA = ROOT / "tests" / "data" / "recording_talk"
TASKS = ("question", "answer", "caller_notice", "objection")
CONFIDENT = 0.7  # the model overrules the rules only at or above this probability
C = 10.0  # inverse regularisation of the logistic regressions
MIN_WEIGHT = 0.02  # n-grams whose weights are all smaller are left out of the file


def text_of(case: dict[str, Any]) -> str:
    """The text a task reads: the agent's answer for ``answer``, else ``text``."""
    return case["answer"] if case["task"] == "answer" else case["text"]


def _vectorizers(vocab: dict | None = None) -> list[TfidfVectorizer]:
    """Character n-grams (2-5, within words: robust to misheard letters) and word 1-2-grams."""
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                           vocabulary=vocab["char"]["vocabulary"] if vocab else None)
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                           vocabulary=vocab["word"]["vocabulary"] if vocab else None)
    if vocab:
        char.idf_ = np.asarray(vocab["char"]["idf"])
        word.idf_ = np.asarray(vocab["word"]["idf"])
    return [char, word]


@dataclass(frozen=True)
class TaskModel:
    """One task's vectorizers and classifier."""

    vectorizers: tuple[TfidfVectorizer, ...]
    classifier: LogisticRegression

    def predict(self, text: str) -> tuple[str, float]:
        """(label, probability) for one text."""
        from scipy.sparse import hstack

        x = hstack([v.transform([text]) for v in self.vectorizers]).tocsr()
        probs = self.classifier.predict_proba(x)[0]
        k = int(np.argmax(probs))
        return str(self.classifier.classes_[k]), float(probs[k])


def train_task(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit one task; -> its JSON form (the n-grams that carry weight, idf, coefficients)."""
    from scipy.sparse import hstack

    texts = [text_of(c) for c in cases]
    labels = [str(c["label"]) for c in cases]
    vecs = _vectorizers()
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


def _task_model(d: dict[str, Any]) -> TaskModel:
    clf = LogisticRegression()
    clf.classes_ = np.asarray(d["classes"])
    clf.coef_ = np.asarray(d["coef"])
    clf.intercept_ = np.asarray(d["intercept"])
    return TaskModel(tuple(_vectorizers(d)), clf)


@dataclass(frozen=True)
class TalkModel:
    """The per-task models and where they came from."""

    tasks: dict[str, TaskModel]
    path: str
    sha256: str

    def predict(self, task: str, text: str) -> tuple[str, float]:
        return self.tasks[task].predict(text)


@functools.lru_cache(maxsize=2)
def load(path: str | Path = DEFAULT_MODEL) -> TalkModel | None:
    """The trained models (None if the file is absent: the rules alone then decide)."""
    p = Path(path)
    if not p.is_file():
        return None
    blob = p.read_bytes()
    data = json.loads(blob)
    return TalkModel({t: _task_model(d) for t, d in data["tasks"].items()}, str(p),
                     hashlib.sha256(blob).hexdigest())


def train(files: list[Path]) -> dict[str, Any]:
    cases = [json.loads(line) for f in files for line in f.read_text().splitlines()
             if line.strip()]
    return {"trained_on": sorted(f.name for f in files), "confident": CONFIDENT, "C": C,
            "tasks": {t: train_task([c for c in cases if c["task"] == t]) for t in TASKS}}


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
