"""Language analysis of call text: recording notices and the agent's own introduction.

Two questions about the start of a call are answered from text (a transcript, possibly noisy
ASR output without casing or punctuation):

* Was a **recording notice** given ("Dit gesprek kan worden opgenomen ...")? Look-alikes such as
  "Uw gegevens worden opgenomen in ons systeem", "Er wordt contact met u opgenomen" or
  "Gesprekken worden niet opgenomen" must not count.
* Did the agent **introduce themselves**, and with a first name, a last name or both? Only the
  agent's own introduction counts: not a colleague ("ik verbind u door met mevrouw Jansen"), not
  the caller, not the municipality ("gemeente Bergen") or a department ("team Burgerzaken").

As spaCy separates ``match`` from ``set_annotations``, this module first finds candidate spans
with their evidence (``find_notices``, ``find_introductions``) and decides afterwards
(``has_notice``, ``analyze_opening``). Trigger words are found by a ``SpanRuler`` (token
patterns, ``FUZZY1`` for ASR misspellings, phrase patterns for municipalities) added on top of the
small Dutch NER model in ``models/ner-nl``; the name lexicons are read from
``models/ner-nl/lexicons`` (extracted from the ``deduce`` lists by ``training.ner_train``), so
neither ``deduce`` nor the network is needed here.

All offsets are character offsets into the analysed text.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.analysis.roles import CALLER_PHRASES

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "ner-nl"
LEXICON_SUBDIR = "lexicons"
RULER_NAME = "callcheck_ruler"
SPANS_KEY = "callcheck"

NOTICE_MIN_CONFIDENCE = 0.5  # a candidate below this is evidence only, never a notice
NAME_LOW_CONFIDENCE = 0.65  # a chosen name below this is flagged for review


class LanguageModelError(RuntimeError):
    """The language model or its lexicons are missing, incomplete or inconsistent."""


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class OpeningAnalysis:
    """Decisions about the agent's opening turn."""

    notice: NoticeCandidate | None  # the best non-negated notice, if any
    name: NameCandidate | None  # the agent's own introduction, if any
    name_category: str  # "none" | "first" | "last" | "full"
    organisation: str | None  # "gemeente Zwolle", "Burgerzaken", ...
    greeting: str | None  # goedemorgen/goedemiddag/goedenavond/goedendag/hallo/dag/welkom
    review_reasons: tuple[str, ...]  # why a person should look at this turn; empty when clear


# --------------------------------------------------------------------------------------------
# lexicons
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicons:
    """Name and place lists, lower case, as extracted by ``training.ner_train``."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    interfixes: tuple[tuple[str, ...], ...]  # token sequences, longest first
    municipalities: tuple[str, ...]  # proper case, for display and phrase patterns
    common_words: frozenset[str]  # ordinary Dutch words (some are also names: "bos", "prins")
    first_rank: dict[str, int]  # frequent first names: lower-case name -> rank (0 = commonest)
    surname_rank: dict[str, int]  # frequent surnames (head word, e.g. "jong" of "de Jong")

    @functools.cached_property
    def _deletes(self) -> dict[str, frozenset[str]]:
        """Symmetric-delete index (one deletion) for edit-distance-1 look-ups of names."""
        index: dict[str, set[str]] = {}
        for name in self.first_names | self.surnames:
            if len(name) < 4:
                continue
            for i in range(len(name)):
                index.setdefault(name[:i] + name[i + 1 :], set()).add(name)
            index.setdefault(name, set()).add(name)
        return {k: frozenset(v) for k, v in index.items()}

    @functools.cached_property
    def name_list(self) -> list[str]:
        """First names and surnames (alphabetic, three letters or more) as one sorted list:
        the candidates of ``pipeline.analysis.names`` (built once, on first use)."""
        return sorted(n for n in self.first_names | self.surnames if n.isalpha() and len(n) >= 3)

    @functools.cached_property
    def _common_deletes(self) -> frozenset[str]:
        """Common words and spaCy's Dutch stop words of five letters or more, and their
        one-letter deletions."""
        from spacy.lang.nl.stop_words import STOP_WORDS

        phrase_words = {w for table in (INTRO_PHRASES, LINE_PHRASES, ANSWER_SENSE,
                                        CALLER_CUES, DEPARTMENTS, GREETINGS)
                        for phrase in table for w in phrase.split()}
        out: set[str] = set()
        for w in self.common_words | STOP_WORDS | STOP | phrase_words:
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

    def near(self, word: str) -> frozenset[str]:
        """Lexicon names within one edit of ``word`` (misheard names: "sanna", "jansn")."""
        from spacy.matcher.levenshtein import levenshtein

        w = word.lower()
        if len(w) < 4:
            return frozenset()
        keys = {w} | {w[:i] + w[i + 1 :] for i in range(len(w))}
        found: set[str] = set()
        for k in keys:
            found.update(self._deletes.get(k, ()))
        return frozenset(n for n in found if n != w and levenshtein(n, w) <= 1)


_LEXICON_FILES = (
    "first_names.txt",
    "surnames.txt",
    "interfixes.txt",
    "municipalities.txt",
    "common_words.txt",
    "common_surnames.txt",
    "common_first_names.txt",
)


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


@functools.lru_cache(maxsize=4)
def load_lexicons(directory: str | Path) -> Lexicons:
    """Load and checksum-verify the lexicon files in ``directory`` (cached)."""
    d = Path(directory)
    manifest_path = d / "manifest.json"
    if not manifest_path.exists():
        raise LanguageModelError(
            f"no lexicons in {d}; build them with: python -m training.ner_train --out {d.parent}"
        )
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        for name in _LEXICON_FILES:
            digest = hashlib.sha256((d / name).read_bytes()).hexdigest()
            if digest != manifest["sha256"][name]:
                raise LanguageModelError(f"{d / name}: checksum does not match manifest.json")
    except (OSError, KeyError, ValueError) as e:
        raise LanguageModelError(f"lexicons in {d} are incomplete: {e}") from e
    lower = lambda xs: frozenset(x.lower() for x in xs)  # noqa: E731
    interfixes = sorted(
        {tuple(x.lower().split()) for x in _lines(d / "interfixes.txt")}, key=lambda t: (-len(t), t)
    )
    surname_rank = {}
    for i, s in enumerate(_lines(d / "common_surnames.txt")):
        surname_rank.setdefault(s.split()[-1].lower(), i)
    lexicons = Lexicons(
        first_names=lower(_lines(d / "first_names.txt")),
        surnames=lower(_lines(d / "surnames.txt")),
        interfixes=tuple(interfixes),
        municipalities=tuple(_lines(d / "municipalities.txt")),
        common_words=lower(_lines(d / "common_words.txt")),
        first_rank={s.lower(): i for i, s in enumerate(_lines(d / "common_first_names.txt"))},
        surname_rank=surname_rank,
    )
    _ = lexicons._deletes  # build the fuzzy index now (~1 s), not in the first call's verdicts
    return lexicons


# --------------------------------------------------------------------------------------------
# vocabulary for the rules
# --------------------------------------------------------------------------------------------


def _phrases(text: str) -> tuple[str, ...]:
    """'a b, c' -> ('a b', 'c'): keeps long phrase lists readable."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


