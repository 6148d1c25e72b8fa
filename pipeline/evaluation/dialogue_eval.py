"""``make eval-dialogue``: the recording-talk rules of ``pipeline.analysis.dialogue`` scored on labelled
text (``tests/data/recording_talk/*.jsonl``: dev to write rules on, heldout to measure them).

The dev sets were each written by someone who had not seen the rules, then used to write
them; ``heldout.jsonl`` is the newest such set, never used to write rules.

Tasks: ``question`` (does the caller ask whether the call is recorded; F1), ``answer`` (the
agent's answer: yes/no/unsure/no_answer; accuracy), ``purpose`` (notice_purpose, exact match),
``caller_notice`` (the caller records the call; F1), ``objection`` (yes/no/unclear; accuracy).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.analysis import dialogue, dialogue_model, language
from pipeline.analysis.language import load_nlp

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "recording_talk"


def predict(case: dict[str, Any], nlp, rules_only: bool = False) -> Any:
    """The pipeline's answer for one labelled case, in the label's form (``rules_only``:
    without the learned second opinion of ``pipeline.analysis.dialogue_model``)."""
    task = case["task"]
    if task in ("question", "caller_notice"):
        find = {"question": (dialogue.find_question, dialogue.question_rules),
                "caller_notice": (dialogue.find_caller_notice,
                                  dialogue.caller_notice_rules)}[task][rules_only]
        hit = find(case["text"], nlp)
        return hit is not None and hit.counted
    if task in ("answer", "objection"):
        classify = {"answer": (dialogue.classify_answer, dialogue.answer_rules),
                    "objection": (dialogue.classify_objection,
                                  dialogue.objection_rules)}[task][rules_only]
        hit = classify(dialogue_model.text_of(case))
        return hit.detail if hit else ("no_answer" if task == "answer" else "unclear")
    if task == "purpose":  # as the verdicts read it: the sentences around the notice
        text = case["text"]
        notices = [c for c in language.find_notices(text, nlp) if not c.rejected]
        if notices:
            a, b = dialogue.purpose_scope(text, notices[0].start_char, notices[0].end_char)
            text = text[a:b]
        if rules_only:
            return dialogue.purpose_value(h.purpose for h in dialogue.notice_purposes(text)
                                          if h.counted)
        return dialogue.read_purposes(text).value
    raise ValueError(f"unknown task {task!r}")


def _f1(pairs: list[tuple[bool, bool]]) -> dict[str, float]:
    tp = sum(1 for y, p in pairs if y and p)
    fp = sum(1 for y, p in pairs if p and not y)
    fn = sum(1 for y, p in pairs if y and not p)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3)}


def evaluate(cases: list[dict[str, Any]], nlp=None, rules_only: bool = False
             ) -> dict[str, Any]:
    """Per task: n, accuracy, F1 (binary tasks), a confusion table and the misses."""
    nlp = nlp if nlp is not None else load_nlp()
    out: dict[str, Any] = {}
    by_task: dict[str, list[tuple[dict, Any]]] = {}
    for case in cases:
        by_task.setdefault(case["task"], []).append((case, predict(case, nlp, rules_only)))
    for task, rows in sorted(by_task.items()):
        labels = [c["label"] for c, _ in rows]
        preds = [p for _, p in rows]
        if task == "purpose":  # several allowed, any order
            same = [set(str(y).split(";")) == set(str(p).split(";"))
                    for y, p in zip(labels, preds, strict=True)]
        else:
            same = [y == p for y, p in zip(labels, preds, strict=True)]
        confusion: dict[str, Counter] = {}
        for y, p in zip(labels, preds, strict=True):
            confusion.setdefault(str(y), Counter())[str(p)] += 1
        m: dict[str, Any] = {"n": len(rows), "accuracy": round(sum(same) / len(rows), 3),
                             "confusion": {k: dict(v) for k, v in confusion.items()}}
        if task in ("question", "caller_notice"):
            m.update(_f1(list(zip(labels, preds, strict=True))))
        m["misses"] = [{"id": c.get("id"), "label": c["label"], "predicted": p,
                        "text": c.get("text") or c.get("answer")}
                       for (c, p), ok in zip(rows, same, strict=True) if not ok]
        out[task] = m
    return out


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path,
                        default=[*sorted(DATA.glob("dev*.jsonl")), DATA / "heldout.jsonl"])
    parser.add_argument("--out", type=Path, help="write the metrics as JSON here")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    parser.add_argument("--rules-only", action="store_true",
                        help="the rules without the learned model's second opinion")
    args = parser.parse_args(argv)
    nlp = load_nlp()
    report = {}
    for path in args.files:
        res = evaluate(load(path), nlp, args.rules_only)
        report[path.stem] = res
        print(f"== {path.name}")
        for task, m in res.items():
            extra = f"  F1 {m['f1']:.3f}" if "f1" in m else ""
            print(f"  {task:<14} n={m['n']:<4} accuracy {m['accuracy']:.3f}{extra}")
            if args.misses:
                for miss in m["misses"]:
                    print(f"      {miss['label']!s:>10} <- {miss['predicted']!s:<10} "
                          f"{miss['text']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
