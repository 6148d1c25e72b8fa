"""A learned second opinion for the recording-talk rules (``pipeline.analysis.dialogue``): one logistic
regression per task over character and word n-grams (scikit-learn), trained on the labelled
dev text sets (``tests/data/recording_talk/dev*.jsonl``), never on ``heldout.jsonl``.

The rules give the span and the cue a person can check; the model reads paraphrases the rules
do not know ("dat is mij niet bekend", "gaat dit op de band?"). Where the two disagree the
confident one (``CONFIDENT``) decides and the call goes to review. Weights are plain JSON
(``models/dialogue/recording_talk.json``, trained by ``training/dialogue_train.py``,
``make train-dialogue``); nothing is pickled.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.types import PURPOSES

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "models" / "dialogue" / "recording_talk.json"
TASKS = ("question", "answer", "caller_notice", "objection")
# notice_purpose has several values at once: one yes/no model per purpose ("purpose:quality")
PURPOSE_TASKS = tuple(f"purpose:{p}" for p in PURPOSES)
CONFIDENT = 0.7  # the model overrules the rules only at or above this probability


def text_of(case: dict[str, Any]) -> str:
    """The text a task reads: the agent's answer for ``answer``, else ``text``."""
    return case["answer"] if case["task"] == "answer" else case["text"]


def vectorizers(vocab: dict | None = None) -> list[TfidfVectorizer]:
    """Character n-grams (2-5, within words: robust to misheard letters) and word 1-2-grams."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # scikit-learn: heavy, when used

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


def _task_model(d: dict[str, Any]) -> TaskModel:
    from sklearn.linear_model import LogisticRegression  # scikit-learn: heavy, when used

    clf = LogisticRegression()
    clf.classes_ = np.asarray(d["classes"])
    clf.coef_ = np.asarray(d["coef"])
    clf.intercept_ = np.asarray(d["intercept"])
    return TaskModel(tuple(vectorizers(d)), clf)


@dataclass(frozen=True)
class TalkModel:
    """The per-task models and where they came from."""

    tasks: dict[str, TaskModel]
    path: str
    sha256: str

    def predict(self, task: str, text: str) -> tuple[str, float]:
        return self.tasks[task].predict(text)

    def knows(self, task: str) -> bool:
        """Whether this model file has ``task`` (older files have no purpose models)."""
        return task in self.tasks


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