GREETINGS = {
    "goedemorgen": "goedemorgen",
    "goeiemorgen": "goedemorgen",
    "goedenmorgen": "goedemorgen",
    "morgen": "goedemorgen",
    "goedemiddag": "goedemiddag",
    "goeiemiddag": "goedemiddag",
    "goedenmiddag": "goedemiddag",
    "middag": "goedemiddag",
    "goedenavond": "goedenavond",
    "goeienavond": "goedenavond",
    "goedeavond": "goedenavond",
    "goedendag": "goedendag",
    "goeiendag": "goedendag",
    "goededag": "goedendag",
    "hallo": "hallo",
    "hoi": "hallo",
    "hai": "hallo",
    "dag": "dag",
    "welkom": "welkom",
}
TITLES = tuple(
    "mevrouw meneer mijnheer mevr mevr. mw mw. dhr dhr. mnr mnr. juffrouw mevrou menheer "
    "mefrouw".split()
)
# Words that end a name: function words and call vocabulary (lower case).
STOP = frozenset(
    """met van de het een en u je jij ik wij we ze zij hij mijn m'n uw jouw onze ons is ben bent
    zijn was heeft hebt heb hier daar waarmee waar wat wie hoe welke kan kunt kun helpen helpt
    doen zeg zegt zeggen maar voor bij aan op in uit naar over lijn telefoon graag even dank
    bedankt wel niet geen ja nee oké ok oke okay hallo dag gemeente team afdeling goed ogenblik
    ogenblikje moment collega medewerker spreekt spreek spreken naam heet dit dat deze die er om
    te tot zo nog ook al dan toch eh uh ehm euh hm mevrouw meneer mijnheer heer vandaag morgen
    middag avond welkom klantcontactcentrum balie loket vraag vragen terug door verbind zet
    helpen van dienst betekenen alstublieft alsjeblieft hoor prima zeker natuurlijk gewoon
    eigenlijk volgens mij jullie hun ons wacht wachten bellen belt gebeld sorry excuus""".split()
)
ORG_HEADS = re.compile(r"^(gemeente[ns]?|gemente|gemeent|gemeenten|meente|gemeentehuis)$")
DEPARTMENTS = _phrases(
    "burgerzaken, burger zaken, publiekszaken, klantcontactcentrum, klant contact centrum, "
    "klantcontact centrum, klantcontact, kcc, klantenservice, belastingen, vergunningen, wijkteam, "
    "zorgloket, omgevingsloket, publieksbalie, servicepunt, stadswinkel, receptie, servicecentrum, "
    "parkeren, afvalzaken, leerplicht, schuldhulp, sociaal domein, werk en inkomen, "
    "informatiecentrum, frontoffice, publiekscentrum, stadsbeheer, openbare ruimte, "
    "storingsdienst, telefooncentrale"
)
CALLER_CUES = CALLER_PHRASES  # what callers say of themselves, shared with the role stage
# Introductions: phrase -> pattern name. The name follows the phrase.
INTRO_PHRASES = {
    "u spreekt met": "u_spreekt_met",
    "u spreek met": "u_spreekt_met",
    "uspreekt met": "u_spreekt_met",
    "u spreekt mee": "u_spreekt_met",
    "je spreekt met": "u_spreekt_met",
    "jij spreekt met": "u_spreekt_met",
    "je spreek met": "u_spreekt_met",
    "spreekt met": "u_spreekt_met",
    "mijn naam is": "mijn_naam_is",
    "m'n naam is": "mijn_naam_is",
    "mijn naam": "mijn_naam_is",
    "mn naam is": "mijn_naam_is",
    "ik heet": "ik_heet",
    "ik ben": "ik_ben",
    "dit is": "dit_is",
    "u heeft": "u_heeft",
    "u hebt": "u_heeft",
    "je hebt": "u_heeft",
    "je heeft": "u_heeft",
    "jij hebt": "u_heeft",
    "hier is": "hier_is",
    "hier met": "met",
    "met": "met",
}
LINE_PHRASES = ("aan de lijn", "aan de telefoon", "aan de lijn.", "aan t lijn", "aan lijn")
# bare "met" is an introduction only after one of these (or at the start / after punctuation)
MET_OK_BEFORE = frozenset(
    "ja hallo hoi dag goed oké ok zeg eh uh ehm euh nou hier yes jazeker".split()
)
FILLERS = frozenset({"eh", "uh", "ehm", "euh", "hm", "uhm", "ja", "nou"})
# what else "u spreekt ..." can be followed by (some are surnames too: Engels, Frans)
LANGUAGES = frozenset(
    """nederlands engels duits frans spaans turks arabisch pools italiaans portugees fries
    russisch chinees oekraiens""".split()
)

