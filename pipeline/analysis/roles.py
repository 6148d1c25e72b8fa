"""Role stage: label every stretch of a call IVR, AGENT, CALLER, MUSIC, TONE or SILENCE and
find the moment the live agent starts.

Every verdict hangs on ``agent_start_s``: a recording notice counts as "before the agent" only
relative to it, and only the agent's own opening can carry the agent's name. The stage
combines independent evidence, each of which fails on some calls:

* non-speech events (hold music, ringback, DTMF, silence) are never speech roles;
* channels: in a stereo recording one channel carries the caller, the other the line;
* speaker clusters from diarization: the IVR is one recorded voice, the agent another;
* wording: IVR menus ("kies 1", "toets", "welkom bij", "u wordt doorverbonden") vs. a live
  greeting ("u spreekt met", "waarmee kan ik u helpen");
* order and turn-taking: IVR and hold come before the agent, and the caller answers the agent
  (nobody talks back to a recorded announcement);
* the moment hold music or ringback stops is when a person usually picks up.

Candidates are scored first (``score_agent_candidates``), decided after (``assign_roles``).
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from pipeline.analysis.agent_model import AUDIO_CUES, agent_start_model
from pipeline.analysis.events import subtract_spans
from pipeline.analysis.transcribe import normalise_text, with_words
from pipeline.analysis.vocabulary import (
    CALL_OUTS,
    CALLER_PHRASES,
    GREETING_PHRASES,
    GREETING_WORDS,
    GREETINGS,
    GREETINGS_IN_FULL,
    INTRO_WORDS,
    IVR_PHRASES,
    LINE_PHRASES,
    MET_NOT_INTRO,
    MET_OK_BEFORE,
    NAME_STOP_WORDS,
    NOT_NAAM,
    RECORDING_WORDS,
    RECORDING_WORDS_SPLIT,
    SERVICE_PHRASES,
    TITLES,
)
from pipeline.types import (
    AgentCandidate,
    Event,
    Role,
    RoleTimeline,
    Segment,
    Transcript,
    Turn,
    Utterance,
    role_annotation,
)

logger = logging.getLogger(__name__)

# the wording of phone systems, agents and callers is shared with the language stage and the
# fixture generator (pipeline.analysis.vocabulary); a recording notice is played by the phone
# system before anyone answers
RECORDING_RE = re.compile(r"\b({})\b".format("|".join(
    [*RECORDING_WORDS, *(w.replace(" ", r"\s+") for w in RECORDING_WORDS_SPLIT)])))
# the present tense, as a system says it of itself: "wij leggen dit gesprek vast", "(om ...)
# nemen wij dit gesprek op" (the verb and its particle at most four words apart, a call among
# them: not "wij nemen uw melding op"), "dat wij telefoongesprekken opnemen" (one word, also as
# the recogniser splits it, "op nemen"; not "contact opnemen")
RECORDING_PRESENT_RE = re.compile(
    r"\b((neem|neemt|nemen|leg|legt|leggen)(\s+\w+){0,2}\s+\w*s[pt]rek\w*(\s+\w+)?\s+(op|vast)"
    r"|(?<!contact\s)(opnemen|opneemt|op\s+nemen|vastleggen|vastlegt|vast\s+leggen))\b")
# stereo: what a kind of non-speech event clearly louder on one channel (by more than
# LEVEL_MARGIN_DB) says about that channel, in points for "it is the line". Ringback, busy
# tones and hold music come from the exchange, so they are loud on the line's channel; DTMF
# key presses are made by the caller, so they are loud on the caller's (against the line).
# A level difference is heard, not transcribed: it outweighs wording and who spoke first.
LINE_LEVEL_WEIGHTS: dict[str, float] = {
    "music": 3.0, "ringback": 3.0, "busy": 3.0, "tone": 3.0, "dtmf": -3.0,
}
LEVEL_MARGIN_DB = 6.0
# events whose end is a pick-up: the line's speech right after them is someone answering
PICKUP_KINDS = ("music", "ringback", "tone", "busy")
# fewest agent and caller utterances with a voice print for split_by_voice to part them
MIN_VOICE_PRINTS = 3


@dataclass(frozen=True)
class RoleOptions:
    """Options of the role stage (times in seconds)."""

    min_speech_s: float = 0.25  # shorter speech stretches are ignored
    nonspeech_cover: float = 0.6  # speech covered more than this by music/tones is not speech
    reply_window_s: float = 5.0  # a reply this soon after a candidate marks a live exchange
    # a reply must last this long: a diarization blip of another cluster inside an
    # announcement (a quarter second) is no live exchange; a spoken "ja?" lasts longer
    min_reply_s: float = 0.4
    pickup_window_s: float = 4.0  # speech this soon after hold music/ringback ends = pick-up
    # the agent's voice may start up to this long before the first word Whisper wrote (it
    # loses a first word or two after hold music); the agent start is then the diarization
    # turn's onset, when no other speech lies between and it is at least ``onset_min_s`` earlier
    onset_back_s: float = 2.5
    onset_min_s: float = 1.0
    # ... where the turn may begin this long before the pick-up (the music detector places the
    # end of music with a 1 s window, EventOptions.music_edge_window_s, so its end runs into
    # the agent's first word) and may end this long before the utterance (a short pause
    # after the lost words splits the turn)
    onset_pickup_slack_s: float = 1.0
    onset_join_gap_s: float = 0.3
    menu_window_s: float = 8.0  # speech this soon before DTMF or hold music is IVR-like
    fuzzy_ratio: float = 0.8  # difflib ratio for a misheard phrase to still count
    # which agent-start model scores the candidates: "default" (the shipped learned model),
    # "rules" (the first hand-set weights) or a model file (pipeline.analysis.agent_model)
    agent_start_model: str = "default"
    # probability the first agent candidate needs; None: the model's own threshold
    agent_threshold: float | None = None
    caller_channel: int | None = None  # stereo: the caller's channel; None = detect
    # pauses shorter than this between two stretches of the same role (and channel) belong
    # to the turn: the recogniser's segments leave gaps at commas and breaths that are no
    # change of floor
    bridge_gap_s: float = 0.5
    # a short line utterance (at most this long) of call-outs only ("ja, hallo") or a short
    # question ("hallo, is daar iemand?"), answered at once by a longer line utterance with
    # greeting wording, is a caller's "hallo?" before the agent's greeting (feature
    # short_before_greeting)
    short_call_max_s: float = 2.5
    # a wordless stretch of speech this long (mono, within pickup_window_s of a pick-up) is
    # scored as a call-out against the starts of an opening (pipeline.analysis.callouts); a
    # call-out likelier by callout_check_margin (log-probability) is written as one (0: off)
    callout_check_min_s: float = 0.25
    callout_check_max_s: float = 1.2
    callout_check_margin: float = 2.0
    callout_check_pad_s: float = 0.15  # audio around the stretch the texts are scored on
    # a segment that opens with call-outs only ("hallo?", "ja, hallo") and then pauses at
    # least this long is split there: the recogniser joins a caller's "hallo?" at pick-up to
    # the agent's greeting that follows it, and the diarization gives so short a turn to the
    # nearer voice (0: no split)
    callout_pause_s: float = 0.3
    # the chosen words that go on with the sentence of the line's words before them (no
    # sentence end there, at most this far apart) and end that sentence before a pause of at
    # least sentence_pause_s, with a greeting after it: the agent starts after that sentence
    # end (the recogniser joined a recording's last words to the agent's first; 0: off)
    # (also: a segment that ends in no sentence mark is read, for its wording, with the rest
    # of its sentence from the same voice's next segment at most continued_gap_s later)
    continued_gap_s: float = 0.3
    sentence_pause_s: float = 0.3
    # ... and a recording notice's sentence goes on across a breath this long ("Dit gesprek
    # wordt opgenomen, | voor trainingsdoeleinden. Mijn naam is ..."): long notices are split
    # at breaths, where no agent has started yet
    notice_gap_s: float = 1.0
    # line speech without announcement wording, at least this long between two stretches of
    # hold music before the chosen start: an agent who answered there, spoke with the caller
    # and handed the call on, all misheard; the start is then reviewed. A queue message between
    # two stretches of music is one sentence (3-5 s); a greeting, the caller's question and
    # the hand-over take 8 s or more (0: off)
    between_holds_min_s: float = 6.0
    # candidates with any of these features are never the agent start, whatever the model
    # says: the line answers a "hallo?" with a greeting, so the "hallo?" is the caller's
    # (left-out tuning families 144 against 143 of 180 calls as a learned weight)
    never_agent: tuple[str, ...] = ("short_before_greeting",)
    # mono calls: from the agent start on, the utterances with a voice print of their own
    # (``assign_roles(voices=...)``) are split in two groups by voice, the agent's (that of
    # the agent's first words) and the caller's, where the two groups' mean prints are at
    # most this alike (cosine). pyannote's 10 s windows often hold both sides of a telephone
    # exchange as one local speaker, and then no clustering can part them (0: off)
    voice_split_max_similarity: float = 0.75
    voice_min_s: float = 0.8  # shorter utterances get no voice print (too few frames to trust)
    # mono calls, after that split: an utterance whose two sides of one of its longest word
    # gaps (at most ``voice_change_gaps`` of them, each side at least ``voice_min_s``) are each
    # nearer another group's mean print by at least this margin (cosine) is cut there: a
    # recogniser segment runs over a change of speaker when nobody pauses long (0: off)
    voice_change_margin: float = 0.05
    voice_change_gaps: int = 1
    # only utterances whose own print lies near the middle of the two mean prints get their
    # sides printed: projected on the line through the means, at most this far from their
    # midpoint (unit prints; one voice's utterance lies out near its mean)
    voice_change_max_lean: float = 0.4
    # a stretch of one voice at least this long before another voice answers is a recorded
    # announcement more often than an agent's opening (feature long_run_before_answer)
    monologue_s: float = 8.0
    # stereo calls in which only the line's channel ever speaks: nobody answered the line, so
    # no live agent is taken (a closed-office message, a voicemail); the call goes to review
    # as every call without an agent does (docs/decisions/agent-start-model.md)
    one_sided_no_agent: bool = True
    # the line's stretch that the call's first reply answers is read back from that reply
    # (one voice, pauses under 2 s) at most this long, and up to announcement or menu wording;
    # its first words get feature opens_answered_turn (an agent's opening lasts a few seconds;
    # left-out tuning families: 6 s 0.828, 8-15 s 0.844-0.85)
    answered_turn_max_s: float = 10.0


# ------------------------------------------------------------------------------ wording


# the clitic forms the recogniser writes ("m'n", "m 'n", "z'n"), which the tokens split in two
CLITICS = {("m", "n"): "mijn", ("z", "n"): "zijn"}


def _tokens(text: str) -> list[str]:
    """The words of ``text``, normalised, a split clitic as its full word ("m 'n" -> "mijn"):
    "m'n name is" is "mijn naam is" misheard, which the fuzzy match must see as one word."""
    out: list[str] = []
    for t in re.findall(r"\w+", normalise_text(text)):
        if out and (out[-1], t) in CLITICS:
            out[-1] = CLITICS[out[-1], t]
        else:
            out.append(t)
    return out


# a phrase of at least this many letters may match fewer, joined tokens (fuzzy_find)
JOINED_MIN_CHARS = 12


def fuzzy_find(tokens: list[str], phrase: str, min_ratio: float,
               veto: frozenset[str] = frozenset()) -> bool:
    """Whether ``phrase`` occurs in ``tokens``, allowing ASR misspellings.

    Short words (<= 3 letters) must match exactly: "kies" must not match "kiest" by accident
    of a ratio, and "dag" not "dat". A ``veto`` word where the phrase has another is that
    word, not a misspelling ("mijn vraag is" is no "mijn naam is").
    """
    words = phrase.split()
    n = len(words)
    if n == 0:
        return False
    target = " ".join(words)
    for i in range(len(tokens) - n + 1):
        window = tokens[i:i + n]
        if window == words:
            return True
        if all(len(w) <= 3 for w in words):
            continue
        if any((len(w) <= 3 or t in veto) and w != t
               for w, t in zip(words, window, strict=True)):
            continue
        if difflib.SequenceMatcher(None, " ".join(window), target).ratio() >= min_ratio:
            return True
    # the recogniser also joins words ("matkantik voor u doen" for "wat kan ik voor u doen"):
    # a long phrase may match fewer tokens, compared without the spaces
    joined = "".join(words)
    if n < 3 or len(joined) < JOINED_MIN_CHARS:
        return False
    for k in range(max(2, n - 2), n):
        for i in range(len(tokens) - k + 1):
            window = "".join(tokens[i:i + k])
            if (abs(len(window) - len(joined)) <= 3
                    and difflib.SequenceMatcher(None, window, joined).ratio() >= min_ratio):
                return True
    return False


def phrase_hits(text: str, phrases: tuple[str, ...], min_ratio: float,
                veto: frozenset[str] = frozenset()) -> list[str]:
    tokens = _tokens(text)
    return [p for p in phrases if fuzzy_find(tokens, p, min_ratio, veto)]


def ivr_wording(text: str, min_ratio: float = 0.8) -> list[str]:
    """IVR phrases heard in ``text`` (menu choices, welcome, queue messages)."""
    return list(_ivr_wording(text, min_ratio))


def greeting_wording(text: str, min_ratio: float = 0.8) -> list[str]:
    """Live-greeting phrases heard in ``text``."""
    return list(_greeting_wording(text, min_ratio))


def announcement_wording(text: str, min_ratio: float = 0.8) -> list[str]:
    """IVR wording (:func:`ivr_wording`) or a recording notice: what a recorded voice says.
    A notice said after a live greeting ("Gemeente Epe, met Thijs, goedemiddag. Wij nemen dit
    gesprek op ...") is the speaker's own: a phone system introduces no one."""
    hits = ivr_wording(text, min_ratio)
    norm = normalise_text(text)
    notice = [m for m in (RECORDING_RE.search(norm), RECORDING_PRESENT_RE.search(norm)) if m]
    if notice:
        # the words before the notice, with their punctuation ("..., met Thijs, ...")
        n = len(norm[:min(m.start() for m in notice)].split())
        words = list(re.finditer(r"\w+(?:\.\w+)*", text))
        prefix = text[:words[n].start()] if n < len(words) else text
        if not _live_greeting_before(prefix, min_ratio):
            hits.append("recording_notice")
    return hits


def _live_greeting_before(prefix: str, min_ratio: float) -> bool:
    """Whether ``prefix`` greets as a person does (an introduction, an offer of help; more
    than a greeting word) and has no IVR wording ("blijft u aan de lijn")."""
    return bool(prefix.strip()) and any(
        g not in GREETING_WORDS for g in greeting_wording(prefix, min_ratio)
    ) and not ivr_wording(prefix, min_ratio)


# an agent handing the call on, in the first person ("daarvoor verbind ik u door met mijn
# collega", "ik zet u even door"); a phone system's "u wordt doorverbonden" is passive
TRANSFER_RE = re.compile(
    r"\b((mijn|m n|mn|men) collega|ik (verbind|zet|schakel)\w* (u|je|jou) (\w+ )?door"
    r"|(verbind|zet|schakel)\w* ik (u|je|jou) (\w+ )?door)")


@functools.lru_cache(maxsize=4096)
def transfer_wording(text: str) -> bool:
    """Whether ``text`` has an agent's own words for handing the call to a colleague."""
    return bool(TRANSFER_RE.search(normalise_text(text)))


@functools.lru_cache(maxsize=4096)
def caller_wording(text: str) -> tuple[str, ...]:
    """Caller phrases in ``text``, matched exactly (word for word): fuzzy matches of such
    short phrases would find them in what agents say."""
    norm = f" {normalise_text(text)} "
    return tuple(p for p in CALLER_PHRASES if f" {p} " in norm)


# the role stage asks about the same utterances again for every candidate it weighs, and
# again after each transcribed window; the fuzzy matching is worked out once per text
@functools.lru_cache(maxsize=4096)
def _ivr_wording(text: str, min_ratio: float) -> tuple[str, ...]:
    hits = phrase_hits(text, IVR_PHRASES, min_ratio)
    if re.search(r"\b(kies|toets|druk)\w*\s+(\w+\s+)?(een|twee|drie|vier|vijf|\d)\b",
                 normalise_text(text)):
        hits.append("menu_choice")
    return tuple(hits)


@functools.lru_cache(maxsize=4096)
def _greeting_wording(text: str, min_ratio: float) -> tuple[str, ...]:
    hits = phrase_hits(text, GREETING_PHRASES, min_ratio, NOT_NAAM)
    if LINE_PHRASES[0] in hits and not phrase_hits(_statements(text), LINE_PHRASES[:1],
                                                   min_ratio):
        # "heb ik nu een mens aan de lijn?": asked, it is the caller's check; the agent's
        # introduction says it ("u heeft Sanne aan de lijn")
        hits.remove(LINE_PHRASES[0])
    if _introduces_by_name(text):
        hits.append("met_name")
    first = _tokens(text)[:4]
    hits += [w for w in GREETING_WORDS if any(
        t == w or (len(w) > 4 and difflib.SequenceMatcher(None, t, w).ratio() >= min_ratio)
        for t in first)]
    return tuple(hits)


def _statements(text: str) -> str:
    """``text`` without its questions (sentences that end in "?")."""
    return " ".join(s for s in re.split(r"(?<=[.?!])\s+", text) if not s.rstrip().endswith("?"))


# "met" or "hier is" and a name early in an utterance: the usual Dutch openings ("Gemeente
# Lelystad, met Yara Kuipers, goedemorgen", "Klantcontactcentrum Sneek, goedendag, hier is Anne")
# where the phrase starts the utterance or a clause, or follows a greeting or a filler; never
# "verbonden met de gemeente", "met een collega" or "hier is de gemeente" (no name follows)
MET_INTRO_WITHIN = 6  # tokens from the utterance's start
HIER_IS_WITHIN = 8  # "hier is" comes after the organisation and the greeting
PAUSE_MARKS = frozenset(",.;:!?")
NAME_INTERFIXES = frozenset("van de der den ter ten in 't".split())
TITLE_WORDS = frozenset(t.split()[-1] for t in TITLES if not t.endswith("."))  # "de heer": heer


def _introduces_by_name(text: str) -> bool:
    """Whether ``text`` opens with an introduction by "met" or "hier is" and a name (see
    above)."""
    parts = [t if t in PAUSE_MARKS else normalise_text(t)
             for t in re.findall(r"\w+|[,.;:!?]", text)]
    seen = 0
    for i, t in enumerate(parts):
        if t in PAUSE_MARKS:
            continue
        seen += 1
        if seen > HIER_IS_WITHIN:
            return False
        if t == "met" and seen <= MET_INTRO_WITHIN:
            name_at = i + 1
        elif t == "hier" and i + 1 < len(parts) and parts[i + 1] == "is":
            name_at = i + 2
        else:
            continue
        before = parts[i - 1] if i > 0 else ","
        if (before in PAUSE_MARKS or before in MET_OK_BEFORE or before in GREETINGS) \
                and _name_at(parts, name_at):
            return True
    return False


def _name_at(parts: list[str], i: int) -> bool:
    """Whether a name starts at ``parts[i]``: after a title ("mevrouw", "het mevrouw" as the
    recogniser writes "hier is mevrouw") or an interfix ("van den Broek"), a word that is no
    function word, greeting or "met" phrase ("met name")."""
    nxt = lambda k: parts[k] if k < len(parts) else ","  # noqa: E731
    if nxt(i) in {"het", "de"} and nxt(i + 1) in TITLE_WORDS:  # "de heer", "het mevrouw"
        i += 1
    if nxt(i) in TITLE_WORDS:
        i += 1
    while nxt(i) in NAME_INTERFIXES:
        i += 1
    word = nxt(i)
    return not (word in PAUSE_MARKS or word in NAME_STOP_WORDS or word in GREETINGS
                or word in MET_NOT_INTRO)


# ---------------------------------------------------------------------- building blocks


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _covered(start: float, end: float, spans: list[tuple[float, float]]) -> float:
    """Fraction of [start, end] covered by (non-overlapping) spans."""
    if end <= start:
        return 0.0
    return sum(_overlap(start, end, a, b) for a, b in spans) / (end - start)


def wordless(start: float, end: float, segment_spans: list[tuple[float, float]]) -> bool:
    """Whether speech in [start, end] has next to no recognised words: under a fifth of it
    lies in the transcript's segments (an utterance without text; a call-out to check)."""
    return _covered(start, end, segment_spans) < 0.2


def after_pickup(start: float, pickups: list[float], window_s: float) -> bool:
    """Whether speech at ``start`` begins at most ``window_s`` after a pick-up (the end of
    hold music or ringback, ``pickups``)."""
    return any(0.0 <= start - p <= window_s for p in pickups)


def _speaker_of(start: float, end: float, turns) -> str | None:
    """The diarization speaker that overlaps [start, end] most (nearest turn if none)."""
    if not turns:
        return None
    best = max(turns, key=lambda t: _overlap(start, end, t.start, t.end))
    if _overlap(start, end, best.start, best.end) > 0:
        return best.speaker
    mid = (start + end) / 2
    near = min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end)))
    return near.speaker if min(abs(mid - near.start), abs(mid - near.end)) < 1.0 else None


