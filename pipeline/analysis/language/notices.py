"""Recording notices: every place in a text that talks about recording, with its evidence.

Was a recording notice given ("Dit gesprek kan worden opgenomen ...")? Look-alikes such as
"Uw gegevens worden opgenomen in ons systeem", "Er wordt contact met u opgenomen" or
"Gesprekken worden niet opgenomen" must not count. The span ruler marks the triggers (a
recording verb, a separable "neemt ... op", a recording noun) and the words around them (call
nouns, purposes, negations); these rules weigh one candidate per trigger, and the decision
(``has_notice``) is taken afterwards from the candidates. The words the rules use besides the
ruler's labels are the component's data (``callcheck_notices/words.json`` in the model).

All offsets are character offsets into the analysed text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from pipeline.analysis.language.evidence import (
    CLAUSE_BOUNDARY,
    SENT_BOUNDARY,
    Hits,
    index_hits,
    question_mark_after,
    regex,
    words,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

NOTICE_MIN_CONFIDENCE = 0.5  # a candidate below this is evidence only, never a notice
GARBLED = "garbled"  # the span id of a garbled participle read as a recording verb


@dataclass(frozen=True)
class NoticeCandidate:
    """A stretch of text that may be a recording notice, with the evidence for it."""

    start_char: int
    end_char: int
    text: str
    confidence: float  # 0..1, strength of the evidence that recording is being announced
    negated: bool  # "gesprekken worden niet opgenomen": about recording, but says it is not done
    reason: str  # compact evidence, e.g. "verb=opgenomen call=gesprek purpose=kwaliteit"
    # the same evidence as fields, for rules built on top of these candidates
    trigger: str = ""  # "verb", "sep" (a separable "neemt ... op") or "noun"
    trigger_start: int = 0  # characters of the trigger itself in the text
    trigger_end: int = 0
    recorded: str | None = None  # what is said to be recorded: "call", "data" or None (unsaid)
    rejected: str = ""  # why it is a look-alike ("question", "contact_opnemen", ...); "" if not
    # read through words the recogniser garbled: the participle ("volgenomen"), or what a
    # passive names ("dit bestrek wordt opgenomen"); counted, never asserted
    garbled: bool = False


@dataclass(frozen=True)
class NoticeWords:
    """The words the notice rules weigh besides the ruler's labels (see ``vocabulary``)."""

    data_nouns: frozenset[str]  # what a look-alike records: "gegevens", "melding"
    data_nouns_in_compounds: tuple[str, ...]  # also at a compound's end: "terugbelverzoek"
    containers: re.Pattern[str]  # "opgenomen in ons systeem": taken in, not recorded
    negation_exempt_near: frozenset[str]  # "wilt u dat niet": about wanting, not doing
    determiners: frozenset[str]
    question_verbs: frozenset[str]  # "worden deze gesprekken opgenomen"
    garbled_participle: re.Pattern[str]  # "volgenomen", "nomen": "opgenomen" misheard
    not_garbled_participles: frozenset[str]  # "aangenomen", "meegenomen": real verbs
    # "dit gesprek wordt genoemd": a participle's shape after a passive "worden"
    garbled_passive_participle: re.Pattern[str]
    not_garbled_passive_participles: frozenset[str]  # "geholpen", "gevoerd": other acts
    worden_forms: frozenset[str]  # the passive's auxiliary, also misheard ("wort")
    separable_record_verbs: frozenset[str]  # "nemen" of "wij nemen gesprekken op"
    separable_record_particles: frozenset[str]  # "op", "aan": the verb's particle is there
    passive_aux: frozenset[str]  # "kunnen worden opgenomen"
    pronouns: frozenset[str]
    greetings: frozenset[str]  # every spoken form of a greeting
    fillers: frozenset[str]
    # what a passive in an announcement names, misheard ("bestrek", "knaliteit")
    misheard_call_nouns: tuple[str, ...]
    misheard_purposes: tuple[str, ...]

    @classmethod
    def from_data(cls, data: Mapping, where: str) -> NoticeWords:
        """From the component's ``words.json`` (``where`` names it in errors)."""
        w = lambda key: frozenset(words(data, key, where))  # noqa: E731
        return cls(
            data_nouns=w("data_nouns"),
            data_nouns_in_compounds=tuple(words(data, "data_nouns_in_compounds", where)),
            containers=regex(data, "containers", where),
            negation_exempt_near=w("negation_exempt_near"),
            determiners=w("determiners"),
            question_verbs=w("question_verbs"),
            garbled_participle=regex(data, "garbled_participle", where),
            not_garbled_participles=w("not_garbled_participles"),
            garbled_passive_participle=regex(data, "garbled_passive_participle", where),
            not_garbled_passive_participles=w("not_garbled_passive_participles"),
            worden_forms=w("worden_forms"),
            separable_record_verbs=w("separable_record_verbs"),
            separable_record_particles=w("separable_record_particles"),
            passive_aux=w("passive_aux"),
            pronouns=w("pronouns"),
            greetings=w("greetings"),
            fillers=w("fillers"),
            misheard_call_nouns=tuple(words(data, "misheard_call_nouns", where)),
            misheard_purposes=tuple(words(data, "misheard_purposes", where)),
        )


