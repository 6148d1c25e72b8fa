"""What the span ruler found in one text, indexed for the rules; the names the language stage's
modules share (pipe names, the span key, the error type).

spaCy is imported only for type checking: this module is read by ``pipeline.cli``'s imports.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

# the pipes of models/ner-nl after the trained "ner", in pipeline order
RULER_NAME = "callcheck_ruler"  # spaCy's span_ruler: trigger words, labelled by evidence kind
NOTICES_NAME = "callcheck_notices"  # recording notices (pipeline.analysis.language.notices)
INTRODUCTIONS_NAME = "callcheck_introductions"  # the speaker's introduction, organisation, greeting
SPANS_KEY = "callcheck"  # doc.spans key of the ruler's hits
NOTICE_SPANS_KEY = "callcheck_notices"  # doc.spans key of the notice candidates
NAME_SPANS_KEY = "callcheck_names"  # doc.spans key of the introduced names
PIPE_NAMES = (RULER_NAME, NOTICES_NAME, INTRODUCTIONS_NAME)  # after "ner", in this order

SENT_BOUNDARY = frozenset({".", "?", "!", ";", ":"})
CLAUSE_BOUNDARY = SENT_BOUNDARY | {","}


class LanguageModelError(RuntimeError):
    """The language model or its lexicons are missing, incomplete or inconsistent."""


@dataclass
class Hits:
    """Ruler hits of one doc, indexed by label and by token (built once per analysed text)."""

    doc: Doc
    by_label: dict[str, list[Span]]
    starts: dict[int, dict[str, Span]]  # token index -> label -> longest span starting there
    covered: dict[int, set[str]]  # token index -> labels covering it

    def labels(self, i: int) -> set[str]:
        return self.covered.get(i, set())


def index_hits(doc: Doc, key: str = SPANS_KEY) -> tuple[dict, dict, dict]:
    """(by_label, starts, covered) of the spans in ``doc.spans[key]``."""
    by_label: dict[str, list[Span]] = {}
    starts: dict[int, dict[str, Span]] = {}
    covered: dict[int, set[str]] = {}
    for span in doc.spans[key] if key in doc.spans else ():
        by_label.setdefault(span.label_, []).append(span)
        cur = starts.setdefault(span.start, {}).get(span.label_)
        if cur is None or len(span) > len(cur):
            starts[span.start][span.label_] = span
        for i in range(span.start, span.end):
            covered.setdefault(i, set()).add(span.label_)
    return by_label, starts, covered


def one_letter_off(word: str, target: str) -> bool:
    """``target`` or a mishearing of it by about a letter that keeps its first letter ("metp",
    "mt" for "met"; "hiwer" for "hier"; not "net", "heer")."""
    return word == target or (
        word[:1] == target[:1] and abs(len(word) - len(target)) <= 1
        and difflib.SequenceMatcher(None, word, target).ratio() >= 0.8)


def question_mark_after(doc: Doc, i: int) -> bool:
    """Whether the sentence that token ``i`` is in (or ends before) ends in a question mark."""
    j = i
    while j < len(doc) and doc[j].text not in SENT_BOUNDARY:
        j += 1
    return j < len(doc) and doc[j].text == "?"


def words(data: Mapping, key: str, where: str) -> list:
    """``data[key]`` of a component's word lists, or a LanguageModelError naming the file."""
    try:
        value = data[key]
    except KeyError as e:
        raise LanguageModelError(f"{where}: no {key!r}; assemble the model again "
                                 "(make assemble-ner)") from e
    if not isinstance(value, Iterable) or isinstance(value, str):
        raise LanguageModelError(f"{where}: {key!r} is not a list")
    return list(value)


def regex(data: Mapping, key: str, where: str) -> re.Pattern[str]:
    """``data[key]`` compiled as a regular expression, or a LanguageModelError."""
    value = data.get(key)
    if not isinstance(value, str):
        raise LanguageModelError(f"{where}: no regular expression {key!r}; assemble the model "
                                 "again (make assemble-ner)")
    try:
        return re.compile(value)
    except re.error as e:
        raise LanguageModelError(f"{where}: {key!r} is not a regular expression: {e}") from e