# -- notices --
RECORD_VERBS = tuple(
    """opgenomen opgenoemen opgenome opgenomme opgenommen opgenomem vastgelegd vastgelegt
    vastgelecht opgeslagen geregistreerd opnemen opneemt opneem opnam vastleggen vastlegt
    recorded""".split()
)
RECORD_NOUNS = tuple(
    """opname opnames opnamen geluidsopname geluidsopnamen geluidsopnames gespreksopname
    gespreksopnamen recording""".split()
)
# the call itself; ASR often drops the "ge" of "gesprekken" or hears a t ("gestrekken")
CALL_NOUN_RE = (
    r"^(telefoon|klant|telefonische)?(gespre[kc]|gesprekk)\w*$|^telefoontjes?$|^calls?$"
    r"|^\w*(gestrek|gestrekken|sprekken)$"
)
# "...doeleinden" (kwaliteits-, trainings-, opleidings-) is the purpose phrase of Dutch notices
# and keeps its ending when ASR garbles the start ("maliteitsdoeleinden"); "dienstver..." keeps
# its start when ASR garbles the end ("dienstverdrainingte" for "dienstverlening"), but a
# "dienstverband" (employment) is no purpose
PURPOSE_RE = (
    r"kwaliteit|training|opleiding|dienstver(?!band)|coach|verbeter|^leren$|quality"
    r"|^service$|bewaken|trainen|^trainings|\w{3,}doeleinden$"
)
NEGATIONS = ("niet", "geen", "nooit", "niets", "not", "never")
DATA_NOUNS = frozenset(
    """gegevens vraag vragen verzoek melding meldingen aanvraag aanvragen adres bericht berichten
    contact telefoon naam klacht klachten voicemail registratie wachtrij systeem dossier planning
    bestand aangifte persoonsgegevens uitkering inschrijving kind kinderen nummer
    telefoonnummer e-mail mail brief formulier postcode huisnummer geboortedatum bsn
    burgerservicenummer woonplaats""".split()
)
# data nouns also recognised at the end of a compound ("terugbelverzoek"); not "contact",
# which ends "klantcontact"
DATA_NOUNS_IN_COMPOUNDS = (
    "verzoek", "melding", "meldingen", "aanvraag", "aanvragen", "gegevens", "bericht",
    "berichten", "klacht", "klachten", "nummer", "formulier", "dossier",
)
CONTAINERS = re.compile(
    r"(systeem|register|registratie|dossier|administratie|wachtrij|planning|bestand|lijst|volgorde"
    r"|database|agenda|ziekenhuis|brp|archief|overzicht)$"
)
ANSWER_SENSE = _phrases(
    "zo snel mogelijk, zo spoedig mogelijk, zo meteen, zo dadelijk, straks, zodra, binnenkort, "
    "direct, meteen, volgorde van binnenkomst"
)
NEGATION_EXEMPT_NEAR = frozenset(
    {"wil", "wilt", "wenst", "akkoord", "eens", "alleen", "prettig", "fijn", "wilde", "bezwaar"}
)
DETERMINERS = frozenset("dit deze het de uw mijn alle die onze eigenlijk ook".split())
QUESTION_VERBS = frozenset({"wordt", "worden", "neemt", "nemen", "werd", "kan", "kunnen"})
# the passive "(gesprekken) kunnen worden opgenomen" says that something is recorded even where
# ASR lost the subject; not "kan ik", "kunt u" (offers and questions to the caller)
PASSIVE_AUX = frozenset({"wordt", "worden", "kan", "kunnen", "mogen", "zullen", "zal"})
PRONOUNS = frozenset("ik u je jij we wij ze zij hij men".split())
SENT_BOUNDARY = frozenset({".", "?", "!", ";", ":"})
CLAUSE_BOUNDARY = SENT_BOUNDARY | {","}
# spoken or misheard names of municipalities -> the official name in municipalities.txt
MUNICIPALITY_ALIASES = {
    "Den Bosch": "'s-Hertogenbosch",
    "s-Hertogenbosch": "'s-Hertogenbosch",
    "s Hertogenbosch": "'s-Hertogenbosch",
    "Hertogenbosch": "'s-Hertogenbosch",
    "s-Gravenhage": "'s-Gravenhage",
    "Súdwest Fryslân": "Súdwest-Fryslân",
    "Sudwest Fryslan": "Súdwest-Fryslân",
}
HALLUCINATION_SENTENCES = (
    "ondertiteld door de amara.org gemeenschap",
    "ondertiteling door de amara.org gemeenschap",
    "bedankt voor het kijken",
)
HALLUCINATIONS = ("amara.org", "bedankt voor het kijken", "ondertiteld door", "ondertiteling")


# --------------------------------------------------------------------------------------------
# pipeline
# --------------------------------------------------------------------------------------------