@dataclass
class _Evidence(Hits):
    w: NoticeWords


def notice_candidates(doc: Doc, w: NoticeWords
                      ) -> tuple[tuple[NoticeCandidate, ...], tuple[NoticeCandidate, ...]]:
    """One candidate per recording trigger the ruler marked in ``doc``, in text order, read
    twice: as a person's words, and as a recorded announcement (IVR) played before the agent,
    where a passive without what is recorded is weak evidence instead of none."""
    ev = _Evidence(doc, *index_hits(doc), w=w)
    return tuple(_notices(ev)), tuple(_notices(ev, announcement=True))


def _is_call_noun(ev: _Evidence, i: int) -> bool:
    if "CALL_NOUN" not in ev.labels(i):
        return False
    # "medewerkers zijn in gesprek" is about being busy, not about this call
    return not (i > 0 and ev.doc[i - 1].lower_ == "in")


def _window(
    ev: _Evidence, start: int, end: int, left: int, right: int, boundary: frozenset[str]
) -> tuple[int, int]:
    """Token range around [start, end) limited by ``boundary`` punctuation and a size."""
    doc = ev.doc
    lo = start
    while lo > 0 and start - lo < left and doc[lo - 1].text not in boundary:
        lo -= 1
    hi = end
    while hi < len(doc) and hi - end < right and doc[hi].text not in boundary:
        hi += 1
    return lo, hi


def _is_data_noun(ev: _Evidence, word: str) -> bool:
    """A data noun, also at the end of a compound ("terugbelverzoek", "adresgegevens")."""
    return word in ev.w.data_nouns or any(
        word.endswith(n) and len(word) > len(n) + 2 for n in ev.w.data_nouns_in_compounds)


def _nearest_noun(ev: _Evidence, rng: Iterable[int]) -> tuple[str, int] | None:
    """First call noun or data noun when walking ``rng``: ('call'|'data', token index)."""
    for i in rng:
        if _is_call_noun(ev, i):
            return "call", i
        if _is_data_noun(ev, ev.doc[i].lower_):
            # a compound the recogniser split: "telefoon gesprek" is a call, not a phone
            if (ev.doc[i].lower_ == "telefoon" and i + 1 < len(ev.doc)
                    and _is_call_noun(ev, i + 1)):
                return "call", i + 1
            return "data", i
    return None


def _misheard(ev: _Evidence, lo: int, hi: int) -> str | None:
    """The first word in [lo, hi) that is a call noun misheard by at most two letters
    ("bestrek") or starts with a purpose word misheard by one ("knaliteitsbelenden"); None
    if there is none. Words the ruler already knows are not misheard."""
    for i in range(lo, hi):
        t = ev.doc[i]
        w = t.lower_
        if len(w) < 6 or not w.isalpha() or {"CALL_NOUN", "PURPOSE"} & set(ev.labels(i)):
            continue
        if any(Levenshtein.distance(w, n) <= 2 for n in ev.w.misheard_call_nouns) or \
                starts_with_misheard(w, ev.w.misheard_purposes):
            return t.text
    return None


