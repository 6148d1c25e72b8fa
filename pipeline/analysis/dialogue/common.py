"""What the recording-talk rules share: the hit a rule returns and the joining of the words
the recogniser splits ("op genomen", "telefoon gesprek")."""

from __future__ import annotations

import re
from dataclasses import dataclass

_JOINS = [(re.compile(r"\bop (neem|neemt|nemen)\b", re.I), lambda m: "op" + m.group(1) + " "),
          (re.compile(r"\btelefoon (gesprek\w*)\b", re.I),
           lambda m: "telefoon" + m.group(1) + " "),
          # a participle in pieces: "op genomen", "op ge nomen", "op je nomen"
          (re.compile(r"\bop (ge|je|che)? ?nomen\b", re.I),
           lambda m: ("opgenomen" + " " * len(m.group(0)))[:len(m.group(0))]),
          (re.compile(r"\bop (names?)\b", re.I), lambda m: "op" + m.group(1) + " "),
          (re.compile(r"\b(kwaliteits|trainings|opleidings) (doel\w*|controle|bewaking|verbetering"
                      r"|borging)", re.I),
           lambda m: m.group(1) + m.group(2) + " ")]


def joined(text: str) -> str:
    """``text`` with split compounds joined, character offsets unchanged."""
    for rx, repl in _JOINS:
        text = rx.sub(repl, text)
    return text



@dataclass(frozen=True)
class Hit:
    """A stretch of text a rule found, in characters of the text, with its cue."""

    start_char: int
    end_char: int
    text: str
    confidence: float  # 0..1
    detail: str  # which cue decided it (the value, for answers and responses)
    # the rules and the learned model (pipeline.analysis.dialogue_model) disagreed: what the other
    # said; the hit stands for the side that was surer, and the call goes to review
    doubt: str = ""
    counted: bool = True  # False: a question or notice the rules found, overruled