def _split_by_speaker(s: Segment, turns) -> list[Segment]:
    """Split a segment where its words change diarization speaker (a recogniser segment can
    run over a turn change when nobody pauses)."""
    if len(s.words) < 2:
        return [s]
    groups: list[list] = []
    last = object()
    for w in s.words:
        who = _speaker_of(w.start, w.end, turns)
        if groups and (who == last or who is None):
            groups[-1].append(w)
        else:
            groups.append([w])
            last = who
    if len(groups) == 1:
        return [s]
    return [with_words(s, g) for g in groups]


def _split_callout(s: Segment, pause_s: float) -> list[Segment]:
    """Split off the call-outs a segment opens with ("Hallo? | Goedendag, u spreekt met ...")
    where a pause of at least ``pause_s`` follows them: who says "hallo?" and then pauses is
    most often not who greets next."""
    n = 0
    while n < min(3, len(s.words)) and _tokens(s.words[n].text) and all(
            t in CALL_OUTS for t in _tokens(s.words[n].text)):
        n += 1
    if n in (0, len(s.words)) or pause_s <= 0 or s.words[n].start - s.words[n - 1].end < pause_s:
        return [s]
    head, tail = s.words[:n], s.words[n:]
    return [with_words(s, g) for g in (head, tail)]


def build_utterances(transcript: Transcript | None, speaker_turns=(), *,
                     min_speech_s: float = 0.25, callout_pause_s: float = 0.0
                     ) -> list[Utterance]:
    """Transcript segments (with the diarization speaker that overlaps them most) plus
    diarized speech that the recogniser produced no text for; ``callout_pause_s``: see
    :func:`_split_callout`."""
    turns = list(speaker_turns)
    out: list[Utterance] = []
    segments = list(transcript.segments) if transcript else []
    pieces = [p for s in segments
              for p in (_split_by_speaker(s, turns) if turns and s.channel is None else [s])]
    for s0 in pieces:
        for piece in _split_callout(s0, callout_pause_s):
            speaker = _speaker_of(piece.start, piece.end, turns)
            out.append(Utterance(piece.start, piece.end, piece.text, piece.channel, speaker,
                                 (piece,)))
    seg_spans = [(s.start, s.end) for s in segments]
    for t in turns:
        if t.end - t.start >= min_speech_s and wordless(t.start, t.end, seg_spans):
            out.append(Utterance(t.start, t.end, "", getattr(t, "channel", None), t.speaker))
    return sorted((u for u in out if u.end - u.start >= min_speech_s or u.text),
                  key=lambda u: (u.start, u.end))