def starts_with_misheard(word: str, prefixes: Iterable[str]) -> bool:
    """Whether ``word`` (lower case) starts with one of ``prefixes`` misheard by at most one
    letter ("knaliteitsbelenden": "kwaliteit")."""
    return any(len(word) >= len(p) and Levenshtein.distance(word[:len(p)], p) <= 1
               for p in prefixes)


def _negation_in(ev: _Evidence, lo: int, hi: int) -> int | None:
    """Index of a negation in [lo, hi) that is about the recording, not about wanting it."""
    doc = ev.doc
    for i in range(lo, hi):
        if "NEGATION" not in ev.labels(i):
            continue
        near = {doc[k].lower_ for k in range(max(0, i - 3), min(len(doc), i + 2)) if k != i}
        if near & ev.w.negation_exempt_near:
            continue  # "wilt u dat niet", "als u niet wilt dat", "niet alleen"
        return i
    return None


def _is_question(ev: _Evidence, noun_i: int | None, verb_end: int) -> bool:
    """A caller asking about recording is not a notice: "Wordt dit gesprek opgenomen?",
    "... vertellen of dit gesprek wordt opgenomen", "worden deze gesprekken opgenomen"."""
    doc = ev.doc
    if question_mark_after(doc, verb_end) and not _question_follows(ev, verb_end):
        return True
    if noun_i is None:
        return False
    k = noun_i - 1
    while k >= 0 and doc[k].lower_ in ev.w.determiners:
        k -= 1
    if k >= 0 and doc[k].lower_ == "of":
        return True  # "... vertellen of dit gesprek wordt opgenomen"
    if k >= 0 and doc[k].lower_ in ev.w.question_verbs:
        before = doc[k - 1] if k > 0 else None
        if (
            before is None
            or before.text in SENT_BOUNDARY
            or before.lower_ in ev.w.greetings
            or before.lower_ in ev.w.fillers
        ):
            return True  # "worden deze gesprekken opgenomen"
    return False


def _question_follows(ev: _Evidence, i: int) -> bool:
    """Whether a clause of its own asks the sentence's question after token ``i``: "...
    worden gesprekken opgenomen, heeft u een vraag over afval, druk 1?" (the recogniser ran
    a menu on into the notice); a verb and a pronoun after a comma make it ("heeft u")."""
    doc = ev.doc
    j = i
    while j + 2 < len(doc) and doc[j].text not in SENT_BOUNDARY:
        if doc[j].text == "," and doc[j + 2].lower_ in ev.w.pronouns:
            return True
        j += 1
    return False


def _passive_aux(ev: _Evidence, verb: int, left: int = 6) -> int | None:
    """Index of a passive auxiliary or modal ("worden", "kunnen") shortly before the
    participle at ``verb``, in the same sentence, not asking or offering ("kan ik")."""
    doc = ev.doc
    lo, _ = _window(ev, verb, verb + 1, left, 0, SENT_BOUNDARY)
    for i in range(verb - 1, lo - 1, -1):
        if doc[i].lower_ in ev.w.passive_aux:
            nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
            if nxt not in ev.w.pronouns:
                return i
    return None


# words that open a purpose after a recording verb ("voor", "om ... te", "ter verbetering")
PURPOSE_MARKERS = frozenset({"voor", "om", "ter", "ten"})