def _ruler_patterns(lex: Lexicons) -> list[dict]:
    """Patterns for the trigger ``SpanRuler``; labels are the evidence kinds used below."""
    pats: list[dict] = []

    def phrases(label: str, items: Iterable[str], pid: str | None = None) -> None:
        for it in items:
            p: dict = {"label": label, "pattern": [{"LOWER": w} for w in it.split()]}
            if pid:
                p["id"] = pid
            pats.append(p)

    for phrase, pid in INTRO_PHRASES.items():
        phrases("INTRO", [phrase], pid)
    # the content word of an introduction misheard by one letter ("u sprekt met", "mijn naan
    # is"); and "met" lost after "u spreekt", taken only with a name from the lexicons
    you = {"LOWER": {"IN": ["u", "je", "jij"]}}
    speak = {"LOWER": {"FUZZY1": "spreekt"}}
    pats.append({"label": "INTRO", "id": "u_spreekt_met",
                 "pattern": [you, speak, {"LOWER": {"IN": ["met", "mee"]}}]})
    pats.append({"label": "INTRO", "id": "u_spreekt", "pattern": [you, speak]})
    pats.append({"label": "INTRO", "id": "mijn_naam_is", "pattern": [
        {"LOWER": {"IN": ["mijn", "m'n", "mn"]}}, {"LOWER": {"FUZZY1": "naam"}},
        {"LOWER": "is"}]})
    # "naam" lost ("mijn is Iris"): taken only with a name from the lexicons
    pats.append({"label": "INTRO", "id": "mijn_is", "pattern": [
        {"LOWER": {"IN": ["mijn", "m'n", "mn"]}}, {"LOWER": "is"}]})
    phrases("LINE", LINE_PHRASES)
    phrases("CALLER_CUE", CALLER_CUES)
    phrases("DEPT", DEPARTMENTS)
    phrases("ANSWER_SENSE", ANSWER_SENSE)
    phrases("TITLE", ["de heer"])
    pats.append({"label": "TITLE", "pattern": [{"LOWER": {"IN": list(TITLES)}}]})
    pats += [
        {"label": "TITLE", "pattern": [{"LOWER": {"FUZZY1": t}}]}
        for t in ("mevrouw", "meneer", "mijnheer")
    ]
    # "morgen" and "middag" alone mean tomorrow / afternoon; greetings only as "goede morgen"
    single = sorted(set(GREETINGS) - {"morgen", "middag"})
    pats.append({"label": "GREETING", "pattern": [{"LOWER": {"IN": single}}]})
    # a long greeting misheard by one letter ("goedewndag"); short ones would catch other words
    pats += [{"label": "GREETING", "pattern": [{"LOWER": {"FUZZY1": g}}]}
             for g in sorted(set(GREETINGS.values())) if len(g) >= 9]
    for a, b in (
        ("goede", "morgen"),
        ("goeie", "morgen"),
        ("goede", "middag"),
        ("goeie", "middag"),
        ("goede", "avond"),
        ("goeden", "avond"),
        ("goede", "dag"),
        ("goeden", "dag"),
    ):
        pats.append({"label": "GREETING", "pattern": [{"LOWER": a}, {"LOWER": b}]})
    pats.append({"label": "ORG_HEAD", "pattern": [{"LOWER": {"REGEX": ORG_HEADS.pattern}}]})
    pats.append({"label": "ORG_HEAD", "pattern": [{"LOWER": {"FUZZY1": "gemeente"}}]})
    for head in ("team", "afdeling", "cluster", "bureau", "loket"):
        pats.append(
            {
                "label": "DEPT",
                "pattern": [{"LOWER": head}, {"IS_ALPHA": True, "LOWER": {"NOT_IN": sorted(STOP)}}],
            }
        )
    # phrase patterns go through the tokenizer, so "'s-Hertogenbosch" splits as in the text
    for m in (*lex.municipalities, *MUNICIPALITY_ALIASES):
        pats.append({"label": "MUNI", "pattern": m})
    # notices
    pats.append(
        {"label": "REC_VERB", "id": "exact", "pattern": [{"LOWER": {"IN": list(RECORD_VERBS)}}]}
    )
    for word in ("opgenomen", "vastgelegd", "opgeslagen"):
        pats.append({"label": "REC_VERB", "id": "fuzzy", "pattern": [{"LOWER": {"FUZZY1": word}}]})
    for split in (
        "op genomen",
        "op genoemen",
        "vast gelegd",
        "op geslagen",
        "op te nemen",
        "op nemen",
        "op genome",
        "may be recorded",
        "is recorded",
        "be recorded",
    ):
        pats.append(
            {"label": "REC_VERB", "id": "split", "pattern": [{"LOWER": w} for w in split.split()]}
        )
    pats.append(
        {
            "label": "REC_SEP",
            "id": "separable",
            "pattern": [
                {"LOWER": {"IN": ["neem", "neemt", "nemen", "nam", "namen"]}},
                {"IS_PUNCT": False, "LOWER": {"NOT_IN": ["op", "aan"]}, "OP": "{0,6}"},
                {"LOWER": "op"},
            ],
        }
    )
    pats.append(
        {
            "label": "REC_SEP",
            "id": "separable",
            "pattern": [
                {"LOWER": {"IN": ["leg", "legt", "leggen", "legde", "legden"]}},
                {"IS_PUNCT": False, "LOWER": {"NOT_IN": ["vast"]}, "OP": "{0,6}"},
                {"LOWER": "vast"},
            ],
        }
    )
    pats.append({"label": "REC_NOUN", "pattern": [{"LOWER": {"IN": list(RECORD_NOUNS)}}]})
    pats.append({"label": "REC_NOUN", "pattern": [{"LOWER": "opnemen"}, {"LOWER": "van"}]})
    pats.append({"label": "CALL_NOUN", "pattern": [{"LOWER": {"REGEX": CALL_NOUN_RE}}]})
    pats.append({"label": "PURPOSE", "pattern": [{"LOWER": {"REGEX": PURPOSE_RE}}]})
    pats.append({"label": "NEGATION", "pattern": [{"LOWER": {"IN": list(NEGATIONS)}}]})
    return pats


def _build_nlp(path: Path) -> Language:
    """Load the NER from disk and add the trigger ruler; the lexicons come from ``path``."""
    try:
        import spacy
    except ImportError as e:  # pragma: no cover - spaCy is a core dependency
        raise LanguageModelError("spaCy is needed: pip install 'spacy>=3.8,<3.9'") from e
    if not (path / "config.cfg").exists():
        raise LanguageModelError(
            f"no spaCy model in {path}; train it with: python -m training.ner_train --out {path}"
        )
    try:
        nlp = spacy.load(path)
    except (OSError, ValueError) as e:
        raise LanguageModelError(f"cannot load the spaCy model in {path}: {e}") from e
    lex = load_lexicons(path / LEXICON_SUBDIR)
    ruler = nlp.add_pipe(
        "span_ruler",
        name=RULER_NAME,
        last=True,
        config={
            "spans_key": SPANS_KEY,
            "validate": True,
            "overwrite": True,
            "phrase_matcher_attr": "LOWER",
        },
    )
    ruler.add_patterns(_ruler_patterns(lex))
    return nlp


@functools.lru_cache(maxsize=2)
def load_nlp(path: str | Path | None = None) -> Language:
    """The NER model in ``path`` (default ``models/ner-nl``) with the trigger ruler on top.

    Cached: repeated calls with the same path return the same pipeline.
    """
    return _build_nlp(Path(path) if path is not None else DEFAULT_MODEL_DIR)


def lexicons_of(nlp: Language) -> Lexicons:
    """The name lexicons that go with the loaded pipeline ``nlp``."""
    base = Path(nlp.path) if getattr(nlp, "path", None) else DEFAULT_MODEL_DIR
    if not (base / LEXICON_SUBDIR).exists():
        base = DEFAULT_MODEL_DIR
    return load_lexicons(base / LEXICON_SUBDIR)


# --------------------------------------------------------------------------------------------
# per-document evidence
# --------------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    """Ruler hits of one doc, indexed by label and by token (built once per analysed text)."""

    doc: Doc
    lex: Lexicons
    by_label: dict[str, list[Span]]
    starts: dict[int, dict[str, Span]]  # token index -> label -> longest span starting there
    covered: dict[int, set[str]]  # token index -> labels covering it
    org_tokens: set[int]  # tokens inside an organisation mention
    org_spans: list[tuple[int, int]]  # token ranges of organisation mentions
    cased: bool  # the text carries case information (not all lower case)

    def labels(self, i: int) -> set[str]:
        return self.covered.get(i, set())