def detect_caller_channel(utterances: list[Utterance], events: list[Event],
                          min_ratio: float = 0.8,
                          nonspeech_levels: dict[str, dict[int, float]] | None = None
                          ) -> int | None:
    """In a stereo call, which channel is the caller's.

    The line channel carries ringback, busy tones and hold music, speaks first (IVR or the
    agent's greeting) and has the IVR wording; the caller's channel carries the caller's key
    presses (DTMF). ``nonspeech_levels``: dB per channel during each kind of event (see
    ``LINE_LEVEL_WEIGHTS``).
    """
    channels = sorted({u.channel for u in utterances if u.channel is not None})
    if len(channels) != 2:
        return None
    score = dict.fromkeys(channels, 0.0)  # higher = more like the line
    firsts = {c: min(u.start for u in utterances if u.channel == c) for c in channels}
    score[min(channels, key=lambda c: firsts[c])] += 1.5
    for c in channels:
        us = [u for u in utterances if u.channel == c]
        score[c] += 0.5 * sum(bool(ivr_wording(u.text, min_ratio)) for u in us[:4])
        score[c] += 0.5 * sum(bool(greeting_wording(u.text, min_ratio)) for u in us[:2])
    for kind, levels in (nonspeech_levels or {}).items():
        weight = LINE_LEVEL_WEIGHTS.get(kind, 0.0)
        if not weight or len(levels) != 2:
            continue
        loud = max(levels, key=levels.get)
        quiet = min(levels, key=levels.get)
        if levels[loud] - levels[quiet] > LEVEL_MARGIN_DB and loud in score:
            score[loud] += weight
    return min(channels, key=lambda c: score[c])