def _notice_from(ev: _Evidence, trig: Span, kind: str, announcement: bool) -> NoticeCandidate:
    """Weigh the evidence around one recording trigger (verb, separable verb or noun).
    ``announcement``: the text is a recorded announcement (IVR) played before the agent."""
    doc = ev.doc
    reasons = [f"{kind}={trig.text.lower()}"]
    # what is recorded can stand far to the left: "Alle gesprekken die u met de medewerkers van
    # ons klantcontactcentrum voert, worden opgenomen"
    lo, hi = _window(ev, trig.start, trig.end, 14, 8, SENT_BOUNDARY)
    inside = range(trig.start + 1, trig.end - 1) if kind == "sep" else range(0)
    # which thing is said to be recorded: the nearest noun, inside a separable verb first
    noun = _nearest_noun(ev, inside) or _nearest_noun(ev, range(trig.start - 1, lo - 1, -1))
    if noun is not None and noun[0] == "data" and any(
            doc[i].text in CLAUSE_BOUNDARY for i in range(noun[1] + 1, trig.start)):
        # a data noun of another clause ("het algemene nummer van Bunnik, dit [misheard] kan
        # worden vastgelegd") is not what this one records
        noun = None
    if noun is None:  # after the verb, up to a purpose ("vastgelegd voor de afhandeling
        # van klachten": the complaints are what the recording is for, not what is recorded)
        stop = next((i for i in range(trig.end, hi) if doc[i].lower_ in PURPOSE_MARKERS), hi)
        noun = _nearest_noun(ev, range(trig.end, stop))
    purpose = [i for i in range(lo, hi) if "PURPOSE" in ev.labels(i)]
    if noun is not None and doc[noun[1]].lower_ == "telefoon" and purpose:
        # "dit telefoon just rikt kan worden opgenomen voor opleiding": a phone is answered
        # ("de telefoon wordt opgenomen"), never for a purpose; the recogniser split the call
        # noun "telefoongesprek"
        noun = ("call", noun[1])
    lo_c, _ = _window(ev, trig.start, trig.end, 7, 0, CLAUSE_BOUNDARY)
    neg = _negation_in(ev, lo_c, trig.start) if kind != "sep" else _negation_in(ev, lo_c, trig.end)
    rejected = ""
    misheard = split_phone = False
    nxt = [t.lower_ for t in doc[trig.end : trig.end + 4]]
    if nxt[:1] == ["in"] and any(ev.w.containers.search(w) for w in nxt[1:4]):
        rejected = "opgenomen_in_container"  # "opgenomen in ons systeem / de wachtrij"
    elif any(doc[i].lower_ == "contact" for i in range(max(lo, trig.start - 4), trig.end)):
        rejected = "contact_opnemen"  # "er wordt contact met u opgenomen", "neem contact op"
    elif any(
        "ANSWER_SENSE" in ev.labels(i)
        for i in range(max(lo, trig.start - 5), min(hi, trig.end + 2))
    ):
        rejected = "answer_sense"  # "uw gesprek wordt zo snel mogelijk opgenomen" (answered)
    elif noun is not None and _split_phone(ev, noun[1], trig.end, hi):
        # "opnames van telefoon kustrekken": a word after "telefoon" may be the rest of a
        # "telefoongesprekken" the recogniser split and garbled; weak, never a look-alike
        split_phone = True
    elif noun is not None and noun[0] == "data":
        rejected = f"data_object={doc[noun[1]].lower_}"
    elif _is_question(ev, noun[1] if noun else None, trig.end):
        rejected = "question"
    if noun is not None and noun[0] == "call":
        reasons.append(f"call={doc[noun[1]].lower_}")
    if purpose:
        reasons.append(f"purpose={doc[purpose[0]].lower_}")
    if neg is not None:
        reasons.append(f"negation={doc[neg].lower_}")

    if rejected:
        confidence = 0.1
        reasons.append(f"rejected:{rejected}")
    elif split_phone:
        confidence = 0.45
        reasons.append("telefoon_then_word")
    elif trig.id_ == GARBLED:
        # a garbled participle says nothing by itself: only a call noun or a purpose makes it
        # a notice, never a sure one (flagged by the verdicts: "garbled_verb")
        confidence = 0.6 if noun is not None and noun[0] == "call" else 0.5 if purpose else 0.3
        reasons.append("garbled_verb")
    elif noun is not None and noun[0] == "call":
        confidence = 0.95 if purpose else 0.9
    elif kind == "noun":
        made = any(doc[i].lower_ in {"gemaakt", "maken", "maakt"} for i in range(lo, hi))
        confidence = 0.7 if (purpose or made) else 0.3
    elif purpose:
        confidence = 0.65  # "voor kwaliteitsdoeleinden kan dit worden opgenomen"
    elif announcement and kind == "verb" and (aux := _passive_aux(ev, trig.start)) is not None:
        # a phone system's "ter verbetering van onze dienst kunnen [gesprekken] worden
        # opgenomen" with the subject misheard; only in announcements: a person's "zij wordt
        # morgen opgenomen" is no notice. Nothing recorded is named, and on calls made
        # independently "wijzigingen worden opgenomen in [a misheard register]" read the same:
        # just below the bar, so it is flagged for review, never asserted. A word a letter or
        # two from a call noun or a purpose ("dit bestrek wordt opgenomen", "opgenomen voor
        # knaliteit") names what a notice names: counted, and flagged all the same
        reasons.append(f"passive={doc[aux].lower_}")
        near = _misheard(ev, lo, hi)
        misheard = near is not None
        confidence = 0.5 if misheard else 0.45
        reasons.append(f"misheard={near}" if misheard else "no_call_word")
    else:
        confidence = 0.3
        reasons.append("no_call_word")
    if trig.label_ == "REC_VERB" and trig.id_ == "fuzzy" and confidence > 0.3:
        confidence -= 0.05
        reasons.append("fuzzy_verb")
    idx = [trig.start, trig.end - 1, *([noun[1]] if noun else []), *([] if neg is None else [neg])]
    s_tok, e_tok = min(idx), max(idx)
    start, end = doc[s_tok].idx, doc[e_tok].idx + len(doc[e_tok])
    return NoticeCandidate(
        start, end, doc.text[start:end], round(confidence, 3), neg is not None, " ".join(reasons),
        trigger=kind, trigger_start=trig.start_char, trigger_end=trig.end_char,
        recorded=noun[0] if noun else None, rejected=rejected,
        garbled=trig.id_ == GARBLED or misheard)


