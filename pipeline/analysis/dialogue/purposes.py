"""What a notice says the recording is for (``notice_purpose``): purpose words and phrases in
the notice's sentences, checked per purpose with the learned model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from pipeline.analysis import dialogue_model
from pipeline.analysis.dialogue.common import joined
from pipeline.types import PURPOSES

# -- what a notice says the recording is for ---------------------------------------------------
PURPOSE_WORDS = (
    ("quality", r"kwalit\w*|\w*kwaliteit\w*|quality|maliteit\w*|kwaliteits?"),
    ("training", r"\w*training\w*|\w*trainings?\w*|trainen|opleiding\w*|opleidings?\w*|coach\w*"
                 r"|scholing\w*|instructie\w*|leerdoeleinden|educatie\w*|begeleid\w*|leren"
                 r"|inwerken"),
    ("service", r"dienstverlening\w*|dienstver(?!band)\w*|service\w*|klantvriendelijk\w*"
                r"|klanttevredenheid|klantbeleving|dienst"),
    ("complaints", r"klacht\w*|geschil\w*|onduidelijkhe\w*|misverstand\w*|meningsverschil\w*"
                   r"|discussie\w*|onenigheid\w*"),
    ("other", r"verificatie\w*|verifi\w*|controle|controleren|administrat\w*|wettelijk\w*"
              r"|veiligheid\w*|beveilig\w*|bewijs\w*|fraude\w*|onderzoek\w*|statisti\w*"
              r"|analyse\w*|juridisch\w*|naslag\w*|vastlegging|bescherming"
              r"|dossiervorming|archivering|vastleggen van afspraken|verantwoording"
              r"|toezicht|\w*wet|wetgeving|rechtsgeldig\w*|beleidsdoeleinden|verslag\w*|afspraken"
              r"|verwerking\w*"),
)
_PURPOSE_RE = [(p, re.compile(rf"^({pat})$")) for p, pat in PURPOSE_WORDS]
# "om u beter van dienst te zijn", "om u beter te helpen": the service given to the caller
_SERVICE_PHRASE = re.compile(r"\b(dienst ?verlening|(beter|goed|sneller)\b[^.?!]{0,30}\b(van dienst|helpen)"
                             r"|van dienst (te )?(kunnen )?zijn)")
_TRAINING_PHRASE = re.compile(r"\b(op te leiden|op te leren|in te werken|op ?leiden|inwerken"
                              r"|feedback\b[^.?!;]{0,40}\b(geven|te geven)|coachen|coaching)\b")
# handling the caller's own request is another purpose; handling complaints is not
_OTHER_PHRASE = re.compile(r"\b((afhandeling|behandeling) van|(het )?(verwerken|afhandelen|behandelen)"
                           r" van) (uw|je|jouw|de|het) (melding|aanvraag|vraag|verzoek|zaak|dossier)")
# a clause that states what the recording is for; one whose words fit no purpose above is
# "other" ("om uw aanvraag correct te kunnen verwerken")
_PURPOSE_CLAUSE = re.compile(r"\b(om\b[^.?!;]{0,60}?\bte \w+|zodat\b[^.?!;]*"
                             r"|ter (?!info\b|informatie\b|kennisgeving\b)\w+[^.?!;,]*"
                             r"|ten behoeve van[^.?!;,]*|in het kader van[^.?!;,]*|teneinde[^.?!;]*"
                             r"|opdat[^.?!;]*|omdat[^.?!;]*)")
_DOELEINDEN = re.compile(r"^(\w{3,}?)s?-?doel(einden|eindes|en)$")


@dataclass(frozen=True)
class PurposeHit:
    purpose: str  # one of types.PURPOSES
    start_char: int
    end_char: int
    word: str
    unclear: bool = False  # a "...doeleinden" whose first part is none of the known ones
    # False: a word that may be a purpose the rules cannot read ("worthopliding en kwaliteit"),
    # shown and flagged but no purpose of the notice's
    counted: bool = True


def _purpose_of(word: str) -> str | None:
    if word in ("dienst",):
        return None  # only in a phrase ("van dienst"), see _SERVICE_PHRASE
    for purpose, rx in _PURPOSE_RE:
        if rx.match(word):
            return purpose
    return None


def notice_purposes(text: str) -> list[PurposeHit]:
    """Every purpose word in ``text`` (a notice's sentences), in text order."""
    hits: list[PurposeHit] = []
    text = joined(text)
    low = text.lower()
    for m in re.finditer(r"[\w]+(?:-[\w]+)*-?", low):
        word = m.group(0).strip("-")
        parts = [word] if "-" not in word else [word, *word.split("-")]
        purpose = None
        for w in parts:
            purpose = _purpose_of(w)
            if purpose:
                break
        if purpose is None and (d := _DOELEINDEN.match(word.replace("-", ""))):
            purpose = _purpose_of(d.group(1)) or _fuzzy_purpose(d.group(1))
            if purpose is None:
                hits.append(PurposeHit("other", m.start(), m.end(), text[m.start():m.end()],
                                       unclear=True))
                continue
        if purpose is None and len(word) >= 8:
            purpose = _fuzzy_purpose(word)
        if purpose:
            hits.append(PurposeHit(purpose, m.start(), m.end(), text[m.start():m.end()]))
    for rx, purpose in ((_SERVICE_PHRASE, "service"), (_TRAINING_PHRASE, "training"),
                        (_OTHER_PHRASE, "other")):
        for m in rx.finditer(low):
            hits.append(PurposeHit(purpose, m.start(), m.end(), text[m.start():m.end()]))

    for h in list(hits):
        # "voor opleiding en kwaliteit" with the first glued and misheard ("worthopliding en
        # kwaliteit"): a word joined to a purpose by "en", "of" or a comma is one too, and a
        # word the rules do not read there may be a purpose unread (flagged, not counted)
        for m, offset in ((re.search(r"(\w+)(?:,| en| of) +$", low[:h.start_char]), 0),
                          (re.match(r",? *(?:en|of) +(\w+)", low[h.end_char:]), h.end_char)):
            if m is None:
                continue
            a, b = offset + m.start(1), offset + m.end(1)
            if _unread_coordinate(m.group(1)) and not any(x.start_char < b and a < x.end_char
                                                          for x in hits):
                hits.append(PurposeHit("other", a, b, text[a:b], unclear=True, counted=False))
    for m in _PURPOSE_CLAUSE.finditer(low):
        end = re.search(r"[.?!;,]|$", low[m.start():]).start() + m.start()
        if not any(m.start() <= h.start_char < max(end, m.end()) for h in hits):
            # a word two letters off a known purpose ("medewerkers kunnen opleggen" for
            # "opleiden") may be that purpose misheard: "other", but unclear
            said = low[m.start():max(end, m.end())]
            near = any(_near_purpose(w) for w in re.findall(r"\w+", said))
            hits.append(PurposeHit("other", m.start(), m.end(), text[m.start():m.end()],
                                   unclear=near))
    return sorted(hits, key=lambda h: h.start_char)


# the purpose model overrules the rules' words only when this sure (docs/decisions/recording-talk.md)
PURPOSE_CONFIDENT = 0.9


@dataclass(frozen=True)
class PurposeReading:
    """The purposes a notice states: the rules' words, checked with the learned model."""

    purposes: frozenset[str]  # types.PURPOSES decided (empty: none stated)
    hits: tuple[PurposeHit, ...]  # the rules' purpose words: the evidence
    # purposes the model read otherwise than the rules: {purpose: (model says yes, p)}; the
    # surer side decided, and the call goes to review
    doubts: dict[str, tuple[bool, float]]

    @property
    def value(self) -> str:
        return purpose_value(self.purposes)


def read_purposes(text: str) -> PurposeReading:
    """The purposes ``text`` (a notice's sentences) states, by rules and model."""
    hits = tuple(notice_purposes(text))
    found = {h.purpose for h in hits if h.counted}
    decided, doubts = set(found), {}
    model = dialogue_model.load()
    for task in dialogue_model.PURPOSE_TASKS:
        if model is None or not model.knows(task):
            break
        purpose = task.split(":", 1)[1]
        said, p = model.predict(task, text)
        yes = said == "True"
        if yes != (purpose in found):
            doubts[purpose] = (yes, round(p, 2))
            if p >= PURPOSE_CONFIDENT:
                decided.symmetric_difference_update({purpose})
    return PurposeReading(frozenset(decided), hits, doubts)


_FUZZY_STEMS = {"kwaliteit": "quality", "kwaliteits": "quality", "training": "training",
                "trainings": "training", "opleiding": "training", "opleidings": "training",
                "dienstverlening": "service", "klachten": "complaints"}


def _fuzzy_purpose(word: str) -> str | None:
    """A purpose word misheard by a letter or two ("kwalitijd", "treinings")."""
    for stem, purpose in _FUZZY_STEMS.items():
        if len(word) >= 6 and Levenshtein.distance(word, stem) <= (1 if len(stem) < 9 else 2):
            return purpose
    return None


# words joined to a purpose by "en" that state none: the call, its recording, fillers
_NOT_A_PURPOSE = re.compile(r"gesprek|telefo|opgeno|opnem|opneem|opname|vastge|bewaard|worden"
                            r"|kunnen|wordt|medewerker|onze|zodat|eventueel|natuurlijk")


def _unread_coordinate(word: str) -> bool:
    """Whether ``word``, joined to a purpose word, may be a purpose the rules did not read."""
    return len(word) >= 5 and word.isalpha() and not _NOT_A_PURPOSE.search(word)


# the purposes' words, verbs too, that a misheard clause may hide (_near_purpose)
_NEAR_STEMS = (*_FUZZY_STEMS, "opleiden", "trainen", "coachen", "klacht")


def _near_purpose(word: str) -> bool:
    """Whether ``word`` is within two letters of a purpose's word without being one."""
    return len(word) >= 6 and any(0 < Levenshtein.distance(word, stem) <= 2
                                  for stem in _NEAR_STEMS)


def purpose_value(purposes: Iterable[str]) -> str:
    """``notice_purpose`` from the purposes found: canonical order, ";"-joined, or
    "none_stated" when there are none."""
    found = set(purposes)
    return ";".join(p for p in PURPOSES if p in found) or "none_stated"


_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_REFERS = re.compile(r"^\W*(dit|dat|wij|we|deze|die|om|ter|zodat|voor|hiermee|daarmee|zo|"
                     r"ten|in het kader|opnames?|gesprekken|de opname|ook)\b", re.I)
_TO_CALLER = re.compile(r"\b(kunt u|u kunt|terecht|website|formulier)\b", re.I)
_LEADS_IN = re.compile(r"^\W*(om|ter|voor|zodat|ten|in het kader|teneinde)\b", re.I)
_MENU = re.compile(r"\b(toets|kies|druk|keuze|optie)\b", re.I)


def purpose_scope(text: str, start_char: int, end_char: int) -> tuple[int, int]:
    """Characters of ``text`` that may state the purpose of the notice at
    [start_char, end_char): its sentence, the sentence before when it leads in ("Om onze
    dienstverlening te verbeteren."), the next when it refers back ("Dit doen wij voor ...");
    never a menu sentence ("Heeft u een klacht, toets 3"), nor a menu the recogniser ran on
    into the notice's own sentence ("..., kies 1 voor afspraken")."""
    spans = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    k = next((i for i, (a, b) in enumerate(spans) if a <= start_char < b), None)
    if k is None:
        return start_char, end_char
    a, b = spans[k]
    menu = _MENU.search(text, end_char, b)
    if menu is not None:  # "... wordt opgenomen, kies 1 voor afspraken": the menu is no purpose
        comma = text.rfind(",", end_char, menu.start())
        b = max(end_char, comma + 1 if comma >= 0 else menu.start())
    if k > 0:
        pa, pb = spans[k - 1]
        if _LEADS_IN.match(text[pa:pb]) and not _MENU.search(text[pa:pb]):
            a = pa
    if k + 1 < len(spans) and menu is None:
        na, nb = spans[k + 1]
        if (_REFERS.match(text[na:nb]) and not _MENU.search(text[na:nb])
                and not _TO_CALLER.search(text[na:nb])):
            b = nb
    return a, b