def score_agent_candidates(line: list[Utterance], others: list[Utterance],
                           events: list[Event], options: RoleOptions) -> list[AgentCandidate]:
    """Score every line utterance as the agent's first words (higher = more agent-like)."""
    pickups = [e.end for e in events if e.kind in PICKUP_KINDS]
    # a menu leads to key presses and a queue to hold music: speech followed by those, with no
    # live exchange in between, is the phone system talking
    holds = [e.start for e in events if e.kind in ("music", "dtmf")]

    everyone = sorted(line + [o for o in others if o not in line], key=lambda x: x.start)

    ends: dict[int, float] = {}  # answered() and answered_after_monologue() both ask

    def turn_end(u: Utterance) -> float:
        """End of the turn ``u`` starts: the same voice going on with pauses < 2 s."""
        if id(u) in ends:
            return ends[id(u)]
        end = u.end
        for o in everyone:
            if o.start <= u.start or o is u:
                continue
            if o.start - end > 2.0 or _other_voice(o, u):
                break
            end = max(end, o.end)
        ends[id(u)] = end
        return end

    # voices heard only up to the last hold music / key press belong to the phone system
    # (diarization may split one IVR voice into several clusters): they answer nobody
    last_hold = max((e.end for e in events if e.kind in ("music", "dtmf")), default=None)
    late = {o.speaker for o in everyone if last_hold is None or o.end > last_hold + 1.0}

    def answered(u: Utterance) -> bool:
        end = turn_end(u)
        return any(end - 0.5 <= o.start <= end + options.reply_window_s
                   and o.end - o.start >= options.min_reply_s
                   and not any(end - 0.5 <= h < o.start for h in holds)  # no answer past hold
                   and _other_voice(o, u) and not ivr_wording(o.text, options.fuzzy_ratio)
                   and (o.speaker in late or (o.channel is not None and o.channel != u.channel))
                   for o in others)

    def run_start(u: Utterance) -> float:
        """Start of the stretch ``u``'s voice has been speaking (pauses < 2 s) before it."""
        start = u.start
        for o in reversed(everyone):
            if o.start >= u.start or o is u:
                continue
            if start - o.end > 2.0 or _other_voice(o, u):
                break
            start = min(start, o.start)
        return start

    def answered_after_monologue(u: Utterance) -> bool:
        end = turn_end(u)
        return end - run_start(u) >= options.monologue_s and any(
            end - 0.5 <= o.start <= end + options.reply_window_s
            and o.end - o.start >= options.min_reply_s and _other_voice(o, u) for o in others)

    def short_call_then_greeting(k: int, u: Utterance, split_off: bool = False) -> bool:
        """``u`` is a short "hallo?" and the line answers it at once with a greeting (or,
        right after a pick-up, a bare call-out answered at once at all); ``split_off``: ``u``
        goes on from such a call-out in the same breath."""
        words = _tokens(u.text)
        if not words or u.end - u.start > options.short_call_max_s or greets[k]:
            return False
        question = u.text.rstrip().endswith("?") and len(words) <= 4
        few = len(words) <= 5 and not INTRO_WORDS.intersection(words)
        # "hallo, is daar iemand?" misheard keeps its call-out and loses its question mark
        called = words[0] in CALL_OUTS and few
        # the rest of a call-out the recogniser split off: any few words without a greeting
        rest = split_off and few and not greeting_wording(u.text, options.fuzzy_ratio)
        if not (rest or question or called or all(w in CALL_OUTS for w in words)):
            return False
        nxt = next((w for w in line[k + 1:] if w.start >= u.end - 0.1), None)
        if nxt is None or nxt.start - u.end > 2.0:
            return False
        # the answer runs longer than the call, unless it opens with a greeting in full
        # ("Goedemorgen," split from the rest of the opening by the recogniser)
        opens = _tokens(nxt.text)[:1]
        if nxt.end - nxt.start <= u.end - u.start and not (
                opens and opens[0] in GREETINGS_IN_FULL):
            return False
        # call-outs alone ("hallo?", "ja, hallo?"; not a lone "ja", which often starts a
        # misheard opening) as the first words after a pick-up are the caller's: an agent
        # opens with a greeting, so the answer's words, often misheard, need not show one
        if all(w in CALL_OUTS for w in words) and not set(words) <= {"ja"} and picked_up[k]:
            return True
        answer = f"{nxt.text} {rest_of_turn(nxt)}"
        # "gemeente Tanden, met ..., goedemiddag": the greeting word may close the opening
        return bool(greeting_wording(answer, options.fuzzy_ratio)) or any(
            t in GREETINGS_IN_FULL for t in _tokens(answer))

    def transfers_before_hold(k: int, u: Utterance) -> bool:
        """``u``'s voice, or ``u`` itself, says it hands the call on (first person) before the
        next hold music or key press, within 30 s: the agent's words before a transfer, never
        a queue message between two stretches of music."""
        nxt_hold = min((h for h in holds if h > u.start), default=None)
        return nxt_hold is not None and any(
            w.start < nxt_hold and w.start - u.start <= 30.0 and not _other_voice(w, u)
            and transfer_wording(w.text) for w in line[k:])

    def leads_to_hold(u: Utterance) -> bool:
        # the recogniser often lets a segment run a little into the music that follows it
        return any(u.start < h and h - u.end <= options.menu_window_s for h in holds)

    # first pass: voices that speak menus or lead into hold music (before anyone answered)
    # are the IVR's, also where their own words were misheard
    ivr_speakers: dict[str | None, int] = defaultdict(int)
    for u in line:
        if answered(u):
            break
        # one misheard "kies" is weak; a menu choice, two IVR phrases or a hold are not
        strong = _strong_ivr(ivr_wording(u.text, options.fuzzy_ratio))
        if u.speaker is not None and (strong or leads_to_hold(u)):
            ivr_speakers[u.speaker] += 1
    def rest_of_turn(u: Utterance) -> str:
        """The text that follows ``u`` in its turn, while the same voice goes on with short
        pauses (< 1 s, at most 8 s from its start): "Goedendag, Daan Bakker hier. | Wat kan ik
        voor u doen?" is one opening even where ASR split it and garbled its first half."""
        texts, end = [], u.end
        for o in line:
            if o.start <= u.start or o is u:
                continue
            if o.start - end >= 1.0 or o.start - u.start > 8.0 or _other_voice(o, u):
                break
            texts.append(o.text)
            end = max(end, o.end)
        return " ".join(t for t in texts if t)

    # with one voice cluster in the whole line, "the IVR's voice" says nothing about anyone
    voices_differ = len({u.speaker for u in line if u.speaker is not None}) > 1
    first_after_hold = next((u for u in line if last_hold is not None
                             and u.start >= last_hold - 0.5), None)
    # whether each line utterance has live-greeting wording beyond a greeting word
    greets = [_strong_greeting(w.text, options) for w in line]
    # the caller's side is known (stereo) where the caller's utterances are not the line's own
    caller_side = others is not line
    picked_up = [after_pickup(u.start, pickups, options.pickup_window_s) for u in line]
    short_calls = [short_call_then_greeting(k, u) for k, u in enumerate(line)]
    for k in range(1, len(line)):
        # the rest of a call-out the recogniser split off ("Hallo, | is daar iemand?") is the
        # caller's too, where the greeting answers it in turn
        u, prev = line[k], line[k - 1]
        if (short_calls[k - 1] and not short_calls[k] and u.start - prev.end < 1.0
                and not _other_voice(u, prev)):
            short_calls[k] = short_call_then_greeting(k, u, split_off=True)
    opener = _answered_turn_start(
        line, others, caller_side, {id(u) for u, c in zip(line, short_calls, strict=True) if c}, options)
    candidates = []
    seen_speakers: set[str | None] = set()
    for k, u in enumerate(line):
        f: dict[str, float] = {}
        reasons: list[str] = []
        # wording is read per sentence, not per recogniser segment ("Klantcontactcentrum |
        # Weert, goedemiddag, je spreekt met Rik"); where the sentence is a recording notice,
        # only a greeting that runs across the split ("Hier | is Jasper") is this segment's
        # ("dat dit gesprek wordt | opgenomen, mijn naam is Jasper": the agent's is not)
        said, rest_of_sentence = _with_rest_of_sentence(k, line, options)
        ivr = ivr_wording(said, options.fuzzy_ratio)
        announced = announcement_wording(said, options.fuzzy_ratio)
        greet = greeting_wording(u.text, options.fuzzy_ratio)
        if rest_of_sentence:
            notice = "recording_notice" in announced
            own = set(greeting_wording(rest_of_sentence, options.fuzzy_ratio)) if notice else ()
            greet += [g for g in greeting_wording(said, options.fuzzy_ratio)
                      if g not in own and g not in greet]
        short_call = short_calls[k]
        if not ivr and not short_call and not [g for g in greet if g not in GREETING_WORDS]:
            rest = rest_of_turn(u)
            # the offer of help is this opening's unless the rest introduces someone first
            # ("... onze | medewerkers kunnen opleiden. | Goedemiddag, hier is Bram, wat kan
            # ik voor | u doen?"); it may run across the split ("wat kan ik voor | u doen")
            if (rest and not ivr_wording(rest, options.fuzzy_ratio)
                    and all(g in SERVICE_PHRASES or g in GREETING_WORDS
                            for g in greeting_wording(rest, options.fuzzy_ratio))):
                offer = [g for g in greeting_wording(f"{u.text} {rest}", options.fuzzy_ratio)
                         if g in SERVICE_PHRASES]
                if offer:
                    greet = greet + offer
                    reasons.append("offer_later_in_turn")
        strong_ivr = _strong_ivr(ivr)
        if ivr:
            # a single IVR word ("kies" heard in "Erik hier") is weak evidence against a
            # greeting; a menu choice or two IVR phrases are strong
            f["ivr_strong" if strong_ivr else "ivr_weak"] = 1.0
            reasons.append("ivr_words:" + ",".join(ivr[:3]))
        strong_greet = [g for g in greet if g not in GREETING_WORDS]
        if strong_greet:
            f["greeting"] = 1.0
            reasons.append("greeting:" + ",".join(strong_greet[:3]))
        elif greet and not strong_ivr:
            f["greeting_word"] = 1.0
            reasons.append("greeting_word:" + greet[0])
        # someone else answers soon after: a live exchange, not an announcement
        replied = answered(u)
        if replied:
            f["answered"] = 1.0
            reasons.append("answered")
        elif leads_to_hold(u):
            f["followed_by_keys_or_hold"] = 1.0
            reasons.append("followed_by_keys_or_hold")
        if picked_up[k]:
            f["after_hold_or_ringback"] = 1.0
            reasons.append("after_hold_or_ringback")
        if u.speaker is not None and voices_differ:
            if ivr_speakers.get(u.speaker, 0) > 0:
                # a live answer right after hold music or ringback is a person even when the
                # clustering merged their voice with the IVR's (alike voices, narrowband)
                f["same_voice_as_ivr_picked_up" if replied and picked_up[k]
                  else "same_voice_as_ivr"] = 1.0
                reasons.append("same_voice_as_ivr")
            elif ivr_speakers and u.speaker not in seen_speakers:
                f["new_voice_after_ivr"] = 1.0
                reasons.append("new_voice_after_ivr")
        if not u.text:
            f["no_text"] = 1.0  # speech the recogniser rejected: wording cannot confirm it
            reasons.append("no_text")
        if u.end - u.start < options.min_reply_s:
            f["too_short"] = 1.0  # a blip (a split-off piece of another voice's turn)
            reasons.append("too_short")
        # evidence that does not rest on what the recogniser heard
        if any(h > u.end for h in holds):
            f["before_later_hold"] = 1.0  # a queue or menu goes on after it
        if u is first_after_hold:
            f["first_after_last_hold"] = 1.0
        if k == 0:
            f["first_line_speech"] = 1.0
        if k > 0 and u.speaker is not None and u.speaker not in seen_speakers:
            f["new_voice"] = 1.0
        if any(_other_voice(o, u) and 0.0 <= u.start - o.end <= 3.0
               and o.end - o.start >= options.min_reply_s for o in others):
            f["after_other_voice"] = 1.0  # answers someone ("hallo?", a caller's question)
        if _back_and_forth(u, line, others):
            f["voice_returns"] = 1.0
        if not any(w.start >= u.end for w in line):
            f["last_line_speech"] = 1.0  # nothing follows: a closed-office message
        if not strong_greet and u.speaker is not None and any(
                greets[j] and w.start > u.end and w.start - u.start <= 30.0
                and w.speaker is not None and w.speaker != u.speaker
                for j, w in enumerate(line[k + 1:], k + 1)):
            f["greeting_later_other_voice"] = 1.0  # the live greeting comes after it
        if announced:
            f["announcement_words"] = 1.0
        if caller_wording(u.text):
            f["caller_words"] = 1.0
        if short_call:
            f["short_before_greeting"] = 1.0
            reasons.append("short_before_greeting")
        # a reply on the caller's channel is sure; one told by diarization voices is not
        if opener is not None and caller_side and u.start < opener.start:
            f["before_answered_turn"] = 1.0
        if u is opener:
            name = "opens_answered_turn" if caller_side else "opens_answered_turn_mono"
            f[name] = 1.0
            reasons.append(name)
        if answered_after_monologue(u):
            f["long_run_before_answer"] = 1.0
            reasons.append("long_run_before_answer")
        if transfers_before_hold(k, u):
            f["transfer_follows"] = 1.0
            reasons.append("transfer_follows")
        candidates.append(AgentCandidate(u, 0.0, tuple(reasons), f))
        seen_speakers.add(u.speaker)
    model = agent_start_model(options.agent_start_model)
    return [replace(c, score=model.probability(c.features)) for c in candidates]