def _split_phone(ev: _Evidence, i: int, after: int, hi: int) -> bool:
    """Token ``i``, after the trigger (``after``: its end), is "telefoon" followed in the
    sentence by a word that is no verb's part ("uw telefoon wordt opgenomen" is answered)."""
    doc = ev.doc
    if doc[i].lower_ != "telefoon" or i < after or i + 1 >= hi:
        return False
    nxt = doc[i + 1].lower_
    return doc[i + 1].is_alpha and nxt not in (
        ev.w.worden_forms | ev.w.passive_aux | ev.w.separable_record_particles)


def _particle_lost(ev: _Evidence, i: int, others: frozenset[str] = frozenset()) -> bool:
    """"wij nemen gesprekken [op] om u beter van dienst te zijn" with the particle lost: a
    form of "nemen" with a call noun among the next three words and no particle after it in
    the sentence ("neemt uw gesprek zo snel mogelijk aan" is answering), nor one of
    ``others``."""
    doc = ev.doc
    if doc[i].lower_ not in ev.w.separable_record_verbs:
        return False
    _, hi = _window(ev, i, i + 1, 0, 3, CLAUSE_BOUNDARY)
    if not any(_is_call_noun(ev, k) for k in range(i + 1, hi)):
        return False
    _, end = _window(ev, i, i + 1, 0, 30, SENT_BOUNDARY)
    particles = ev.w.separable_record_particles | others
    return not any(doc[k].lower_ in particles for k in range(i + 1, end))


# a person says what they do themself in the first person ("ik neem", "nemen wij"); the
# particles that make "nemen" another verb ("neemt het gesprek over", "neem ik mee")
FIRST_PERSON = frozenset({"ik", "wij", "we"})
OTHER_NEMEN_PARTICLES = frozenset({"mee", "over", "door", "terug", "af", "waar", "deel"})


def _own_act(ev: _Evidence, i: int) -> bool:
    """The form of "nemen" at ``i`` has a first-person subject right before or after it and
    lost its particle (:func:`_particle_lost`, no particle of another verb in the sentence
    either): the speaker's own act of recording (read as garbled: counted, flagged)."""
    doc = ev.doc
    near = {doc[k].lower_ for k in (i - 1, i + 1) if 0 <= k < len(doc)}
    return bool(near & FIRST_PERSON) and _particle_lost(ev, i, OTHER_NEMEN_PARTICLES)


