"""The language stage's own spaCy components, registered with ``@Language.factory``.

``models/ner-nl`` is the whole stage: ``spacy.load`` returns ``ner`` (the trained NER),
``callcheck_ruler`` (spaCy's span ruler: the trigger words, its patterns in
``callcheck_ruler/patterns.jsonl``), ``callcheck_notices`` and ``callcheck_introductions``. The
two components keep matching apart from deciding: they put the candidates with their evidence
on the Doc, and ``pipeline.analysis.language.stage`` decides from them.

* ``doc._.notices`` / ``doc._.announcement_notices``: every recording notice candidate, read as
  a person's words / as a phone system's announcement; ``doc.spans["callcheck_notices"]``.
* ``doc._.introductions``: the speaker's candidate introductions; ``doc.spans["callcheck_names"]``.
* ``doc._.opening_cues``: organisation, greeting, hints of a misheard name, caller phrases.

Their word lists (``words.json``) and the name lexicons (``lexicons/``) are data: given to
``initialize`` when the model is assembled (``training/ner-nl/assemble.cfg``), saved with the
model by ``to_disk`` and read back by ``from_disk``, so the checksums in ``models/SHA256SUMS``
cover every rule.

spaCy knows these factories once this module is imported: ``load_nlp`` imports it, and the
installed package names them as ``spacy_factories`` entry points (``pyproject.toml``), so a plain
``spacy.load("models/ner-nl")`` imports it too. The package itself does not import it, so that
``pipeline.cli`` starts without spaCy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.tokens import Doc

from pipeline.analysis.language.evidence import (
    INTRODUCTIONS_NAME,
    NAME_SPANS_KEY,
    NOTICE_SPANS_KEY,
    NOTICES_NAME,
    PIPE_NAMES,
    LanguageModelError,
)
from pipeline.analysis.language.lexicons import Lexicons, copy_lexicons, load_lexicons
from pipeline.analysis.language.notices import NoticeWords, notice_candidates
from pipeline.analysis.language.opening import read_opening
from pipeline.analysis.language.turn import IntroductionRules, IntroWords

__all__ = ["PIPE_NAMES", "IntroductionFinder", "NoticeFinder", "make_introductions",
           "make_notices"]
WORDS_FILE = "words.json"
LEXICONS_DIR = "lexicons"

for _name, _default in (("notices", ()), ("announcement_notices", ()), ("introductions", ()),
                        ("opening_cues", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def _read_words(path: Path) -> dict:
    try:
        data = srsly.read_json(path)
    except (OSError, ValueError) as e:
        raise LanguageModelError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise LanguageModelError(f"{path} is not a JSON object of word lists")
    return data


def _need(data: Any, what: str) -> None:
    if data is None:
        raise LanguageModelError(f"{what}: no word lists; initialize it with them or load an "
                                 "assembled model (make assemble-ner)")


class NoticeFinder:
    """Puts every recording notice candidate, with its evidence, on the Doc."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data: dict | None = None  # words.json, as read
        self.words: NoticeWords | None = None

    def _set(self, data: dict, where: str) -> None:
        self.words = NoticeWords.from_data(data, where)
        self.data = data

    def initialize(self, get_examples: Callable[[], Iterable[Any]] | None = None, *,
                   nlp: Language | None = None, words: dict | None = None) -> None:
        """``words``: the word lists (``training/ner_assemble.notice_words``)."""
        _need(words, f"{self.name}.initialize")
        self._set(dict(words), f"{self.name}.initialize")

    def __call__(self, doc: Doc) -> Doc:
        _need(self.words, self.name)
        person, announcement = notice_candidates(doc, self.words)
        doc._.notices = person
        doc._.announcement_notices = announcement
        doc.spans[NOTICE_SPANS_KEY] = [
            doc.char_span(c.start_char, c.end_char, label=c.trigger) for c in person]
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        _need(self.data, self.name)
        Path(path).mkdir(parents=True, exist_ok=True)
        srsly.write_json(Path(path) / WORDS_FILE, self.data)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> NoticeFinder:
        file = Path(path) / WORDS_FILE
        self._set(_read_words(file), str(file))
        return self


class IntroductionFinder:
    """Puts the speaker's candidate introductions and the opening's cues on the Doc."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data: dict | None = None  # words.json, as read
        self.rules: IntroductionRules | None = None

    @property
    def lexicons(self) -> Lexicons:
        """The name lexicons."""
        _need(self.rules, self.name)
        return self.rules.lexicons

    def _set(self, data: dict, where: str, lexicons: Path) -> None:
        self.rules = IntroductionRules(IntroWords.from_data(data, where), load_lexicons(lexicons))
        self.data = data

    def initialize(self, get_examples: Callable[[], Iterable[Any]] | None = None, *,
                   nlp: Language | None = None, words: dict | None = None,
                   lexicons: str | None = None) -> None:
        """``words``: the word lists (``training/ner_assemble.introduction_words``);
        ``lexicons``: the folder of the lexicon files (``training.ner_train`` extracts them)."""
        _need(words, f"{self.name}.initialize")
        if lexicons is None:
            raise LanguageModelError(f"{self.name}.initialize: no lexicons folder given")
        self._set(dict(words), f"{self.name}.initialize", Path(lexicons))

    def __call__(self, doc: Doc) -> Doc:
        _need(self.rules, self.name)
        names, cues = read_opening(doc, self.rules)
        doc._.introductions = names
        doc._.opening_cues = cues
        doc.spans[NAME_SPANS_KEY] = [
            doc.char_span(c.start_char, c.end_char, label=c.category) for c in names]
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        _need(self.data, self.name)
        Path(path).mkdir(parents=True, exist_ok=True)
        srsly.write_json(Path(path) / WORDS_FILE, self.data)
        copy_lexicons(self.lexicons, Path(path) / LEXICONS_DIR)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> IntroductionFinder:
        file = Path(path) / WORDS_FILE
        self._set(_read_words(file), str(file), Path(path) / LEXICONS_DIR)
        return self


@Language.factory(NOTICES_NAME, requires=["doc.spans"],
                  assigns=["doc._.notices", "doc._.announcement_notices", "doc.spans"])
def make_notices(nlp: Language, name: str) -> NoticeFinder:
    """The recording notice candidates of a text (see ``notices``)."""
    return NoticeFinder(name)


@Language.factory(INTRODUCTIONS_NAME, requires=["doc.spans", "token.ent_type"],
                  assigns=["doc._.introductions", "doc._.opening_cues", "doc.spans"])
def make_introductions(nlp: Language, name: str) -> IntroductionFinder:
    """The speaker's introductions and the opening's cues (see ``introductions``)."""
    return IntroductionFinder(name)
