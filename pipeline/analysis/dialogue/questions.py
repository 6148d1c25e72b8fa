"""The caller's question whether the call is recorded, and the caller's own notice that they
record it: rules over the language stage's recording triggers, checked with the learned model
(``dialogue_model``) where the text talks of recording."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from pipeline.analysis import dialogue_model, language
from pipeline.analysis.dialogue.common import Hit, joined
from pipeline.analysis.vocabulary import WORDEN_FORMS

if TYPE_CHECKING:
    from spacy.language import Language

# -- the caller's question ---------------------------------------------------------------------
# finite verbs that open a yes/no question about recording, misheard forms included
QUESTION_VERBS = frozenset(
    "wordt word wort wor worden worde werd werden neemt neme neem nemen neme is zijn gaat gaan klopt kan kunt "
    "kunnen mag moet gaat loopt komt staat bewaren bewaart heeft hebben maakt maken doen doet "
    "luistert luisteren legt leggen slaat slaan".split())
# words that may stand before a clause-initial question verb without making it a statement
LEADS = frozenset(
    "en eh uh uhm ehm euh hm oké oke ok okay ja nee nou dus maar trouwens even nog zeg mevrouw "
    "meneer hé he hee hey hoi dank bedankt sorry pardon o oh ah toch eerst vraagje of "
    "vraag vragen weten vroeg want tussendoor hallo goedemorgen goeiemorgen goedemiddag "
    "goeiemiddag goedendag goeiedag dag".split())
# a subordinate "of" after these asks: "ik wil weten of dit gesprek wordt opgenomen"
EMBEDDING = re.compile(
    r"\b(weten|vragen|vraag|vroeg|afvragen|benieuwd|zeggen|vertellen|weet|check|informeren"
    r"|nagaan|controleren)\b")
# "klopt het dat ...", "is het zo dat ...": a question whatever the verb order after it
CHECKS = re.compile(r"\b(klopt het|is het zo|is het waar|het is toch zo|zie ik het goed"
                    r"|als ik het goed begrijp|begrijp ik (het )?goed"
                    r"|is dat (nu |hier |ook |nog |dan )*zo)\b")
# a statement made a question by its tag: "dit gesprek wordt toch niet opgenomen, he?"
TAG = re.compile(r"\b(toch|he|hè|hé|of niet|niet dan|of wel|ofwel|of niet soms)\W*$")
# idioms for recording a call that the trigger ruler does not know: "gaat dit gesprek op de
# band?", "loopt er een bandje mee?", "loopt er een opname mee?"
IDIOMS = re.compile(r"\b(op (de |een )?band|bandje|(opname|recorder)\w* (nu )?mee|meegeluisterd"
                    r"|opgenomen (wordt|worden|werd)|getaped|getapet|tapen|tapet|op (de )?tape"
                    r"|gerecord\w*|recorden"
                    r"|(maakt|maken|maak)\b[^.?!]{0,30}\bopnames? van\b[^.?!]{0,25}\bgesprek\w*"
                    r"|(geluids)?opname (nu )?aan"
                    r"|((voice)?recorder|opname)\w*\s+(\w+\s+)?aan ?(ge)?(staan|staat|zet|gezet)"
                    r"|opnames? van (dit |het |deze |de )?(telefoon)?gesprek\w* (\w+ ){0,2}"
                    r"(gemaakt|bewaard)|opgenomen (lijn|gesprek\w*)|mee ?geluisterd)\b")
# other verbs for keeping a call, which say so only with the call as their object: "slaan
# jullie de telefoongesprekken op?", "wordt het gesprek ergens bewaard?", "registreren jullie
# dit telefoongesprek?" (never "worden mijn gegevens bewaard?")
CALLS = r"(?:telefoon)?(?:gesprek(?:ken)?|telefoontjes?)"
KEEP_CALL = re.compile(
    r"\b(?:" + CALLS + r"\b[^.?!;]{0,40}\b(?:opgenomen(?! (?:in|met)\b)|vastleg\w*|bewaard|bewaart|bewaren|opgeslagen"
    r"|geregistreerd|vastgelegd|gearchiveerd|opslaan|slaan\b[^.?!;]{0,20}\bop|registreren)"
    r"|(?:bewaren|bewaart|registreren|registreert|archiveren|slaan|slaat)\b[^.?!;]{0,30}"
    r"\b(?:dit|het|de|deze|alle|uw|jullie)? ?" + CALLS + r"\b"
    # a separable verb too far apart for the trigger ruler: "nemen jullie hier bij de
    # gemeente zwolle de gesprekken op"
    r"|(?:neemt|nemen|neme)\b[^.?!;]{0,50}\b(?:" + CALLS + r"|dit|alles)\b[^.?!;]{0,25}"
    r"\bop\b(?! (?:in|met)\b)"
    # a dropped final -n: "klopt het dat jullie alles opneme"
    r"|\b(?:" + CALLS + r"|dit|alles) (?:\w+ ){0,2}opneme\b)")
# an infinitive under "om" asks leave or for a favour, not whether the call is recorded:
# "mag ik u vragen om dit gesprek niet op te nemen?", "is het toegestaan om ... op te nemen?"
INFINITIVE = re.compile(r"\bom\b[^.?!;]{0,60}?\bop te nemen\b")
# a clause under these is not what a question verb before them asks about
SUBCLAUSE = frozenset({"als", "wanneer", "omdat", "zodat", "want", "dan"})
# another call than this one: "de opname van mijn vorige gesprek"
OTHER_CALL_NOUN = re.compile(r"\b(vorige?|volgende|eerdere|laatste|andere)( \w+)? (telefoon)?"
                             r"gespre")
# the caller's own words as what is recorded: "worden mijn woorden opgenomen?", "nemen jullie op
# wat ik zeg?", "word ik nu opgenomen?"
SPEAKER_RECORDED = re.compile(r"\bwat ik (nu |hier )?(zeg|vertel)\b|\bmijn (woorden|stem)\b"
                              r"|\b(word|wordt|wort) ik\b")
# the call referred to by a pronoun: "neemt u dit op?", "wordt er opgenomen?"
CALL_PRONOUNS = frozenset({"dit", "er", "dat", "het", "alles", "hier", "stem"})
STRONG_PRONOUNS = frozenset({"dit", "er", "alles"})  # "het"/"dat" may mean something else
FIRST_PERSON = frozenset({"ik", "wij", "we"})
DETERMINERS = frozenset("dit deze het de dat die al alle uw jullie ons onze".split())
# a past or another call, not this one: "ik heb het vorige gesprek opgenomen"
OTHER_CALL = re.compile(r"\b(vorige?|gisteren|eerder|laatst|toen|volgende|volgend|morgen"
                        r"|straks|vanmorgen|voortaan|overweeg|overweegt|overwegen)\b")
# a wish or request that the call be recorded, not a notice: "ik wil dat dit gesprek wordt
# opgenomen"
WISH = re.compile(r"\b(wil|wilt|willen|zou willen|wens|vraag|neem aan)( \w+)? (dat|of)\b")
# words that may follow a pronoun object ("wordt dit eigenlijk opgenomen"); anything else may
# be the noun it determines ("wordt dit bedrag opgenomen")
PRONOUN_FOLLOWERS = frozenset(
    "eigenlijk ook nu even wel allemaal op wordt worden gewoon altijd dan echt trouwens hier "
    "soms standaard automatisch nou misschien wat allemaal iets niets niks mee word wort "
    "worde".split())
MAKE = frozenset({"maak", "maken", "maakt", "gemaakt", "aangezet", "aanzetten", "zet", "gestart",
                  "start", "loopt", "registreer", "registreren"})
BY_ME = re.compile(r"\b(door (mij|ons)|aan (mijn|onze) kant|van mijn kant|bij mij"
                   r"|mijn (telefoon|mobiel\w*|gsm|smartphone|(voice)?recorder|app|toestel"
                   r"|laptop|computer|opnameapparaat\w*))\b")
SECOND_PERSON = frozenset({"u", "jullie", "je", "jij"})
# the caller speaks for themself: "wij nemen dit gesprek op" is the organisation's voice
SPEAKER_ALONE = frozenset({"ik", "mij", "mijn", "m'n"})
FIRST_PERSON_ANY = re.compile(r"\b(ik|mijn|m'n|mij)\b")
# compounds and separable verbs the recogniser writes apart, joined in place (same length, so
# character offsets stay those of the text): "op neem" -> "opneem "
def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased words and punctuation marks with their character offsets."""
    return [(m.group(0).lower(), m.start(), m.end())
            for m in re.finditer(r"[\w'’-]+|[?.!,;:]", text)]