def _misheard_recorded(ev: _Evidence, i: int) -> bool:
    """"dit gesprek wordt opgenongen": a word two letters from "opgenomen" (one letter off the
    ruler reads itself), after a passive "worden" beside a call noun as in
    :func:`_garbled_passive`."""
    low = ev.doc[i].lower_
    return (len(low) >= 8 and low.isalpha() and low not in ev.w.not_garbled_participles
            and Levenshtein.distance(low, "opgenomen") <= 2 and _after_call_passive(ev, i))


def _after_call_passive(ev: _Evidence, i: int) -> bool:
    """Token ``i`` stands at most three words after a passive "worden" (same clause) that has
    a call noun right before or after it."""
    doc = ev.doc
    lo, _ = _window(ev, i, i + 1, 3, 0, CLAUSE_BOUNDARY)
    aux = next((a for a in range(i - 1, lo - 1, -1) if doc[a].lower_ in ev.w.worden_forms), None)
    return aux is not None and any(
        0 <= k < len(doc) and k != i and _is_call_noun(ev, k) for k in (aux - 1, aux + 1))


def _garbled_passive(ev: _Evidence, i: int) -> bool:
    """"dit gesprek wordt genoemd", "worden gesprekken op gelangen": a word of a participle's
    shape at most three words after a passive "worden" (same clause) that has a call noun
    right before or after it: "opgenomen" misheard, as the sentence needs a participle there."""
    doc = ev.doc
    low = doc[i].lower_
    if (not ev.w.garbled_passive_participle.match(low)
            or low in ev.w.not_garbled_passive_participles):
        return False
    return _after_call_passive(ev, i)


def _notices(ev: _Evidence, announcement: bool = False) -> list[NoticeCandidate]:
    """One candidate per recording trigger; a verb inside a separable "neemt ... op" span or a
    noun overlapping a verb ("opnemen van") is not counted twice."""
    seen: set[int] = set()
    out: list[NoticeCandidate] = []
    triggers: list[tuple[Span, str]] = []
    seps = sorted(ev.by_label.get("REC_SEP", []), key=lambda s: (s.start, len(s)))
    for s in seps:  # the shortest "neem ... op" per start
        if s.start not in seen:
            seen.add(s.start)
            triggers.append((s, "sep"))
    verb_tokens: set[int] = set()
    for s in sorted(
        ev.by_label.get("REC_VERB", []), key=lambda s: (s.start, -len(s), s.id_ != "exact")
    ):
        if s.start in verb_tokens or any(s.start < t.end and t.start < s.end for t, _ in triggers):
            continue
        verb_tokens.update(range(s.start, s.end))
        triggers.append((s, "verb"))
    for s in ev.by_label.get("REC_NOUN", []):
        if not any(s.start < t.end and t.start < s.end for t, _ in triggers):
            triggers.append((s, "noun"))
    from spacy.tokens import Span  # here: importing the language stage loads no spaCy

    for tok in ev.doc:
        if any(t.start <= tok.i < t.end for t, _ in triggers):
            continue
        if announcement:  # "dit gesprek wordt volgenomen": the participle garbled
            low = tok.lower_
            garbled = ((ev.w.garbled_participle.match(low)
                        and low not in ev.w.not_garbled_participles)
                       or _garbled_passive(ev, tok.i) or _particle_lost(ev, tok.i))
        else:  # a person's own "ik neem dit gesprek [op] voor onze opleiding", or "dit
            # gesprek wordt opgenongen"
            garbled = _own_act(ev, tok.i) or _misheard_recorded(ev, tok.i)
        if garbled:
            triggers.append((Span(ev.doc, tok.i, tok.i + 1, label="REC_VERB",
                                  span_id=GARBLED), "verb"))
    for trig, kind in sorted(triggers, key=lambda x: x[0].start):
        out.append(_notice_from(ev, trig, kind, announcement))
    return out


def best_notice(cands: Sequence[NoticeCandidate]) -> NoticeCandidate | None:
    """The strongest non-negated candidate at or above NOTICE_MIN_CONFIDENCE (the earliest of
    equals), or None."""
    ok = [c for c in cands if not c.negated and c.confidence >= NOTICE_MIN_CONFIDENCE]
    return max(ok, key=lambda c: (c.confidence, -c.start_char)) if ok else None
