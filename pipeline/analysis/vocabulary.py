"""The words of the rules, written once. A leaf module: it imports nothing of the package.

Read by the role stage (``pipeline.analysis.roles``), by the NER training and the assembly of
the language stage (``training/ner_train.py``; ``training/ner_assemble.py`` writes the span
ruler's patterns and the components' word lists from here into ``models/ner-nl``) and by the
fixture generator (``audio_fixtures/generate.py``). The language stage reads these words from
the assembled model, never from this module, so that the model's checksums cover them: a
change here reaches it after ``make assemble-ner`` (``tests/test_language.py`` fails until then).

Lower case throughout; a consumer that needs another case (the NER's cased training text)
converts. Where a consumer draws from a tuple with a seeded random generator (the NER training,
the fixtures) the order matters: append, do not reorder.
"""

from __future__ import annotations


def _phrases(text: str) -> tuple[str, ...]:
    """'a b, c' -> ('a b', 'c'): keeps long phrase lists readable."""
    return tuple(p.strip() for p in text.split(",") if p.strip())


# --------------------------------------------------------------------------------------------
# greetings
# --------------------------------------------------------------------------------------------

# in the order the role stage lists them and the NER training draws them
GREETINGS_IN_FULL = ("goedemorgen", "goedemiddag", "goedenavond", "goedendag")
GREETINGS_INFORMAL = {"goeiemorgen": "goedemorgen", "goeiemiddag": "goedemiddag"}
GREETINGS_SHORT = ("hallo", "dag")
# every spoken or misheard form -> the greeting it is (the language stage's GREETING label)
GREETINGS: dict[str, str] = {
    **{g: g for g in (*GREETINGS_IN_FULL, *GREETINGS_SHORT, "welkom")},
    **GREETINGS_INFORMAL,
    "goedenmorgen": "goedemorgen",
    "morgen": "goedemorgen",
    "goedenmiddag": "goedemiddag",
    "middag": "goedemiddag",
    "goeienavond": "goedenavond",
    "goedeavond": "goedenavond",
    "goeiendag": "goedendag",
    "goededag": "goedendag",
    "hoi": "hallo",
    "hai": "hallo",
}
# alone these mean tomorrow and afternoon: greetings only as "goede morgen"
GREETINGS_NOT_ALONE = ("morgen", "middag")
GREETINGS_IN_TWO_WORDS = _phrases(
    "goede morgen, goeie morgen, goede middag, goeie middag, goede avond, goeden avond, "
    "goede dag, goeden dag"
)
# the role stage's greeting words: a live agent's (or caller's) greeting
GREETING_WORDS: tuple[str, ...] = (*GREETINGS_IN_FULL, *GREETINGS_INFORMAL, *GREETINGS_SHORT)
# what a caller says into a line that was picked up in silence ("hallo?", "ja, hallo?")
CALL_OUTS: tuple[str, ...] = ("hallo", "ja", "hoi", "hai", "he", "hee", "allo", "halo")
# a call-out and the starts of an opening, scored on a short wordless stretch of speech after a
# pick-up (pipeline.analysis.callouts): the texts callers and agents use, not one phrasing's
CALL_OUT_TEXTS: tuple[str, ...] = ("Hallo?", "Ja, hallo?")
OPENING_STARTS: tuple[str, ...] = ("Goedemiddag", "Goedemorgen", "Goedendag", "Goedenavond",
                                   "Gemeente", "Met", "Welkom")
# words of an introduction: a call-out followed by one of them is an answer ("hallo, met
# Joost"), not a caller's "hallo?" (the role stage)
INTRO_WORDS = frozenset(("met", "spreekt", "naam", "hier", "gemeente"))
# what "mijn <word> is" may be besides "mijn naam is" ("mijn vraag is", "mijn taak is")
NOT_NAAM = frozenset({"vraag", "taak", "dag", "baas", "kans", "zaak"})

# --------------------------------------------------------------------------------------------
# who speaks: phone system, agent, caller (the role stage; callers' phrases also the language
# stage's CALLER_CUE)
# --------------------------------------------------------------------------------------------