def _clause_left(words: list[tuple[str, int, int]], i: int) -> list[str]:
    """Words left of word ``i`` back to the last sentence or clause boundary."""
    out: list[str] = []
    for w, _, _ in reversed(words[:i]):
        if w in {".", "?", "!", ";", ":", ","}:
            break
        out.append(w)
    return out[::-1]


def _word_index(words: list[tuple[str, int, int]], char: int) -> int:
    """Index of the word that holds (or follows) character ``char``."""
    for k, (_, _, b) in enumerate(words):
        if b > char:
            return k
    return len(words)


def _object(text: str, cand: language.NoticeCandidate) -> tuple[str, str] | None:
    """What the candidate says is recorded, if the call: ("call", noun) or ("pronoun", word)."""
    if cand.recorded == "call":
        if OTHER_CALL_NOUN.search(text[cand.start_char:cand.end_char + 30].lower()):
            return None
        return "call", cand.text
    if cand.trigger == "sep" and re.search(r"\b(niemand|iemand)\b", cand.text.lower()):
        return None  # "neemt er niemand op?": nobody answers the phone
    if cand.trigger == "sep" and re.search(r"\b(telefoon)?gesprek(ken)?\b",
                                           cand.text.lower()):
        return "call", cand.text  # "neemt het systeem dit gesprek op": the call, whoever records
    words = _tokens(text)
    t0 = _word_index(words, cand.trigger_start)
    t1 = _word_index(words, cand.trigger_end - 1)
    after = words[t1 + 1][0] if t1 + 1 < len(words) else ""
    if after in ("met", "in"):
        return None  # "het opgenomen met ..." (taken up), "dit opnemen in ..." (included)
    # the speaker's own words: "word ik nu opgenomen", "wat ik zeg", "mijn woorden"
    near = text[max(0, cand.trigger_start - 40):cand.trigger_end + 25].lower()
    if m := SPEAKER_RECORDED.search(near):
        return "pronoun", m.group(0)
    # inside a separable verb ("neemt u dit op"), else the few words before the participle;
    # a pronoun object there wins over a data noun further off ("een vraag: neemt u dit op")
    sep = cand.trigger == "sep"
    span = range(t0 + 1, t1) if sep else range(t0 - 1, max(-1, t0 - 7), -1)
    for k in span:
        w = words[k][0]
        if w in {".", "?", "!", ",", ";", ":"}:
            break
        nxt = words[k + 1][0] if k + 1 < len(words) else ""
        if not sep and re.fullmatch(CALLS, w):
            return "call", w  # "dat ik dit gesprek met mijn telefoon opneem"
        if w in CALL_PRONOUNS and (k + 1 >= (t1 if sep else t0) or nxt in PRONOUN_FOLLOWERS):
            return "pronoun", w
    return None


