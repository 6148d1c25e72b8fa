"""The agent's answer to the caller's question, and the agent's response to the caller's own
notice: ordered cues (a hedge before the yes or no it hedges), checked with the learned model."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from pipeline.analysis import dialogue_model
from pipeline.analysis.dialogue.common import Hit


# -- answers and responses ---------------------------------------------------------------------
def _cues(table: Iterable[tuple[str, str]]) -> list[tuple[str, re.Pattern]]:
    return [(value, re.compile(pattern)) for value, pattern in table]


NEG = r"(niet|geen|niets|nooit)"
FILL = r"^\W*(?:(?:eh|uh|uhm|ehm|euh|nou|oh|o|hm|hmm|ho|wel|tja)\W+)*"  # fillers before a first "ja"/"nee"
# the first words of a yes and of a no ("Ja, ...", "Klopt, ...", "Nee, ...")
YES_OPENER = r"(ja|jazeker|jawel|jaja|jawohl|zeker|klopt|inderdaad|correct|yes|jep|jup)"
NO_OPENER = r"(nee+|neen|neej|nej|nope)"
# order matters: a hedge wins over the yes or no it hedges ("ja, ik denk het wel")
ANSWER_CUES = _cues((
    ("unsure", r"\b(weet|wet|weten) (ik|we|wij)( \w+){0,3} (niet|geen)\b"),
    ("unsure", r"\b(ik|we|wij) (weet|weten) (het |dat |eigenlijk |zo )*(niet|geen)"),
    ("unsure", r"\b(geen (flauw )?idee|geen weet|niet (zeker|zo zeker)|niet dat ik weet"
               r"|niet van op de hoogte|niet van bewust|navragen|vraag (ik|het) (even )?na"
               r"|even (na)?vragen|ga ik (even )?(na)?vragen|informeer|nagaan|uitzoeken"
               r"|moet ik (even )?(kijken|checken|vragen)|zou ik (moeten|niet)"
               r"|kan ik (u )?niet (zeggen|vertellen)|durf ik niet|ben ik niet zeker"
               r"|niet met zekerheid|geen zekerheid|zoek ik (even )?(voor u )?uit|(op ?)?zoeken"
               r"|geen antwoord|vraag ik me (\w+ )*af|niet bekend|geen zicht op|geen uitsluitsel"
               r"|(zou|zal) het (\w+ )?niet weten|informeren|navraag|niet weten)"),
    ("unsure", r"\b(denk|dacht|geloof|vermoed|meen|neem aan|ga ervan uit|verwacht) "
               r"(het |ik |van )?(wel|niet|ja|nee|dat|van)\b"),
    # weak hedges count in the first clause only: "nee, dat is niet zo, misschien haalt u het
    # door elkaar" is a no
    ("unsure", r"^[^.?!;,]*(,[^.?!;,]*)?\b(volgens mij|misschien|waarschijnlijk|mogelijk"
               r"|zou kunnen|kan zijn|in principe|ik neem aan|ik denk|geloof ik|denk ik)\b"),
    ("no", FILL + NO_OPENER + r"\b(?! ?hoor,? (dat|alles|alle|het) "
           r"(wordt|worden) (wel )?opgenomen)"),
    ("no", r"\bnee+\W*$"),
    ("no", FILL + r"helaas\W+(niet|nee)\b"),
    ("no", rf"\b{NEG} (\w+ )?(bandje|opname|band)\b|\bniet meer\b|tegenwoordig niet"),
    ("no", rf"\b(wordt|worden|nemen|neem|neemt|word)\b[^.?!]{{0,30}}\b{NEG}\b[^.?!]{{0,20}}"
           r"\b(opge\w+|op|opnemen|vastgelegd)\b"),
    ("no", rf"\b(er|dat|het) {NEG}\w* (wordt|worden) (opgenomen|vastgelegd)|"
           rf"\b{NEG} (opgenomen|vastgelegd)\b|\bdoen (we|wij) (dus )?{NEG}\b"
           rf"|\b(zeker|helemaal|absoluut) {NEG}\b|\bwij nemen {NEG}|\bnemen (we|wij) {NEG}"),
    # "ja, zegt u het maar" only invites the caller to go on
    ("no_answer", FILL + r"ja\W+(zegt u het maar|zeg het maar|waarmee|wat kan ik|vertelt u"
                  r"|vertel|goede\w*|goeie\w*|hallo|dag|met|u spreekt|gemeente|waar kan ik)\b"),
    ("yes", FILL + YES_OPENER + r"\b"),
    ("yes", r"\b(dat klopt|klopt helemaal|dat is (zo|juist|correct|waar)|jazeker|zeker weten"
            r"|dat hoorde u|zoals u (hoorde|heeft gehoord)|in het keuzemenu|dat wordt gemeld"
            r"|(wordt|worden)\b[^.?!]{0,40}\b(opgenomen|vastgelegd)"
            r"|(nemen|neem|neemt)\b[^.?!]{0,40}\bop\b|op te nemen|dat gebeurt(?! niet)|, ja\W*$"
            r"|dat doen (we|wij)(?! niet)|doen (we|wij) (altijd|standaard|gewoon|wel))\b"),
))
OBJECTION_CUES = _cues((
    ("no", r"\b(geen (enkel )?(probleem|problemen|bezwaar)|(ga|gaat) (je|uw) gang)\b(?! (tegen|mee)\b[^.?!]*\bmaar)"),
    ("unclear", r"\b((weet|wet) (ik )?(niet|eigenlijk niet) of|nadenken|navragen|vraag (ik|het)"
                r" (even )?na|leidinggevende|even (kijken|overleggen|checken)|geen idee"
                r"|ik weet (het )?niet)\b"),
    ("yes", FILL + r"nee\b"),
    ("yes", rf"\b(mag\b[^.?!,]{{0,12}}\b{NEG}\b|wil (ik )?(echt |absoluut |liever )?{NEG}\b|vind ik (het |dat )?niet|{NEG} verder"
            rf"|gaan we {NEG}|opname (maar |even )?uit|(houd|hou) ik (het )?(hier )?op|werk ik {NEG} (aan )?mee"
            rf"|{NEG} mee ?werken|{NEG} (van )?gediend|maar zo {NEG}|zonder (de |een )?opname|(dat|het) {NEG} (doet|doen)|tegen (ons|het)"
            rf" beleid|hang (ik )?(nu |dan )?op|{NEG}\b[^.?!]{{0,10}}\bakkoord|is {NEG} toegestaan|{NEG} (toegestaan|de bedoeling|akkoord|prettig"
            r"|fijn|mee eens)|geen toestemming|(?<!geen )(?<!geen enkel )bezwaar|stop(pen|t)?\b|uit ?zetten"
            r"|zet (dat|het|die) (even |maar )?uit|beëindig|beeindig|hang ik op|ophangen"
            rf"|verbreek|wil {NEG} (dat|opgenomen)|liever {NEG}|dat kan {NEG}|kan {NEG} de"
            rf" bedoeling|{NEG} opnemen|geef ik {NEG})"),
    ("no", r"\b(prima|geen (enkel )?(probleem|bezwaar|punt)|is goed|dat is goed|helemaal goed"
           r"|goed hoor|oké|oke|okay|ok|akkoord|dat mag|mag (hoor|gewoon)|uw (goed )?recht|natuurlijk"
           r"|geen enkel bezwaar|geen moeite|ja hoor|vind ik goed|is toegestaan|maakt (mij )?niet uit"
           r"|prima hoor|no problem|begrijp ik|doet u maar|doe maar|ga uw gang|gaat u uw gang|geeft niks|geeft niet"
           r"|in orde|ga je gang|ga uw gang)\b"),
))


def _normalised(text: str) -> str:
    """``text`` lower-cased with one kind of space and apostrophe, character for character
    (so a cue's offsets are the text's own)."""
    return re.sub(r"[\u2019']", "'", re.sub(r"\s", " ", text.lower()))


def _classify(text: str, table: list[tuple[str, re.Pattern]]) -> Hit | None:
    """The first cue of ``table`` (in table order) found in ``text``, lower-cased."""
    low = _normalised(text)
    for value, pattern in table:
        m = pattern.search(low)
        if m:
            return Hit(m.start(), m.end(), text[m.start():m.end()], 0.85, value)
    return None


# a reply's first word: what opens an answer to a question ("Ja, dat klopt, we nemen alle
# gesprekken op"), never an announcement or an opening of the agent's own
_REPLY_OPENER = re.compile(FILL + rf"({YES_OPENER}|{NO_OPENER}|dat klopt)\b", re.I)


def opens_with_reply(text: str) -> bool:
    """Whether ``text`` opens as a reply to a question ("ja, ...", "dat klopt, ...")."""
    return bool(_REPLY_OPENER.match(text))


def classify_answer(text: str) -> Hit | None:
    """The agent's answer to "is this call recorded?": ``detail`` is yes / no / unsure /
    no_answer; None: nothing in ``text`` answers it, by rules or model."""
    return _second_opinion("answer", text, answer_rules(text), "no_answer")


def answer_rules(text: str) -> Hit | None:
    """:func:`classify_answer` by the rules alone."""
    return _classify(text, ANSWER_CUES)


def _second_opinion(task: str, text: str, rule: Hit | None, fallback: str) -> Hit | None:
    """The rules' reading of a reply checked with the model: agreed, or the surer side's
    value with the other's in ``doubt``."""
    model = dialogue_model.load()
    if model is None or not text.strip():
        return rule
    said, p = model.predict(task, text)
    ruled = rule.detail if rule is not None else fallback
    if said == ruled:
        return rule
    if p >= dialogue_model.CONFIDENT:
        return Hit(0, len(text), text, round(p, 2), said, doubt=f"rules: {ruled}")
    if rule is None:
        return Hit(0, len(text), text, 0.5, fallback, doubt=f"model: {said} ({p:.2f})")
    return replace(rule, doubt=f"model: {said} ({p:.2f})")


def answer_values(text: str) -> set[str]:
    """Every answer value some cue in ``text`` gives (more than one: a mixed answer)."""
    low = _normalised(text)
    found = {v for v, p in ANSWER_CUES if p.search(low)}
    return {"unsure"} if "unsure" in found else found


def classify_objection(text: str) -> Hit | None:
    """The agent's response to the caller's own notice: ``detail`` is yes (objects or asks
    to stop) / no (accepts) / unclear (hedges); None: no cue (unclear, nothing said of it)."""
    return _second_opinion("objection", text, objection_rules(text), "unclear")


def objection_rules(text: str) -> Hit | None:
    """:func:`classify_objection` by the rules alone."""
    return _classify(text, OBJECTION_CUES)