def _answered_turn_start(line: list[Utterance], others: list[Utterance], caller_side: bool,
                         call_outs: set[int], options: RoleOptions) -> Utterance | None:
    """The first words of the line's stretch that the call's first reply answers: a caller
    answers an agent's opening, never a recording. Read back from the reply through one voice
    (pauses under 2 s, at most ``answered_turn_max_s``) up to announcement or menu wording or
    a caller's call-out (``call_outs``: ids of such utterances). In mono a caller's own words
    ("ik heb een vraag over ...") reply in any voice, as diarization often gives an agent and
    a caller of alike voices one cluster on a narrowband line; the stretch they answer must
    then greet, as an opening does, and be no announcement or menu."""
    index = {id(w): k for k, w in enumerate(line)}

    def read_back(last: Utterance, reply: Utterance) -> Utterance:
        start, stop = last, None
        for w in sorted((w for w in line if w.start < last.start), key=lambda x: -x.start):
            if (start.start - w.end > 2.0 or _other_voice(w, last)
                    or reply.start - w.start > options.answered_turn_max_s
                    or _announces(index[id(w)], line, options)
                    or _strong_ivr(ivr_wording(w.text, options.fuzzy_ratio))
                    or id(w) in call_outs):
                stop = w
                break
            start = w
        if (stop is not None and start is not last
                and _with_rest_of_sentence(index[id(stop)], line, options)[1]
                and _announces(index[id(stop)], line, options)
                and not _strong_greeting(start.text, options)):
            # "Wij leggen dit gesprek vast, zodat wij onze | medewerkers kunnen opleiden.": the
            # rest of the notice's sentence is the notice's too (where it greets, the agent
            # starts inside it, and it is cut there when chosen: _after_continued_sentence)
            start = min((x for x in line if x.start > start.start and x.start <= last.start),
                        key=lambda x: x.start)
        return start

    heard = sorted(others, key=lambda x: x.start)
    for i, o in enumerate(heard):
        before = [w for w in line if w.end - 0.5 <= o.start and w.start < o.start and w is not o]
        if not before or ivr_wording(o.text, options.fuzzy_ratio):
            continue
        last = max(before, key=lambda w: w.end)
        if o.start - last.end > options.reply_window_s:
            continue
        # a reply is long enough with its voice's next words ("Ja, | goedemiddag, ik ...")
        nxt = next((w for w in heard[i + 1:] if not _other_voice(w, o)), None)
        joined = nxt is not None and nxt.start - o.end < 1.0
        said = f"{o.text} {nxt.text}" if joined else o.text
        by_words = not _other_voice(o, last)
        if by_words and (caller_side or not caller_wording(said)
                         or _announces(index[id(last)], line, options)
                         or ivr_wording(last.text, options.fuzzy_ratio)):
            continue
        words = _tokens(said)
        # a bare "hallo?" answers nothing said: a caller talking over a recording says it too
        if ((nxt.end if joined else o.end) - o.start < options.min_reply_s
                or (words and all(w in CALL_OUTS for w in words))):
            continue
        # mono: the line's voice must come back after it (or the call end there); an agent
        # after the IVR is no reply, as the IVR's voice is gone and the agent talks on
        if not caller_side and any(w.start > o.end for w in line) and not any(
                w.start > o.end and not _other_voice(w, last) for w in line):
            continue
        start = read_back(last, o)
        if by_words and not any(
                greeting_wording(w.text, options.fuzzy_ratio)
                for w in line[index[id(start)]:index[id(last)] + 1]):
            continue
        return start
    return None