# the passive's auxiliary (and its common mishearings): "wordt dit gesprek opgenomen" records
# nobody in particular; the same forms the notice rules read a garbled passive by
PASSIVE_AUXILIARIES = WORDEN_FORMS


def _recorder_is_speaker(text: str, cand: language.NoticeCandidate) -> bool:
    """The speaker is the one who records: "als ik dit gesprek opneem", "mag ik het gesprek
    opnemen", "ik heb het gesprek opgenomen" (an active verb or a perfect with "ik")."""
    words = _tokens(text)
    t0 = _word_index(words, cand.trigger_start)
    left = _clause_left(words, t0)
    for k in range(len(left) - 1, -1, -1):
        if left[k] in ("of", "dat"):
            left = left[k + 1:]
            break
    if cand.trigger == "sep":  # the subject stands next to the finite verb: "ik neem",
        # "neem ik"; not "nemen jullie" after "wat ik wou vragen"
        near = {words[t0 + 1][0] if t0 + 1 < len(words) else "", left[-1] if left else ""}
        return bool(FIRST_PERSON & near)
    if PASSIVE_AUXILIARIES & set(left[-6:]):
        return False  # a passive: "(ik heb een vraag,) wordt dit gesprek opgenomen"
    if {"heb", "had", "hebben"} & set(left):  # a perfect: "ik heb het gesprek opgenomen"
        return bool(FIRST_PERSON & set(left))
    active = words[t0][0].startswith(("opne", "vastle", "opna"))
    return active and bool(FIRST_PERSON & set(left[-6:])) and not SECOND_PERSON & set(left[-6:])