def _doc_and_evidence(text: str, nlp: Language | None) -> _Evidence:
    """Run the pipeline once and index the ruler hits that both notices and names use."""
    nlp = nlp if nlp is not None else load_nlp()
    if RULER_NAME not in nlp.pipe_names:
        raise LanguageModelError(
            "this pipeline has no callcheck trigger ruler; "
            "load it with pipeline.analysis.language.load_nlp()"
        )
    doc = nlp(text)
    lex = lexicons_of(nlp)
    by_label: dict[str, list[Span]] = {}
    starts: dict[int, dict[str, Span]] = {}
    covered: dict[int, set[str]] = {}
    for span in doc.spans[SPANS_KEY]:
        by_label.setdefault(span.label_, []).append(span)
        cur = starts.setdefault(span.start, {}).get(span.label_)
        if cur is None or len(span) > len(cur):
            starts[span.start][span.label_] = span
        for i in range(span.start, span.end):
            covered.setdefault(i, set()).add(span.label_)
    org_spans = _organisation_spans(doc, by_label, starts, lex)
    org_tokens = {i for s, e in org_spans for i in range(s, e)}
    cased = _is_cased(text)
    return _Evidence(doc, lex, by_label, starts, covered, org_tokens, org_spans, cased)


def _is_cased(text: str) -> bool:
    """Does the text carry case information? Whisper's stock hallucinations ("Ondertiteld door
    de Amara.org gemeenschap") are cased even when appended to a lower-case transcript, so they
    are left out of the judgement."""
    low = text.lower()
    for phrase in HALLUCINATION_SENTENCES:
        at = low.find(phrase)
        if at >= 0:
            text = text[:at] + text[at + len(phrase) :]
            low = text.lower()
    return any(c.isupper() for c in text)


def _organisation_spans(
    doc: Doc, by_label: dict[str, list[Span]], starts: dict[int, dict[str, Span]], lex: Lexicons
) -> list[tuple[int, int]]:
    """'gemeente' + municipality (or one unknown word) and departments."""
    spans: list[tuple[int, int]] = []
    for head in by_label.get("ORG_HEAD", []):
        j = head.end
        if j < len(doc) and doc[j].lower_ in {"van", "de"} and j + 1 < len(doc):
            j += 1  # "gemeente van Zwolle" (rare), "de meente" handled by the head regex
        muni = starts.get(j, {}).get("MUNI")
        if muni is not None:
            spans.append((head.start, muni.end))
        elif j < len(doc) and _plausible_place_word(doc[j], lex):
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


def _plausible_place_word(tok: Token, lex: Lexicons) -> bool:
    """Could ``tok`` after "gemeente" be a municipality the list or the ASR got wrong?

    In cased text it must be capitalised; in lower-case text it must be within one edit (two for
    long words) of a listed municipality ("zwole"), so that "de gemeente neemt ..." is not an
    organisation.
    """
    from spacy.matcher.levenshtein import levenshtein

    low = tok.lower_
    if not tok.is_alpha or low in STOP or low in GREETINGS or len(low) < 3 or tok.is_stop:
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


# --------------------------------------------------------------------------------------------
# notices
# --------------------------------------------------------------------------------------------


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


def _is_data_noun(word: str) -> bool:
    """A data noun, also at the end of a compound ("terugbelverzoek", "adresgegevens")."""
    return word in DATA_NOUNS or any(
        word.endswith(n) and len(word) > len(n) + 2 for n in DATA_NOUNS_IN_COMPOUNDS)


def _nearest_noun(ev: _Evidence, rng: Iterable[int]) -> tuple[str, int] | None:
    """First call noun or data noun when walking ``rng``: ('call'|'data', token index)."""
    for i in rng:
        if _is_call_noun(ev, i):
            return "call", i
        if _is_data_noun(ev.doc[i].lower_):
            # a compound the recogniser split: "telefoon gesprek" is a call, not a phone
            if (ev.doc[i].lower_ == "telefoon" and i + 1 < len(ev.doc)
                    and _is_call_noun(ev, i + 1)):
                return "call", i + 1
            return "data", i
    return None


def _negation_in(ev: _Evidence, lo: int, hi: int) -> int | None:
    """Index of a negation in [lo, hi) that is about the recording, not about wanting it."""
    doc = ev.doc
    for i in range(lo, hi):
        if "NEGATION" not in ev.labels(i):
            continue
        near = {doc[k].lower_ for k in range(max(0, i - 3), min(len(doc), i + 2)) if k != i}
        if near & NEGATION_EXEMPT_NEAR:
            continue  # "wilt u dat niet", "als u niet wilt dat", "niet alleen"
        return i
    return None


def _is_question(ev: _Evidence, noun_i: int | None, verb_end: int) -> bool:
    """A caller asking about recording is not a notice: "Wordt dit gesprek opgenomen?",
    "... vertellen of dit gesprek wordt opgenomen", "worden deze gesprekken opgenomen"."""
    doc = ev.doc
    j = verb_end
    while j < len(doc) and doc[j].text not in SENT_BOUNDARY:
        j += 1
    if j < len(doc) and doc[j].text == "?":
        return True
    if noun_i is None:
        return False
    k = noun_i - 1
    while k >= 0 and doc[k].lower_ in DETERMINERS:
        k -= 1
    if k >= 0 and doc[k].lower_ == "of":
        return True  # "... vertellen of dit gesprek wordt opgenomen"
    if k >= 0 and doc[k].lower_ in QUESTION_VERBS:
        before = doc[k - 1] if k > 0 else None
        if (
            before is None
            or before.text in SENT_BOUNDARY
            or before.lower_ in GREETINGS
            or before.lower_ in FILLERS
        ):
            return True  # "worden deze gesprekken opgenomen"
    return False


