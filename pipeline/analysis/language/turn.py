"""One analysed turn for the introduction rules: the ruler's hits, the organisations they
name, whether the text is cased, and the rules' data (their words and the name lexicons).

The words are the introductions component's data (``callcheck_introductions/words.json`` in
the model, written from ``pipeline.analysis.vocabulary`` by ``training/ner_assemble.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.analysis.language.evidence import Hits, LanguageModelError, index_hits, words
from pipeline.analysis.language.lexicons import Lexicons

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token


@dataclass(frozen=True)
class IntroWords:
    """The words the introduction rules weigh besides the ruler's labels (see ``vocabulary``)."""

    stop: frozenset[str]  # words that end a name
    greetings: dict[str, str]  # spoken form -> greeting
    fillers: frozenset[str]
    met_ok_before: frozenset[str]  # bare "met" introduces a name only after these
    languages: frozenset[str]  # "u spreekt Engels" is no name
    determiners: frozenset[str]
    department_endings: tuple[str, ...]  # "...zaken", "...loket": a department, not a name
    municipality_aliases: dict[str, str]  # spoken name -> the lexicon's name
    hallucination_sentences: tuple[str, ...]  # Whisper's cased stock sentences
    hallucinations: tuple[str, ...]  # and what shows them
    phrase_words: frozenset[str]  # the words of the ruler's phrases: never a misheard name

    @classmethod
    def from_data(cls, data: Mapping, where: str) -> IntroWords:
        """From the component's ``words.json`` (``where`` names it in errors)."""
        w = lambda key: frozenset(words(data, key, where))  # noqa: E731
        mapping = {}
        for key in ("greetings", "municipality_aliases"):
            value = data.get(key)
            if not isinstance(value, Mapping):
                raise LanguageModelError(f"{where}: no mapping {key!r}; assemble the model "
                                         "again (make assemble-ner)")
            mapping[key] = dict(value)
        return cls(
            stop=w("stop"),
            greetings=mapping["greetings"],
            fillers=w("fillers"),
            met_ok_before=w("met_ok_before"),
            languages=w("languages"),
            determiners=w("determiners"),
            department_endings=tuple(words(data, "department_endings", where)),
            municipality_aliases=mapping["municipality_aliases"],
            hallucination_sentences=tuple(words(data, "hallucination_sentences", where)),
            hallucinations=tuple(words(data, "hallucinations", where)),
            phrase_words=w("phrase_words"),
        )


class IntroductionRules:
    """The introduction rules' data: their words and the name lexicons."""

    def __init__(self, word_lists: IntroWords, lexicons: Lexicons) -> None:
        self.words = word_lists
        self.lexicons = lexicons

    @functools.cached_property
    def _common_deletes(self) -> frozenset[str]:
        """Common words, spaCy's Dutch stop words, the words that end a name and those of the
        ruler's phrases, of five letters or more, and their one-letter deletions."""
        from spacy.lang.nl.stop_words import STOP_WORDS

        out: set[str] = set()
        known = self.lexicons.common_words | STOP_WORDS | self.words.stop | self.words.phrase_words
        for w in known:
            if len(w) >= 5:
                out.add(w)
                out.update(w[:i] + w[i + 1 :] for i in range(len(w)))
        return frozenset(out)

    def near_common(self, word: str) -> bool:
        """Whether ``word`` is one letter away from a common word of five letters or more
        (Whisper's "waarmeeh" for "waarmee" is no surname)."""
        w = word.lower()
        if len(w) < 5:
            return False
        deletes = self._common_deletes
        return w in deletes or any(w[:i] + w[i + 1 :] in deletes for i in range(len(w)))


@dataclass
class TurnEvidence(Hits):
    """The ruler's hits with the organisations they name and the rules' data."""

    rules: IntroductionRules
    org_tokens: set[int]  # tokens inside an organisation mention
    org_spans: list[tuple[int, int]]  # token ranges of organisation mentions
    cased: bool  # the text carries case information (not all lower case)

    @property
    def lex(self) -> Lexicons:
        return self.rules.lexicons

    @property
    def w(self) -> IntroWords:
        return self.rules.words


def turn_evidence(doc: Doc, rules: IntroductionRules) -> TurnEvidence:
    """Index the ruler's hits in ``doc`` and find the organisations they name."""
    ev = TurnEvidence(doc, *index_hits(doc), rules=rules, org_tokens=set(), org_spans=[],
                      cased=_is_cased(doc.text, rules.words))
    ev.org_spans = _organisation_spans(ev)
    ev.org_tokens = {i for s, e in ev.org_spans for i in range(s, e)}
    return ev


# --------------------------------------------------------------------------------------------
# organisations
# --------------------------------------------------------------------------------------------


def _is_cased(text: str, w: IntroWords) -> bool:
    """Does the text carry case information? Whisper's stock hallucinations ("Ondertiteld door
    de Amara.org gemeenschap") are cased even when appended to a lower-case transcript, so they
    are left out of the judgement."""
    low = text.lower()
    for phrase in w.hallucination_sentences:
        at = low.find(phrase)
        if at >= 0:
            text = text[:at] + text[at + len(phrase) :]
            low = text.lower()
    return any(c.isupper() for c in text)


def _organisation_spans(ev: TurnEvidence) -> list[tuple[int, int]]:
    """'gemeente' + municipality (or one unknown word) and departments."""
    doc, by_label, starts = ev.doc, ev.by_label, ev.starts
    spans: list[tuple[int, int]] = []
    for head in by_label.get("ORG_HEAD", []):
        j = head.end
        if j < len(doc) and doc[j].lower_ in {"van", "de"} and j + 1 < len(doc):
            j += 1  # "gemeente van Zwolle" (rare), "de meente" handled by the head regex
        muni = starts.get(j, {}).get("MUNI")
        if muni is not None:
            spans.append((head.start, muni.end))
        elif j < len(doc) and _plausible_place_word(doc[j], ev):
            spans.append((head.start, j + 1))  # a misheard municipality: "gemeente zwole"
        else:
            spans.append((head.start, head.end))
    for dept in by_label.get("DEPT", []):
        spans.append((dept.start, dept.end))
    # NER ORG entities are not used: on generated data the small model also tags phrases such
    # as "werkdagen contact", and every organisation that matters here is found by rule.
    # "klantcontactcentrum Zwolle" / "KCC Zwolle": a department directly followed by a town
    for s, e in list(spans):
        muni = starts.get(e, {}).get("MUNI")
        if muni is not None:
            spans.append((s, muni.end))
    merged: list[tuple[int, int]] = []
    for s, e in sorted(set(spans)):  # overlapping mentions become one ("de gemeente Best")
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _plausible_place_word(tok: Token, ev: TurnEvidence) -> bool:
    """Could ``tok`` after "gemeente" be a municipality the list or the ASR got wrong?

    In cased text it must be capitalised; in lower-case text it must be within one edit (two for
    long words) of a listed municipality ("zwole"), so that "de gemeente neemt ..." is not an
    organisation.
    """
    from spacy.matcher.levenshtein import levenshtein

    lex, low = ev.lex, tok.lower_
    if not tok.is_alpha or low in ev.w.stop or low in ev.w.greetings or len(low) < 3 or tok.is_stop:
        return False
    if tok.text[:1].isupper() and tok.text != tok.text.upper():
        return True
    if low in lex.common_words:
        return False
    edits = 1 if len(low) <= 6 else 2
    return any(
        levenshtein(low, m.split()[0].lower()) <= edits
        for m in lex.municipalities
        if abs(len(m.split()[0]) - len(low)) <= edits
    )