def _question_cue(text: str, cand: language.NoticeCandidate) -> str | None:
    """Why the sentence around the candidate asks rather than tells, or None."""
    words = _tokens(text)
    t0 = _word_index(words, cand.trigger_start)
    t1 = _word_index(words, cand.trigger_end - 1)
    left = _clause_left(words, t0)
    if cand.trigger == "sep" and words[t0][0] in QUESTION_VERBS:
        left = [*left, words[t0][0]]
    if _recorder_is_speaker(text, cand):
        return None  # "mag ik het gesprek opnemen?" asks leave to record
    if cand.rejected == "question":
        return "question_form"
    rest = [w for w, _, _ in words[t1 + 1:]]
    end = next((k for k, w in enumerate(rest) if w in {".", "!", "?"}), len(rest))
    if end < len(rest) and rest[end] == "?":
        return "question_mark"
    if CHECKS.search(text.lower()):
        return "check_phrase"
    sentence_end = words[t1 + 1 + end][1] if t1 + 1 + end < len(words) else len(text)
    if TAG.search(text[:sentence_end].lower()):
        return "tag"
    if "of" in left:
        k = len(left) - 1 - left[::-1].index("of")
        if EMBEDDING.search(" ".join(left[:k])) or k == 0:
            return "embedded_of"
    # a clause that opens with a finite question verb ("(en eh) wordt dit gesprek opgenomen",
    # also over a clause under it: "moet ik er rekening mee houden dat dit gesprek wordt
    # opgenomen"), not an inverted statement ("voor kwaliteitsdoeleinden wordt dit gesprek
    # opgenomen"): the verb is the clause's first word or follows a filler or "vragen"
    crossed = False  # a "dat"/"of" clause lies between the verb and the recording
    for k in range(len(left) - 1, max(-1, len(left) - 12), -1):
        if left[k] in SUBCLAUSE:
            break
        crossed = crossed or left[k] in ("dat", "of")
        if left[k] in QUESTION_VERBS:
            if k == 0 or left[k - 1] in LEADS:
                return "verb_first"
            if _own_clause_before(left[:k]):
                return "verb_first"  # "voordat ik begin (,) wordt dit gesprek opgenomen"
            if k + 1 < len(left) and left[k + 1] in ("dat", "die") and _dislocated(left[:k]):
                return "verb_first"  # "(en) dit gesprek, wordt dat opgenomen"
            if k + 1 < len(left) and left[k + 1] in SECOND_PERSON and not crossed:
                # "... neemt u dit op": asks the person addressed; not "ik moet u even
                # melden dat wij dit gesprek opnemen", an agent's notice
                return "verb_you"
    return None


def _own_clause_before(words: list[str]) -> bool:
    """Words before a question verb that are only the caller's own time clause ("(eh)
    voordat ik begin"): the verb then opens the question. An announcement fronts other
    clauses ("voordat u verder gaat, wordt ..."), never one with "ik"."""
    for j, w in enumerate(words):
        if w in ("voordat", "voor", "zodra", "eer"):
            rest = words[j + 1:]
            return (all(x in LEADS for x in words[:j]) and 2 <= len(rest) <= 5
                    and rest[0] == "ik" and not {"u", "jullie", "we", "wij"} & set(rest))
    return False