def _passive_aux(ev: _Evidence, verb: int, left: int = 6) -> int | None:
    """Index of a passive auxiliary or modal ("worden", "kunnen") shortly before the
    participle at ``verb``, in the same sentence, not asking or offering ("kan ik")."""
    doc = ev.doc
    lo, _ = _window(ev, verb, verb + 1, left, 0, SENT_BOUNDARY)
    for i in range(verb - 1, lo - 1, -1):
        if doc[i].lower_ in PASSIVE_AUX:
            nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
            if nxt not in PRONOUNS:
                return i
    return None


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
    if noun is None:
        noun = _nearest_noun(ev, range(trig.end, hi))
    purpose = [i for i in range(lo, hi) if "PURPOSE" in ev.labels(i)]
    lo_c, _ = _window(ev, trig.start, trig.end, 7, 0, CLAUSE_BOUNDARY)
    neg = _negation_in(ev, lo_c, trig.start) if kind != "sep" else _negation_in(ev, lo_c, trig.end)
    rejected = ""
    nxt = [t.lower_ for t in doc[trig.end : trig.end + 4]]
    if nxt[:1] == ["in"] and any(CONTAINERS.search(w) for w in nxt[1:4]):
        rejected = "opgenomen_in_container"  # "opgenomen in ons systeem / de wachtrij"
    elif any(doc[i].lower_ == "contact" for i in range(max(lo, trig.start - 4), trig.end)):
        rejected = "contact_opnemen"  # "er wordt contact met u opgenomen", "neem contact op"
    elif any(
        "ANSWER_SENSE" in ev.labels(i)
        for i in range(max(lo, trig.start - 5), min(hi, trig.end + 2))
    ):
        rejected = "answer_sense"  # "uw gesprek wordt zo snel mogelijk opgenomen" (answered)
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
        # just below the bar, so it is flagged for review, never asserted
        confidence = 0.45
        reasons += [f"passive={doc[aux].lower_}", "no_call_word"]
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
        recorded=noun[0] if noun else None, rejected=rejected)


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
    for trig, kind in sorted(triggers, key=lambda x: x[0].start):
        out.append(_notice_from(ev, trig, kind, announcement))
    return out


def find_notices(text: str, nlp: Language | None = None, *, announcement: bool = False
                 ) -> list[NoticeCandidate]:
    """Every place that talks about recording, with evidence; look-alikes get low confidence.
    ``announcement``: ``text`` is a recorded announcement of the phone system (IVR)."""
    return list(_cached_notices(text, nlp, announcement))


@functools.lru_cache(maxsize=4096)
def _cached_notices(text: str, nlp: Language | None, announcement: bool
                    ) -> tuple[NoticeCandidate, ...]:
    """The same text is read again and again: by the notice rules, by the question and
    caller-notice rules of ``pipeline.analysis.dialogue`` (three times each), in every step of the
    search past the opening, and when a snapped name makes the verdicts be decided again."""
    return tuple(_notices(_doc_and_evidence(text, nlp), announcement))


def _best_notice(cands: Sequence[NoticeCandidate]) -> NoticeCandidate | None:
    ok = [c for c in cands if not c.negated and c.confidence >= NOTICE_MIN_CONFIDENCE]
    return max(ok, key=lambda c: (c.confidence, -c.start_char)) if ok else None


def has_notice(text: str, nlp: Language | None = None, *, announcement: bool = False
               ) -> NoticeCandidate | None:
    """The best non-negated notice in ``text``, or None (``announcement``: see
    :func:`find_notices`)."""
    return _best_notice(find_notices(text, nlp, announcement=announcement))


# --------------------------------------------------------------------------------------------
# names
# --------------------------------------------------------------------------------------------


@dataclass
class _NameParse:
    start: int  # token index of the first name token (or title)
    end: int
    titled: bool
    given: list[Token]
    interfix: list[Token]
    surname: list[Token]
    reasons: list[str]


def _name_word(ev: _Evidence, tok: Token) -> tuple[bool, bool, list[str]]:
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


def _is_blocked(ev: _Evidence, i: int) -> bool:
    """Tokens that can never be part of a name here."""
    tok = ev.doc[i]
    labels = ev.labels(i)
    if tok.is_stop and not (ev.cased and tok.text[:1].isupper() and not tok.is_sent_start):
        return True  # spaCy's Dutch stop words ("kan", "maar", "wel") are names only as "Ben"
    return (
        tok.is_punct
        or tok.like_num
        or tok.lower_ in STOP
        or tok.lower_ in GREETINGS
        or i in ev.org_tokens
        or bool(labels & {"GREETING", "INTRO", "LINE", "CALLER_CUE", "ORG_HEAD", "DEPT"})
        or not any(c.isalpha() for c in tok.text)
    )


def _name_like(ev: _Evidence, i: int, *, strong_slot: bool, after_name: bool) -> list[str] | None:
    """Reasons why token i can be (part of) a name, or None when it cannot.

    ``strong_slot``: right after an unambiguous trigger ("mijn naam is", "u spreekt met") or a
    title, where an unknown word is most likely a name. ``after_name``: a name token precedes.
    """
    if i >= len(ev.doc) or _is_blocked(ev, i):
        return None
    tok = ev.doc[i]
    low = tok.lower_
    f, s, reasons = _name_word(ev, tok)
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
    if common or (not capital and ev.lex.near_common(low)):
        return None
    if capital and (strong_slot or per or after_name):
        return ["not_in_lexicon", "capitalised"]
    if per and (strong_slot or after_name):
        return ["not_in_lexicon", "ner_per"]
    if strong_slot and tok.is_alpha and len(low) > 2 and not ev.cased:
        return ["not_in_lexicon", "position"]
    return None


def _named_as_org(ev: _Evidence, i: int) -> bool:
    """Token i repeats a word of an organisation named in the turn ("gemeente Zwolle ...
    Sanne van Zwolle" is Sanne *from* Zwolle)."""
    low = ev.doc[i].lower_
    return any(ev.doc[k].lower_ == low for s, e in ev.org_spans for k in range(s, e) if k != i)


def _interfix_at(ev: _Evidence, i: int) -> int:
    """Length in tokens of an interfix starting at token i (0 if none)."""
    doc = ev.doc
    for seq in ev.lex.interfixes:
        n = len(seq)
        if i + n <= len(doc) and tuple(t.lower_.replace("’", "'") for t in doc[i : i + n]) == seq:
            return n
    return 0


