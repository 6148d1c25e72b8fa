"""The speaker's own introduction, and the organisation and greeting of an opening turn.

Did the agent introduce themselves, and with a first name, a last name or both? Only the
speaker's own introduction counts: not a colleague ("ik verbind u door met mevrouw Jansen"), not
the caller, not the municipality ("gemeente Bergen") or a department ("team Burgerzaken"). The
span ruler marks the triggers (INTRO phrases, titles, greetings, organisation heads,
municipalities, departments); these rules read the names after them with the lexicons and
return candidates with their evidence; which one is the agent's is decided afterwards
(``analyze_opening``). The words the rules use besides the ruler's labels are the component's
data (``callcheck_introductions/words.json``, with ``lexicons/``, in the model).

All offsets are character offsets into the analysed text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from pipeline.analysis.language.evidence import (
    CLAUSE_BOUNDARY,
    one_letter_off,
    question_mark_after,
)
from pipeline.analysis.language.turn import TurnEvidence

if TYPE_CHECKING:
    from spacy.tokens import Token


@dataclass(frozen=True)
class NameCandidate:
    """A self-introduction of the speaker with the name it gives."""

    start_char: int  # of the name itself (title included), not of the trigger phrase
    end_char: int
    text: str
    first: str | None  # as written in the text
    last: str | None  # with interfix: "van der Berg"
    category: str  # "first" | "last" | "full"
    confidence: float  # 0..1
    pattern: str  # which introduction pattern found it: "u_spreekt_met", "met", "hier", ...
    reasons: tuple[str, ...]  # evidence and doubts, e.g. ("lexicon_first", "not_in_lexicon")


@dataclass
class _NameParse:
    start: int  # token index of the first name token (or title)
    end: int
    titled: bool
    given: list[Token]
    interfix: list[Token]
    surname: list[Token]
    reasons: list[str]


def name_word(ev: TurnEvidence, tok: Token) -> tuple[bool, bool, list[str]]:
    """(in first-name lexicon, in surname lexicon, reasons) for a word, fuzzy when needed."""
    low = tok.lower_
    parts = [p for p in re.split(r"[-']", low) if p]
    if not parts or not all(p.isalpha() for p in parts):
        return False, False, []
    lex = ev.lex
    if len(parts) > 1:  # "Jan-Willem", "Jansen-de" of "Jansen-de Vries"
        if all(p in lex.first_names for p in parts):
            return True, False, ["lexicon_first"]
        inter = {t[0] for t in lex.interfixes if len(t) == 1}
        if all(p in lex.surnames or p in lex.first_names or p in inter for p in parts):
            return False, True, ["lexicon_surname"]
        return False, False, []
    f, s = low in lex.first_names, low in lex.surnames
    if f or s:
        return f, s, ["lexicon_" + ("first" if f else "") + ("surname" if s else "")]
    near = lex.near(low) if low not in lex.common_words else frozenset()
    if near:
        return (
            any(n in lex.first_names for n in near),
            any(n in lex.surnames for n in near),
            ["fuzzy_lexicon"],
        )
    return False, False, []


def is_blocked(ev: TurnEvidence, i: int, stop_words: bool = True) -> bool:
    """Tokens that can never be part of a name here (``stop_words=False``: spaCy's stop words
    may be, as after "van der": "van der meer")."""
    tok = ev.doc[i]
    labels = ev.labels(i)
    if (stop_words and tok.is_stop
            and not (ev.cased and tok.text[:1].isupper() and not tok.is_sent_start)):
        return True  # spaCy's Dutch stop words ("kan", "maar", "wel") are names only as "Ben"
    return (
        tok.is_punct
        or tok.like_num
        or tok.lower_ in ev.w.stop
        or tok.lower_ in ev.w.greetings
        or i in ev.org_tokens
        or bool(labels & {"GREETING", "INTRO", "LINE", "CALLER_CUE", "ORG_HEAD", "DEPT"})
        or not any(c.isalpha() for c in tok.text)
    )


def _name_like(ev: TurnEvidence, i: int, *, strong_slot: bool, after_name: bool
               ) -> list[str] | None:
    """Reasons why token i can be (part of) a name, or None when it cannot.

    ``strong_slot``: right after an unambiguous trigger ("mijn naam is", "u spreekt met") or a
    title, where an unknown word is most likely a name. ``after_name``: a name token precedes.
    """
    if i >= len(ev.doc) or is_blocked(ev, i):
        return None
    tok = ev.doc[i]
    low = tok.lower_
    f, s, reasons = name_word(ev, tok)
    capital = ev.cased and tok.text[:1].isupper() and not tok.is_sent_start
    per = tok.ent_type_ == "PER"
    common = low in ev.lex.common_words
    if f or s:
        if (
            not common
            or capital
            or after_name
            or strong_slot
            and (low in ev.lex.surname_rank or low in ev.lex.first_rank)
        ):
            return reasons + (["capitalised"] if capital else [])
        return None  # "bos", "groen", "wil": ordinary words unless something says name
    if common or (not capital and ev.rules.near_common(low)):
        return None
    if capital and (strong_slot or per or after_name):
        return ["not_in_lexicon", "capitalised"]
    if per and (strong_slot or after_name):
        return ["not_in_lexicon", "ner_per"]
    if strong_slot and tok.is_alpha and len(low) > 2 and not ev.cased:
        return ["not_in_lexicon", "position"]
    return None


def _named_as_org(ev: TurnEvidence, i: int) -> bool:
    """Token i repeats a word of an organisation named in the turn ("gemeente Zwolle ...
    Sanne van Zwolle" is Sanne *from* Zwolle)."""
    low = ev.doc[i].lower_
    return any(ev.doc[k].lower_ == low for s, e in ev.org_spans for k in range(s, e) if k != i)


def interfix_at(ev: TurnEvidence, i: int) -> int:
    """Length in tokens of an interfix starting at token i (0 if none)."""
    doc = ev.doc
    for seq in ev.lex.interfixes:
        n = len(seq)
        if i + n <= len(doc) and tuple(t.lower_.replace("’", "'") for t in doc[i : i + n]) == seq:
            return n
    return 0


def _parse_name(ev: TurnEvidence, i: int, strong: bool,
                stop: int | None = None) -> _NameParse | None:
    """Read a name starting at token i: [title] given* [interfix surname]; no further than
    token ``stop`` when given."""
    doc = ev.doc[:stop] if stop is not None else ev.doc
    start = i
    titled = False
    reasons: list[str] = []
    title = ev.starts.get(i, {}).get("TITLE")
    if title is not None:
        titled, i = True, title.end
        reasons.append("title")
    given: list[Token] = []
    interfix: list[Token] = []
    surname: list[Token] = []
    while i < len(doc) and len(given) < 3:
        n = interfix_at(ev, i)
        if n and i + n < len(doc):
            nxt = _name_like(ev, i + n, strong_slot=True, after_name=True)
            if nxt is None and not is_blocked(ev, i + n):
                cand = doc[i + n]
                if "MUNI" in ev.labels(i + n):
                    nxt = ["surname_is_place_name"]  # "van Veenendaal", "van Zwolle"
                elif ev.cased and cand.text[:1].isupper() and cand.is_alpha:
                    nxt = ["capitalised"]  # a word that is also a place or a common noun
            elif (nxt is None and n >= 2 and doc[i + n].lower_ in ev.lex.surnames
                  and not is_blocked(ev, i + n, stop_words=False)):
                nxt = ["lexicon_surname"]  # "van der meer" written lower case: "meer" a stop word
            surname_ok = nxt is not None and (
                name_word(ev, doc[i + n])[1]
                or "not_in_lexicon" in nxt
                or "capitalised" in nxt
                or "surname_is_place_name" in nxt
            )
            if surname_ok and (i + n) not in ev.org_tokens and not _named_as_org(ev, i + n):
                interfix = list(doc[i : i + n])
                surname = [doc[i + n]]
                reasons += nxt
                i += n + 1
                break
        why = _name_like(ev, i, strong_slot=strong or titled or bool(given), after_name=bool(given))
        if why is None:
            break
        given.append(doc[i])
        reasons += why
        i += 1
    if not given and not surname:
        return None
    return _NameParse(start, i, titled, given, interfix, surname, reasons)


def _surname_start(ev: TurnEvidence, given: Sequence[Token]) -> int:
    """Where the surname starts in a name without a separate interfix: at the first token after
    the first that is a surname only or ends in an interfix ("Sanne Bakker-de Wit"), else at
    the last token ("Anne Marie Jansen")."""
    single_interfixes = {t[0] for t in ev.lex.interfixes if len(t) == 1}
    for k in range(1, len(given)):
        low = given[k].lower_
        if "-" in low and low.rsplit("-", 1)[1] in single_interfixes:
            return k
        f, s, _ = name_word(ev, given[k])
        if s and not f and k < len(given) - 1:
            return k
    return len(given) - 1


def _categorise(
    ev: TurnEvidence, p: _NameParse
) -> tuple[str, str | None, str | None, float, list[str]]:
    """first/last/full from title, interfix, position and lexicons; (cat, first, last, conf,
    reasons)."""
    lex = ev.lex
    reasons = list(dict.fromkeys(p.reasons))
    text = lambda toks: " ".join(t.text for t in toks) or None  # noqa: E731
    conf = 0.9
    if "not_in_lexicon" in reasons:
        conf -= 0.25
    if "fuzzy_lexicon" in reasons:
        conf -= 0.1
    if "surname_is_place_name" in reasons:
        conf -= 0.1
    if p.surname:
        last = text(p.interfix + p.surname)
        if p.given:
            return "full", text(p.given), last, conf, reasons
        return "last", None, last, conf, reasons
    given = p.given
    if len(given) >= 2:
        if p.titled:
            f0, s0, _ = name_word(ev, given[0])
            if f0 and not s0:
                return "full", text(given[:1]), text(given[1:]), conf, reasons
            return "last", None, text(given), conf, reasons
        joined = "".join(t.lower_ for t in given)
        if joined in lex.surnames and given[0].lower_ not in lex.first_names:
            # "akker man": one surname the recogniser split in two (Akkerman), or a first name
            # it lost; the kind is not sure
            reasons.append("ambiguous_first_or_last")
            return "last", None, text(given), conf - 0.3, reasons
        f_last, s_last, _ = name_word(ev, given[-1])
        if f_last and not s_last:  # "Anne Marie": two first names
            reasons.append("double_first_name")
            return "first", text(given), None, conf - 0.1, reasons
        k = _surname_start(ev, given)
        return "full", text(given[:k]), text(given[k:]), conf, reasons
    tok = given[0]
    if p.titled:
        return "last", None, tok.text, conf, reasons
    f, s, _ = name_word(ev, tok)
    low = tok.lower_
    if f and not s:
        return "first", tok.text, None, conf, reasons
    if s and not f:
        if low not in lex.surname_rank and any(
                n in lex.first_rank for v in _voiced_alike(low) for n in lex.near(v) | {v}):
            # a rare surname one letter off a frequent first name ("luik" for Luuk), or its
            # first sound voiced alike ("dijs" for Thijs): the recogniser may have misheard
            # the first name
            reasons.append("ambiguous_first_or_last")
            return "last", None, tok.text, conf - 0.3, reasons
        return "last", None, tok.text, conf - 0.05, reasons
    if f and s:
        fr, sr = lex.first_rank.get(low), lex.surname_rank.get(low)
        if sr is not None and (fr is None or sr < fr):
            reasons.append("ambiguous_ranked_surname")
            return "last", None, tok.text, conf - 0.2, reasons
        if fr is not None:
            reasons.append("ambiguous_ranked_first")
            return "first", tok.text, None, conf - 0.15, reasons
        reasons.append("ambiguous_first_or_last")
        return "first", tok.text, None, conf - 0.3, reasons
    reasons.append("unknown_single_name")
    return "first", tok.text, None, min(conf, 0.55), reasons


def _voiced_alike(word: str) -> set[str]:
    """``word`` with its first sound voiced or unvoiced as the recogniser confuses them at a
    word's start: d / t / th ("dijs", "tijs", "thijs")."""
    head = "th" if word.startswith("th") else word[:1]
    if head not in ("th", "t", "d"):
        return {word}
    return {h + word[len(head):] for h in ("th", "t", "d")}


def _prev_meaningful(ev: TurnEvidence, i: int) -> int:
    """Index of the token before i, skipping fillers ('eh', 'uh'); -1 at the start."""
    j = i - 1
    while j >= 0 and ev.doc[j].lower_ in ev.w.fillers - {"ja"}:
        j -= 1
    return j


def _boundary_before(ev: TurnEvidence, i: int) -> bool:
    """Start of turn, punctuation, a greeting, an organisation or 'ja'/'hallo' before i."""
    j = _prev_meaningful(ev, i)
    if j < 0:
        return True
    tok = ev.doc[j]
    return (
        tok.text in CLAUSE_BOUNDARY
        or "GREETING" in ev.labels(j)
        or j in ev.org_tokens
        # "goedemorgen, gemeente doorrift met ...": the word after a "gemeente" that opens
        # the clause names it, however misheard (not "de gemeente werkt met ...")
        or (j >= 1 and "ORG_HEAD" in ev.labels(j - 1) and tok.is_alpha
            and _boundary_before(ev, j - 1))
        or tok.lower_ in ev.w.met_ok_before
        or tok.lower_ in ev.w.greetings
        or "MUNI" in ev.labels(j)  # "Dordrecht, met Kees" with the comma lost
    )


def _boundary_after(ev: TurnEvidence, i: int) -> bool:
    """End, punctuation, a greeting or an organisation at token i."""
    doc = ev.doc
    while i < len(doc) and doc[i].lower_ in ev.w.fillers - {"ja"}:
        i += 1
    if i >= len(doc):
        return True
    tok = doc[i]
    if tok.lower_ in {"van", "bij"} and (
        i + 1 in ev.org_tokens or (i + 2 < len(doc) and i + 2 in ev.org_tokens)
    ):
        return True  # "Sanne Jansen van Burgerzaken"
    return (
        tok.text in CLAUSE_BOUNDARY
        or "GREETING" in ev.labels(i)
        or i in ev.org_tokens
        or "ORG_HEAD" in ev.labels(i)
    )


def _org_or_greeting_at(ev: TurnEvidence, i: int) -> bool:
    """An organisation or a greeting follows at token i (commas and fillers skipped)."""
    doc = ev.doc
    while i < len(doc) and (doc[i].text == "," or doc[i].lower_ in ev.w.fillers - {"ja"}):
        i += 1
    if i >= len(doc):
        return False
    if doc[i].lower_ in {"van", "bij"}:
        i += 1 + (i + 1 < len(doc) and doc[i + 1].lower_ in {"de", "het"})
    return i < len(doc) and (i in ev.org_tokens or bool(ev.labels(i) & {"GREETING", "ORG_HEAD"}))


def _addressed(ev: TurnEvidence, start: int) -> bool:
    """'Goedemorgen meneer Bakker': a greeting directly before a titled name addresses the
    caller."""
    j = _prev_meaningful(ev, start)
    return j >= 0 and (
        "GREETING" in ev.labels(j) or ev.doc[j].lower_ in {"dag", "hallo", "dank", "bedankt", "wel"}
    )


def _make_candidate(ev: TurnEvidence, p: _NameParse, pattern: str, conf_scale: float
                    ) -> NameCandidate:
    cat, first, last, conf, reasons = _categorise(ev, p)
    doc = ev.doc
    start = doc[p.start].idx
    end_tok = doc[p.end - 1]
    end = end_tok.idx + len(end_tok)
    return NameCandidate(
        start,
        end,
        doc.text[start:end],
        first,
        last,
        cat,
        round(max(0.05, min(1.0, conf * conf_scale)), 3),
        pattern,
        tuple(dict.fromkeys(reasons)),
    )


# a name after a misheard "u spreekt" is read, but its confidence scaled below
# opening.NAME_LOW_CONFIDENCE so that it is reviewed
MISHEARD_TRIGGER_SCALE = 0.7


def misheard_spreekt(word: str) -> bool:
    """A word ending in "spreekt" misheard by a letter or two, or run together with the "u"
    before it: "besprekt", "uitspreekt", "uitsprikt", "oudspriekt" (the introduction's verb,
    "u spreekt met ...", as Whisper writes it on a phone line)."""
    if not word.isalpha() or len(word) < 5:
        return False
    return any(Levenshtein.distance(word[-k:], "spreekt") <= 2 and word[-k] == "s"
               for k in range(5, min(len(word), 9) + 1))


# words before a bare "naam" that make the name someone else's ("uw naam", "de naam van")
NOT_OWN_NAAM = frozenset({"uw", "je", "jouw", "de", "die", "zijn", "haar", "welke", "wat",
                          "op", "onder", "achter", "een", "andere"})


def introductions(ev: TurnEvidence) -> list[NameCandidate]:
    """The speaker's candidate introductions in the turn, in text order: after an INTRO
    phrase, before "hier", or bare between boundaries ("Gemeente Ede, Sanne Jansen, ...")."""
    doc = ev.doc
    out: list[NameCandidate] = []
    used: set[int] = set()

    intros = sorted(ev.by_label.get("INTRO", []), key=lambda s: (s.start, -len(s)))
    taken: set[int] = set()
    for trig in intros:
        if trig.start in taken:
            continue  # a longer phrase starting here was handled ("u spreekt met" vs "met")
        if any(trig.start > t.start and trig.end <= t.end for t in intros):
            continue  # "met" inside "u spreekt met"
        taken.add(trig.start)
        pattern = trig.id_ or "intro"
        misheard = (pattern == "met" and trig.start > 0
                    and misheard_spreekt(ev.doc[trig.start - 1].lower_))
        if misheard:
            pattern = "u_spreekt_met"  # "besprekt met Hugo Koster", "uitsprikt met Hoogstra"
        elif (pattern == "met" and trig[0].lower_ != "hier"
                and not _boundary_before(ev, trig.start)):
            continue  # "ik verbind u door met ...", "contact had met ...", "spreek ik met ..."
        if pattern == "dit_is" and not _boundary_before(ev, trig.start):
            continue
        i = trig.end
        if pattern == "met" and len(trig) == 2 and "TITLE" in ev.labels(trig.end - 1):
            i -= 1  # a misheard "met" matched with the title after it: the title is the name's
        while i < len(doc) and (
            doc[i].lower_ in ev.w.fillers - {"ja"} or (doc[i].lower_ == "met" and i > trig.end)
        ):
            i += 1  # "u spreekt met eh met Jeroen"
        # bare "met" after a greeting or organisation is as clear a slot as "u spreekt met"
        strong = pattern in {"u_spreekt_met", "mijn_naam_is", "ik_heet", "u_heeft", "met"}
        p = _parse_name(ev, i, strong=strong)
        if p is None:
            continue
        scale = 1.0
        known = any(r.startswith("lexicon") for r in p.reasons)  # in the lexicons as written
        lexical = known or "fuzzy_lexicon" in p.reasons
        if pattern == "u_heeft":
            if not ev.starts.get(p.end, {}).get("LINE") and not (
                p.end + 1 < len(doc) and ev.starts.get(p.end + 1, {}).get("LINE")
            ):
                if not lexical:
                    continue  # "u heeft een vraag" is not an introduction
                scale = 0.85  # "u heeft Pieter Bakker aan de ..." with "lijn" lost
        if pattern == "naam":
            if not known or (trig.start > 0 and doc[trig.start - 1].lower_ in NOT_OWN_NAAM):
                continue
            pattern, scale = "mijn_naam_is", 0.85
        if pattern in {"ik_ben", "dit_is", "hier_is"}:
            scale = 0.9
        if pattern == "met" and not ev.cased and not lexical:
            continue  # bare "met" + an unknown lower-case word: too weak
        if pattern == "u_spreekt":
            # without "met" only a known name, and not a language ("spreekt u Engels?")
            if (not known or doc[p.start].lower_ in ev.w.languages
                    or question_mark_after(doc, p.end)):
                continue
            pattern = "u_spreekt_met"
        if pattern == "mijn_is":
            if not known:
                continue  # without "naam" only a known name
            pattern, scale = "mijn_naam_is", 0.9
        if misheard:
            if not lexical:
                continue
            scale = MISHEARD_TRIGGER_SCALE
        out.append(_make_candidate(ev, p, pattern, scale))
        used.update(range(p.start, p.end))

    # "Sanne hier", "mevrouw de Vries hier" (also "hier" misheard by a letter: "els hiwer")
    for i, tok in enumerate(doc):
        if not one_letter_off(tok.lower_, "hier") or i == 0 or (i - 1) in used:
            continue
        j = i - 1
        while j >= 0 and (not is_blocked(ev, j) or interfix_at(ev, j)):
            j -= 1
        title = next((t for t in ev.by_label.get("TITLE", []) if t.end == j + 1), None)
        if title is not None:
            j = title.start - 1
        j += 1
        while j < i and interfix_at(ev, j) and ev.starts.get(j, {}).get("TITLE") is None:
            j += 1  # a name does not start with its interfix... unless titled, handled above
        if j >= i or not _boundary_before(ev, j):
            continue
        # the name ends at "hier"; a misheard "hier" ("hiwer") is no stop word to end it
        p = _parse_name(ev, j, strong=True, stop=i)
        if p is None or p.end != i:
            continue
        out.append(_make_candidate(ev, p, "hier", 0.95 if tok.lower_ == "hier" else 0.85))
        used.update(range(p.start, p.end))

    # a bare name between turn start / organisation / greeting boundaries: "Gemeente Ede, Sanne
    # Jansen, goedemorgen"
    i = 0
    while i < len(doc):
        if i in used or is_blocked(ev, i) and not ev.starts.get(i, {}).get("TITLE"):
            i += 1
            continue
        if not _boundary_before(ev, i):
            i += 1
            continue
        p = _parse_name(ev, i, strong=False)
        if p is None:
            # "Kok, Burgerzaken, goedemorgen": a frequent surname that is also a word counts
            # only when an organisation or greeting follows
            p = _parse_name(ev, i, strong=True)
            if p is not None and not _org_or_greeting_at(ev, p.end):
                p = None
        if p is None:
            i += 1
            continue
        j = _prev_meaningful(ev, p.start)
        while j >= 0 and doc[j].text == ",":
            j = _prev_meaningful(ev, j)
        after_greeting = j >= 0 and "GREETING" in ev.labels(j)
        if (
            _boundary_after(ev, p.end)
            and not (p.titled and _addressed(ev, p.start))
            # "Goedemorgen, Sanne, wat kan ik voor je doen?" addresses the caller
            and not (after_greeting and not _org_or_greeting_at(ev, p.end))
            and not any(k in used for k in range(p.start, p.end))
            and all(r not in {"not_in_lexicon"} for r in p.reasons)
            # in cased text a name without a trigger must look like one: "... voert," is a verb
            and (not ev.cased or all(t.text[:1].isupper() for t in p.given + p.surname))
        ):
            n_tokens = len(p.given) + len(p.surname)
            out.append(
                _make_candidate(ev, p, "standalone", 0.8 if n_tokens > 1 or p.titled else 0.7)
            )
            used.update(range(p.start, p.end))
        i = max(p.end, i + 1)
    return sorted(out, key=lambda c: c.start_char)