IVR_PHRASES: tuple[str, ...] = (
    "welkom bij", "kies", "toets", "druk op", "wordt doorverbonden", "u wordt doorverbonden",
    "een moment geduld", "moment geduld", "wachtenden", "wachtrij", "u bent nummer",
    "in de wacht", "blijft u aan de lijn", "blijf aan de lijn", "al onze medewerkers",
    "medewerkers zijn in gesprek", "momenteel", "openingstijden", "bezoek onze website",
    "kijk op", "keuzemenu", "hekje", "sterretje", "uw wachttijd", "wachttijd",
    "uw gesprek is belangrijk", "u wordt zo snel mogelijk geholpen",
    # who the caller reached, and a closed office or a voicemail: a recording answers there
    "u belt met", "is gesloten",
    "zijn gesloten", "zijn wij gesloten", "kantooruren", "kantoortijden", "kantoortijd",
    "wij zijn bereikbaar", "zijn wij bereikbaar", "bereikbaar van", "telefonisch bereikbaar",
    "niet bereikbaar", "belt u morgen", "belt u later", "belt u tijdens", "belt u op een ander",
    "na de piep", "na de toon", "spreek uw bericht in", "spreek een bericht in",
    "bericht inspreken", "voicemail",
)
# the agent's offer of help closes an opening; it counts for the start of the turn it ends
SERVICE_PHRASES: tuple[str, ...] = (
    "waarmee kan ik u helpen", "waarmee kan ik", "wat kan ik voor u doen", "kan ik u helpen",
    "kan ik je helpen",
)
# what callers say about their own call ("ik heb een vraag over ...", "ik bel namens ...")
CALLER_PHRASES: tuple[str, ...] = (
    "ik bel over", "ik bel namens", "ik bel omdat", "ik bel even", "ik bel voor", "ik bel met",
    "ik belde", "ik heb een vraag", "ik heb een klacht", "ik heb een melding", "ik wil graag",
    "ik wilde graag", "ik wou", "ik zou graag", "namens mijn", "spreek ik met", "ik wil een",
    "kunt u mij vertellen", "mijn vraag is",
)

# --------------------------------------------------------------------------------------------
# introductions
# --------------------------------------------------------------------------------------------