def _dislocated(words: list[str]) -> bool:
    """Words before a question verb that only name the call, taken up again by "dat" after
    the verb: "(oké en eh) dit gesprek (, wordt dat opgenomen)"."""
    content = [w for w in words if w not in LEADS]
    return (1 <= len(content) <= 3 and content[-1].rstrip("s").endswith(("gesprek", "gesprekken"))
            and all(w in DETERMINERS or w.endswith(("gesprek", "gesprekken")) for w in content))


def find_question(text: str, nlp: Language | None = None) -> Hit | None:
    """The question whether this call is recorded, if ``text`` asks it (rules and model; a
    hit with ``counted`` False: the rules' question, overruled by a confident model)."""
    return _detect("question", text, question_rules(text, nlp), nlp)


def find_caller_notice(text: str, nlp: Language | None = None) -> Hit | None:
    """The speaker's own notice that they record this call ("ik neem dit gesprek op")."""
    return _detect("caller_notice", text, caller_notice_rules(text, nlp), nlp)


def _mentions_recording(text: str, nlp: Language | None) -> bool:
    """Recording words at all (a trigger of the language stage or an idiom): the model is
    asked about these utterances only, never about the rest of a call's talk."""
    low = text.lower()
    return bool(IDIOMS.search(low) or KEEP_CALL.search(low)
                or language.find_notices(joined(text), nlp))


def _detect(task: str, text: str, rule: Hit | None, nlp: Language | None) -> Hit | None:
    """A detection of the rules, checked with the model where the text talks of recording."""
    model = dialogue_model.load()
    if model is None or not _mentions_recording(text, nlp):
        return rule
    said, p = model.predict(task, text)
    yes = said == "True"
    if rule is not None and yes:
        return rule
    if rule is not None:  # the model says no
        return replace(rule, doubt=f"model: no ({p:.2f})", counted=p < dialogue_model.CONFIDENT)
    # the model alone adds only what has the form: a question asks ("?", a clause opening
    # with its verb, ...); the speaker's own notice is a statement in the first person
    if not yes:
        return None
    if task == "question" and not any(_asks(x) and _mentions_recording(x, nlp)
                                      for x in _sentences(text)):
        return None  # a sentence about recording must ask, not any sentence of the turn
    if task == "caller_notice" and (_asks(text) or not FIRST_PERSON_ANY.search(text.lower())
                                    or not _speaker_records_somewhere(text.lower())):
        return None  # "ik laat u weten dat dit gesprek wordt opgenomen": not the speaker
    return Hit(0, len(text), text, round(p, 2), f"model ({p:.2f})", doubt="rules: no",
               counted=p >= dialogue_model.CONFIDENT)


def question_rules(text: str, nlp: Language | None = None) -> Hit | None:
    """The question whether this call is recorded, by the rules alone."""
    best: Hit | None = None
    text = joined(text)
    for cand in language.find_notices(text, nlp):
        if not (cand.rejected in ("", "question") or cand.rejected.startswith("data_object")
                or (cand.rejected == "answer_sense" and cand.trigger == "noun")):
            continue
        obj = _object(text, cand)
        if obj is None or any(m.start() <= cand.trigger_start < m.end()
                              for m in INFINITIVE.finditer(text.lower())):
            continue
        cue = _question_cue(text, cand)
        if cue is None:
            continue
        strong = obj[0] == "call" or obj[1] in STRONG_PRONOUNS
        conf = 0.9 if strong else 0.7
        if cand.reason and "fuzzy_verb" in cand.reason.split():
            conf -= 0.1
        hit = Hit(cand.start_char, cand.end_char, cand.text, round(conf, 2),
                  f"{cue} object={obj[1] if obj[0] == 'pronoun' else 'call'}")
        if best is None or hit.confidence > best.confidence:
            best = hit
    low = text.lower()
    if best is not None or OTHER_CALL_NOUN.search(low) or OTHER_CALL.search(low):
        return best
    for rx, conf, cue in ((IDIOMS, 0.75, "idiom"), (KEEP_CALL, 0.7, "keeps_call")):
        for m in rx.finditer(low):
            # the sentence of the words must ask: "ik meld u dat dit gesprek wordt
            # opgenomen. wat kan ik voor u doen?" asks something else
            if _asks(sentence_at(text, m.start(), m.end())):
                return Hit(m.start(), m.end(), text[m.start():m.end()], conf, cue)
    return None