def _announces(k: int, line: list[Utterance], options: RoleOptions) -> bool:
    """Whether ``line[k]`` has announcement wording, by its own words or, where it greets no
    one, with the rest of its sentence ("dat dit gesprek wordt | opgenomen en bewaard")."""
    u = line[k]
    if announcement_wording(u.text, options.fuzzy_ratio):
        return True
    said, rest = _with_rest_of_sentence(k, line, options)
    return bool(rest) and not greeting_wording(u.text, options.fuzzy_ratio) and bool(
        announcement_wording(said, options.fuzzy_ratio))


def _strong_greeting(text: str, options: RoleOptions) -> bool:
    """Live-greeting wording beyond a greeting word ("u spreekt met", an offer of help)."""
    return any(g not in GREETING_WORDS for g in greeting_wording(text, options.fuzzy_ratio))


def _with_rest_of_sentence(k: int, line: list[Utterance], options: RoleOptions
                           ) -> tuple[str, str]:
    """The text of ``line[k]`` with the rest of its sentence, and that rest ("" if none):
    where it ends in no sentence mark and the same voice goes on within ``continued_gap_s``,
    the next utterance's words up to their first sentence mark ("Let u erop dat wij telefoon
    | gesprekken opnemen.", "Hier | is Jasper van der Meer.")."""
    u = line[k]
    if (options.continued_gap_s <= 0 or k + 1 >= len(line) or line[k + 1].start < u.end
            or not _sentence_goes_on(u, line[k + 1], options)):
        return u.text, ""
    nxt = line[k + 1]
    end = re.search(r"[.?!]", nxt.text)
    rest = nxt.text[:end.end()] if end else nxt.text
    return f"{u.text.strip()} {rest.strip()}", rest


def _sentence_goes_on(before: Utterance, after: Utterance, options: RoleOptions,
                      gap_s: float | None = None) -> bool:
    """Whether ``after`` goes on with the sentence of ``before``: ``before`` ends in no
    sentence mark and the same voice follows within ``gap_s`` (default ``continued_gap_s``;
    the recogniser split the sentence at a pause)."""
    said = before.text.strip()
    gap_s = options.continued_gap_s if gap_s is None else gap_s
    return (bool(said) and not said.endswith(SENTENCE_ENDS)
            and after.start - before.end <= gap_s
            and not _other_voice(before, after))


def _back_and_forth(u: Utterance, line: list[Utterance], others: list[Utterance]) -> bool:
    """Whether ``u``'s voice speaks again after another voice answered it: a conversation,
    which a recorded announcement never has."""
    if u.speaker is None and u.channel is None:
        return False
    for o in others:
        if o.start < u.end - 0.5 or not _other_voice(o, u):
            continue
        if any(w.start > o.end and w is not u and w.speaker == u.speaker
               and w.channel == u.channel for w in line):
            return True
    return False


def _strong_ivr(hits: list[str]) -> bool:
    """IVR wording that one mishearing cannot explain: a menu choice, a welcome or two
    phrases."""
    return len(hits) >= 2 or "menu_choice" in hits or "welkom bij" in hits


def _other_voice(a: Utterance, b: Utterance) -> bool:
    """Whether two utterances are known to come from different people."""
    if a.channel is not None and b.channel is not None and a.channel != b.channel:
        return True
    return a.speaker is not None and b.speaker is not None and a.speaker != b.speaker


# ------------------------------------------------------------------------------- decide


def assign_roles(
    duration_s: float,
    events: list[Event],
    transcript: Transcript | None,
    speaker_turns=(),
    options: RoleOptions | None = None,
    nonspeech_levels: dict[str, dict[int, float]] | None = None,
    voices: dict[tuple[float, float], Any] | None = None,
) -> RoleTimeline:
    """Label the call and find the agent start. ``speaker_turns``: diarization turns
    (objects with ``start``, ``end``, ``speaker`` and optionally ``channel``);
    ``nonspeech_levels``: stereo only, level in dB of each channel during each kind of
    music and tone event (``{"dtmf": {0: -12.0, 1: -40.0}, ...}``); ``voices``: unit voice
    prints of utterances, by (start, end), for :func:`split_by_voice`."""
    options = options or RoleOptions()
    nonspeech = [(e.start, e.end) for e in events if e.kind != "silence"]
    utterances = [
        u for u in build_utterances(transcript, speaker_turns, min_speech_s=options.min_speech_s,
                                    callout_pause_s=options.callout_pause_s)
        if _covered(u.start, u.end, nonspeech) <= options.nonspeech_cover
    ]
    caller_channel = options.caller_channel
    if caller_channel is None:
        caller_channel = detect_caller_channel(utterances, events, options.fuzzy_ratio,
                                               nonspeech_levels)
    if caller_channel is not None:
        line = [u for u in utterances if u.channel != caller_channel]
        caller = [u for u in utterances if u.channel == caller_channel]
    else:
        line, caller = utterances, []

    candidates = score_agent_candidates(line, caller if caller_channel is not None else line,
                                        events, options)
    threshold = options.agent_threshold
    if threshold is None:
        threshold = agent_start_model(options.agent_start_model).threshold
    # stereo, and the caller's side never spoke: nobody answered the line
    heard_on = {u.channel for u in utterances}
    one_sided = (options.one_sided_no_agent and caller_channel is None
                 and len(heard_on) == 1 and None not in heard_on)
    chosen = None if one_sided else next(
        (c for c in candidates if c.score >= threshold
         and not any(c.features.get(f) for f in options.never_agent)), None)
    if chosen is not None and (parts := _after_continued_sentence(chosen.utterance, line,
                                                                   options)):
        line = [x for u in line for x in (parts if u is chosen.utterance else (u,))]
        chosen = replace(chosen, utterance=parts[1],
                         reasons=(*chosen.reasons, "after_continued_sentence"))
    labelled: list[tuple[Utterance, Role]] = [(u, Role.CALLER) for u in caller]
    callouts = {id(c.utterance) for c in candidates if c.features.get("short_before_greeting")}
    if chosen is None:
        reasons = ("no_agent_found",) if line else ("no_speech",)
        if one_sided:
            reasons += ("caller_side_silent",)
        labelled += [(u, Role.IVR) for u in line]
        agent_start, confidence, agent_speaker = None, 0.0, None
        if candidates:
            best = max(candidates, key=lambda c: c.score)
            reasons += (f"best_candidate@{best.utterance.start:.2f}s:" + ";".join(best.reasons),)
            confidence = round(1.0 - best.score, 3)
    else:
        # exact (rounded only where written out): the chosen utterance is not "before" it
        agent_start = chosen.utterance.start
        agent_speaker = chosen.utterance.speaker
        confidence = round(chosen.score, 3)
        reasons = chosen.reasons
        if _speech_between_holds(chosen.utterance, line, events, options):
            reasons = (*reasons, "line_speech_between_holds")
        if not any(chosen.features.get(f) for f in AUDIO_CUES):
            reasons = (*reasons, "words_only_start")
        before_speakers = {u.speaker for u in line if u.start < agent_start}
        for u in line:
            if u.start < agent_start:
                labelled.append((u, Role.CALLER if id(u) in callouts else Role.IVR))
            elif caller_channel is not None or agent_speaker is None:
                labelled.append((u, Role.AGENT))
            elif u.speaker == agent_speaker:
                labelled.append((u, Role.AGENT))
            elif u.speaker in before_speakers and ivr_wording(u.text, options.fuzzy_ratio):
                labelled.append((u, Role.IVR))
            else:
                labelled.append((u, Role.CALLER))
        if caller_channel is None and agent_speaker is not None:
            # a voice that spoke before the agent but is neither IVR-like nor the agent is the
            # caller talking over the menu ("hallo?"), when that voice is the caller later on
            later_callers = {u.speaker for u, r in labelled if r == Role.CALLER}
            labelled = [
                (u, Role.CALLER) if r == Role.IVR and u.speaker in later_callers
                and not announcement_wording(u.text, options.fuzzy_ratio) else (u, r)
                for u, r in labelled
            ]
            if not later_callers:
                labelled = _split_single_voice(labelled, chosen.utterance)
            if voices:
                labelled = split_by_voice(labelled, chosen.utterance, voices,
                                          options.voice_split_max_similarity)
                labelled = split_at_voice_change(labelled, chosen.utterance, voices, options)
            labelled = _questions_are_the_caller(labelled, chosen.utterance)
        # after the labelling: no line speech lies between the onset and the chosen words
        agent_start = voice_onset(chosen.utterance, line, speaker_turns, events, options)
    labelled.sort(key=lambda ur: (ur[0].start, ur[0].end))
    # the timeline's extents also take the diarized speech around the words
    turns = _merge_turns(labelled + _fill_from_turns(labelled, speaker_turns, nonspeech),
                         events, duration_s, options.bridge_gap_s)
    return RoleTimeline(
        turns=tuple(turns), duration_s=duration_s, agent_start_s=agent_start,
        agent_start_confidence=confidence, agent_speaker=agent_speaker,
        caller_channel=caller_channel, reasons=tuple(reasons), utterances=tuple(labelled),
        candidates=tuple(candidates),
    )


