"""The agent's opening turn: its organisation, greeting and hints of a misheard name, and the
decision about notice and name from the candidates (``analyze_opening`` runs the pipeline and
calls :func:`decide_opening`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from pipeline.analysis.language.evidence import one_letter_off, question_mark_after
from pipeline.analysis.language.introductions import (
    NameCandidate,
    interfix_at,
    introductions,
    is_blocked,
    name_word,
)
from pipeline.analysis.language.notices import NoticeCandidate, best_notice
from pipeline.analysis.language.turn import IntroductionRules, TurnEvidence, turn_evidence
from pipeline.analysis.vocabulary import NOT_NAAM

if TYPE_CHECKING:
    from spacy.tokens import Doc

NAME_LOW_CONFIDENCE = 0.65  # a chosen name below this is flagged for review


@dataclass(frozen=True)
class OpeningCues:
    """What else an opening turn says, besides notices and names."""

    organisation: str | None  # the first organisation named: "gemeente Zwolle", "Burgerzaken"
    greeting: str | None  # the first greeting, normalised: "goeie morgen" -> "goedemorgen"
    name_hints: tuple[str, ...]  # what looks like a name whose introduction was misheard
    caller_like: bool  # a caller's phrase ("ik heb een vraag"): the turn may be the caller's
    asr_hallucination: bool  # Whisper's stock text ("ondertiteld door ...") is in the turn
    # start characters of names that an unread word may continue: a first name followed by an
    # interfix or a garbled word ("gerda van den bxroek"), a surname after a garbled word
    cut_names: tuple[int, ...] = ()
    # where no introduction could be read but ``name_hints`` show one: the kind of name the
    # hinted words most likely are (a guess, always reviewed)
    name_guess: NameGuess | None = None


@dataclass(frozen=True)
class NameHint:
    """Words that look like a name whose introduction was misheard, at tokens [start, end);
    ``trigger``: the words are the introduction phrase itself ("mijn naam is", "mijn flam
    is"), and the name is what follows them."""

    text: str
    start: int
    end: int
    trigger: bool = False


@dataclass(frozen=True)
class NameGuess:
    """The kind of name a misheard introduction most likely gave, from the shape of its words
    ("besprekt met wilse van Den Broek": full); the words are no name to report."""

    category: str  # "first" | "last" | "full"
    start_char: int  # of the words read as the name (the trigger's, when none are left)
    end_char: int
    text: str
    why: str  # the shape that decided: "interfix", "two_words", "lexicon_first", ...


def read_opening(doc: Doc, rules: IntroductionRules
                 ) -> tuple[tuple[NameCandidate, ...], OpeningCues]:
    """The speaker's candidate introductions in ``doc`` (names after a transfer, an address
    to the caller or an organisation are none), and the turn's other cues."""
    ev = turn_evidence(doc, rules)
    low = doc.text.lower()
    names = tuple(introductions(ev))
    hints = _name_hints(ev)
    # ordinary or unknown words in a name's place only flag: no kind is guessed from them
    unshaped = _unshaped_hints(ev)
    cues = OpeningCues(
        organisation=_organisation(ev),
        greeting=_greeting(ev),
        name_hints=tuple(h.text for h in (*hints, *unshaped)),
        caller_like=bool(ev.by_label.get("CALLER_CUE")),
        asr_hallucination=any(h in low for h in rules.words.hallucinations),
        cut_names=tuple(n.start_char for n in names if _may_be_cut(ev, n)),
        name_guess=guess_name(ev, hints) if hints and not names else None,
    )
    return names, cues


def _unread_word(ev: TurnEvidence, i: int) -> bool:
    """A word no rule read that could be part of a name: uncommon, not blocked, no place or
    organisation."""
    tok = ev.doc[i]
    return (tok.is_alpha and len(tok) >= 3 and tok.lower_ not in ev.lex.common_words
            and not is_blocked(ev, i) and not ev.labels(i) & (NOT_NAME_LABELS | {"TITLE"}))


def _offer_follows(ev: TurnEvidence, j: int) -> bool:
    """Whether the turn ends at token ``j`` (punctuation aside) or goes on with a greeting or
    an offer of help ("..., waar kan ik u mee helpen?", misheard "maar kan ik"): the place
    an introduction's name has."""
    words = [t.lower_ for t in ev.doc[j:] if not t.is_punct][:4]
    return not words or words[0] in ev.w.greetings or "kan" in words or "helpen" in words


def _may_be_cut(ev: TurnEvidence, name: NameCandidate) -> bool:
    """Whether the words around a first-only or last-only name may hold the rest of it,
    misheard: a first name followed by an interfix or an unread word, a surname after an
    unread word."""
    if name.category == "full":
        return False
    doc = ev.doc
    span = doc.char_span(name.start_char, name.end_char, alignment_mode="expand")
    if span is None:
        return False
    if name.category == "first" and span.end < len(doc):
        # past an interfix ("gerda van den bxroek"), not "aan" of "aan de lijn"
        n = 0 if ev.starts.get(span.end, {}).get("LINE") else interfix_at(ev, span.end)
        k = span.end + n
        organisation = k < len(doc) and (k in ev.org_tokens or ev.labels(k) & ORG_LABELS)
        if n and not organisation:
            return True  # an interfix with no surname after it: "jasper de aan de lijn"
        return k < len(doc) and (_unread_word(ev, k) or _misheard_interfix(ev, k))
    if name.category == "last" and span.start > 0 and "title" not in name.reasons:
        return _unread_word(ev, span.start - 1)
    return False


# the interfixes a surname opens with that a one-letter slip turns into another word ("Lars
# dan meer" for "Lars van der Meer"), and the words after such a slip that make it a sentence
# going on ("Lars, kan ik u helpen")
SLIPPED_INTERFIXES = ("van", "den", "der", "ter", "ten")
NOT_AFTER_SLIP = frozenset({"ik", "u", "je", "jij", "we", "wij", "het", "er"})


def _misheard_interfix(ev: TurnEvidence, k: int) -> bool:
    """Whether token ``k`` right after a first name is an interfix misheard by one letter with
    a word after it that is no pronoun: the surname may follow, misheard too."""
    doc = ev.doc
    word = doc[k].lower_
    if (not (doc[k].is_alpha and k + 1 < len(doc) and doc[k + 1].is_alpha)
            or ev.starts.get(k, {}).get("LINE")):  # "aan de lijn" is no "van de ..."
        return False
    return (doc[k + 1].lower_ not in NOT_AFTER_SLIP
            and any(Levenshtein.distance(word, x) == 1 for x in SLIPPED_INTERFIXES))


_CATEGORY_RANK = {"full": 2, "last": 1, "first": 1}


def _organisation(ev: TurnEvidence) -> str | None:
    """The first organisation named: 'gemeente <Municipality>' or a department."""
    for head in sorted(ev.by_label.get("ORG_HEAD", []), key=lambda sp: sp.start):
        muni = ev.starts.get(head.end, {}).get("MUNI")
        if muni is not None:
            alias = {a.lower(): c for a, c in ev.w.municipality_aliases.items()}
            said = muni.text.lower()
            canon = alias.get(said) or next(
                (m for m in ev.lex.municipalities if m.lower() == said), muni.text
            )
            return f"gemeente {canon}"
        span = next(((s, e) for s, e in ev.org_spans if s <= head.start < e), None)
        rest = ev.doc[head.end : span[1]].text if span else ""
        return f"gemeente {rest}".strip()
    depts = sorted(ev.by_label.get("DEPT", []), key=lambda sp: (sp.start, -len(sp)))
    if depts:
        return depts[0].text
    if ev.org_spans:
        s, e = ev.org_spans[0]
        return ev.doc[s:e].text
    return None


def _greeting(ev: TurnEvidence) -> str | None:
    """The first greeting, normalised: "goeie morgen" -> "goedemorgen"."""
    for span in sorted(ev.by_label.get("GREETING", []), key=lambda s: s.start):
        word = "".join(t.lower_ for t in span).replace("goeie", "goede").replace("goeden", "goede")
        canon = ev.w.greetings.get(word) or ev.w.greetings.get(span[0].lower_)
        if canon:
            return canon
    return None


# introductions that are one whatever follows (bare "met", "ik ben", "dit is" are not)
STRONG_INTROS = frozenset({"u_spreekt_met", "u_spreekt", "mijn_naam_is", "ik_heet", "u_heeft"})


# words before a name that make it someone else's (a transfer, a colleague, a partner)
SOMEONE_ELSE_BEFORE = frozenset({"door", "naar", "collega", "contact", "samen", "werkt", "wilt"})
# "mijn" as written (what "mijn <word> is" may be besides "mijn naam is": vocabulary.NOT_NAAM)
MY = frozenset({"mijn", "m'n", "mn", "me"})
VOWELS = frozenset("aeiouy")
# an organisation's labels
ORG_LABELS = frozenset({"DEPT", "ORG_HEAD", "MUNI"})
# labels of words that are never a name: an organisation's, and "aan de lijn"
NOT_NAME_LABELS = ORG_LABELS | {"LINE"}


def _past_fillers(ev: TurnEvidence, i: int) -> int:
    """The first token from ``i`` that is no filler and no repeated "met" ("u spreekt met eh
    met Jeroen"): where the name after an introduction phrase starts."""
    doc = ev.doc
    while i < len(doc) and (doc[i].lower_ in ev.w.fillers or doc[i].lower_ in {"met", "mee"}):
        i += 1
    return i


def _hint(ev: TurnEvidence, start: int, end: int, trigger: bool = False) -> NameHint:
    return NameHint(ev.doc[start:end].text, start, end, trigger)


def _name_slot_word(ev: TurnEvidence, k: int, any_word: bool = False) -> bool:
    """Whether token ``k`` may be a surname after an interfix: a word of three letters or
    more that is no organisation, and (unless ``any_word``) not blocked (``is_blocked``)."""
    word = ev.doc[k]
    return (word.is_alpha and len(word) >= 3 and not ev.labels(k) & NOT_NAME_LABELS
            and k not in ev.org_tokens and (any_word or not is_blocked(ev, k)))


def _name_hints(ev: TurnEvidence) -> list[NameHint]:
    """What in a turn without a readable introduction looks like one: an unambiguous
    introduction phrase followed by no organisation ("mijn naam is verhaald"), or, within three
    words after "met", a frequent first name or surname that is no ordinary word, a capitalised
    lexicon name, a word after a two-word interfix ("besprikkt met Jasper van Kermere"), an
    uncommon word after a one-word interfix ("met van rewen"), any uncommon word after a bare
    "met" and an ordinary one right after "goedemorgen, met" ("met feit"); anywhere, a frequent
    name that is no ordinary word ("els hiwer", "ijk naam iris": the trigger misheard), a
    word before "hier" or "aan de lijn" (an ordinary one after an interfix: "jaren de hand
    hier"), "met", an interfix and a word before a pause or a greeting ("met de hand,
    goedemorgen"); "mijn flam is" ("naam" misheard as a short word of its vowel); a turn that
    ends in "met" (the name lost). Not where a
    title, a transfer or the speaker's question shows someone else is meant ("spreek ik met
    mevrouw ...?", "ik verbind u door met mevrouw Gerritsen")."""
    doc, lex = ev.doc, ev.lex
    hints = []
    for span in ev.by_label.get("INTRO", []):
        j = _past_fillers(ev, span.end)
        word = doc[j].lower_ if j < len(doc) else ""
        other = j < len(doc) and (
            j in ev.org_tokens or word in ev.w.determiners or word in ev.w.languages
            or word.endswith(ev.w.department_endings)
            or bool(ev.labels(j) & ORG_LABELS))
        # "u heeft aan de lijn", "mijn naam is" at the turn's end: the name itself lost
        if span.id_ in STRONG_INTROS and not other:
            hints.append(_hint(ev, span.start, span.end, trigger=True))
        # "hier is van bij" (van Wijk): an interfix where the name stands, and a word (any:
        # the recogniser makes the surname an ordinary word) that is no organisation; a
        # lone article is no interfix here ("ik ben de hele dag hier")
        n = interfix_at(ev, j) if j < len(doc) else 0
        if (n and j + n < len(doc) and (n > 1 or doc[j].lower_ not in ev.w.determiners)
                and _name_slot_word(ev, j + n, any_word=True)):
            hints.append(_hint(ev, j, j + n + 1))
    for i, tok in enumerate(doc[:-1]):
        # "els hiwer", "thijs dijkstra aan de lijn" with the trigger around it misheard: a
        # frequent name that is no ordinary word, and no one else's
        low = tok.lower_
        if not ((low in lex.first_rank or low in lex.surname_rank)
                and low not in lex.common_words and not is_blocked(ev, i)
                and "MUNI" not in ev.labels(i)):
            continue
        before = [t.lower_ for t in doc[max(0, i - 3):i]]
        titled = any("TITLE" in ev.labels(j) for j in range(max(0, i - 2), i))
        if titled and not (len(before) >= 2 and one_letter_off(before[-2], "met")):
            continue  # "goedemorgen mevrouw Bakker": the caller addressed ("met meneer X" is not)
        if set(before) & SOMEONE_ELSE_BEFORE or doc[i + 1].lower_ in {"spreken", "is", "samen"}:
            continue  # a colleague or a partner: "door naar mijn collega Dirk", "u wilt Sem spreken"
        hints.append(_hint(ev, i, i + 1))
    for i in range(len(doc) - 2):
        # "mijn flam is", "m'n hand is": "mijn naam is" with "naam" misheard as a short word
        # of its one vowel (a caller's "mijn vraag is" aside)
        w = doc[i + 1].lower_
        if (doc[i].lower_ in MY and doc[i + 2].lower_ == "is" and w.isalpha()
                and 3 <= len(w) <= 5 and set(w) & VOWELS == {"a"} and w not in NOT_NAAM):
            hints.append(_hint(ev, i, i + 3, trigger=True))
    last = next((t for t in reversed(doc) if not t.is_punct), None)
    if last is not None and last.lower_ == "met":
        hints.append(_hint(ev, last.i, last.i + 1))  # "gemeente bergen, met": the name lost
    for m, tok in enumerate(doc[:-2]):
        # "met meneer hzendrikns", "metp meneer hendriks": a title after "met" (or a misspelled
        # "met") and a word that no rule read as a name
        nxt = doc[m + 2]
        if (one_letter_off(tok.lower_, "met") and "TITLE" in ev.labels(m + 1) and nxt.is_alpha
                and len(nxt) >= 3 and nxt.lower_ not in lex.common_words
                and not ev.labels(m + 2) & (NOT_NAME_LABELS | {"TITLE"})
                and not {t.lower_ for t in doc[max(0, m - 3):m]} & SOMEONE_ELSE_BEFORE
                # "spreek ik met mevrouw ...?" asks; "met mevrouw bofman, waar kan ik u
                # helpen?" offers help
                and not (question_mark_after(doc, m + 1) and not _offer_follows(ev, m + 3))):
            hints.append(_hint(ev, m + 1, m + 3))
    for m, tok in enumerate(doc):
        if tok.lower_ != "met":
            continue
        before = {t.lower_ for t in doc[max(0, m - 3):m]}
        if before & SOMEONE_ELSE_BEFORE:
            continue  # a transfer, an earlier contact, a partner: someone else
        # "gemeente Uden, met de hand, goedemorgen" (met de Haan): an interfix and a word that
        # ends the phrase, where a name stands; "met de gemeente" is an organisation
        n = interfix_at(ev, m + 1)
        k = m + 1 + n
        if n and k < len(doc):
            nxt = doc[k + 1] if k + 1 < len(doc) else None
            if (_name_slot_word(ev, k)
                    and (nxt is None or nxt.is_punct or nxt.lower_ in ev.w.greetings)):
                hints.append(_hint(ev, m + 1, k + 1))
        if "ik" in before and question_mark_after(doc, m + 1):
            continue  # "spreek ik met ...?": whom the speaker asks for, not who speaks
        # "goedemorgen, met ...", "gemeente Ede, met ...": the place of a name ("met feit")
        k = m - 1
        while k >= 0 and doc[k].is_punct:
            k -= 1
        greeted = k >= 0 and (doc[k].lower_ in ev.w.greetings or "MUNI" in ev.labels(k))
        # "met de ..." is mostly an organisation, "in verband met ..." a reason
        bare = (m + 1 < len(doc) and doc[m + 1].lower_ not in ev.w.determiners
                and (m == 0 or doc[m - 1].lower_ != "verband"))
        for i in range(m + 1, min(len(doc), m + 4)):
            tok = doc[i]
            if "TITLE" in ev.labels(i) and i == m + 1 and (
                    i + 1 >= len(doc) or is_blocked(ev, i + 1)):
                hints.append(_hint(ev, m, i + 1))  # "met mevrouw" and the name lost
            if "TITLE" in ev.labels(i) or tok.is_punct:
                break
            n = interfix_at(ev, i)
            after = doc[i + n] if n and i + n < len(doc) else None
            if after is not None and after.is_alpha and (n >= 2 or (
                    tok.lower_ not in ev.w.determiners and len(after) >= 3
                    and after.lower_ not in lex.common_words
                    and not ev.labels(i + n) & NOT_NAME_LABELS)):
                # "met Jasper van Kermere", "met van rewen" (Whisper's question mark or a lost
                # first name does not make it someone else)
                hints.append(_hint(ev, i, i + n + 1))
                break
            low = tok.lower_
            if (is_blocked(ev, i) or "MUNI" in ev.labels(i) or not tok.is_alpha
                    or len(low) < 3):
                continue
            frequent = low in lex.first_rank or low in lex.surname_rank
            if low in lex.common_words and not (i == m + 1 and (greeted or (
                    bare and frequent and _offer_follows(ev, i + 1)))):
                # an ordinary word counts only right after "goedemorgen, met", or right after
                # a bare "met" where it is also a frequent name and the turn goes on with an
                # offer of help or a greeting, or ends ("rijk met prins, maar kan ik u ...")
                continue
            capital = ev.cased and tok.text[:1].isupper() and not tok.is_sent_start
            lexicon = (frequent or (capital and (low in lex.first_names or low in lex.surnames)))
            if lexicon or (bare and not ev.labels(i) & NOT_NAME_LABELS):
                # after a bare "met" any uncommon word: a name the recogniser garbled ("met
                # larmer", "met net raps") is rarely a lexicon name
                hints.append(_hint(ev, i, i + 1))
                break
    for i in range(1, len(doc)):
        # "<name> hier", "<name> aan de lijn" with the name garbled ("jaren de hand hier",
        # "zemke kruipers aan de lijn")
        frame = _name_frame(doc, i) > 0
        prev = doc[i - 1]
        # an ordinary word after an interfix is a surname heard as a word ("de hand" for "de
        # Haan", "de vries", "van dijk")
        interfixed = i >= 2 and interfix_at(ev, i - 2) == 1
        if (frame and prev.is_alpha and len(prev) >= 3
                and (prev.lower_ not in lex.common_words or interfixed)
                and not is_blocked(ev, i - 1)
                and not ev.labels(i - 1) & NOT_NAME_LABELS):
            hints.append(_hint(ev, i - 2 if interfixed else i - 1, i))
    return hints


def _unshaped_hints(ev: TurnEvidence) -> list[NameHint]:
    """Places of a name whose words came out ordinary or unknown, so their shape guesses no
    kind of name: words before a "hier" or "aan de lijn" that closes a phrase ("goedemiddag,
    er ik hier", for Erik), a bare phrase beside the greeting ("..., akker manpier.")."""
    doc, hints = ev.doc, []
    for i in range(1, len(doc)):
        n = _name_frame(doc, i)
        closing = _closing_here(ev, i, n) if n else None
        if closing is not None:
            hints.append(_hint(ev, closing, i))
    return hints + _bare_name_phrases(ev)


def _name_frame(doc: Doc, i: int) -> int:
    """How many tokens from ``i`` are a "<name> hier" or "<name> aan de lijn" frame (0: none)."""
    if doc[i].lower_ == "hier":
        return 1
    return 3 if doc[i:i + 3].text.lower() == "aan de lijn" else 0


# words of someone being here rather than a name before "hier" ("ik ben hier", "u zit hier"),
# or speaking to the caller ("we helpen u gewoon aan de lijn")
HERE_VERBS = frozenset({"ben", "bent", "is", "zijn", "was", "waren", "zit", "zitten", "woon",
                        "woont", "sta", "staat", "werk", "werkt", "kom", "komt", "blijf",
                        "blijft", "wordt", "heb", "hebt", "heeft", "kan", "kunt", "mag",
                        "moet", "niet", "ook", "nog", "dat", "dit", "het", "u", "je",
                        "jij", "we", "wij", "jullie"})
# the most words before such a "hier" ("Anne Marie de Vries hier" is four)
HERE_MAX_WORDS = 4


def _closing_here(ev: TurnEvidence, i: int, n: int) -> int | None:
    """Where a name starts before a "hier" (``n`` 1) or "aan de lijn" (3) that closes a phrase
    of the opening ("goedemorgen, er ik hier, gemeente ..." for "Erik hier", "los aan de lijn"
    for "Lars aan de lijn"): a name heard as ordinary short words, which the "<name> hier"
    hint above passes over; not "ik ben hier"."""
    doc = ev.doc
    nxt = doc[i + n] if i + n < len(doc) else None
    if not (nxt is None or (nxt.is_punct and nxt.text != "?") or nxt.lower_ in ev.w.greetings
            or ev.labels(i + n) & ORG_LABELS):
        return None
    k, words = i - 1, 0
    while (k >= 0 and doc[k].is_alpha and words <= HERE_MAX_WORDS
           and not ev.labels(k) & (NOT_NAME_LABELS | {"GREETING"})):
        k, words = k - 1, words + 1
    opens = k < 0 or doc[k].is_punct or bool(ev.labels(k) & (ORG_LABELS | {"GREETING"}))
    said = {t.lower_ for t in doc[k + 1:i]}
    if not (1 <= words <= HERE_MAX_WORDS and opens) or said & HERE_VERBS:
        return None
    return k + 1


# the most words of a phrase read as a bare name ("Anne Marie de Vries" is four)
BARE_NAME_MAX_WORDS = 4


def _bare_name_phrases(ev: TurnEvidence) -> list[NameHint]:
    """Phrases of the turn's first sentence that stand between commas next to its greeting or
    organisation and hold a word no lexicon knows ("gemeente Epe, goedemiddag, akker
    manpier."): where an agent says a bare name ("..., Akkerman.") and the recogniser garbled
    it, so "none" is not asserted."""
    doc = ev.doc
    phrases: list[tuple[int, int]] = []
    start = 0
    for k, tok in enumerate(doc):
        if tok.is_punct:
            if k > start:
                phrases.append((start, k))
            start = k + 1
            if tok.text in {".", "?", "!"} and phrases:
                break
    else:
        if start < len(doc):
            phrases.append((start, len(doc)))
    framing = [any(ev.labels(k) & (ORG_LABELS | {"GREETING"}) or k in ev.org_tokens
                   or doc[k].lower_ in ev.w.greetings for k in range(a, b))
               for a, b in phrases]
    # a phrase before all of them is where a misheard organisation stands ("geving te weer,
    # goedemiddag"): a name only where the organisation was read elsewhere
    org_read = _organisation(ev) is not None
    hints = []
    for j, (a, b) in enumerate(phrases):
        if framing[j] or not 1 <= b - a <= BARE_NAME_MAX_WORDS:
            continue
        if not any(framing[m] for m in (j - 1, j + 1) if 0 <= m < len(phrases)):
            continue
        if (not any(framing[:j]) and not org_read) or _misheard_gemeente(doc[a].lower_):
            continue
        if any(ev.labels(k) & {"INTRO", "TITLE", "LINE", "CALLER_CUE"} or not doc[k].is_alpha
               or doc[k].lower_ in HERE_VERBS for k in range(a, b)):
            continue
        if any(_unread_word(ev, k) for k in range(a, b)):
            hints.append(_hint(ev, a, b))
    return hints


def _misheard_gemeente(word: str) -> bool:
    """"gementen", "gemeentecampen": the organisation's head word misheard or run together."""
    return word.startswith("gemeente") or Levenshtein.distance(word, "gemeente") <= 2


# the most words read as one misheard name ("Anne Marie van der Berg" is five)
GUESS_MAX_TOKENS = 5


def _slot(ev: TurnEvidence, i: int) -> list[int]:
    """Token indices of the words from token ``i`` that may be a name: up to the next
    punctuation, greeting, organisation, "aan de lijn" or "hier"; ordinary short words first
    ("u heeft juist die jasperde jongen") are passed over."""
    doc, out, skipped = ev.doc, [], 0
    while i < len(doc) and skipped < 2 and is_blocked(ev, i) and not interfix_at(ev, i) and (
            doc[i].is_alpha
            and not ev.labels(i) & (NOT_NAME_LABELS | {"GREETING", "INTRO", "TITLE"})
            and doc[i].lower_ not in ev.w.greetings and i not in ev.org_tokens):
        i, skipped = i + 1, skipped + 1
    while i < len(doc) and len(out) < GUESS_MAX_TOKENS:
        if ev.starts.get(i, {}).get("LINE"):
            break  # "aan de lijn"
        n = interfix_at(ev, i)
        if n:
            k = i + n  # "van der meer": after an interfix a stop word is a surname
            if k >= len(doc) or not doc[k].is_alpha or is_blocked(ev, k, stop_words=False):
                out.extend(range(i, k))  # "jasper de, ...": the surname after it lost
                break
            out.extend(range(i, k + 1))
            i = k + 1
            continue
        tok = doc[i]
        if (is_blocked(ev, i) and "TITLE" not in ev.labels(i)) or one_letter_off(tok.lower_, "hier"):
            break
        out.append(i)
        i += 1
    return out


def _run_together(ev: TurnEvidence, word: str) -> bool:
    """A first name and a surname written as one word ("frikprins", "asterkrammer"): a split
    into a lexicon first name and a lexicon surname, each exact or, from five letters, one
    letter off."""
    lex = ev.lex

    def known(part: str, names: frozenset[str]) -> bool:
        return part in names or (len(part) >= 5 and bool(lex.near(part) & names))

    return any(known(word[:k], lex.first_names) and known(word[k:], lex.surnames)
               for k in range(3, len(word) - 2))


def _shape(ev: TurnEvidence, slot: list[int]) -> tuple[str, str]:
    """(category, why) of the words of a misheard name by their shape alone."""
    doc = ev.doc
    if "TITLE" in ev.labels(slot[0]):
        # "met netvrouw schaden"; a title before a first name and a surname: both
        rest = [i for i in slot[1:] if doc[i].is_alpha and not interfix_at(ev, i)]
        return ("full", "title") if len(rest) >= 2 else ("last", "title")
    k = next((j for j, i in enumerate(slot) if interfix_at(ev, i)), None)
    if k is not None:  # a surname after it, heard or lost ("jasper de, ...")
        return ("full", "interfix") if k > 0 else ("last", "interfix")
    words = [i for i in slot if doc[i].is_alpha]
    if len(words) >= 2:
        return "full", "two_words"
    if not words:
        return "first", "unread"
    w = doc[words[0]].lower_
    first, last, _ = name_word(ev, doc[words[0]])
    if first and not last:
        return "first", "lexicon_first"
    if last and not first:
        return "last", "lexicon_surname"
    if len(w) >= 7 and _run_together(ev, w):
        return "full", "run_together"
    return "first", "single_word"  # as an unknown single name is read (``_categorise``)


def guess_name(ev: TurnEvidence, hints: Sequence[NameHint]) -> NameGuess | None:
    """The kind of name the first hint that leads to words gives; where the hints are
    introduction phrases with nothing readable after them, an unread single name."""
    doc = ev.doc
    fallback = None
    # the first in the turn ("met Hugo Koster": Hugo)
    for h in sorted(set(hints), key=lambda h: (h.start, h.end)):
        slot = _slot(ev, _past_fillers(ev, h.end if h.trigger else h.start))
        if not slot:
            fallback = fallback or h
            continue
        category, why = _shape(ev, slot)
        a, b = doc[slot[0]].idx, doc[slot[-1]].idx + len(doc[slot[-1]])
        return NameGuess(category, a, b, doc.text[a:b], why)
    if fallback is None:
        return None
    a, b = doc[fallback.start].idx, doc[fallback.end - 1].idx + len(doc[fallback.end - 1])
    return NameGuess("first", a, b, doc.text[a:b], "unread")


# --------------------------------------------------------------------------------------------
# decision
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpeningAnalysis:
    """Decisions about the agent's opening turn."""

    notice: NoticeCandidate | None  # the best non-negated notice, if any
    name: NameCandidate | None  # the agent's own introduction, if any
    name_category: str  # "none" | "first" | "last" | "full"
    # no introduction read, but one hinted: the kind of name it most likely gave
    name_guess: NameGuess | None
    organisation: str | None  # "gemeente Zwolle", "Burgerzaken", ...
    greeting: str | None  # goedemorgen/goedemiddag/goedenavond/goedendag/hallo/dag/welkom
    review_reasons: tuple[str, ...]  # why a person should look at this turn; empty when clear


def decide_opening(notices: Sequence[NoticeCandidate], names: Sequence[NameCandidate],
                   cues: OpeningCues) -> OpeningAnalysis:
    """Notice, name and name category of an opening turn from its candidates and cues."""
    reasons: list[str] = []
    notice = best_notice(notices)
    if notice is None and any(c.negated for c in notices):
        reasons.append("negated_notice")
    elif notice is not None and notice.confidence < 0.7:
        reasons.append("notice_low_confidence")

    name: NameCandidate | None = None
    if names and cues.caller_like:
        reasons.append("caller_like_turn")  # "met Jan de Boer, ik heb een vraag over ..."
    elif names:
        name = max(names, key=lambda c: (_CATEGORY_RANK[c.category], c.confidence, -c.start_char))
        chosen = set(name.text.lower().split())
        if any(not set(c.text.lower().split()) <= chosen for c in names):
            reasons.append("multiple_names")  # "met Sanne ... mijn naam is Pieter"
        if name.confidence < NAME_LOW_CONFIDENCE:
            reasons.append("name_low_confidence")
        for r in ("ambiguous_first_or_last", "not_in_lexicon", "fuzzy_lexicon"):
            if r in name.reasons:
                reasons.append(f"name_{r}")
        if name.start_char in cues.cut_names:
            reasons.append("possible_name_missed")  # the rest of the name may be misheard
    elif cues.name_hints:
        # no introduction found, but a name may be there with its trigger misheard
        # ("besprikkt met Jasper van Kermere"): "none" is not asserted on such a turn
        reasons.append("possible_name_missed")
    if cues.asr_hallucination:
        reasons.append("asr_hallucination_text")
    return OpeningAnalysis(
        notice=notice,
        name=name,
        name_category=name.category if name else "none",
        name_guess=cues.name_guess,  # set only where no introduction was read
        organisation=cues.organisation,
        greeting=cues.greeting,
        review_reasons=tuple(dict.fromkeys(reasons)),
    )