def _sentences(text: str) -> list[str]:
    """``text`` cut after each sentence mark."""
    return [m.group(0) for m in re.finditer(r"[^.?!]+[.?!]*", text) if m.group(0).strip()]


def _between_marks(text: str, start: int, end: int, marks: str) -> tuple[int, int]:
    """Where the stretch of ``text`` holding ``text[start:end]`` begins (after the last of
    ``marks`` before it) and ends (at the next one after it, or the end of the text)."""
    a = max(text.rfind(c, 0, start) for c in marks) + 1
    ends = [i for i in (text.find(c, end) for c in marks) if i >= 0]
    return a, min(ends, default=len(text))


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` that holds ``text[start:end]``, with its closing mark."""
    a, b = _between_marks(text, start, end, ".?!")
    return text[a:b + 1]


def _asks(text: str) -> bool:
    """A question by its form alone: a question mark, a check phrase or tag, or a clause that
    opens with a question verb."""
    low = text.lower()
    if "?" in text or CHECKS.search(low) or TAG.search(low):
        return True
    if re.search(EMBEDDING.pattern + r"\b[^.?!]{0,20}\bof\b", low):
        return True
    words = [w for w, _, _ in _tokens(text)]
    for k, w in enumerate(words):
        if w in QUESTION_VERBS:
            return (k == 0 or words[k - 1] in LEADS or words[k - 1] in {",", "."}
                    or _own_clause_before(words[:k]))
    return False


CLAUSE_MARKS = ".?!;,"
NEXT_CLAUSE = re.compile(r"\b(want|omdat|maar|dus|zodat)\b")  # a clause joined without a comma


def _clause_text(text: str, cand: language.NoticeCandidate) -> str:
    """The clause around a candidate, lower case: from the last boundary mark before it to
    the next one after it ("dit gesprek neem ik op, dat heb ik de vorige keer ook gedaan")."""
    low = text.lower()
    a, b = _between_marks(low, cand.start_char, cand.end_char, CLAUSE_MARKS)
    if m := NEXT_CLAUSE.search(low, cand.end_char, b):
        b = m.start()  # "ik neem dit op want de vorige keer ..." is about now
    return low[a:b]


def _speaker_records(low: str, start: int, end: int) -> bool:
    """In the clause of ``low[start:end]``, the speaker records: "ik" or "bij mij" there, and
    nobody else named as the one doing it ("jullie nemen dit gesprek op, dat hoorde ik")."""
    a, b = _between_marks(low, start, end, CLAUSE_MARKS)
    clause = low[a:b]
    if m := re.search(r"\b(dat|of)\b", clause[:start - a]):
        clause = clause[m.end():]
    return (bool(re.search(r"\bik\b", clause) or BY_ME.search(clause))
            and not re.search(r"\b(jullie|u|hij|zij|ze|mijn \w+|de gemeente)\b"
                              r"(?= \w*(neemt|nemen|neme|heeft|hebben|maakt|maken)\b)", clause))


RECORD_WORD = re.compile(r"\bop ?ne\w*|\bop ?genom\w*|\bop ?name\w*|\bvastle\w*|\brecord\w*"
                         r"|\bband(je)?\b|\btape\b")


def _speaker_records_somewhere(low: str) -> bool:
    """:func:`_speaker_records` at some recording word of ``low`` (any, if it has none)."""
    spots = [(m.start(), m.end()) for m in RECORD_WORD.finditer(low)]
    return not spots or any(_speaker_records(low, a, b) for a, b in spots)


def caller_notice_rules(text: str, nlp: Language | None = None) -> Hit | None:
    """The speaker's own notice that they record this call, by the rules alone."""
    text = joined(text)
    for cand in language.find_notices(text, nlp):
        if cand.negated:
            continue
        obj = _object(text, cand)
        if cand.rejected and not (cand.rejected.startswith("data_object") and obj is not None
                                  and (obj[0] == "call" or obj[1] in STRONG_PRONOUNS)):
            continue  # "ik neem dit op voor mijn dossier": the dossier is why, not what
        words = _tokens(text)
        inside = {w for w, _, _ in words[_word_index(words, cand.trigger_start) + 1:
                                         _word_index(words, cand.trigger_end - 1)]}
        if obj is None and cand.trigger == "sep" and "u" in inside:
            obj = ("pronoun", "u")  # "ik neem u op": records the person addressed
        if obj is None or (obj[0] == "pronoun" and obj[1] not in {"dit", "alles", "het", "u"}):
            continue
        cue = _question_cue(text, cand)
        if (cue is not None and cue != "tag") or OTHER_CALL.search(_clause_text(text, cand)):
            continue  # a tag after "ik neem u op, he" asks nothing of the agent
        if WISH.search(text.lower()):
            continue
        if re.search(r"\b(wou|wilde|wilden)\b.*\bmaar\b", text.lower()):
            continue  # "ik wou dit gesprek opnemen, maar mijn telefoon doet het niet"
        if re.search(r"\b(niet|geen) (dat|of)\b|\bwil(t)? (niet|geen)\b", text.lower()):
            continue  # "ik wil niet dat dit gesprek wordt opgenomen"
        words = _tokens(text)
        t0 = _word_index(words, cand.trigger_start)
        clause = _clause_left(words, t0)
        if cand.trigger == "sep":
            clause = [*clause, *(w for w, _, _ in words[t0:_word_index(words, cand.trigger_end)])]
        if cand.trigger == "noun" and not MAKE & {w for w, _, _ in words}:
            continue  # "ik heb een opname van het gesprek aangevraagd" records nothing now
        for k in range(len(clause) - 1, -1, -1):  # "ik hoorde in het keuzemenu dat dit
            if clause[k] in ("dat", "of"):  # gesprek wordt opgenomen" reports another's
                clause = clause[k + 1:]
                break
        # "ik" records; "mijn zoon neemt dit gesprek op" is someone else
        mine = "ik" in clause or bool(BY_ME.search(text.lower()))
        if not mine:
            continue
        # "wilt u dat ik dit gesprek opneem?" asks for leave; "als ik dit opneem" supposes
        if {"als", "mag", "mogen", "wilt", "kan", "zou"} & set(clause):
            continue  # asks leave or supposes: "zou ik dit gesprek mogen opnemen"
        return Hit(cand.start_char, cand.end_char, cand.text, 0.85,
                   f"first_person {cand.trigger}")
    low = text.lower()
    if ((m := IDIOMS.search(low) or KEEP_CALL.search(low))
            and _speaker_records(low, m.start(), m.end())
            and not _asks(text) and not OTHER_CALL.search(low) and not WISH.search(low)):
        return Hit(m.start(), m.end(), text[m.start():m.end()], 0.7, "idiom first_person")
    return None




# -- talk of recording the rules could not read --------------------------------------------------
# recording words as a recogniser mishears them: "opgenongen", "op je nomen", "opname"
_RECORD_STEMS = ("opgenomen", "opnemen", "opneemt", "opname", "vastgelegd")
# a form of "(op)nemen" that ends its sentence, but for a pronoun or particle: "mag ik even
# vragen nemen", "neemt u dit" (never "neemt u contact met mij op", "neemt u een pas mee")
_NEMEN = re.compile(r"\b(op ?)?(neem|neemt|nemen|neme|nomen|genomen)"
                    r"(( (u|jullie|je|jij|dit|het|alles|er|ook|wel|eigenlijk|nou|op))*)\W*$")
# rejections of the trigger ruler that name another act: contact, answering the phone
_OTHER_ACTS = ("contact_opnemen", "answer_sense")
# this call named by the caller: "dit gesprek", "dit telefoomtje"
_THIS_CALL = re.compile(r"\b(dit|deze|het|dat) (telefoon\w*|tele\w*tje|gesprek\w*|gespre\w*)")
_OP_SPLIT = re.compile(r"\bop (\w+)")
# "loopt er (eigenlijk) een bandje mee?": something running along with the call
_RUNS_ALONG = re.compile(r"\b(loopt|lopt|loop)\b[^.?!]{0,40}\bmee\b")
# what records a call: a recorder, a tape, a dictaphone, a sound recording
_RECORDER = re.compile(r"\b(record\w*|\w*recorder\w*|dictafoon\w*|bandje|bandopname\w*"
                       r"|geluidsopname\w*|opnameapparaat\w*)\b")
# the recording words as written (those ``_near`` can match): read by the notice rules, no
# mishearing
_RECORD_WORDS = frozenset({*_RECORD_STEMS, "opnames", "opnamen", "opneem"})
_OWN_TAKE = re.compile(r"\bik (neem|nemen|neme)\b( \w+){0,1} (dit|het|deze|alles)\b")


def _near(word: str, stems: tuple[str, ...], most: int) -> bool:
    """Whether ``word`` opens as ``stems`` do and is within ``most`` letter edits of one
    ("ongekomen"; never "nemen" or "openen", common words in their own right)."""
    return len(word) >= 7 and word[0] == "o" and any(Levenshtein.distance(word, s, score_cutoff=most) <= most
                                  for s in stems)


def misheard_recording_word(text: str, exact: bool = False) -> Hit | None:
    """A word within two letters of a recording word ("opgenongen"), or one split off its
    particle and misheard ("op namens" for "opnames"); ``exact``: the recording word itself
    too (else it is the notice rules' to read)."""
    low = joined(text).lower()
    words = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\w+", low)]
    # the particle split off and the rest misheard: "op namens" (opnames), "op genoemen"
    words += [(m.start(), m.end(), "op" + m.group(1)) for m in _OP_SPLIT.finditer(low)]
    for a, b, word in words:
        if _near(word, _RECORD_STEMS, 2) and (exact or word not in _RECORD_WORDS):
            return Hit(a, b, text[a:b], 0.3, "recording word misheard")
    return None


def recording_hint(text: str, nlp: Language | None = None) -> Hit | None:
    """Speech that may talk of recording this call though the rules read neither a question
    nor a notice in it: a recording word (any the trigger ruler finds, or one within two
    letters of "opgenomen"), a question that names this call or says "nemen", or "ik neem
    dit ...". Never a decision: it only keeps "not asked" and "not announced" from being
    asserted."""
    low = joined(text).lower()
    for cand in language.find_notices(joined(text), nlp, announcement=True):
        if cand.rejected in _OTHER_ACTS:
            continue
        return Hit(cand.start_char, cand.end_char, cand.text, 0.3, "recording words")
    if hit := misheard_recording_word(text, exact=True):
        return hit
    if m := _RECORDER.search(low):  # "ik heb hier een recorder aanstaan", "loopt er een bandje"
        return Hit(m.start(), m.end(), text[m.start():m.end()], 0.3, "recording device")
    if m := _OWN_TAKE.search(low):
        return Hit(m.start(), m.end(), text[m.start():m.end()], 0.3, "first person takes this")
    for s in _sentences(text):
        if not _asks(s):
            continue
        for rx, cue in ((_THIS_CALL, "question naming this call"), (_NEMEN, "question of nemen"),
                        (_RUNS_ALONG, "question whether something runs along")):
            if m := rx.search(s.lower()):
                a = text.find(s)
                return Hit(a + m.start(), a + m.end(), s[m.start():m.end()], 0.3, cue)
    return None


def speaks_for_self(text: str) -> bool:
    """A statement in the first person singular ("ik neem dit ... op"), not a question."""
    return bool(FIRST_PERSON_ANY.search(text.lower())) and not _asks(text)