SENTENCE_ENDS = (".", "?", "!")
def _speech_between_holds(u: Utterance, line: list[Utterance], events: list[Event],
                          options: RoleOptions) -> bool:
    """Whether, before ``u``, one stretch between two stretches of hold music holds
    ``between_holds_min_s`` of line speech that no announcement wording explains."""
    if options.between_holds_min_s <= 0:
        return False
    music = sorted((e.start, e.end) for e in events if e.kind == "music" and e.end <= u.start)
    for (_, picked_up), (held, _) in zip(music, music[1:], strict=False):
        said = sum(w.end - w.start for w in line
                   if w.start >= picked_up - 0.5 and w.end <= held + 0.5
                   and not announcement_wording(w.text, options.fuzzy_ratio))
        if said >= options.between_holds_min_s:
            return True
    return False


def _after_continued_sentence(u: Utterance, line: list[Utterance], options: RoleOptions
                              ) -> tuple[Utterance, Utterance] | None:
    """``u`` cut in two where the agent starts inside it, or None: ``u`` goes on with the
    sentence of the line's words just before it (they end in no sentence mark, within
    ``continued_gap_s``), ends that sentence (a sentence mark, or a comma after a whole
    recording notice), pauses ``sentence_pause_s`` and then greets (what comes before has no
    greeting). The recogniser splits a recording's sentence at a pause and joins its last
    words to the agent's opening ("Wij maken opnames van telefoongesprekken om onze |
    medewerkers te coachen. Goedendag, ...")."""
    if options.continued_gap_s <= 0 or len(u.segments) != 1:
        return None
    prev = max((w for w in line if w is not u and w.end <= u.start + 0.05), key=lambda w: w.end,
               default=None)
    if prev is None or not (_sentence_goes_on(prev, u, options) or (
            _sentence_goes_on(prev, u, options, options.notice_gap_s)
            and "recording_notice" in announcement_wording(prev.text, options.fuzzy_ratio))):
        # (a recording notice left unfinished may go on after a longer breath)
        return None
    seg = u.segments[0]
    words = seg.words

    def ends_sentence(i: int) -> bool:
        said = words[i - 1].text.strip()
        if said.endswith(SENTENCE_ENDS):
            return True
        # a comma where the recording's sentence is whole and a greeting opens what follows
        # ("dat dit gesprek wordt | opgenomen en bewaard, m'n naam is Jasper")
        return said.endswith(",") and bool(announcement_wording(
            " ".join([prev.text, *(w.text for w in words[:i])]), options.fuzzy_ratio)) and bool(
            greeting_wording(" ".join(w.text for w in words[i:i + 4]), options.fuzzy_ratio))

    cut = next((i for i in range(1, len(words)) if ends_sentence(i)), None)
    if cut is None or words[cut].start - words[cut - 1].end < options.sentence_pause_s:
        return None
    head, tail = with_words(seg, words[:cut]), with_words(seg, words[cut:])
    if greeting_wording(head.text, options.fuzzy_ratio) or not greeting_wording(
            tail.text, options.fuzzy_ratio):
        return None
    return (replace(u, start=head.start, end=head.end, text=head.text, segments=(head,)),
            replace(u, start=tail.start, end=tail.end, text=tail.text, segments=(tail,)))


def split_by_voice(labelled: list[tuple[Utterance, Role]], first: Utterance,
                   voices: dict[tuple[float, float], Any], max_similarity: float
                   ) -> list[tuple[Utterance, Role]]:
    """Agent and caller told apart by the voice prints of their own utterances (mono calls):
    the agent's and caller's utterances from ``first`` (the agent's first words) on that have
    a print fall into two groups (Ward linkage: one odd print makes no group of its own), the
    group of the agent's earliest print is the agent. Kept as labelled where fewer than
    ``MIN_VOICE_PRINTS`` have a print or the groups' mean prints are more alike than
    ``max_similarity``."""
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    if max_similarity <= 0:
        return labelled
    talk = sorted(((k, u) for k, (u, r) in enumerate(labelled) if u.start >= first.start
                   and r in (Role.AGENT, Role.CALLER) and (u.start, u.end) in voices),
                  key=lambda ku: ku[1].start)
    if len(talk) < MIN_VOICE_PRINTS:
        return labelled
    x = np.array([voices[(u.start, u.end)] for _, u in talk], dtype=float)
    # unit prints: euclidean distance is a function of cosine, as Ward needs
    group = fcluster(linkage(x, method="ward"), 2, criterion="maxclust")
    agent = next((g for (k, u), g in zip(talk, group, strict=True)
                  if labelled[k][1] == Role.AGENT), None)
    if agent is None or len(set(group)) < 2:
        return labelled
    means = [x[group == g].mean(axis=0) for g in (agent, 3 - agent)]
    alike = float(means[0] @ means[1] / (np.linalg.norm(means[0]) * np.linalg.norm(means[1])))
    if alike > max_similarity:
        return labelled
    out = list(labelled)
    for (k, u), g in zip(talk, group, strict=True):
        out[k] = (u, Role.AGENT if g == agent else Role.CALLER)
    return out


def _gap_sides(u: Utterance, options: RoleOptions) -> list[tuple[tuple[float, float],
                                                                  tuple[float, float]]]:
    """The two sides (spans) of ``u``'s longest word gaps (at most
    ``options.voice_change_gaps``), each side at least ``options.voice_min_s`` long."""
    words = [w for s in u.segments for w in s.words]
    gaps = sorted(((words[i + 1].start - words[i].end, i) for i in range(len(words) - 1)
                   if words[i + 1].start >= words[i].end
                   and words[i].end - u.start >= options.voice_min_s
                   and u.end - words[i + 1].start >= options.voice_min_s), reverse=True)
    return [((u.start, words[i].end), (words[i + 1].start, u.end))
            for _, i in gaps[:options.voice_change_gaps]]


def voice_spans(timeline: RoleTimeline, options: RoleOptions) -> list[tuple[float, float]]:
    """The utterances whose voice prints :func:`assign_roles` reads in a mono call: the agent's
    and caller's from the agent start on, at least ``voice_min_s`` long."""
    if timeline.agent_start_s is None:
        return []
    return [(u.start, u.end) for u, r in timeline.utterances if r in (Role.AGENT, Role.CALLER)
            and u.start >= timeline.agent_start_s - 0.05 and u.end - u.start >= options.voice_min_s]


def _role_means(labelled: list[tuple[Utterance, Role]], since: float,
                voices: dict[tuple[float, float], Any]) -> dict[Role, Any] | None:
    """Unit mean print of the agent's and of the caller's utterances from ``since`` on; None
    unless each has two prints at least."""
    import numpy as np

    means = {}
    for role in (Role.AGENT, Role.CALLER):
        x = [voices[(u.start, u.end)] for u, r in labelled
             if r == role and u.start >= since and (u.start, u.end) in voices]
        if len(x) < 2:
            return None
        m = np.mean(x, axis=0)
        means[role] = m / (np.linalg.norm(m) + 1e-9)
    return means


def voice_change_spans(timeline: RoleTimeline, voices: dict[tuple[float, float], Any],
                       options: RoleOptions) -> list[tuple[float, float]]:
    """The sides of the longest word gaps (:func:`split_at_voice_change`) of the utterances
    after the agent's first words whose own print lies near the middle of the agent's and the
    caller's mean prints (``voice_change_max_lean``): a second round of prints, once
    ``timeline`` was labelled with the utterances' own. One voice's utterance needs none."""
    import numpy as np

    if timeline.agent_start_s is None or options.voice_change_margin <= 0:
        return []
    since = timeline.agent_start_s - 0.05
    means = _role_means(list(timeline.utterances), since, voices)
    if means is None:
        return []
    axis = means[Role.AGENT] - means[Role.CALLER]
    width = float(np.linalg.norm(axis)) + 1e-9
    talk = [u for u, r in timeline.utterances if r in (Role.AGENT, Role.CALLER)
            and u.start >= since and (u.start, u.end) in voices]
    return [side for u in talk[1:]  # the agent's first words are never cut
            if abs(float(np.asarray(voices[(u.start, u.end)]) @ axis)) / width
            < options.voice_change_max_lean
            for pair in _gap_sides(u, options) for side in pair]


