"""Language analysis of call text: recording notices and the agent's own introduction.

Two questions about the start of a call are answered from text (a transcript, possibly noisy
ASR output without casing or punctuation): was a **recording notice** given, and did the agent
**introduce themselves**, with a first name, a last name or both?

The stage is one spaCy pipeline, assembled in ``models/ner-nl`` (``spacy.load`` returns all of
it): the trained NER, ``callcheck_ruler`` (spaCy's span ruler, marking trigger words: token
patterns, ``FUZZY1`` for ASR misspellings, phrase patterns for municipalities), and the
components ``callcheck_notices`` and ``callcheck_introductions`` (``components``), which put the
candidates with their evidence on the Doc. The patterns and word lists are data in the model,
written from ``pipeline.analysis.vocabulary`` by ``training/ner_assemble.py``; the decisions
(``has_notice``, ``analyze_opening``) are taken afterwards, from the candidates.

Modules: ``stage`` (load, find, decide), ``notices``, ``introductions`` (names), ``turn`` (a
turn's organisations and the introduction rules' data), ``opening`` (cues and the decision),
``lexicons``, ``evidence`` (the ruler's hits, shared names), ``components`` (the spaCy
factories; the only module that imports spaCy at its top: import it, or call ``load_nlp``,
before ``spacy.load("models/ner-nl")``).
"""

from __future__ import annotations

from pipeline.analysis.language.evidence import (
    INTRODUCTIONS_NAME,
    NOTICES_NAME,
    RULER_NAME,
    SPANS_KEY,
    LanguageModelError,
)
from pipeline.analysis.language.introductions import NameCandidate
from pipeline.analysis.language.lexicons import Lexicons, load_lexicons
from pipeline.analysis.language.notices import NOTICE_MIN_CONFIDENCE, NoticeCandidate
from pipeline.analysis.language.opening import NAME_LOW_CONFIDENCE, OpeningAnalysis, OpeningCues
from pipeline.analysis.language.stage import (
    DEFAULT_MODEL_DIR,
    analyze_opening,
    find_introductions,
    find_notices,
    has_notice,
    lexicons_of,
    load_nlp,
    verify_model,
)

__all__ = [
    "DEFAULT_MODEL_DIR", "INTRODUCTIONS_NAME", "NAME_LOW_CONFIDENCE", "NOTICES_NAME",
    "NOTICE_MIN_CONFIDENCE", "RULER_NAME", "SPANS_KEY", "LanguageModelError", "Lexicons",
    "NameCandidate", "NoticeCandidate", "OpeningAnalysis", "OpeningCues", "analyze_opening",
    "find_introductions", "find_notices", "has_notice", "lexicons_of", "load_lexicons",
    "load_nlp", "verify_model",
]