def _parse_name(ev: _Evidence, i: int, strong: bool) -> _NameParse | None:
    """Read a name starting at token i: [title] given* [interfix surname]."""
    doc = ev.doc
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
        n = _interfix_at(ev, i)
        if n and i + n < len(doc):
            nxt = _name_like(ev, i + n, strong_slot=True, after_name=True)
            if nxt is None and not _is_blocked(ev, i + n):
                cand = doc[i + n]
                if "MUNI" in ev.labels(i + n):
                    nxt = ["surname_is_place_name"]  # "van Veenendaal", "van Zwolle"
                elif ev.cased and cand.text[:1].isupper() and cand.is_alpha:
                    nxt = ["capitalised"]  # a word that is also a place or a common noun
            surname_ok = nxt is not None and (
                _name_word(ev, doc[i + n])[1]
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


def _surname_start(ev: _Evidence, given: Sequence[Token]) -> int:
    """Where the surname starts in a name without a separate interfix: at the first token after
    the first that is a surname only or ends in an interfix ("Sanne Bakker-de Wit"), else at
    the last token ("Anne Marie Jansen")."""
    single_interfixes = {t[0] for t in ev.lex.interfixes if len(t) == 1}
    for k in range(1, len(given)):
        low = given[k].lower_
        if "-" in low and low.rsplit("-", 1)[1] in single_interfixes:
            return k
        f, s, _ = _name_word(ev, given[k])
        if s and not f and k < len(given) - 1:
            return k
    return len(given) - 1


def _categorise(
    ev: _Evidence, p: _NameParse
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
            f0, s0, _ = _name_word(ev, given[0])
            if f0 and not s0:
                return "full", text(given[:1]), text(given[1:]), conf, reasons
            return "last", None, text(given), conf, reasons
        f_last, s_last, _ = _name_word(ev, given[-1])
        if f_last and not s_last:  # "Anne Marie": two first names
            reasons.append("double_first_name")
            return "first", text(given), None, conf - 0.1, reasons
        k = _surname_start(ev, given)
        return "full", text(given[:k]), text(given[k:]), conf, reasons
    tok = given[0]
    if p.titled:
        return "last", None, tok.text, conf, reasons
    f, s, _ = _name_word(ev, tok)
    low = tok.lower_
    if f and not s:
        return "first", tok.text, None, conf, reasons
    if s and not f:
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


def _prev_meaningful(ev: _Evidence, i: int) -> int:
    """Index of the token before i, skipping fillers ('eh', 'uh'); -1 at the start."""
    j = i - 1
    while j >= 0 and ev.doc[j].lower_ in FILLERS - {"ja"}:
        j -= 1
    return j


def _boundary_before(ev: _Evidence, i: int) -> bool:
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
        or tok.lower_ in MET_OK_BEFORE
        or tok.lower_ in GREETINGS
        or "MUNI" in ev.labels(j)  # "Dordrecht, met Kees" with the comma lost
    )


def _boundary_after(ev: _Evidence, i: int) -> bool:
    """End, punctuation, a greeting or an organisation at token i."""
    doc = ev.doc
    while i < len(doc) and doc[i].lower_ in FILLERS - {"ja"}:
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


def _org_or_greeting_at(ev: _Evidence, i: int) -> bool:
    """An organisation or a greeting follows at token i (commas and fillers skipped)."""
    doc = ev.doc
    while i < len(doc) and (doc[i].text == "," or doc[i].lower_ in FILLERS - {"ja"}):
        i += 1
    if i >= len(doc):
        return False
    if doc[i].lower_ in {"van", "bij"}:
        i += 1 + (i + 1 < len(doc) and doc[i + 1].lower_ in {"de", "het"})
    return i < len(doc) and (i in ev.org_tokens or bool(ev.labels(i) & {"GREETING", "ORG_HEAD"}))


def _addressed(ev: _Evidence, start: int) -> bool:
    """'Goedemorgen meneer Bakker': a greeting directly before a titled name addresses the
    caller."""
    j = _prev_meaningful(ev, start)
    return j >= 0 and (
        "GREETING" in ev.labels(j) or ev.doc[j].lower_ in {"dag", "hallo", "dank", "bedankt", "wel"}
    )


def _make_candidate(ev: _Evidence, p: _NameParse, pattern: str, conf_scale: float) -> NameCandidate:
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


def _introductions(ev: _Evidence) -> list[NameCandidate]:
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
        if pattern == "met" and trig.text.lower() == "met" and not _boundary_before(ev, trig.start):
            continue  # "ik verbind u door met ...", "contact had met ...", "spreek ik met ..."
        if pattern == "dit_is" and not _boundary_before(ev, trig.start):
            continue
        i = trig.end
        while i < len(doc) and (
            doc[i].lower_ in FILLERS - {"ja"} or (doc[i].lower_ == "met" and i > trig.end)
        ):
            i += 1  # "u spreekt met eh met Jeroen"
        # bare "met" after a greeting or organisation is as clear a slot as "u spreekt met"
        strong = pattern in {"u_spreekt_met", "mijn_naam_is", "ik_heet", "u_heeft", "met"}
        p = _parse_name(ev, i, strong=strong)
        if p is None:
            continue
        scale = 1.0
        if pattern == "u_heeft":
            if not ev.starts.get(p.end, {}).get("LINE") and not (
                p.end + 1 < len(doc) and ev.starts.get(p.end + 1, {}).get("LINE")
            ):
                continue  # "u heeft een vraag" is not an introduction
        if pattern in {"ik_ben", "dit_is", "hier_is"}:
            scale = 0.9
        lexical = any(r.startswith("lexicon") or r == "fuzzy_lexicon" for r in p.reasons)
        if pattern == "met" and not ev.cased and not lexical:
            continue  # bare "met" + an unknown lower-case word: too weak
        if pattern == "u_spreekt":
            # without "met" only a known name, and not a language ("spreekt u Engels?")
            if (not any(r.startswith("lexicon") for r in p.reasons)
                    or doc[p.start].lower_ in LANGUAGES or _is_question(ev, None, p.end)):
                continue
            pattern = "u_spreekt_met"
        if pattern == "mijn_is":
            if not any(r.startswith("lexicon") for r in p.reasons):
                continue  # without "naam" only a known name
            pattern, scale = "mijn_naam_is", 0.9
        out.append(_make_candidate(ev, p, pattern, scale))
        used.update(range(p.start, p.end))

    # "Sanne hier", "mevrouw de Vries hier"
    for i, tok in enumerate(doc):
        if tok.lower_ != "hier" or i == 0 or (i - 1) in used:
            continue
        j = i - 1
        while j >= 0 and (not _is_blocked(ev, j) or _interfix_at(ev, j)):
            j -= 1
        title = next((t for t in ev.by_label.get("TITLE", []) if t.end == j + 1), None)
        if title is not None:
            j = title.start - 1
        j += 1
        while j < i and _interfix_at(ev, j) and ev.starts.get(j, {}).get("TITLE") is None:
            j += 1  # a name does not start with its interfix... unless titled, handled above
        if j >= i or not _boundary_before(ev, j):
            continue
        p = _parse_name(ev, j, strong=True)
        if p is None or p.end != i:
            continue
        out.append(_make_candidate(ev, p, "hier", 0.95))
        used.update(range(p.start, p.end))

    # a bare name between turn start / organisation / greeting boundaries: "Gemeente Ede, Sanne
    # Jansen, goedemorgen"
    i = 0
    while i < len(doc):
        if i in used or _is_blocked(ev, i) and not ev.starts.get(i, {}).get("TITLE"):
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


def find_introductions(text: str, nlp: Language | None = None) -> list[NameCandidate]:
    """Candidate self-introductions of the speaker, with the name split into first/last.

    Names after a transfer ("ik verbind u door met ..."), an address to the caller
    ("goedemorgen meneer Bakker") or an organisation ("gemeente Bergen") are not candidates.
    """
    return _introductions(_doc_and_evidence(text, nlp))


# --------------------------------------------------------------------------------------------
# opening
# --------------------------------------------------------------------------------------------

_CATEGORY_RANK = {"full": 2, "last": 1, "first": 1}


def _organisation(ev: _Evidence) -> str | None:
    """The first organisation named: 'gemeente <Municipality>' or a department."""
    for head in sorted(ev.by_label.get("ORG_HEAD", []), key=lambda sp: sp.start):
        muni = ev.starts.get(head.end, {}).get("MUNI")
        if muni is not None:
            alias = {a.lower(): c for a, c in MUNICIPALITY_ALIASES.items()}
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


def _greeting(ev: _Evidence) -> str | None:
    """The first greeting, normalised: "goeie morgen" -> "goedemorgen"."""
    for span in sorted(ev.by_label.get("GREETING", []), key=lambda s: s.start):
        word = "".join(t.lower_ for t in span).replace("goeie", "goede").replace("goeden", "goede")
        canon = GREETINGS.get(word) or GREETINGS.get(span[0].lower_)
        if canon:
            return canon
    return None


# introductions that are one whatever follows (bare "met", "ik ben", "dit is" are not)
STRONG_INTROS = frozenset({"u_spreekt_met", "u_spreekt", "mijn_naam_is", "ik_heet", "u_heeft"})


def _name_hints(ev: _Evidence) -> list[str]:
    """What in a turn without a readable introduction looks like one: an unambiguous
    introduction phrase followed by no organisation ("mijn naam is verhaald"), or, within three
    words after "met", a frequent first name or surname that is no ordinary word, a capitalised
    lexicon name or a word after a two-word interfix ("besprikkt met Jasper van Kermere").
    Not where a title or a question shows someone else is meant ("spreek ik met mevrouw ...?",
    "ik verbind u door met mevrouw Gerritsen")."""
    doc, lex = ev.doc, ev.lex
    hints = []
    for span in ev.by_label.get("INTRO", []):
        j = span.end
        while j < len(doc) and (doc[j].lower_ in FILLERS or doc[j].lower_ in {"met", "mee"}):
            j += 1
        word = doc[j].lower_ if j < len(doc) else ""
        other = j < len(doc) and (
            j in ev.org_tokens or word in DETERMINERS or word in LANGUAGES
            or word.endswith(("zaken", "loket", "centrum", "balie", "dienst"))
            or bool(ev.labels(j) & {"DEPT", "ORG_HEAD", "LINE", "MUNI"}))
        if span.id_ in STRONG_INTROS and j < len(doc) and not other:
            hints.append(span.text)
    for m, tok in enumerate(doc):
        if tok.lower_ != "met" or _is_question(ev, None, m + 1):
            continue
        before = {t.lower_ for t in doc[max(0, m - 3):m]}
        if before & {"door", "contact", "samen", "werkt"}:
            continue  # a transfer, an earlier contact, a partner: someone else
        for i in range(m + 1, min(len(doc), m + 4)):
            tok = doc[i]
            if "TITLE" in ev.labels(i) or tok.is_punct:
                break
            n = _interfix_at(ev, i)
            if n >= 2 and i + n < len(doc) and doc[i + n].is_alpha:
                hints.append(" ".join(t.text for t in doc[i : i + n + 1]))
                break
            low = tok.lower_
            if (_is_blocked(ev, i) or "MUNI" in ev.labels(i) or low in lex.common_words
                    or not tok.is_alpha or len(low) < 3):
                continue
            capital = ev.cased and tok.text[:1].isupper() and not tok.is_sent_start
            if (low in lex.first_rank or low in lex.surname_rank
                    or (capital and (low in lex.first_names or low in lex.surnames))):
                hints.append(tok.text)
                break
    return hints


def analyze_opening(text: str, nlp: Language | None = None) -> OpeningAnalysis:
    """Decide notice, name and name category for the agent's opening turn ``text``."""
    ev = _doc_and_evidence(text, nlp)
    reasons: list[str] = []
    notices = _notices(ev)
    notice = _best_notice(notices)
    if notice is None and any(c.negated for c in notices):
        reasons.append("negated_notice")
    elif notice is not None and notice.confidence < 0.7:
        reasons.append("notice_low_confidence")

    names = _introductions(ev)
    name: NameCandidate | None = None
    if names and ev.by_label.get("CALLER_CUE"):
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
    elif _name_hints(ev):
        # no introduction found, but a name may be there with its trigger misheard
        # ("besprikkt met Jasper van Kermere"): "none" is not asserted on such a turn
        reasons.append("possible_name_missed")
    if any(h in text.lower() for h in HALLUCINATIONS):
        reasons.append("asr_hallucination_text")
    return OpeningAnalysis(
        notice=notice,
        name=name,
        name_category=name.category if name else "none",
        organisation=_organisation(ev),
        greeting=_greeting(ev),
        review_reasons=tuple(dict.fromkeys(reasons)),
    )