def _cut(u: Utterance, at: float) -> tuple[Utterance, Utterance]:
    """``u`` in two at time ``at`` (between two of its words), its words and text with them."""
    parts = []
    for keep in (lambda w: w.end <= at, lambda w: w.start >= at):
        segs = [with_words(s, words) for s in u.segments
                if (words := [w for w in s.words if keep(w)])]
        parts.append(Utterance(segs[0].start, segs[-1].end, " ".join(s.text for s in segs),
                               u.channel, u.speaker, tuple(segs)))
    return parts[0], parts[1]


def split_at_voice_change(labelled: list[tuple[Utterance, Role]], first: Utterance,
                          voices: dict[tuple[float, float], Any], options: RoleOptions
                          ) -> list[tuple[Utterance, Role]]:
    """Agent and caller utterances after ``first`` cut where one side of a word gap sounds
    like the agent's group and the other like the caller's (mean prints of each role's own
    utterances, two at least each); each side gets that role. A recogniser segment runs over
    a change of speaker when nobody pauses long, and its one print then is of both."""
    import numpy as np

    means = _role_means(labelled, first.start, voices) if options.voice_change_margin > 0 else None
    if means is None:
        return labelled
    axis = means[Role.AGENT] - means[Role.CALLER]  # a print's lean: > 0 toward the agent
    out: list[tuple[Utterance, Role]] = []
    for u, r in labelled:
        best = None
        if u.start > first.start and r in means:
            for left, right in _gap_sides(u, options):
                if left not in voices or right not in voices:
                    continue
                lean = [float(np.asarray(voices[side]) @ axis) for side in (left, right)]
                sure = min(abs(lean[0]), abs(lean[1]))  # the weaker side's lean
                if (sure >= options.voice_change_margin and (lean[0] > 0) != (lean[1] > 0)
                        and (best is None or sure > best[0])):
                    best = (sure, (left[1] + right[0]) / 2, lean[0] > 0)
        if best is None:
            out.append((u, r))
            continue
        _, at, left_is_agent = best
        head, tail = _cut(u, at)
        out += [(head, Role.AGENT if left_is_agent else Role.CALLER),
                (tail, Role.CALLER if left_is_agent else Role.AGENT)]
    return out


def _questions_are_the_caller(labelled: list[tuple[Utterance, Role]], first: Utterance
                              ) -> list[tuple[Utterance, Role]]:
    """Mono calls: after the agent's first words, an utterance that asks whether the call is
    recorded is the caller's, whatever voice it was given (an agent does not ask it; in the
    study the caller does). The rules must find it, and the learned model must not overrule
    it (as the verdicts read a caller's question); otherwise it stays where it was, and the
    verdicts flag it there."""
    from pipeline.analysis.dialogue.questions import find_question, question_rules

    def asks(text: str) -> bool:
        if not text or question_rules(text) is None:
            return False
        hit = find_question(text)
        return hit is not None and hit.counted

    return [(u, Role.CALLER) if r == Role.AGENT and u.start > first.start and asks(u.text)
            else (u, r) for u, r in labelled]


def voice_onset(u: Utterance, line: list[Utterance], speaker_turns, events: list[Event],
                options: RoleOptions) -> float:
    """Where ``u``'s voice starts: the onset of its diarization turn (or of the turn just
    before, across a short pause) when Whisper's first word came later (words lost after hold
    music), no other line speech lies between and no pick-up (end of music or ringback, give
    or take the detector's edge); else ``u.start``."""
    onset = u.start
    pickups = [e.end for e in events if e.kind in PICKUP_KINDS and e.end <= u.start]
    pickup = max(pickups, default=0.0)
    for t in speaker_turns:
        if (u.speaker is not None and t.speaker != u.speaker) or (
                u.channel is not None and getattr(t, "channel", None) not in (None, u.channel)):
            continue
        # a turn from inside the music is the music's; one from its detected edge, the voice's
        lo = t.start if t.start >= pickup - options.onset_pickup_slack_s else max(t.start, pickup)
        if not (u.start - options.onset_back_s <= lo <= u.start - options.onset_min_s
                and t.end > u.start - options.onset_join_gap_s):
            continue
        if not any(w is not u and w.start < u.start and w.end > lo + 0.1 for w in line):
            onset = min(onset, lo)
    return onset


def _split_single_voice(labelled: list[tuple[Utterance, Role]], first: Utterance
                        ) -> list[tuple[Utterance, Role]]:
    """Mono call whose caller has no voice cluster of their own (diarization put caller and
    agent together): after the agent's first words, what callers say of their call ("ik heb
    een vraag over ...") is the caller. Without this the agent's opening would run on into
    the caller's reply."""
    return [
        (u, Role.CALLER) if r == Role.AGENT and u.start > first.start and caller_wording(u.text)
        else (u, r)
        for u, r in labelled
    ]


def _fill_from_turns(labelled: list[tuple[Utterance, Role]], speaker_turns,
                     nonspeech: list[tuple[float, float]], min_s: float = 0.1
                     ) -> list[tuple[Utterance, Role]]:
    """Diarized speech around the recogniser's segments, with the role of the segment of the
    same voice it belongs to. Whisper's segments start late and end early, and leave words
    out; the diarization turns say how long that voice spoke."""

    spans = [(u.start, u.end) for u, _ in labelled] + nonspeech
    extra = []
    for t in speaker_turns:
        channel = getattr(t, "channel", None)
        owners = [(u, r) for u, r in labelled if u.speaker == t.speaker
                  and u.channel == channel and _overlap(u.start, u.end, t.start, t.end) > 0]
        if not owners:
            continue
        u, role = max(owners, key=lambda ur: _overlap(ur[0].start, ur[0].end, t.start, t.end))
        extra += [(Utterance(a, b, "", channel, t.speaker), role)
                  for a, b in subtract_spans((t.start, t.end), spans) if b - a >= min_s]
    return extra


_EVENT_ROLES = {"music": Role.MUSIC, "ringback": Role.TONE, "busy": Role.TONE,
                "dtmf": Role.TONE, "tone": Role.TONE, "silence": Role.SILENCE}


def _merge_turns(labelled: list[tuple[Utterance, Role]], events: list[Event],
                 duration_s: float, bridge_gap_s: float = 0.3) -> list[Turn]:
    """Speech turns plus non-speech events; adjacent same-role turns merged (gap <
    ``bridge_gap_s``)."""
    raw = [Turn(u.start, u.end, r, u.speaker, u.channel) for u, r in labelled]
    speech = [(t.start, t.end) for t in raw]
    for e in events:
        role = _EVENT_ROLES.get(e.kind)
        if role is None:
            continue
        if role == Role.SILENCE and _covered(e.start, e.end, speech) > 0.5:
            continue
        # a ringing is marked ring by ring: the pauses between are silence
        raw += [Turn(a, min(b, duration_s), role, None, None, e.confidence)
                for a, b in e.heard() if a < duration_s]
    raw.sort()
    merged: list[Turn] = []
    for t in raw:
        if (merged and merged[-1].role == t.role and t.start - merged[-1].end < bridge_gap_s
                and merged[-1].channel == t.channel):
            last = merged[-1]
            merged[-1] = Turn(last.start, max(last.end, t.end), last.role, last.speaker,
                              last.channel, min(last.confidence, t.confidence))
        else:
            merged.append(t)
    return merged


def format_rttm(uri: str, turns) -> str:
    """RTTM text of (start, end, role name) triples (seconds): ``Annotation.to_rttm`` of
    :func:`role_annotation`, times to the millisecond."""
    return role_annotation(turns, uri).to_rttm()


def read_rttm(text: str):
    """RTTM text as a pyannote.core ``Annotation``: each SPEAKER line a track of its own
    (numbered by line), its speaker name the label (role names in callcheck's files); the uri
    that of the first line. Other line types are left out."""
    from pyannote.core import Annotation
    from pyannote.core import Segment as Span

    ann = None
    for i, line in enumerate(text.splitlines()):
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            if ann is None:
                ann = Annotation(uri=parts[1])
            start = float(parts[3])
            ann[Span(start, start + float(parts[4])), i] = parts[7]
    return ann if ann is not None else Annotation()
