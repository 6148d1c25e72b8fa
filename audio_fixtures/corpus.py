#!/usr/bin/env python3
"""Build a labelled corpus of calls that callcheck was not tuned on (``make corpus``).

The fixtures in this folder come from one generator (espeak-ng voices, one phrasing set, one
call-shape mix), and rules fitted to them do not carry over. This corpus varies what a rule
could fit, family by family:

- **voices**: MBROLA Dutch (``mb-nl2`` male, ``mb-nl3`` female; pitch and speed drawn per
  speaker), espeak-ng variants, and **real human Dutch speech** from Debian's
  ``fillets-ng-data-nl`` (voice actors; the Dutch script gives the reference text) for callers
  and for the conversation after the agent's opening. Only the levels in the first half of the
  sorted level folder names are used (:data:`FILLETS_TUNING_LEVELS`); the second half is reserved
  for independent tests and never read here;
- **call shapes** (:data:`SHAPES`): IVR, menu, key press, hold, agent; IVR notice then the agent;
  ringback then the agent; an agent who answers at once; a long queue (repeated queue messages
  over 30-60 s of music); IVR look-alike notices; the agent announcing a transfer; a closed
  office or voicemail with no agent at all; the caller speaking first;
- **channels** (:data:`CHANNELS`): 16 kHz wideband, 8 kHz mu-law and A-law, a GSM 06.10 round
  trip; levels and noise drawn per call; mono, and stereo with the caller left or right (key
  presses on the caller's side);
- **families** (:data:`FAMILIES`): a voice engine, a phrasing set and a shape mix each. Rules are
  tuned on the ``tune`` families; the held-back families (``held-back`` and, since session 29,
  ``held-back-g``; names starting with :data:`HELD_BACK_PREFIX`, each with a phrasing set of its
  own, voices and mix) are never looked at while tuning and are reported on their own;
- **recording talk** (:func:`_recording_talk`): the caller asks whether the call is recorded
  and the agent answers, or the caller announces recording and the agent responds; drawn from
  a generator of each call's own, so the rest of every call is as it was without it.

Labels are those of ``labels.csv`` with ``shape``, ``family`` and ``channel`` before the
recording-talk columns (:data:`LABEL_HEADER`); notice purposes are hand-labelled per phrase
(:data:`NOTICE_PURPOSES`); the reference transcripts and RTTM are written as for the fixtures.
Audio made from MBROLA voices or fillets-ng recordings is never committed
(``docs/licences.md``): ``make corpus`` writes to ``corpus/`` (git-ignored);
``audio_fixtures/corpus_sample`` holds a few espeak-only calls (``make corpus-sample``).

Usage::

    python audio_fixtures/corpus.py --out corpus --calls 540
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as g  # noqa: E402  (the fixture generator's parts, rendering and writing)

log = logging.getLogger("corpus")

FILLETS_ROOT = Path("/usr/share/games/fillets-ng")
# the fixtures' columns, then shape, family and channel, then the recording-talk columns
LABEL_HEADER = (*(c for c in g.LABEL_HEADER if c not in g.RECORDING_LABELS),
                "shape", "family", "channel", *g.RECORDING_LABELS)
ASK_P = 0.35  # share of calls with an agent in which the caller asks whether it is recorded
ANNOUNCE_P = 0.15  # share in which the caller announces that they record the call
SEED = 20261129


class CorpusError(RuntimeError):
    """A source the corpus needs is missing; the message says how to install it."""


# --------------------------------------------------------------------------------------------
# Sources: MBROLA voices and real human speech
# --------------------------------------------------------------------------------------------

MBROLA_HINT = (
    "the MBROLA Dutch voices are missing: add Debian contrib + non-free to apt's sources "
    "(docs/corpus.md) and run `apt-get install mbrola mbrola-nl2 mbrola-nl3`")
FILLETS_HINT = (
    "real human Dutch speech is missing: `apt-get install fillets-ng-data-nl fillets-ng-data` "
    "(Debian main)")


def have_mbrola() -> bool:
    return all(Path(f"/usr/share/mbrola/{v}/{v}").exists() for v in ("nl2", "nl3")) \
        and shutil.which("mbrola") is not None


def tuning_levels(root: Path = FILLETS_ROOT) -> list[str]:
    """The fillets-ng levels that may be used: in the first half of the sorted level folder
    names both of ``script/`` and of the levels with Dutch sound (the rest is reserved)."""
    scripts = sorted(p.name for p in (root / "script").iterdir() if p.is_dir())
    sounds = sorted(p.name for p in (root / "sound").iterdir() if (p / "nl").is_dir())
    return sorted(set(scripts[: len(scripts) // 2]) & set(sounds[: len(sounds) // 2]))


@dataclass(frozen=True)
class Clip:
    """One recorded Dutch line of a fillets-ng voice actor."""

    path: str
    text: str
    speaker: str  # the character: "m" (small fish), "v" (big fish), ...


_DIALOG = re.compile(r'dialogId\("([^"]+)"[^)]*\)\s*dialogStr\("((?:[^"\\]|\\.)*)"\)')


def fillets_clips(root: Path = FILLETS_ROOT) -> list[Clip]:
    """Lines of the tuning levels with their Dutch audio, 1-7 s of plain speech."""
    if not (root / "sound").is_dir():
        raise CorpusError(FILLETS_HINT)
    clips = []
    for level in tuning_levels(root):
        script = root / "script" / level / "dialogs_nl.lua"
        if not script.is_file():
            continue
        for ident, text in _DIALOG.findall(script.read_text(encoding="utf-8", errors="replace")):
            audio = root / "sound" / level / "nl" / f"{ident}.ogg"
            text = text.replace('\\"', '"').strip()
            words = len(text.split())
            parts = ident.split("-")
            if audio.is_file() and 3 <= words <= 18 and len(parts) >= 3 and "..." not in text:
                clips.append(Clip(str(audio), text, parts[1]))
    if not clips:
        raise CorpusError(FILLETS_HINT)
    return clips


# --------------------------------------------------------------------------------------------
# Phrasing sets: what each family says. Sets C and G belong to the held-back families only
# (one each).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrasing:
    welcome: tuple[str, ...]
    notice: tuple[str, ...]  # real recording notices
    lookalike: tuple[str, ...]  # sound like one, are not
    menu: tuple[str, ...]
    queue: tuple[str, ...]
    connect: tuple[str, ...]  # "you are being connected"
    closed: tuple[str, ...]  # closed office / voicemail, no agent follows
    opening: tuple[str, ...]  # {greet} {muni} {intro}
    opening_no_name: tuple[str, ...]
    intro: tuple[str, ...]  # {name}
    agent_notice: tuple[str, ...]
    transfer: tuple[str, ...]  # the agent announces a transfer to {colleague}
    caller_first: tuple[str, ...]
    caller_ask: tuple[str, ...]
    # recording talk (drawn from each call's own "talk" generator, see build_spec): the
    # caller's question whether the call is recorded and the agent's answers by kind
    # (g.KNOWS_KINDS), the caller's own notice and the agent's responses by kind
    # (g.OBJECTED_KINDS: yes = objects, no = accepts, unclear)
    rec_question: tuple[str, ...]
    rec_answer: dict[str, tuple[str, ...]]
    announce: tuple[str, ...]
    announce_response: dict[str, tuple[str, ...]]
    # the agents' and colleagues' names; empty: the shared pools (FIRST_NAMES, SURNAMES)
    first_names: tuple[str, ...] = ()
    surnames: tuple[str, ...] = ()


PHRASING = {
    "A": Phrasing(
        welcome=("U bent verbonden met de gemeente {muni}.",
                 "Welkom bij het klantcontactcentrum van {muni}.",
                 "{Greet}, u belt met de gemeente {muni}."),
        notice=("Dit telefoongesprek kan worden opgenomen voor opleiding en kwaliteit.",
                "Wij nemen gesprekken op om u beter van dienst te kunnen zijn.",
                "Om onze service te verbeteren worden gesprekken opgenomen."),
        lookalike=("Wijzigingen in uw gegevens worden opgenomen in de basisregistratie.",
                   "Uw melding wordt opgenomen in ons meldingensysteem.",
                   "Wij nemen zo snel mogelijk contact met u op."),
        menu=("Heeft u een vraag over afval, druk dan op 1. Voor alle andere vragen, druk 2.",
              "Voor het maken van een afspraak, toets 1. Voor belastingen, toets 2."),
        queue=("Op dit moment zijn al onze medewerkers bezet. U wordt zo snel mogelijk geholpen.",
               "Het is momenteel erg druk. Blijft u alstublieft aan de lijn.",
               "U staat in de wacht. Uw gesprek wordt zo spoedig mogelijk beantwoord."),
        connect=("U wordt nu doorverbonden.", "Een moment, u wordt doorgeschakeld."),
        closed=("U belt buiten onze openingstijden. Wij zijn op werkdagen bereikbaar van "
                "negen tot vijf uur.",
                "Het gemeentehuis is gesloten. Belt u morgen tijdens kantooruren terug."),
        opening=("{Greet}, gemeente {muni}, {intro}.",
                 "Gemeente {muni}, {intro}, {greet}.",
                 "{Greet}, {intro}, waar kan ik u mee helpen?"),
        opening_no_name=("{Greet}, gemeente {muni}.", "Gemeente {muni}, {greet}.",
                         "{Greet}, waar kan ik u mee helpen?"),
        intro=("u spreekt met {name}", "met {name}", "mijn naam is {name}"),
        agent_notice=("Ik laat u even weten dat dit gesprek wordt opgenomen.",),
        transfer=("Daarvoor verbind ik u door met mijn collega {colleague}.",),
        caller_first=("Hallo?", "Ja, hallo?"),
        caller_ask=("{Greet}, ik heb een vraag over mijn afvalcontainer.",
                    "Ja, {greet}, ik bel over een vergunning.",
                    "Hallo, ik wil graag iets vragen over de parkeervergunning."),
        rec_question=("Wordt dit telefoontje opgenomen?",
                      "Ik wil even iets checken: nemen jullie dit gesprek op?",
                      "Klopt het dat dit gesprek wordt opgenomen?"),
        rec_answer={
            "yes": ("Ja, dat klopt, we nemen alle gesprekken op.",
                    "Ja, dit gesprek wordt opgenomen."),
            "no": ("Nee, gesprekken worden bij ons niet opgenomen.", "Nee, we nemen niets op."),
            "unsure": ("Dat weet ik niet precies.",
                       "Daar ben ik eerlijk gezegd niet zeker van."),
            "no_answer": ("Ik ga even verder met uw vraag.",
                          "Eén moment, ik zoek uw dossier erbij."),
        },
        announce=("{Greet}, ik neem dit gesprek overigens op, dat wil ik even melden.",
                  "Even voor u om te weten: ik neem dit gesprek op."),
        announce_response={
            "yes": ("Dat wil ik liever niet, wilt u daarmee stoppen?",
                    "Daar geef ik geen toestemming voor."),
            "no": ("Dat is prima.", "Geen probleem, gaat u gerust uw gang."),
            "unclear": ("O. Nou, waar gaat het over?", "Tja. Wat is uw vraag?"),
        },
    ),
    "B": Phrasing(
        welcome=("{Greet} en welkom bij gemeente {muni}.",
                 "Dit is de gemeente {muni}.",
                 "Welkom. U bent verbonden met de gemeente {muni}."),
        notice=("Let op, dit gesprek wordt opgenomen.",
                "Telefoongesprekken met de gemeente kunnen worden opgenomen voor "
                "trainingsdoeleinden.",
                "Gesprekken met onze medewerkers worden vastgelegd en kunnen worden opgenomen "
                "voor kwaliteitsdoeleinden."),
        lookalike=("Uw aanvraag wordt opgenomen in behandeling.",
                   "Wij hebben uw bericht goed ontvangen.",
                   "Alle wijzigingen worden opgenomen in ons register."),
        menu=("Kies 1 voor afspraken, kies 2 voor meldingen openbare ruimte.",
              "Voor paspoort of identiteitskaart, toets 1. Voor afval, toets 2."),
        queue=("Alle lijnen zijn bezet. Een ogenblik geduld alstublieft.",
               "U bent de volgende in de wachtrij.",
               "Wij helpen u zo snel mogelijk. Nog even geduld."),
        connect=("U wordt doorverbonden met een medewerker.",),
        closed=("Wij zijn op dit moment gesloten. Spreek na de pieptoon een bericht in.",
                "U belt buiten kantoortijden. Kijk voor meer informatie op onze website."),
        opening=("Gemeente {muni}, {greet}, {intro}.", "{Greet}, {intro}.",
                 "{Intro}, gemeente {muni}, {greet}."),
        opening_no_name=("{Greet}, gemeente {muni}, zegt u het maar.", "{Greet}, gemeente."),
        intro=("met {name}", "u spreekt met {name}", "u heeft {name} aan de lijn",
               "{name} hier"),
        agent_notice=("Voor de volledigheid: dit gesprek wordt opgenomen.",),
        transfer=("Ik zet u even door naar {colleague}, een moment.",),
        caller_first=("Hallo?", "Hallo, is daar iemand?"),
        caller_ask=("{Greet}, ik heb een vraag over de gemeentelijke belastingen.",
                    "Ja, hallo, ik wil een afspraak maken."),
        rec_question=("Neemt u dit gesprek op?",
                      "Worden deze telefoongesprekken vastgelegd of opgenomen?",
                      "Voordat ik het vergeet: wordt dit gesprek opgenomen?"),
        rec_answer={
            "yes": ("Ja, wij nemen gesprekken op voor trainingsdoeleinden.",
                    "Ja hoor, dat wordt opgenomen."),
            "no": ("Nee hoor, er wordt niets opgenomen.",
                   "Nee, wij nemen telefoongesprekken niet op."),
            "unsure": ("Geen idee eigenlijk.", "Dat zou ik niet weten, dat moet ik navragen."),
            "no_answer": ("Ik kijk even in het systeem voor u.",
                          "Laten we eerst uw vraag bekijken."),
        },
        announce=("U moet weten dat ik dit gesprek opneem.",
                  "{Greet}, ik neem dit telefoongesprek op, voor mijn eigen administratie."),
        announce_response={
            "yes": ("Nee, dat wil ik niet. Ik maak daar bezwaar tegen.",
                    "Ik heb liever niet dat u dit opneemt."),
            "no": ("Oké, dat is goed.", "Dat mag, hoor."),
            "unclear": ("Eh, ja. Wat wilt u weten?", "Hm. Waarmee kan ik u helpen?"),
        },
    ),
    # held back: used only by the held-back family, never while tuning
    "C": Phrasing(
        welcome=("Goedendag, dit is het informatienummer van gemeente {muni}.",
                 "Hartelijk welkom bij de gemeente {muni}."),
        notice=("Wij wijzen u erop dat dit gesprek kan worden opgenomen voor training en "
                "coaching.",
                "Ter verbetering van onze dienstverlening nemen wij telefoongesprekken op.",
                "Dit gesprek wordt opgenomen. Op onze website leest u waarom."),
        lookalike=("Uw wijziging wordt opgenomen in de administratie.",
                   "Uw bezwaar wordt zorgvuldig in behandeling genomen.",
                   "Wij nemen uw gegevens niet op."),
        menu=("Voor vragen over zorg en welzijn, toets 1. Voor werk en inkomen, toets 2.",
              "Wilt u een melding doen, kies dan 1. Anders, kies 2."),
        queue=("Er zijn nog enkele wachtenden voor u.",
               "Helaas zijn onze medewerkers nog in gesprek.",
               "Bedankt voor uw geduld. U wordt zo geholpen."),
        connect=("Wij verbinden u door.",),
        closed=("Welkom bij de gemeente. Wij zijn vandaag gesloten wegens een feestdag.",),
        opening=("{Greet}, je spreekt met {name} van de gemeente {muni}.",
                 "Gemeente {muni}, {greet}, u spreekt met {name}.",
                 "{Greet}, met {name}, wat kan ik voor u doen?"),
        opening_no_name=("Gemeente {muni}, goedendag.", "{Greet}, wat kan ik voor u doen?"),
        intro=("{name}",),  # the templates above say it themselves
        agent_notice=("Ik moet u even melden dat wij dit gesprek opnemen.",),
        transfer=("Ik schakel u door naar mijn collega {colleague}.",),
        caller_first=("Hallo, goedemiddag?",),
        caller_ask=("{Greet}, ik heb een vraag over bijzondere bijstand.",),
        rec_question=("Zeg, worden onze gesprekken eigenlijk bewaard als opname?",
                      "Even een vraagje tussendoor: loopt er een opname mee?",
                      "Neemt de gemeente dit telefoongesprek op?"),
        rec_answer={
            "yes": ("Ja, elk gesprek wordt bij ons vastgelegd.",
                    "Jazeker, er loopt een opname mee."),
            "no": ("Nee, er loopt geen opname mee.", "Nee, daar doen wij niet aan."),
            "unsure": ("Dat kan ik u niet met stelligheid zeggen.",
                       "Hm, misschien wel, dat weet ik eigenlijk niet."),
            "no_answer": ("Ik ga eerst even uw gegevens na.",
                          "Zullen we eerst naar uw vraag kijken?"),
        },
        announce=("Ik maak van dit gesprek een opname, dat wil ik u even zeggen.",
                  "{Greet}, ter informatie: ik neem ons gesprek op."),
        announce_response={
            "yes": ("Daar ben ik het niet mee eens, ik wil niet opgenomen worden.",
                    "Dat stel ik niet op prijs, ik verzoek u de opname te stoppen."),
            "no": ("Akkoord, dat is geen bezwaar.", "Dat is voor mij in orde."),
            "unclear": ("Juist. Waar belt u over?", "Zo. Wat kan ik voor u betekenen?"),
        },
    ),
    # a fourth tuning set (session 23), so that the role stage can be judged with a phrasing
    # left out in turn: A is spoken in two tuning families, so only B was ever truly left out
    "D": Phrasing(
        welcome=("Fijn dat u belt met de gemeente {muni}.",
                 "{Greet}, u belt met het servicepunt van de gemeente {muni}.",
                 "U bent verbonden met het algemene nummer van {muni}."),
        notice=("Gesprekken worden opgenomen voor kwaliteitsverbetering.",
                "Wij maken opnames van telefoongesprekken om onze medewerkers te coachen.",
                "Houd er rekening mee dat dit gesprek wordt opgenomen en bewaard.",
                "Dit gesprek kan worden vastgelegd voor de afhandeling van klachten."),
        lookalike=("Uw verzoek wordt vastgelegd in uw persoonlijke dossier.",
                   "Nieuwe inwoners worden automatisch opgenomen in de basisregistratie.",
                   "Wij nemen uw melding binnen drie werkdagen in behandeling."),
        menu=("Belt u over een verhuizing, toets dan 1. Over afval of grofvuil, toets 2.",
              "Kies 1 voor burgerzaken. Kies 2 voor de wijkteams. Kies 3 voor iets anders."),
        queue=("Al onze collega's zijn in gesprek. Wij nemen uw gesprek zo snel mogelijk aan.",
               "Nog even geduld alstublieft, er komt zo een medewerker aan de lijn.",
               "Uw wachtpositie is drie."),
        connect=("Een ogenblik, u wordt verbonden.",),
        closed=("Op dit moment is de gemeente niet telefonisch bereikbaar. Probeert u het "
                "morgen vanaf half negen opnieuw.",
                "U bent verbonden met de voicemail van team Vergunningen. Laat uw naam en "
                "nummer achter na de toon."),
        opening=("{Greet}, gemeente {muni}, {intro}, waarmee kan ik u helpen?",
                 "{Intro}, {greet}.",
                 "Met de gemeente {muni}, {greet}, {intro}."),
        opening_no_name=("{Greet}, u spreekt met de gemeente.",
                         "Gemeente {muni}, waarmee kan ik u van dienst zijn?"),
        intro=("ik ben {name}", "met {name}", "u heeft {name} aan de telefoon",
               "mijn naam is {name}"),
        agent_notice=("Even ter informatie: wij nemen dit gesprek op.",),
        transfer=("Dat is niet mijn afdeling, ik geef u door aan {colleague}.",),
        caller_first=("Ja, hallo? Hoort u mij?", "Hallo, met wie spreek ik?"),
        caller_ask=("{Greet}, ik bel over de aanvraag van een rijbewijs.",
                    "Ja, {greet}, ik heb een vraag over de afvalstoffenheffing."),
        rec_question=("Mag ik vragen of dit gesprek wordt opgenomen?",
                      "Wordt er eigenlijk meegeluisterd of opgenomen?",
                      "Houden jullie opnames bij van deze gesprekken?"),
        rec_answer={
            "yes": ("Ja, alle gesprekken worden opgenomen voor kwaliteitsdoeleinden.",
                    "Klopt, dat doen wij standaard."),
            "no": ("Nee, wij nemen niet op.", "Nee, bij ons wordt niets vastgelegd."),
            "unsure": ("Goede vraag, dat weet ik eerlijk gezegd niet.",
                       "Ik denk het niet, maar ik weet het niet zeker."),
            "no_answer": ("Mag ik eerst uw postcode?", "Dan zoek ik uw aanvraag even op."),
        },
        announce=("Ik wil u laten weten dat ik dit gesprek opneem.",
                  "{Greet}, ik neem dit gesprek op voor mijn eigen dossier."),
        announce_response={
            "yes": ("Dan wil ik dat u de opname stopt.", "Daar ga ik niet mee akkoord."),
            "no": ("Prima, geen bezwaar.", "Daar heb ik geen moeite mee."),
            "unclear": ("Aha. Waar gaat uw vraag over?", "Nou. Vertelt u het maar."),
        },
    ),
    "E": Phrasing(
        welcome=("Goeiedag, u heeft het klantcontact van gemeente {muni} gebeld.",
                 "Dank voor uw telefoontje naar de gemeente {muni}.",
                 "Gemeente {muni}, welkom op ons centrale nummer."),
        notice=("Ter bewaking van de kwaliteit worden onze telefoongesprekken opgenomen.",
                "Wij leggen dit gesprek vast, zodat wij onze medewerkers kunnen opleiden.",
                "Let u erop dat wij telefoongesprekken opnemen."),
        lookalike=("Uw klacht wordt opgenomen in onze jaarlijkse rapportage.",
                   "Onze medewerkers nemen graag de tijd voor uw vraag.",
                   "Wij slaan uw gegevens veilig op volgens de privacywet."),
        menu=("Voor vragen over uw aanslag, toets 1. Voor een melding, toets 2.",
              "Gaat uw vraag over wonen, kies 1. Gaat uw vraag over werk en inkomen, kies 2."),
        queue=("U wordt zo dadelijk geholpen door de eerstvolgende vrije medewerker.",
               "Vanwege de drukte duurt het wat langer dan gewoonlijk.",
               "Wist u dat u veel vragen ook via onze website kunt regelen?"),
        connect=("Wij schakelen u nu door.", "Moment alstublieft, u gaat naar een collega."),
        closed=("Onze telefonische dienstverlening is vandaag gesloten. Wij staan maandag "
                "weer voor u klaar.",
                "Dit nummer is niet meer in gebruik. Bel het algemene nummer van de gemeente."),
        opening=("{Intro}, van de gemeente {muni}.",
                 "{Greet}, {intro}, wat kan ik voor u doen?",
                 "Klantcontactcentrum {muni}, {greet}, {intro}."),
        opening_no_name=("Gemeente {muni}, wat kan ik voor u doen?", "{Greet}, zegt u het eens."),
        intro=("u spreekt nu met {name}", "hier is {name}", "je spreekt met {name}",
               "met {name} spreekt u"),
        agent_notice=("Ik meld u even dat ons gesprek wordt opgenomen.",),
        transfer=("Hiervoor moet u bij {colleague} zijn, ik verbind u even door.",),
        caller_first=("Hallo, hallo?", "Hallo, is dit de gemeente?"),
        caller_ask=("Dag, ik zou graag iets willen weten over de hondenbelasting.",
                    "{Greet}, ik heb een brief gekregen over mijn WOZ-waarde."),
        rec_question=("Mag ik even vragen, nemen jullie dit op?",
                      "Wordt dit telefoongesprek opgenomen of niet?",
                      "Is het zo dat u dit gesprek opneemt?"),
        rec_answer={
            "yes": ("Jazeker, elk gesprek wordt bij ons opgenomen.",
                    "Dat klopt, het gesprek wordt vastgelegd."),
            "no": ("Nee, dat doen wij niet.", "Nee hoor, wij nemen geen gesprekken op."),
            "unsure": ("Dat durf ik u niet te zeggen.",
                       "Hm, dat weet ik eigenlijk niet goed."),
            "no_answer": ("Wat is uw huisnummer?", "Laat ik eerst even uw gegevens pakken."),
        },
        announce=("Ik wil u zeggen dat ik dit gesprek zelf opneem.",
                  "Ter informatie, ik maak een opname van dit gesprek."),
        announce_response={
            "yes": ("Daar ben ik het niet mee eens, stopt u daar alstublieft mee.",
                    "Dat vind ik niet goed, dat mag niet."),
            "no": ("Dat is in orde.", "Ga uw gang."),
            "unclear": ("Zo. En wat is uw vraag dan?", "Oh ja? Waar belt u voor?"),
        },
    ),
    "F": Phrasing(
        welcome=("Welkom bij de gemeente {muni}, fijn dat u belt.",
                 "U bent verbonden met het klantcontactcentrum van {muni}.",
                 "Goedendag en welkom bij de gemeente {muni}."),
        notice=("Om onze dienstverlening te verbeteren nemen wij dit gesprek op.",
                "Wij nemen telefoongesprekken op om klachten goed te kunnen behandelen.",
                "Dit telefoongesprek kan worden opgenomen.",
                "Uw gesprek wordt opgenomen voor trainingsdoeleinden en om u beter te helpen."),
        lookalike=("Uw wijziging wordt binnen vijf werkdagen opgenomen in de basisregistratie.",
                   "Wij nemen uw aanvraag zo snel mogelijk in behandeling.",
                   "Een afspraak aan de balie kunt u ook via de website vastleggen."),
        menu=("Heeft u een vraag over afval, druk dan op 1. Voor paspoorten en rijbewijzen, "
              "druk op 2.",
              "Kies 1 voor belastingen, kies 2 voor parkeren, of blijf aan de lijn."),
        queue=("Alle medewerkers zijn op dit moment in gesprek.",
               "Blijft u aan de lijn, u wordt zo spoedig mogelijk geholpen.",
               "U staat in de wachtrij. Een ogenblik geduld nog."),
        connect=("Een ogenblik, u wordt verbonden.", "Wij verbinden u met een medewerker."),
        closed=("U belt buiten onze openingstijden. Wij zijn bereikbaar op werkdagen van negen "
                "tot vijf uur.",
                "Wegens een storing zijn wij telefonisch niet bereikbaar. Probeert u het later "
                "nog eens."),
        opening=("{Greet}, gemeente {muni}, {intro}.",
                 "Gemeente {muni}, {intro}, {greet}.",
                 "{Intro}. Waarmee kan ik u helpen?"),
        opening_no_name=("Met de gemeente {muni}, {greet}.",
                         "Ja, {greet}, waarmee kan ik u van dienst zijn?"),
        intro=("u spreekt met {name}", "mijn naam is {name}", "met {name}", "ik ben {name}"),
        agent_notice=("Ik zeg het er even bij: wij nemen dit gesprek op.",
                      "Wij nemen dit gesprek op voor de kwaliteit, ik hoop dat dat goed is.",
                      "Ik neem dit gesprek op voor onze opleiding."),
        transfer=("Daar gaat {colleague} over, ik zet u even door.",
                  "Een moment, ik verbind u door met {colleague}."),
        caller_first=("Hallo? Ben ik goed bij de gemeente?", "Ja hallo, hoort u mij?"),
        caller_ask=("{Greet}, ik bel over een parkeervergunning.",
                    "Ik heb een vraag over de afvalinzameling."),
        rec_question=("Neemt u dit gesprek eigenlijk op?",
                      "Even een vraag: worden deze gesprekken opgenomen?",
                      "Wordt er een opname gemaakt van dit gesprek?"),
        rec_answer={
            "yes": ("Ja, dat doen wij bij alle gesprekken.", "Ja hoor, we nemen alles op."),
            "no": ("Nee, hier wordt niets opgenomen.", "Nee, opnames maken wij hier niet."),
            "unsure": ("Tja, geen idee eigenlijk, dat heb ik nooit gevraagd.",
                       "Ik ben er niet zeker van, dat zou ik moeten navragen."),
            "no_answer": ("Heeft u uw klantnummer bij de hand?", "Even terug naar uw parkeervergunning."),
        },
        announce=("Ik laat u weten dat ik dit gesprek opneem.",
                  "U moet weten dat ik een opname maak van ons gesprek."),
        announce_response={
            "yes": ("Nee, dat wil ik niet, zet u dat uit.",
                    "Dat wil ik liever niet, wilt u ermee ophouden?"),
            "no": ("Geen probleem.", "Dat is prima hoor."),
            "unclear": ("Goed. Wat is uw vraag?", "Jaja. Vertelt u eens."),
        },
        first_names=("Daan", "Sanne", "Joost", "Marloes", "Thijs", "Ingrid", "Bas", "Noor",
                     "Kees", "Fleur", "Sem", "Petra", "Mohamed", "Lotte"),
        surnames=("Bakker", "van Dijk", "Smit", "de Vries", "Mulder", "Dekker", "Brouwer",
                  "van Leeuwen", "Jansen", "Hendriks", "de Boer", "Peters"),
    ),
    # a fifth tuning set (session 29), written by yet another hand: the wordings of municipal
    # IVRs and call-centre agents, purposes first, last or in a sentence of their own
    "H": Phrasing(
        welcome=("U heeft gebeld met gemeente {muni}.",
                 "{Greet}, hier is het telefonisch loket van gemeente {muni}.",
                 "Welkom bij Publiekszaken van {muni}."),
        notice=("Let op: er kan een opname worden gemaakt van dit gesprek. Met die opnames "
                "verbeteren wij onze dienstverlening.",
                "Dit gesprek kan ter controle worden opgenomen.",
                "Gesprekken worden voor opleidingsdoeleinden vastgelegd.",
                "Wij willen u erop attenderen dat gesprekken met onze medewerkers worden "
                "opgenomen. Zo kunnen wij klachten zorgvuldig onderzoeken.",
                "Met het oog op de kwaliteit van ons klantcontact nemen wij alle telefoontjes op.",
                "Van dit gesprek wordt een geluidsopname gemaakt.",
                "Voor trainingen en voor kwaliteitsonderzoek kan uw telefoontje worden "
                "opgenomen."),
        lookalike=("Wilt u contact opnemen met de wijkagent, belt u dan de politie op nul negen "
                   "nul nul, achtentachtig vierenveertig.",
                   "De opname van uw kind in de gemeentelijke registratie volgt na de "
                   "geboorteaangifte.",
                   "Bewaar uw ontvangstbevestiging goed, die heeft u nodig bij het ophalen van "
                   "uw paspoort.",
                   "Schade aan de stoep leggen wij na uw melding eerst vast met een foto."),
        menu=("Toets 1 als u een afspraak wilt maken of verzetten. Toets 2 voor de Wmo en "
              "jeugdhulp. Voor al het andere kunt u aan de lijn blijven.",
              "Gaat het over een kapotte lantaarnpaal of losliggende tegels? Toets dan een 1. "
              "Anders een 2."),
        queue=("Voor u wachten nog vier andere bellers.",
               "Onze medewerkers zijn nog bezig met andere bellers. Wilt u nog even wachten?",
               "Dank voor uw geduld, de eerste vrije collega neemt zo op."),
        connect=("U gaat nu naar een medewerker, een ogenblikje.",
                 "Uw gesprek wordt nu doorgezet."),
        closed=("Helaas, u belt na sluitingstijd. Onze telefoonlijnen zijn open van maandag "
                "tot en met vrijdag, van half negen tot half vijf.",
                "Vanwege een feestdag is het gemeentehuis vandaag dicht. Voor spoedeisende "
                "zaken kijkt u op de website."),
        opening=("{Greet}, welkom bij gemeente {muni}, u spreekt met {name}.",
                 "{Name} hier, van Publiekszaken {muni}.",
                 "Gemeente {muni}, {name} hier. {Greet}!",
                 "Met {name}, gemeente {muni}.",
                 "Ja, {greet}, {intro}.",
                 "{Greet}, {intro}. Waar gaat uw telefoontje over?",
                 "{Greet}, gemeente {muni}, {name} spreekt u."),
        opening_no_name=("Gemeente {muni}, goed dat u belt, waar gaat het over?",
                         "Ja, {greet}, Publiekszaken.",
                         "{Greet}, u bent bij de gemeente {muni}, vertelt u maar."),
        intro=("ik ben {name} van Publiekszaken", "u bent bij {name} terechtgekomen",
               "{name} is mijn naam", "{name}, klantcontactcentrum"),
        agent_notice=("Eerst even dit: ons gesprek wordt opgenomen, zodat we de kwaliteit in de "
                      "gaten kunnen houden.",
                      "De opname staat aan, hoor, dat gebruiken we om mij te coachen.",
                      "Dit gesprek wordt bij ons opgenomen, mocht er later een klacht komen "
                      "dan kunnen we het terugluisteren.",
                      "Er loopt trouwens een opname mee van dit gesprek."),
        transfer=("Dan kan ik u het beste doorzetten naar {colleague}, die weet daar alles van.",
                  "Blijft u even hangen? Dan geef ik u over aan {colleague}.",
                  "Daarvoor moet ik u doorverbinden, {colleague} van Belastingen helpt u verder."),
        caller_first=("Hallo, heb ik nu een mens aan de lijn?",
                      "Hallo? Spreek ik met iemand van de gemeente?"),
        caller_ask=("{Greet}, ik bel even over de container die niet is geleegd.",
                    "Ja, {greet}, mijn buurman heeft een schutting gebouwd en ik vroeg me af of "
                    "dat zomaar mag.",
                    "Hoi, ik moet mijn paspoort verlengen, maar ik kan online geen afspraak "
                    "vinden."),
        rec_question=("Gaat dit nou allemaal op de band?",
                      "Loopt er eigenlijk een bandje mee?",
                      "Neemt de gemeente deze telefoontjes op, of niet?"),
        rec_answer={
            "yes": ("Ja, alles wat we bespreken wordt opgenomen.",
                    "Ja, dat gaat bij ons automatisch."),
            "no": ("Nee hoor, van opnemen is hier geen sprake.",
                   "Nee, wij hebben helemaal geen opnameapparatuur."),
            "unsure": ("Oei, dat moet ik u schuldig blijven.",
                       "Dat weet ik zo niet uit mijn hoofd."),
            "no_answer": ("Eerst die container maar even, wat is uw adres?",
                          "Mag ik uw geboortedatum van u?"),
        },
        announce=("Ik zeg het maar eerlijk: ik heb hier een recorder aanstaan.",
                  "{Greet}, ik heb de opnamefunctie van mijn telefoon aan, voor de zekerheid.",
                  "Vooraf even dit, ik leg dit gesprek zelf vast."),
        announce_response={
            "yes": ("Ho ho, daar heb ik niet mee ingestemd. Zet u het uit?",
                    "Nee, daar voel ik me niet prettig bij, ik wil niet op band."),
            "no": ("Ja, dat mag u natuurlijk doen.", "Mij best, hoor."),
            "unclear": ("Hmm, oké. Waar belde u ook alweer over?",
                        "Aha, nou. Zullen we dan maar beginnen?"),
        },
        first_names=("Sjoerd", "Wietske", "Jildou", "Hylke", "Baukje", "Youssef", "Nadia",
                     "Hafsa", "Serkan", "Merve", "Roshni", "Ravi", "Jerrel", "Wulan", "Indra",
                     "Hanneke", "Joris", "Maaike"),
        surnames=("van 't Hof", "Zijlstra", "Wiersma", "Ouali", "Azzouzi", "Demir", "Yildiz",
                  "Doelwijt", "Sewtahal", "Tehupeiory", "Soerjadi", "ten Cate", "van 't Zand",
                  "de Ruiter", "van der Veen"),
    ),
    # held back: used only by the second held-back family (session 29), written by another
    # hand than sets A-F and never tuned on
    "G": Phrasing(
        welcome=("Hartelijk dank voor het bellen naar de gemeente {muni}.",
                 "{Greet}, u heeft het Publiekscentrum van gemeente {muni} aan de lijn.",
                 "Welkom bij team Publiekszaken van de gemeente {muni}.",
                 "Welkom. U belt met het Gemeentelijk Informatiecentrum van {muni}."),
        notice=("Voor kwaliteitsdoeleinden kunnen wij uw telefoongesprek opnemen.",
                "Uw gesprek met ons wordt mogelijk opgenomen.",
                "Telefoongesprekken met het contactcentrum worden opgenomen en drie maanden "
                "bewaard, voor het verbeteren van onze dienstverlening en het behandelen van "
                "klachten.",
                "Wij kunnen dit gesprek opnemen. Dat doen wij om onze nieuwe collega's in te "
                "werken.",
                "Gesprekken met de gemeente worden opgenomen, zodat wij achteraf kunnen nagaan "
                "welke afspraken er zijn gemaakt.",
                "In het kader van kwaliteitsbewaking en opleiding worden alle gesprekken "
                "opgenomen."),
        lookalike=("Voor een afspraak kunt u ook via onze website contact met ons opnemen.",
                   "Uw aanvraag wordt vastgelegd in ons systeem en u ontvangt binnen twee weken "
                   "bericht.",
                   "Informatie over de opname in het bevolkingsregister vindt u op onze website.",
                   "Wilt u liever teruggebeld worden? Laat dan uw nummer achter, dan nemen wij "
                   "later contact met u op.",
                   "Wij leggen uw afspraak vast en sturen u een bevestiging per e-mail."),
        menu=("Wilt u een afspraak maken of wijzigen, toets 1. Heeft u een vraag over zorg en "
              "ondersteuning, toets 2.",
              "Maak een keuze uit het volgende menu. Voor burgerzaken, druk 1. Voor de Wmo en "
              "jeugdzorg, druk 2. Voor overige vragen, druk 3.",
              "Bent u ondernemer, toets 1. Belt u als inwoner, toets 2."),
        queue=("Wij zijn nog met andere bellers in gesprek. Wij waarderen uw geduld.",
               "U bent nummer twee in de wachtrij.",
               "De verwachte wachttijd is ongeveer vijf minuten.",
               "Heeft u uw burgerservicenummer al bij de hand? Dan kunnen wij u straks sneller "
               "helpen."),
        connect=("Uw gesprek wordt doorgezet naar de eerstvolgende beschikbare medewerker.",
                 "Wacht u even, wij zoeken een medewerker voor u."),
        closed=("Het contactcentrum is op dit moment niet bemand. Onze openingstijden zijn "
                "maandag tot en met vrijdag van acht tot half vijf.",
                "Vanwege een feestdag zijn wij vandaag gesloten. Voor spoedeisende zaken belt u "
                "het nummer op onze website.",
                "De medewerker die u probeert te bereiken is niet aanwezig. Belt u later terug "
                "of stuur ons een e-mail."),
        opening=("{Intro}, gemeente {muni}.",
                 "{Greet}, u belt met gemeente {muni}, {intro}.",
                 "{Greet}, {intro}, zegt u het maar.",
                 "{Name}, gemeente {muni}, {greet}.",
                 "{Greet}, {intro}. Met wie heb ik het genoegen?"),
        opening_no_name=("{Greet}, u spreekt met het contactcentrum van {muni}.",
                         "Publiekszaken {muni}, {greet}, wat is uw vraag?",
                         "{Greet}, gemeente {muni}, hoe kan ik u helpen?"),
        intro=("je hebt {name} aan de lijn", "{name} aan de telefoon",
               "met {name} van de afdeling burgerzaken", "u wordt te woord gestaan door {name}",
               "dit is {name}"),
        agent_notice=("Voordat we beginnen: dit gesprek wordt vastgelegd.",
                      "Ik wil u er wel op wijzen dat ons gesprek wordt opgenomen voor "
                      "trainingsdoeleinden.",
                      "Dit gesprek wordt trouwens opgenomen, zodat we eventuele klachten goed "
                      "kunnen nakijken.",
                      "Ons gesprek wordt opgenomen, dat is voor de kwaliteitscontrole."),
        transfer=("Ik leg u even in de wacht en breng u in contact met {colleague}.",
                  "Hiervoor is {colleague} de aangewezen persoon, momentje, ik zet u over.",
                  "Ik draag u over aan {colleague}, die weet daar alles van."),
        caller_first=("Ja, {greet}?", "Hallo, ben ik verbonden?",
                      "Hallo? Is er iemand aan de lijn?"),
        caller_ask=("{Greet}, ik bel over de verlenging van mijn paspoort.",
                    "Ja, dag, ik wil graag een verhuizing doorgeven.",
                    "{Greet}, mijn vraag gaat over de bijzondere bijstand."),
        rec_question=("Wordt wat ik nu zeg eigenlijk opgenomen?",
                      "Mag ik weten of dit telefoontje wordt vastgelegd?",
                      "Even tussendoor, loopt er een opname mee?",
                      "Wordt ons gesprek ergens bewaard?"),
        rec_answer={
            "yes": ("Ja, alle gesprekken met ons contactcentrum worden opgenomen.",
                    "Jawel, het gesprek wordt vastgelegd.",
                    "Ja, er loopt een opname mee."),
            "no": ("Nee, wij maken geen opnames van telefoongesprekken.",
                   "Nee hoor, dit gesprek wordt niet vastgelegd."),
            "unsure": ("Daar moet ik het antwoord op schuldig blijven.",
                       "Dat kan ik u niet met zekerheid zeggen."),
            "no_answer": ("Wat is uw geboortedatum?", "Ik pak er even uw gegevens bij."),
        },
        announce=("Ik wil even zeggen dat ik dit telefoongesprek vastleg.",
                  "{Greet}, ik maak een geluidsopname van dit gesprek, voor de zekerheid.",
                  "Ik neem ons gesprek op, zodat ik het later terug kan luisteren."),
        announce_response={
            "yes": ("Daar heb ik bezwaar tegen, wilt u de opname stoppen?",
                    "Dat is niet de bedoeling, ik vraag u dat niet te doen."),
            "no": ("Och, dat maakt mij niet uit.", "Van mij mag dat."),
            "unclear": ("Ach zo. Nou, wat was uw vraag ook alweer?",
                        "Hm, ja. Vertel, waarmee kan ik u verder helpen?"),
        },
        first_names=("Maarten", "Ilham", "Khadija", "Emre", "Merel", "Glenn", "Hamza",
                     "Wendy", "Elif", "Roel", "Shanti", "Gijs", "Sevda", "Rutger"),
        surnames=("van der Heijden", "Bouzid", "Kaya", "Ramdin", "van der Wal", "de Graaf",
                  "Scholten", "Benali", "van der Linden", "ter Horst", "Kartosen", "Aydin"),
    ),
}

# Hand labels, not a rule on the text: the purposes each notice of every set states (quality =
# kwaliteit; training = training, opleiding, coaching; service = dienstverlening, service, "u
# beter van dienst zijn"; complaints = klachten; other = any other purpose; () = none stated).
NOTICE_PURPOSES: dict[str, tuple[str, ...]] = {
    # A
    "Dit telefoongesprek kan worden opgenomen voor opleiding en kwaliteit.":
        ("training", "quality"),
    "Wij nemen gesprekken op om u beter van dienst te kunnen zijn.": ("service",),
    "Om onze service te verbeteren worden gesprekken opgenomen.": ("service",),
    "Ik laat u even weten dat dit gesprek wordt opgenomen.": (),
    # B
    "Let op, dit gesprek wordt opgenomen.": (),
    "Telefoongesprekken met de gemeente kunnen worden opgenomen voor trainingsdoeleinden.":
        ("training",),
    "Gesprekken met onze medewerkers worden vastgelegd en kunnen worden opgenomen voor "
    "kwaliteitsdoeleinden.": ("quality",),
    "Voor de volledigheid: dit gesprek wordt opgenomen.": (),
    # C
    "Wij wijzen u erop dat dit gesprek kan worden opgenomen voor training en coaching.":
        ("training",),
    "Ter verbetering van onze dienstverlening nemen wij telefoongesprekken op.": ("service",),
    "Dit gesprek wordt opgenomen. Op onze website leest u waarom.": (),
    "Ik moet u even melden dat wij dit gesprek opnemen.": (),
    # D
    "Gesprekken worden opgenomen voor kwaliteitsverbetering.": ("quality",),
    "Wij maken opnames van telefoongesprekken om onze medewerkers te coachen.": ("training",),
    "Houd er rekening mee dat dit gesprek wordt opgenomen en bewaard.": (),
    "Dit gesprek kan worden vastgelegd voor de afhandeling van klachten.": ("complaints",),
    "Even ter informatie: wij nemen dit gesprek op.": (),
    # E
    "Ter bewaking van de kwaliteit worden onze telefoongesprekken opgenomen.": ("quality",),
    "Wij leggen dit gesprek vast, zodat wij onze medewerkers kunnen opleiden.": ("training",),
    "Let u erop dat wij telefoongesprekken opnemen.": (),
    "Ik meld u even dat ons gesprek wordt opgenomen.": (),
    # F
    "Om onze dienstverlening te verbeteren nemen wij dit gesprek op.": ("service",),
    "Wij nemen telefoongesprekken op om klachten goed te kunnen behandelen.": ("complaints",),
    "Dit telefoongesprek kan worden opgenomen.": (),
    "Uw gesprek wordt opgenomen voor trainingsdoeleinden en om u beter te helpen.":
        ("training", "service"),
    "Ik zeg het er even bij: wij nemen dit gesprek op.": (),
    "Wij nemen dit gesprek op voor de kwaliteit, ik hoop dat dat goed is.": ("quality",),
    "Ik neem dit gesprek op voor onze opleiding.": ("training",),
    # G
    "Voor kwaliteitsdoeleinden kunnen wij uw telefoongesprek opnemen.": ("quality",),
    "Uw gesprek met ons wordt mogelijk opgenomen.": (),
    "Telefoongesprekken met het contactcentrum worden opgenomen en drie maanden bewaard, voor "
    "het verbeteren van onze dienstverlening en het behandelen van klachten.":
        ("service", "complaints"),
    "Wij kunnen dit gesprek opnemen. Dat doen wij om onze nieuwe collega's in te werken.":
        ("training",),
    "Gesprekken met de gemeente worden opgenomen, zodat wij achteraf kunnen nagaan welke "
    "afspraken er zijn gemaakt.": ("other",),
    "In het kader van kwaliteitsbewaking en opleiding worden alle gesprekken opgenomen.":
        ("quality", "training"),
    "Voordat we beginnen: dit gesprek wordt vastgelegd.": (),
    "Ik wil u er wel op wijzen dat ons gesprek wordt opgenomen voor trainingsdoeleinden.":
        ("training",),
    "Dit gesprek wordt trouwens opgenomen, zodat we eventuele klachten goed kunnen nakijken.":
        ("complaints",),
    "Ons gesprek wordt opgenomen, dat is voor de kwaliteitscontrole.": ("quality",),
    # H
    "Let op: er kan een opname worden gemaakt van dit gesprek. Met die opnames verbeteren wij "
    "onze dienstverlening.": ("service",),
    "Dit gesprek kan ter controle worden opgenomen.": ("other",),
    "Gesprekken worden voor opleidingsdoeleinden vastgelegd.": ("training",),
    "Wij willen u erop attenderen dat gesprekken met onze medewerkers worden opgenomen. Zo "
    "kunnen wij klachten zorgvuldig onderzoeken.": ("complaints",),
    "Met het oog op de kwaliteit van ons klantcontact nemen wij alle telefoontjes op.":
        ("quality",),
    "Van dit gesprek wordt een geluidsopname gemaakt.": (),
    "Voor trainingen en voor kwaliteitsonderzoek kan uw telefoontje worden opgenomen.":
        ("training", "quality"),
    "Eerst even dit: ons gesprek wordt opgenomen, zodat we de kwaliteit in de gaten kunnen "
    "houden.": ("quality",),
    "De opname staat aan, hoor, dat gebruiken we om mij te coachen.": ("training",),
    "Dit gesprek wordt bij ons opgenomen, mocht er later een klacht komen dan kunnen we het "
    "terugluisteren.": ("complaints",),
    "Er loopt trouwens een opname mee van dit gesprek.": (),
}

MUNICIPALITIES = (
    "Alkmaar", "Arnhem", "Breda", "Enschede", "Hengelo", "Helmond", "Kampen", "Lelystad",
    "Meppel", "Oss", "Roermond", "Schagen", "Sittard-Geleen", "Sneek", "Terneuzen", "Uden",
    "Veenendaal", "Weert", "Zeist", "Zoetermeer", "Harderwijk", "Bunnik", "Purmerend", "Epe",
)
FIRST_NAMES = (
    "Annemiek", "Bram", "Chantal", "Dirk", "Eva", "Freek", "Gerda", "Hugo", "Ilse", "Jasper",
    "Karin", "Lars", "Mirjam", "Niels", "Olga", "Rik", "Saskia", "Tim", "Vera", "Wim", "Yara",
    "Ahmed", "Femke", "Luuk",
)
SURNAMES = (
    "de Jong", "van den Broek", "Willems", "Verhoeven", "Koster", "Prins", "van der Meer",
    "Schouten", "Kuipers", "van Vliet", "Timmermans", "Hoekstra", "de Haan", "Maas", "Bosman",
    "van Wijk", "Kramer", "Veenstra", "Akkerman", "Vermeulen",
)
GREETINGS = ("goedemorgen", "goedemiddag", "goedendag")


# --------------------------------------------------------------------------------------------
# Families, shapes, channels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    name: str
    engine: str  # "espeak", "mbrola" or "mbrola+human"
    phrasing: str
    shapes: dict[str, float]  # shape -> weight
    held_back: bool = False
    slot: int = 0  # the family's place in the key of its calls' generators (call_generators)
    agent_notice_p: float = 0.15  # share of openings in which the agent says a notice too
    # MBROLA speakers' pitch (0..99) and speed (words per minute), drawn per speaker within
    # these bounds (inclusive); the espeak-ng family draws from its own
    mbrola_pitch: tuple[int, int] = (30, 70)
    mbrola_speed: tuple[int, int] = (135, 175)


SHAPES = ("menu_hold", "notice_direct", "ringback", "direct", "long_queue", "lookalike",
          "transfer", "no_agent", "caller_first")
_EVEN = dict.fromkeys(SHAPES, 1.0)
FAMILIES = {
    f.name: f for f in (
        Family("espeak-a", "espeak", "A", _EVEN, slot=0),
        Family("mbrola-b", "mbrola", "B", _EVEN, slot=1),
        Family("human-a", "mbrola+human", "A", {**_EVEN, "direct": 2.0, "ringback": 2.0},
               slot=2),
        Family("held-back", "mbrola+human", "C",
               {**_EVEN, "long_queue": 1.5, "transfer": 1.5, "caller_first": 1.5},
               held_back=True, slot=3),
        Family("human-d", "mbrola+human", "D", {**_EVEN, "notice_direct": 2.0, "lookalike": 1.5},
               slot=4),
        Family("human-e", "mbrola+human", "E",
               {**_EVEN, "caller_first": 2.0, "direct": 2.0, "transfer": 1.5}, slot=5),
        Family("human-f", "mbrola+human", "F",
               {**_EVEN, "notice_direct": 1.5, "ringback": 1.5, "long_queue": 1.5}, slot=6,
               agent_notice_p=0.4),
        # a second held-back family (session 29): set G, written by another hand, never tuned
        # on; its MBROLA speakers a little lower and faster than the other families'
        Family("held-back-g", "mbrola+human", "G",
               {**_EVEN, "menu_hold": 1.5, "lookalike": 1.5}, held_back=True, slot=7,
               agent_notice_p=0.25, mbrola_pitch=(25, 62), mbrola_speed=(145, 185)),
        # a fifth tuning set's family (session 29): set H, written by yet another hand; its
        # MBROLA speakers a little higher and slower than the other families'
        Family("human-h", "mbrola+human", "H",
               {**_EVEN, "direct": 1.5, "notice_direct": 1.5, "transfer": 1.5}, slot=9,
               agent_notice_p=0.3, mbrola_pitch=(35, 75), mbrola_speed=(130, 170)),
    )
}
# every held-back family's name starts with this (the trainers refuse such families)
HELD_BACK_PREFIX = "held-back"
# calls were first keyed by their place in a build of the first four families (call k of
# family f at 4k + f); kept, so that those calls stay what they were and each family's calls
# are the same whichever families are built with it
KEY_STRIDE = 4


def call_generators(family: Family, idx: int, seed: int = SEED
                    ) -> tuple[random.Random, random.Random]:
    """The generators of call ``idx`` of ``family``: the call's own and its recording talk's
    (see build_spec)."""
    key = f"{seed}/{family.name}/{idx * KEY_STRIDE + family.slot}"
    return (random.Random(zlib.crc32(key.encode())),
            random.Random(zlib.crc32(f"{key}/talk".encode())))
# (label, sample rate, codec, channels, caller channel)
CHANNELS = (
    ("wb16-mono", 16000, "pcm16", 1, 0),
    ("wb16-stereo-L", 16000, "pcm16", 2, 0),
    ("mulaw8-mono", 8000, "mu-law", 1, 0),
    ("mulaw8-stereo-R", 8000, "mu-law", 2, 1),
    ("alaw8-mono", 8000, "a-law", 1, 0),
    ("alaw8-stereo-L", 8000, "a-law", 2, 0),
    ("gsm8-mono", 8000, "gsm", 1, 0),
    ("gsm8-stereo-R", 8000, "gsm", 2, 1),
)


def _voices(engine: str, rng: random.Random) -> dict[str, g.Voice]:
    """IVR, agent, colleague and caller voices for one call (pitch and speed drawn)."""
    if engine == "espeak":
        pick = lambda pool: rng.choice(pool)  # noqa: E731
        return {"ivr": pick(["nl+f2", "nl+m6"]), "agent": pick(["nl+f5", "nl+m2", "nl+f1"]),
                "colleague": pick(["nl+m3", "nl+f4"]), "caller": pick(["nl+m4", "nl+f3"])}
    names = ["mb-nl2", "mb-nl3"]
    ivr = rng.choice(names)
    agent = rng.choice(names)
    return {"ivr": ivr, "agent": agent, "colleague": names[1 - names.index(agent)],
            "caller": rng.choice(names)}


def _voice(name: str, rng: random.Random, family: Family) -> g.Voice:
    if family.engine == "espeak":
        return g.Voice(name, rng.randint(35, 60), rng.randint(128, 150), rng.choice([4, 5]))
    return g.Voice(name, rng.randint(*family.mbrola_pitch), rng.randint(*family.mbrola_speed),
                   rng.choice([0, 1, 2]))


# --------------------------------------------------------------------------------------------
# One call
# --------------------------------------------------------------------------------------------


@dataclass
class _Ctx:
    rng: random.Random
    ph: Phrasing
    muni: str
    greet: str
    human: list[Clip] | None  # real speech for the caller and the conversation, when used

    def fill(self, template: str, **kw: str) -> str:
        kw = {"muni": self.muni, "greet": self.greet, **kw}
        text = template.format(**kw, **{k.capitalize(): v[:1].upper() + v[1:]
                                        for k, v in kw.items()})
        return text[:1].upper() + text[1:]

    def pick(self, options: tuple[str, ...], **kw: str) -> str:
        return self.fill(self.rng.choice(options), **kw)

    def caller_line(self, text: str) -> g.Caller:
        """A caller turn: real speech (any recorded line) when the family has it."""
        if self.human:
            clip = self.rng.choice(self.human)
            return g.Caller(clip.text, clip=clip.path)
        return g.Caller(text)


def _intro(ctx: _Ctx, kind: str) -> tuple[str, g.Intro]:
    first = ctx.rng.choice(ctx.ph.first_names or FIRST_NAMES)
    last = ctx.rng.choice(ctx.ph.surnames or SURNAMES)
    intro = {"first": g.Intro(first=first), "last": g.Intro(last=last),
             "full": g.Intro(first=first, last=last)}[kind]
    said = {"first": first, "last": ("mevrouw " if ctx.rng.random() < 0.3 else "") + last,
            "full": f"{first} {last}"}[kind]
    return said, intro


def _opening(ctx: _Ctx, kind: str) -> g.Agent:
    if kind == "none":
        return g.Agent(ctx.pick(ctx.ph.opening_no_name), intro=g.Intro())
    said, intro = _intro(ctx, kind)
    name_phrase = ctx.rng.choice(ctx.ph.intro).format(name=said)
    return g.Agent(ctx.pick(ctx.ph.opening, intro=name_phrase, name=said), intro=intro)


def _conversation(ctx: _Ctx, turns: int) -> list[g.Part]:
    """The caller's question and ``turns`` exchanges after the agent's opening."""
    parts: list[g.Part] = []
    for k in range(turns):
        q, a1, c2, a2 = ctx.rng.choice(g.TOPICS)
        ask = ctx.pick(ctx.ph.caller_ask) if k == 0 else q
        parts += [ctx.caller_line(ask), g.Agent(a1), ctx.caller_line(c2), g.Agent(a2)]
    return parts


def build_spec(idx: int, family: Family, rng: random.Random, human: list[Clip] | None,
               channels_allowed: tuple[tuple, ...] = CHANNELS,
               talk: random.Random | None = None) -> tuple[g.CallSpec, str, str]:
    """The spec of call ``idx``, its shape and channel label; with ``talk`` (a generator of
    its own, so that ``rng`` draws what it drew without it) the recording talk is added."""
    shapes = list(family.shapes)
    shape = rng.choices(shapes, weights=[family.shapes[s] for s in shapes])[0]
    channel, rate, codec, channels, caller_ch = rng.choice(channels_allowed)
    caller_clips = None
    if human and family.engine.endswith("human"):  # one voice actor is the caller
        speaker = rng.choice(sorted({c.speaker for c in human if c.speaker in "mv"}))
        caller_clips = [c for c in human if c.speaker == speaker]
    ctx = _Ctx(rng, PHRASING[family.phrasing], rng.choice(MUNICIPALITIES),
               rng.choice(GREETINGS), caller_clips)
    ph = ctx.ph
    name_kind = rng.choice(["none", "first", "last", "full", "full"])
    notice = shape == "notice_direct" or rng.random() < 0.5
    parts: list[g.Part] = []
    def ivr(key: str) -> g.Ivr:
        text = ctx.pick(getattr(ph, key))
        if key == "notice":
            return g.Ivr(text, notice=True, purposes=NOTICE_PURPOSES[text])
        return g.Ivr(text)

    if shape in ("menu_hold", "notice_direct", "long_queue", "lookalike", "transfer",
                 "no_agent"):
        if rng.random() < 0.6:  # many recordings start only when the line connects
            parts.append(g.Ringback(cycles=rng.randint(1, 2),
                                    last_off_s=rng.uniform(0.5, 2.0)))
        parts.append(ivr("welcome"))
        if shape == "lookalike":
            parts.append(ivr("lookalike"))
            notice = False
        elif notice and shape != "no_agent":
            parts.append(ivr("notice"))
    if shape == "no_agent":
        parts.append(ivr("closed"))
        return _spec(idx, family, parts, rng, channel, rate, codec, channels, caller_ch), \
            shape, channel
    if shape in ("menu_hold", "transfer"):
        parts += [ivr("menu"), g.Dtmf(rng.choice("123"), on_caller=True), ivr("connect"),
                  g.Music(rng.uniform(4.0, 15.0))]
    elif shape == "long_queue":
        total = rng.uniform(30.0, 60.0)
        pieces = rng.randint(3, 4)
        for k in range(pieces):
            parts.append(g.Music(total / pieces))
            if k < pieces - 1:
                parts.append(g.Ivr(ctx.pick(ph.queue)))
    elif shape == "lookalike":
        parts.append(g.Music(rng.uniform(3.0, 10.0)))
    elif shape == "ringback":
        parts.append(g.Ringback(cycles=rng.randint(2, 3), last_off_s=rng.uniform(0.3, 1.5)))
    elif shape == "caller_first":
        parts.append(g.Ringback(cycles=rng.randint(1, 2), last_off_s=rng.uniform(1.0, 2.0)))
        parts.append(g.Caller(ctx.pick(ph.caller_first)))
    opening = _opening(ctx, name_kind)
    if shape != "lookalike" and rng.random() < family.agent_notice_p:
        said = ctx.pick(ph.agent_notice)
        opening = replace(opening, text=opening.text + " " + said, notice=True,
                          purposes=NOTICE_PURPOSES[said])
    at_opening = len(parts)
    parts.append(opening)
    if shape == "transfer":
        parts.append(ctx.caller_line(ctx.pick(ph.caller_ask)))
        colleague, _ = _intro(ctx, "full")
        parts += [g.Agent(ctx.pick(ph.transfer, colleague=colleague)), g.Music(rng.uniform(3, 8))]
        parts.append(g.Agent(ctx.fill("{Greet}, met {name}.", name=colleague),
                             voice=_voice(_voices(family.engine, rng)["colleague"], rng,
                                          family)))
        parts += _conversation(ctx, 1)[1:]
    else:
        parts += _conversation(ctx, rng.randint(1, 2))
    if talk is not None:
        parts = _recording_talk(ctx, talk, parts, at_opening)
    return _spec(idx, family, parts, rng, channel, rate, codec, channels, caller_ch), \
        shape, channel


def _recording_talk(ctx: _Ctx, talk: random.Random, parts: list[g.Part],
                    at_opening: int) -> list[g.Part]:
    """``parts`` with, drawn from ``talk`` only: the caller's question whether the call is
    recorded after the first or second exchange of the conversation and the agent's answer
    (:data:`ASK_P`, answer kinds evenly); the caller's own notice as their first turn after
    the agent's opening, and the agent's response (:data:`ANNOUNCE_P`, kinds evenly). Both are
    synthetic caller speech, in the families with real callers too (the call's caller voice).
    Every draw is made in every call, so one call's talk does not depend on another's."""
    ph = ctx.ph
    ask, after = talk.random() < ASK_P, talk.choice([1, 2])
    kind = talk.choice(g.KNOWS_KINDS)
    question = ctx.fill(talk.choice(ph.rec_question))
    answer = ctx.fill(talk.choice(ph.rec_answer[kind]))
    announce, objected = talk.random() < ANNOUNCE_P, talk.choice(g.OBJECTED_KINDS)
    notice = ctx.fill(talk.choice(ph.announce))
    response = ctx.fill(talk.choice(ph.announce_response[objected]))
    first = next(i for i in range(at_opening + 1, len(parts)) if isinstance(parts[i], g.Caller))
    out = list(parts)
    if ask:
        ends = g.exchange_ends(parts, first)
        at = ends[min(after, len(ends)) - 1]
        out[at:at] = [g.Caller(question, asks_recording=True), g.Agent(answer, answer=kind)]
    if announce:
        out[first:first] = [g.Caller(notice, announces_recording=True),
                            g.Agent(response, objected=objected)]
    return out


def _spec(idx: int, family: Family, parts: list[g.Part], rng: random.Random, channel: str,
          rate: int, codec: str, channels: int, caller_ch: int) -> g.CallSpec:
    v = _voices(family.engine, rng)
    voice = {k: _voice(n, rng, family) for k, n in v.items()}
    return g.CallSpec(
        stem=f"{family.name}_{idx:04d}", parts=tuple(parts), ivr_voice=voice["ivr"],
        agent_voice=voice["agent"], caller_voice=voice["caller"], channels=channels,
        caller_channel=caller_ch, rate=rate, fmt="wav", codec=codec,
        noise_dbfs=rng.choice([None, None, -52.0, -46.0, -40.0]),
        line_gain_db=rng.uniform(-6.0, 3.0), caller_gain_db=rng.uniform(-10.0, 0.0),
        description=f"{family.name}; {channel}")


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def build(out: Path, calls: int, families: list[str], seed: int = SEED,
          progress: Callable[[int, int], None] | None = None,
          channels: list[str] | None = None) -> list[dict[str, str]]:
    """Write ``calls`` calls spread over ``families`` under ``out`` (channel conditions drawn
    from ``channels``, default all); returns the label rows."""
    fams = [FAMILIES[f] for f in families]
    allowed = tuple(c for c in CHANNELS if channels is None or c[0] in channels)
    if any(f.engine.startswith("mbrola") for f in fams) and not have_mbrola():
        raise CorpusError(MBROLA_HINT)
    human = fillets_clips() if any(f.engine.endswith("human") for f in fams) else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tts = g.Tts(work)
        for k in range(calls):
            family, idx = fams[k % len(fams)], k // len(fams)
            rng, talk = call_generators(family, idx, seed)
            spec, shape, channel = build_spec(idx, family, rng, human, allowed, talk)
            rendered = g.render(spec, tts)
            rel = Path("calls") / family.name / spec.filename
            written = g.write_call(rendered, out / rel, out / "rttm" / f"{spec.stem}.rttm",
                                   out / "transcripts" / f"{spec.stem}.txt", work, rel_to=out)
            rows.append({**written.labels, "shape": shape, "family": family.name,
                         "channel": channel})
            if progress:
                progress(k + 1, calls)
    g.write_csv(out / "labels.csv", LABEL_HEADER, rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("corpus"))
    parser.add_argument("--calls", type=int, default=540, help="calls in all (default 540)")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES),
                        choices=list(FAMILIES), help="families to build (default all)")
    parser.add_argument("--channels", nargs="*", choices=[c[0] for c in CHANNELS],
                        help="channel conditions to draw from (default all)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        rows = build(args.out, args.calls, args.families, args.seed,
                     lambda k, n: log.info("%d/%d", k, n) if k % 20 == 0 or k == n else None,
                     args.channels)
    except (CorpusError, g.GenerateError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(rows)} calls -> {args.out}/labels.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