# phrase -> pattern name (the INTRO label's id); the name follows the phrase
INTRO_PHRASES: dict[str, str] = {
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
# the role stage's opening of a live agent: introductions that are one whatever follows, the
# line, the offer of help
GREETING_PHRASES: tuple[str, ...] = (
    "u spreekt met", "je spreekt met", "spreekt met", "mijn naam is", LINE_PHRASES[0],
    *SERVICE_PHRASES, "ik ben",
)
# titles as written, in the order the NER training draws them; and other spellings
TITLES = ("mevrouw", "meneer", "mijnheer", "de heer", "mevr.")
TITLE_VARIANTS = (
    "mevr", "mw", "mw.", "dhr", "dhr.", "mnr", "mnr.", "juffrouw", "mevrou", "menheer", "mefrouw"
)
# bare "met" is an introduction only after one of these (or at the start / after punctuation)
MET_OK_BEFORE = frozenset(
    "ja hallo hoi dag goed oké ok zeg eh uh ehm euh nou hier yes jazeker nu".split()
)
# "met" phrases that are no introduction ("met name", "met vriendelijke groet")
MET_NOT_INTRO = frozenset(
    "name vriendelijke spoed betrekking ingang dank plezier genoegen alle ieder iedereen".split())
FILLERS = frozenset({"eh", "uh", "ehm", "euh", "hm", "uhm", "ja", "nou"})
# what else "u spreekt ..." can be followed by (some are surnames too: Engels, Frans)
LANGUAGES = frozenset(
    """nederlands engels duits frans spaans turks arabisch pools italiaans portugees fries
    russisch chinees oekraiens""".split()
)
# words that end a name: function words and call vocabulary
NAME_STOP_WORDS = frozenset(
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
DETERMINERS = frozenset("dit deze het de uw mijn alle die onze eigenlijk ook".split())
# Whisper's stock hallucinations on silence or music
HALLUCINATION_SENTENCES = (
    "ondertiteld door de amara.org gemeenschap",
    "ondertiteling door de amara.org gemeenschap",
    "bedankt voor het kijken",
)
HALLUCINATIONS = ("amara.org", "bedankt voor het kijken", "ondertiteld door", "ondertiteling")

# --------------------------------------------------------------------------------------------
# organisations
# --------------------------------------------------------------------------------------------

ORG_HEAD_RE = r"^(gemeente[ns]?|gemente|gemeent|gemeenten|meente|gemeentehuis)$"
# a municipality's departments as named, in the order the NER training draws them
DEPARTMENTS = (
    "Burgerzaken", "Publiekszaken", "Klantcontactcentrum", "KCC", "Belastingen", "Vergunningen",
    "Wijkteam", "Zorgloket", "Omgevingsloket", "Stadswinkel", "Werk en Inkomen",
    "Sociaal Domein", "Receptie", "Servicecentrum", "Parkeren", "Afvalzaken", "Bouwen en Wonen",
    "Jeugd en Gezin", "Leerplicht", "Schuldhulp",
)
# other names and spellings the rules know (ASR splits compounds: "burger zaken")
DEPARTMENT_VARIANTS = _phrases(
    "burger zaken, klant contact centrum, klantcontact centrum, klantcontact, klantenservice, "
    "publieksbalie, servicepunt, informatiecentrum, frontoffice, publiekscentrum, stadsbeheer, "
    "openbare ruimte, storingsdienst, telefooncentrale"
)
# "...zaken", "...loket": the end of a department's name, not of a person's
DEPARTMENT_ENDINGS = ("zaken", "loket", "centrum", "balie", "dienst")
# "team Vergunningen", "afdeling X": a head word and the department's name
DEPARTMENT_HEADS = ("team", "afdeling", "cluster", "bureau", "loket")
# spoken or misheard names of municipalities -> the official name in the lexicon
MUNICIPALITY_ALIASES = {
    "Den Bosch": "'s-Hertogenbosch",
    "s-Hertogenbosch": "'s-Hertogenbosch",
    "s Hertogenbosch": "'s-Hertogenbosch",
    "Hertogenbosch": "'s-Hertogenbosch",
    "s-Gravenhage": "'s-Gravenhage",
    "Súdwest Fryslân": "Súdwest-Fryslân",
    "Sudwest Fryslan": "Súdwest-Fryslân",
}

# --------------------------------------------------------------------------------------------
# recording notices
# --------------------------------------------------------------------------------------------

# the words the role stage takes for a recorded notice in a phone system's announcement
RECORDING_WORDS = ("opgenomen", "vastgelegd", "opname", "opnames", "opnamen")
# the same participles as the recogniser splits them ("dit gesprek wordt op genomen")
RECORDING_WORDS_SPLIT = ("op genomen", "op genoemen", "op genome", "vast gelegd")
RECORD_VERBS = tuple(
    """opgenomen opgenoemen opgenome opgenomme opgenommen opgenomem vastgelegd vastgelegt
    vastgelecht opgeslagen geregistreerd opnemen opneemt opneem opnam vastleggen vastlegt
    recorded""".split()
)
# also taken one letter off ("opgenomn")
RECORD_VERBS_FUZZY = ("opgenomen", "vastgelegd", "opgeslagen")
# the participle split by ASR, and English
RECORD_VERBS_SPLIT = _phrases(
    "op genomen, op genoemen, vast gelegd, op geslagen, op te nemen, op nemen, op genome, "
    "may be recorded, is recorded, be recorded"
)
# separable verbs: "neemt [dit gesprek] op", "legt [het] vast": particle -> (the verb's forms,
# the words the part between them cannot hold: "neemt ... aan" is another verb)
RECORD_SEPARABLE = {
    "op": (("neem", "neemt", "nemen", "nam", "namen"), ("op", "aan")),
    "vast": (("leg", "legt", "leggen", "legde", "legden"), ("vast",)),
}
RECORD_NOUNS = tuple(
    """opname opnames opnamen geluidsopname geluidsopnamen geluidsopnames gespreksopname
    gespreksopnamen recording""".split()
)
RECORD_NOUN_PHRASES = ("opnemen van",)  # "het opnemen van gesprekken"
# the call itself; ASR often drops the "ge" of "gesprekken" or hears a t ("gestrekken"), or
# garbles the start ("persprek", "getesprek", "het sprek"): only "gesprek" ends so in Dutch
CALL_NOUN_RE = (
    r"^(telefoon|klant|telefonische)?(gespre[kc]|gesprekk)\w*$|^telefoontjes?$|^calls?$"
    r"|^\w*(gestrek|gestrekken|sprekken)$|^\w*spre[kc]t?$"
)
# "...doeleinden" (kwaliteits-, trainings-, opleidings-) is the purpose phrase of Dutch notices
# and keeps its ending when ASR garbles the start ("maliteitsdoeleinden"); "dienstver..." keeps
# its start when ASR garbles the end ("dienstverdrainingte" for "dienstverlening"), but a
# "dienstverband" (employment) is no purpose
PURPOSE_RE = (
    r"kwaliteit|training|opleiding|dienstver(?!band)|coach|verbeter|^leren$|quality"
    r"|^service$|bewaken|trainen|^trainings|\w{3,}doeleinden$"
)
# what an announcement's passive "... worden opgenomen" names when the recogniser misheard it
# by a letter or two: the call ("dit bestrek wordt opgenomen") or a purpose ("opgenomen voor
# knaliteitsbelenden"). Told by edit distance, never by the ruler: such a notice is counted
# and always flagged for review (notices.py)
MISHEARD_CALL_NOUNS = ("gesprek", "gesprekken", "telefoongesprek", "telefoongesprekken")
MISHEARD_PURPOSES = ("kwaliteit", "opleiding", "training", "dienstverlening", "verbetering")
NEGATIONS = ("niet", "geen", "nooit", "niets", "not", "never")
# what a look-alike says is recorded ("uw gegevens worden opgenomen")
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
# "opgenomen in ons systeem / de wachtrij": taken into a container, not recorded
CONTAINERS_RE = (
    r"(systeem|register|registratie|dossier|administratie|wachtrij|planning|bestand|lijst|volgorde"
    r"|database|agenda|ziekenhuis|brp|archief|overzicht)$"
)
# "uw gesprek wordt zo snel mogelijk opgenomen": answered, not recorded
ANSWER_SENSE = _phrases(
    "zo snel mogelijk, zo spoedig mogelijk, zo meteen, zo dadelijk, straks, zodra, binnenkort, "
    "direct, meteen, volgorde van binnenkomst"
)
# a negation near these is about wanting the recording ("wilt u dat niet"), not about doing it
NEGATION_EXEMPT_NEAR = frozenset(
    {"wil", "wilt", "wenst", "akkoord", "eens", "alleen", "prettig", "fijn", "wilde", "bezwaar"}
)
QUESTION_VERBS = frozenset({"wordt", "worden", "neemt", "nemen", "werd", "kan", "kunnen"})
# "opgenomen" the recogniser garbled keeps its ending ("volgenomen", "op je nomen", "kan mogen
# voor genomen"); in a phone system's announcement with a call noun or a purpose nearby it is
# read as a recording verb, flagged for review; these real verbs that end so are not
GARBLED_PARTICIPLE_RE = r"^\w*nomen$"
# "wij nemen gesprekken [op]" with the particle lost ("mijn nemen gestrekken tot om u beter"):
# the verb's forms, read as a garbled recording verb with a call noun right after it
SEPARABLE_RECORD_VERBS, SEPARABLE_RECORD_PARTICLES = RECORD_SEPARABLE["op"]
NOT_GARBLED_PARTICIPLES = frozenset(
    """aangenomen afgenomen benomen deelgenomen ingenomen meegenomen ondernomen ontnomen
    overgenomen plaatsgenomen toegenomen voorgenomen waargenomen""".split()
)
# "dit gesprek wordt genoemd", "worden gesprekken op gelangen": "opgenomen" misheard as
# another word of a participle's shape (the prefix "ge" and its ending kept), right after a
# passive "worden" beside a call noun; read as a garbled recording verb (flagged), never these
# participles of other things done with a call or with the caller
GARBLED_PASSIVE_PARTICIPLE_RE = r"^ge\w{3,}(en|d|de)$"
# the passive's auxiliary, also misheard ("wort"); the caller's-notice rules share it
WORDEN_FORMS = frozenset({"wordt", "word", "wort", "worden", "werd", "werden"})
# (participles ending in -t, "gezet", "geplaatst", are outside the shape above already)
NOT_GARBLED_PASSIVE_PARTICIPLES = frozenset(
    """geholpen gevoerd gewaardeerd gesloten geopend geleden gegeven gebeld gemeld gedeeld
    gehouden genoteerd gekoppeld geregeld gewijzigd gevolgd geëindigd geëvalueerd
    geanalyseerd gecontroleerd gewogen gelezen geschreven gestuurd gezonden gesproken
    geweigerd geannuleerd geparkeerd geleid""".split()
)
# the passive "(gesprekken) kunnen worden opgenomen" says that something is recorded even where
# ASR lost the subject; not "kan ik", "kunt u" (offers and questions to the caller)
PASSIVE_AUX = frozenset({"wordt", "worden", "kan", "kunnen", "mogen", "zullen", "zal"})
PRONOUNS = frozenset("ik u je jij we wij ze zij hij men".split())
