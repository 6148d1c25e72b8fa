"""Decisions per call: recording notice and agent introduction, each with checkable evidence.

Built on the role timeline (who speaks when, where the agent starts) and the language stage
(spaCy NER + matchers over text). Text spans found by the language stage are mapped back to
word times, so every decision points at seconds in the recording.

Rules that matter:
* a notice counts as ``notice_before_agent`` only when it starts before ``agent_start_s`` and
  is not said by the caller; a notice in the agent's own speech is ``notice_by_agent``;
* the agent's name is taken only from the agent's opening turn (agent speech from the agent
  start until the caller first speaks, at most ``opening_s``): not from the caller, not from
  a transfer ("ik verbind u door met mevrouw Jansen"), not from the IVR;
* weak or conflicting evidence sets ``needs_review`` with the reasons; so does a "no" or
  "none" read from speech the recogniser heard poorly (no evidence that nothing was said).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pipeline.analysis import dialogue, language
from pipeline.analysis.language.notices import starts_with_misheard
from pipeline.analysis.vocabulary import MISHEARD_PURPOSES
from pipeline.types import (
    Evidence,
    ReviewReason,
    Role,
    RoleTimeline,
    Utterance,
    Verdicts,
    Word,
)

logger = logging.getLogger(__name__)


# the confidence of a name's kind read from the shape of misheard words (no name read, an
# introduction hinted): such a verdict is always reviewed (``possible_name_missed``)
GUESSED_NAME_CONFIDENCE = 0.3


@dataclass(frozen=True)
class VerdictOptions:
    """Options of the decision stage (times in seconds, confidences 0..1)."""

    opening_s: float = 20.0  # the agent's opening turn: at most this long after agent start
    # below: needs review ("unclear_agent_start"); 0.95 (session 14's model): on the tuning
    # families left out in turn, none of the 48 starts taken is wrong, against 2 of 74 at 0.9
    # and 3 of 105 at 0.8 (docs/decisions/agent-start-model.md)
    min_agent_start_confidence: float = 0.95
    min_word_probability: float = 0.45  # mean ASR word confidence of evidence below: review
    min_notice_confidence: float = 0.5  # weaker notice candidates are flagged, not counted
    # one role's utterances at most this far apart are read as one text for notices: the
    # recogniser splits sentences at pauses (docs/decisions/options.md)
    notice_join_gap_s: float = 1.5
    # a name this weak by the rules (language.NAME_LOW_CONFIDENCE) that the recogniser also
    # heard poorly (below min_word_probability) is flagged, not counted
    min_name_confidence: float = 0.65
    # the doubt model (pipeline.analysis.doubt): "default" (models/doubt/doubt.json), "off",
    # or the path of a model file written by training.doubt_train
    doubt_model: str = "default"
    # evidence whose words scored below this was copied from the prompt, not heard: flagged,
    # never counted (docs/decisions/options.md)
    min_heard_probability: float = 0.05
    # a "no" or "none" read from speech heard below this mean word probability is no evidence
    # of absence: the call goes to review (docs/decisions/options.md)
    min_heard_for_none: float = 0.6
    # ... and so is a "none" or "no" read from an opening for which the recogniser wrote fewer
    # words than this per second of the agent's speech (at least ``sparse_min_speech_s`` of
    # it): most of what was said has no words ("Goedemiddag," for 4 s of "Gemeente Roermond,
    # met Eva van der Meer, goedemiddag"); speech holds 2-3 words a second
    min_opening_words_per_s: float = 1.0
    sparse_min_speech_s: float = 2.0
    # the agent's answer to the caller's question about recording, and the agent's response to
    # the caller's own notice, are read from agent speech starting within this long after it
    answer_s: float = 15.0
    min_question_confidence: float = 0.8  # a weaker question ("wordt het opgenomen") is flagged
    # "not asked" or "not announced" read from caller speech that the recogniser wrote no
    # words for in more than this share of its time goes to review, as one read from speech
    # heard below min_heard_for_none does (a caller's channel left untranscribed)
    max_wordless_caller_share: float = 0.5
    # a first-person notice of recording ("ik neem dit gesprek op") in a mono call's speech
    # labelled AGENT, after the agent's first words, is the caller's own under a wrong role
    # (one voice for both); read so and flagged, not as the agent's notice
    # (docs/decisions/recording-talk.md)
    callers_notice_in_agent_speech: bool = True


@dataclass(frozen=True)
class _Text:
    """Text of utterances with the time span of every word's characters."""

    text: str
    spans: tuple[tuple[int, int, float, float, float], ...]  # (char0, char1, start, end, prob)

    def times(self, c0: int, c1: int) -> tuple[float, float, float | None]:
        hit = [s for s in self.spans if s[1] > c0 and s[0] < c1]
        if not hit:
            return (0.0, 0.0, None)
        probs = [s[4] for s in hit if s[4] >= 0]
        asr = round(sum(probs) / len(probs), 3) if probs else None
        return (hit[0][2], hit[-1][3], asr)


def _as_text(utterances: list[Utterance]) -> _Text:
    """Join utterances into one text; words keep their times (segment time when no words)."""
    parts: list[str] = []
    spans: list[tuple[int, int, float, float, float]] = []
    pos = 0
    for u in utterances:
        words: list[Word] = [w for s in u.segments for w in s.words]
        items = ([(w.text, w.start, w.end, w.probability) for w in words] if words
                 else [(u.text, u.start, u.end, -1.0)] if u.text else [])
        for text, start, end, prob in items:
            text = text.strip()
            if not text:
                continue
            if parts:
                parts.append(" ")
                pos += 1
            parts.append(text)
            spans.append((pos, pos + len(text), start, end, prob))
            pos += len(text)
    return _Text("".join(parts), tuple(spans))


def _speech_runs(timeline: RoleTimeline, answers, gap_s: float
                 ) -> list[tuple[list[Utterance], Role]]:
    """Consecutive non-caller utterances of one role at most ``gap_s`` apart, read as one
    text: the recogniser splits a sentence where the speaker pauses ("worden gesprekken |
    opgenomen"), and a notice read per piece loses what is recorded or why. The agent's
    answer to the caller's question is left out (no notice of the agent's own)."""
    runs: list[tuple[list[Utterance], Role]] = []
    for u, role in timeline.utterances:
        if role == Role.CALLER or not u.text or u in answers:
            if u.text or role == Role.CALLER:
                runs.append(([], role))  # breaks the run
            continue
        last = runs[-1] if runs else None
        if last and last[0] and last[1] == role and u.start - last[0][-1].end <= gap_s:
            last[0].append(u)
        else:
            runs.append(([u], role))
    return [(run, role) for run, role in runs if run]


def _wordless_share(utterances: list[Utterance]) -> float:
    """The share of the utterances' speech time that the recogniser wrote no words for."""
    total = sum(u.end - u.start for u in utterances)
    return sum(u.end - u.start for u in utterances if not u.text) / total if total > 0 else 0.0


def _mean_probability(utterances: list[Utterance]) -> float | None:
    """Mean recogniser probability of the words of ``utterances`` (None: no words)."""
    probs = [w.probability for u in utterances for s in u.segments for w in s.words]
    return sum(probs) / len(probs) if probs else None


# the words a speaker introduces themself with, in any order ("... spreekt u", "mijn naam")
_SELF_INTRODUCING = re.compile(r"\b(spreekt u|spreek je|spreekt je|naam|heet)\b")


def starts_mid_sentence(opening: list[Utterance]) -> bool:
    """Whether the agent's opening begins in lower case: Whisper writes a stretch it hears as
    the rest of a sentence so ("daarmee kan ik u helpen?" for "Met Lotte. Waarmee ..."), and
    the words lost before it are where a name most often is."""
    text = next((u.text for u in opening if u.text), "")
    first = next((c for c in text if c.isalpha()), "")
    return first.islower()


def _sparse_words(timeline: RoleTimeline, opening: list[Utterance],
                  options: VerdictOptions) -> bool:
    """Whether the recogniser wrote fewer than ``min_opening_words_per_s`` words per second of
    the agent's speech in the opening (the agent's turns from the start until the caller
    speaks, or ``opening_s``), where that speech lasts ``sparse_min_speech_s`` or more."""
    t0 = timeline.agent_start_s
    if t0 is None:
        return False
    end = min([t.start for t in timeline.turns if t.role == Role.CALLER and t.start >= t0]
              + [t0 + options.opening_s])
    speech = sum(min(t.end, end) - max(t.start, t0) for t in timeline.turns
                 if t.role == Role.AGENT and t.end > t0 and t.start < end)
    words = sum(len(s.words) if s.words else len(s.text.split())
                for u in opening for s in u.segments)
    return speech >= options.sparse_min_speech_s and words < options.min_opening_words_per_s * speech


def opening_turn(timeline: RoleTimeline, opening_s: float) -> list[Utterance]:
    """Agent utterances from the agent start until the caller first speaks (or ``opening_s``)."""
    if timeline.agent_start_s is None:
        return []
    t0 = timeline.agent_start_s
    out = []
    for u, role in timeline.utterances:
        if u.start < t0:
            continue
        if role == Role.CALLER or u.start > t0 + opening_s:
            break
        if role == Role.AGENT:
            out.append(u)
    return out


def decide(timeline: RoleTimeline, options: VerdictOptions | None = None, nlp=None,
           transcribed_s: float | None = None) -> Verdicts:
    """Verdicts for one call from its role timeline (utterances carry the transcript);
    ``transcribed_s``: how far the transcript goes (seconds; None: all of it)."""

    options = options or VerdictOptions()
    nlp = nlp if nlp is not None else language.load_nlp()
    reasons: list[ReviewReason] = []
    agent_start = timeline.agent_start_s
    if agent_start is None:
        reasons.append(ReviewReason.NO_AGENT_FOUND)
    elif (timeline.agent_start_confidence < options.min_agent_start_confidence
          or "line_speech_between_holds" in timeline.reasons
          or "words_only_start" in timeline.reasons):
        # (an agent may have answered between two holds and handed the call on; a start on
        # wording alone, no pick-up, voice or reply, rests on what another phrasing breaks)
        reasons.append(ReviewReason.UNCLEAR_AGENT_START)

    # --- what caller and agent say of recording past the opening -------------------------------
    talk = _talk(timeline, options, nlp, transcribed_s)
    reasons.extend(talk.reasons)

    # --- notices: every non-caller utterance, in time order -----------------------------------
    notice_ev: list[Evidence] = []  # every candidate, for the record
    counted: list[Evidence] = []  # the ones that count as a notice
    purpose_ev: list[Evidence] = []
    purposes: set[str] = set()
    for run, role in _speech_runs(timeline, talk.answers | talk.callers_in_agent_speech,
                                  options.notice_join_gap_s):
        text = _as_text(run)
        for cand in language.find_notices(text.text, nlp, announcement=role == Role.IVR):
            start, end, asr = text.times(cand.start_char, cand.end_char)
            ev = Evidence(cand.text, start, end, role, cand.confidence, asr,
                          ("negated: " if cand.negated else "") + cand.reason)
            notice_ev.append(ev)
            if cand.negated:
                reasons.append(ReviewReason.NEGATED_NOTICE_HEARD)
                continue
            if cand.rejected:
                continue  # a look-alike ("gegevens opgenomen in ons systeem"): kept as evidence
            if cand.confidence < options.min_notice_confidence:
                reasons.append(ReviewReason.WEAK_NOTICE_EVIDENCE)
                continue
            if asr is not None and asr < options.min_heard_probability:
                reasons.append(ReviewReason.NOTICE_WORDS_NOT_HEARD)
                continue
            if asr is not None and asr < options.min_word_probability:
                reasons.append(ReviewReason.LOW_ASR_CONFIDENCE_NOTICE)
            if cand.garbled:  # "dit gesprek wordt volgenomen": read, never asserted
                reasons.append(ReviewReason.NOTICE_LOW_CONFIDENCE)
            if role == Role.AGENT and _subject_lost(cand.text, text.text[:cand.start_char]):
                reasons.append(ReviewReason.AGENT_NOTICE_MAY_BE_CALLERS)
            elif role == Role.AGENT and _in_callers_words(run, text.text, cand, nlp):
                reasons.append(ReviewReason.AGENT_NOTICE_MAY_BE_CALLERS)
                if not talk.announced:  # and "the caller announced nothing" is no safer
                    reasons.append(ReviewReason.POSSIBLE_CALLER_NOTICE_MISSED)
            counted.append(ev)
            a, b = dialogue.purpose_scope(text.text, cand.start_char, cand.end_char)
            reading = dialogue.read_purposes(text.text[a:b])
            purposes |= reading.purposes
            for h in reading.hits:
                p0, p1, p_asr = text.times(a + h.start_char, a + h.end_char)
                detail = h.purpose + (" (unclear)" if h.unclear else "")
                if not h.counted:
                    detail = "a purpose not read (unclear)"
                elif h.purpose not in reading.purposes:  # overruled by a sure model
                    detail += f" (overruled: model {reading.doubts[h.purpose][1]:.2f})"
                purpose_ev.append(Evidence(h.word, p0, p1, role, 0.5 if h.unclear else 0.85,
                                           p_asr, detail))
                if h.unclear:
                    reasons.append(ReviewReason.PURPOSE_UNCLEAR)
            for purpose, (yes, p) in reading.doubts.items():
                reasons.append(ReviewReason.PURPOSE_UNCERTAIN)
                if yes:  # the model reads a purpose the rules found no word for
                    p0, p1, p_asr = text.times(a, b)
                    counts = "" if purpose in reading.purposes else ", not counted"
                    purpose_ev.append(Evidence(text.text[a:b], p0, p1, role, p, p_asr,
                                               f"{purpose} (model {p:.2f}{counts})"))
    # the agent's own words are never "before the agent"
    before = any(e.role != Role.AGENT and (agent_start is None or e.start < agent_start)
                 for e in counted)
    if not before and agent_start is not None:
        # every voice before the agent, not only the IVR's: when diarization puts the IVR with
        # the caller, a notice the recogniser garbled sits in speech labelled CALLER
        before_agent = [u for u, role in timeline.utterances
                        if role != Role.AGENT and u.start < agent_start]
        heard = _mean_probability(before_agent)
        if heard is not None and heard < options.min_heard_for_none:
            reasons.append(ReviewReason.ANNOUNCEMENTS_POORLY_HEARD)
        said = " ".join(u.text for u in before_agent if u.text)
        if _names_notice_purpose(said) or dialogue.misheard_recording_word(said):
            reasons.append(ReviewReason.POSSIBLE_NOTICE_MISSED)
    by_agent = any(e.role == Role.AGENT for e in counted)
    if talk.callers_in_agent_speech and not by_agent:  # unless the agent's it was after all
        reasons.append(ReviewReason.AGENT_NOTICE_MAY_BE_CALLERS)
    source = "none"
    if counted:
        source = "agent" if counted[0].role == Role.AGENT else "ivr"
    opening = opening_turn(timeline, options.opening_s)
    if by_agent and ReviewReason.AGENT_TALKS_OF_RECORDING in talk.reasons:
        opening_end = opening[-1].end if opening else agent_start
        if not any(e.role == Role.AGENT and opening_end is not None and e.start < opening_end
                   for e in counted):
            reasons.append(ReviewReason.AGENT_NOTICE_MAY_BE_ANSWER)

    # --- the agent's opening ----------------------------------------------------------------
    text = _as_text(opening)
    analysis = language.analyze_opening(text.text, nlp) if text.text else None
    name_ev: list[Evidence] = []
    category, first, last = "none", None, None
    organisation = greeting = None
    if analysis is not None:
        # the language stage's codes: one it gives that this table lacks is a bug
        reasons.extend(ReviewReason(r) for r in analysis.review_reasons)
        organisation, greeting = analysis.organisation, analysis.greeting
        if analysis.name is not None:
            n = analysis.name
            start, end, asr = text.times(n.start_char, n.end_char)
            name_ev.append(Evidence(n.text, start, end, Role.AGENT, n.confidence, asr,
                                    n.pattern + (": " + ",".join(n.reasons) if n.reasons
                                                 else "")))
            low_asr = asr is not None and asr < options.min_word_probability
            if low_asr:
                reasons.append(ReviewReason.LOW_ASR_CONFIDENCE_NAME)
            if asr is not None and asr < options.min_heard_probability:
                reasons.append(ReviewReason.NAME_NOT_HEARD)
            elif low_asr and n.confidence < options.min_name_confidence:
                # both the rule and the recogniser unsure: an employee's name is not asserted
                # on that; the evidence stays for the reviewer. After an introduction phrase
                # a name was given all the same: its kind is reported, as a guess, not its words
                reasons.append(ReviewReason.NAME_TOO_WEAK_TO_COUNT)
                if n.pattern != "standalone":
                    category = analysis.name_category
            else:
                category, first, last = analysis.name_category, n.first, n.last
        elif analysis.name_guess is not None:
            # an introduction whose name could not be read ("u trekt met kiela"): a name was
            # most likely given, and its words' shape says which kind; the words are no name,
            # and the call is flagged (possible_name_missed) by the language stage
            g = analysis.name_guess
            start, end, asr = text.times(g.start_char, g.end_char)
            name_ev.append(Evidence(g.text, start, end, Role.AGENT, GUESSED_NAME_CONFIDENCE,
                                    asr, f"guessed {g.category} ({g.why}): the name not read"))
            if asr is None or asr >= options.min_heard_probability:  # not the prompt's words
                category = g.category
            else:
                reasons.append(ReviewReason.NAME_NOT_HEARD)
    elif agent_start is not None:
        reasons.append(ReviewReason.AGENT_OPENING_NOT_TRANSCRIBED)
    heard = _mean_probability(opening)
    if (heard is not None and heard < options.min_heard_for_none) or _sparse_words(
            timeline, opening, options):
        if category == "none":
            reasons.append(ReviewReason.OPENING_POORLY_HEARD)
        if not by_agent:  # an agent's notice may hide in the same garbled words
            reasons.append(ReviewReason.AGENT_SPEECH_POORLY_HEARD)
    if category == "none" and starts_mid_sentence(opening):
        reasons.append(ReviewReason.OPENING_STARTS_MID_SENTENCE)
    if category == "none" and analysis is not None and _SELF_INTRODUCING.search(text.text.lower()):
        # "short spreekt u" (Sjoerd spreekt u): an introduction's verb with no name read, in
        # an order the rules do not know
        reasons.append(ReviewReason.POSSIBLE_NAME_MISSED)
    if not by_agent and _names_notice_purpose(text.text):
        # "wanneer m'n dit gestorek op voor de kwaliteit": what a notice is for, and no notice
        reasons.append(ReviewReason.PURPOSE_WITHOUT_NOTICE)

    contradicted = (before or by_agent) and talk.knows in ("no", "unsure")
    return Verdicts(
        notice_before_agent="yes" if before else "no",
        notice_by_agent="yes" if by_agent else "no",
        notice_source=source,
        agent_name=category,
        agent_first=first,
        agent_last=last,
        organisation_named="yes" if organisation else "no",
        organisation=organisation,
        greeting=greeting,
        agent_start_s=None if agent_start is None else round(agent_start, 3),
        agent_start_confidence=timeline.agent_start_confidence,
        notice_evidence=tuple(notice_ev),
        name_evidence=tuple(name_ev),
        opening_text=text.text,
        needs_review=bool(reasons),
        review_reasons=tuple(dict.fromkeys(reasons)),
        agent_knows_recording=talk.knows,
        notice_contradicted="yes" if contradicted else "no",
        notice_purpose=dialogue.purpose_value(purposes) if counted else "no_notice",
        caller_announced_recording="yes" if talk.announced else "no",
        agent_objected=talk.objected,
        question_evidence=talk.question_evidence,
        purpose_evidence=tuple(purpose_ev),
        caller_notice_evidence=talk.caller_notice_evidence,
        searched_until_s=None if transcribed_s is None else round(transcribed_s, 3),
    )


# the review reason of each doubt about a reply (``_reply``): to the caller's question, and to
# the caller's own notice
ANSWER_DOUBTS = {
    "unclear": ReviewReason.ANSWER_UNCLEAR, "mixed": ReviewReason.ANSWER_MIXED,
    "poorly_heard": ReviewReason.ANSWER_POORLY_HEARD,
    "not_transcribed": ReviewReason.ANSWER_NOT_TRANSCRIBED,
}
RESPONSE_DOUBTS = {
    "unclear": ReviewReason.OBJECTION_UNCLEAR, "poorly_heard": ReviewReason.OBJECTION_UNCLEAR,
    "mixed": ReviewReason.OBJECTION_UNCLEAR,
    "not_transcribed": ReviewReason.RESPONSE_NOT_TRANSCRIBED,
}


@dataclass(frozen=True)
class _Talk:
    """The caller's question and the agent's answer; the caller's notice and the response."""

    knows: str = "not_asked"
    announced: bool = False
    objected: str | None = None
    answers: frozenset[Utterance] = frozenset()  # agent utterances read as the answer
    question_evidence: tuple[Evidence, ...] = ()
    caller_notice_evidence: tuple[Evidence, ...] = ()
    reasons: tuple[ReviewReason, ...] = ()
    callers_in_agent_speech: frozenset[Utterance] = frozenset()  # read as the caller's notice


def _subject_lost(notice: str, before: str) -> bool:
    """Whether a notice opens with the first person singular ("neem dit gesprek op") and no
    "ik" before it: an agent's notice says "wij nemen", "ik neem" or "wordt opgenomen"; with
    the "ik" lost ("z 'neem dit gesprek op") it may be the caller's own, in speech given to
    the agent."""
    said = re.findall(r"\w+", before.lower())
    return notice.lower().split()[:1] in (["neem"], ["opneem"]) and said[-1:] != ["ik"]


def _in_callers_words(run: list[Utterance], text: str, cand, nlp) -> bool:
    """Whether a notice in mono speech labelled AGENT is said as a caller's own notice is
    ("U moet weten dat ik een opname maak van ons gesprek"): the speaker records, in the
    first person singular, in its sentence. One voice cluster for agent and caller puts the
    caller's words in the agent's turn, even in the opening; an agent's "ik neem dit gesprek
    op" reads the same, so the notice is looked at, not moved."""
    if any(u.channel is not None for u in run):  # a stereo channel tells the speaker
        return False
    sentence = dialogue.sentence_at(text, cand.start_char, cand.end_char)
    return dialogue.caller_notice_rules(sentence, nlp) is not None


def _talk(timeline: RoleTimeline, options: VerdictOptions, nlp,
          transcribed_s: float | None) -> _Talk:
    """Find the first question about recording and the caller's first own notice (in speech
    not from the IVR), and read the other side's reply in the turns that follow."""
    reasons: list[ReviewReason] = []
    question = notice = None
    # what the rules took for a question or a caller's notice, overruled by the model
    overruled: dict[str, list[Evidence]] = {"question": [], "caller_notice": []}
    first = next((u for u, role in timeline.utterances if role == Role.AGENT), None)
    moved: set[Utterance] = set()  # the caller's notice heard in speech labelled AGENT
    for u, role in timeline.utterances:
        if role == Role.IVR or not u.text:
            continue
        text = _as_text([u])
        if role != Role.CALLER:
            # the agent's "wij nemen alle gesprekken op" is a notice of the agent's, not the
            # caller's; but an agent does not ask whether the call is recorded: a question
            # the rules (not the model alone) find in speech labelled AGENT is the caller's
            # under a wrong role (diarization often hears one voice in a mono call). It
            # counts, and the call is looked at
            hit = dialogue.question_rules(text.text, nlp) if question is None else None
            if hit is not None:
                question = _found(u, role, text, hit, "question")
                reasons.append(ReviewReason.QUESTION_NOT_FROM_CALLER)
            elif notice is None and (hit := _callers_notice_in_agent_speech(
                    u, role, first, text, options, nlp)) is not None:
                notice = _found(u, role, text, hit, "caller_notice")
                moved.add(u)
                reasons.append(ReviewReason.CALLER_NOTICE_NOT_FROM_CALLER)
            continue
        for what, find, reason in (
                ("question", dialogue.find_question, ReviewReason.QUESTION_UNCERTAIN),
                ("caller_notice", dialogue.find_caller_notice,
                 ReviewReason.CALLER_NOTICE_UNCERTAIN)):
            if (question if what == "question" else notice) is not None:
                continue
            hit = find(text.text, nlp)
            if hit is None:
                continue
            found = _found(u, role, text, hit, what)
            if hit.doubt:
                reasons.append(reason)
            if not hit.counted:
                overruled[what].append(found[1])
            elif what == "question":
                question = found
            else:
                notice = found
        if question is not None and notice is not None:
            break
    knows, q_ev, answers = "not_asked", (), frozenset()
    # "not asked" or "not announced" read from caller speech the recogniser heard poorly is
    # no evidence that the caller said nothing of it (as for a notice or a name)
    caller = [u for u, role in timeline.utterances if role == Role.CALLER
              and (transcribed_s is None or u.start < transcribed_s)]
    heard = _mean_probability(caller)
    if (heard is not None and heard < options.min_heard_for_none) or _wordless_share(
            caller) > options.max_wordless_caller_share:
        if question is None:
            reasons.append(ReviewReason.CALLER_SPEECH_POORLY_HEARD)
        if notice is None:
            reasons.append(ReviewReason.CALLER_NOTICE_POORLY_HEARD)
    if question is None and _agent_talks_of_recording(timeline, nlp):
        reasons.append(ReviewReason.AGENT_TALKS_OF_RECORDING)
    said = [(u, Role.CALLER) for u in caller]
    if first is not None and not any(u.text for u in caller):
        # an agent speaks, yet no caller word was heard: in a mono call one voice for both
        # puts the caller's words in speech labelled AGENT after the agent's first
        said = [(u, role) for u, role in timeline.utterances if role == Role.AGENT
                and u.start > first.start and (transcribed_s is None or u.start < transcribed_s)]
    hints = _unread_recording_talk(said, {question[0] if question else None,
                                          notice[0] if notice else None}, nlp)
    if question is None and hints:
        reasons.append(ReviewReason.POSSIBLE_QUESTION_MISSED)
        overruled["question"] += [ev for ev, _ in hints]
    if notice is None and (own := [ev for ev, mine in hints if mine]):
        reasons.append(ReviewReason.POSSIBLE_CALLER_NOTICE_MISSED)
        overruled["caller_notice"] += own
    if question is not None:
        u, ev = question
        if ev.confidence < options.min_question_confidence:
            reasons.append(ReviewReason.QUESTION_UNCERTAIN)
        value, reply, used, why = _reply(timeline, u, ev.role, options, transcribed_s,
                                         dialogue.classify_answer, "no_answer",
                                         mixed=dialogue.answer_values)
        knows, q_ev, answers = value, (ev, *reply), used
        reasons += [ANSWER_DOUBTS[w] for w in why]
    elif (lost := _answer_to_a_lost_question(timeline, options, nlp)) is not None:
        knows, q_ev, answers = lost
        reasons.append(ReviewReason.AGENT_TALKS_OF_RECORDING)  # never decided without a look
    q_ev = (*q_ev, *overruled["question"])
    objected, n_ev = None, ()
    if notice is not None:
        u, ev = notice
        objected, reply, _, why = _reply(timeline, u, ev.role, options, transcribed_s,
                                         dialogue.classify_objection, "unclear")
        n_ev = (ev, *reply)
        reasons += [RESPONSE_DOUBTS[w] for w in why]
    n_ev = (*n_ev, *overruled["caller_notice"])
    return _Talk(knows, notice is not None, objected, answers, q_ev, n_ev,
                 tuple(dict.fromkeys(reasons)), frozenset(moved))


def _unread_recording_talk(said: list[tuple[Utterance, Role]], read: set[Utterance | None], nlp
                           ) -> list[tuple[Evidence, bool]]:
    """The caller's utterances (other than those read as the question or notice) that may
    talk of recording though the rules read nothing there (``dialogue.recording_hint``), each
    with whether the speaker speaks in the first person, as in a notice of their own."""
    found = []
    for u, role in said:
        if u in read or not u.text:
            continue
        text = _as_text([u])
        hit = dialogue.recording_hint(text.text, nlp)
        if hit is not None:
            start, end, asr = text.times(hit.start_char, hit.end_char)
            found.append((Evidence(hit.text, start, end, role, hit.confidence, asr,
                                   f"recording talk not read: {hit.detail}"),
                          dialogue.speaks_for_self(text.text)))
    return found


def _callers_notice_in_agent_speech(u: Utterance, role: Role, first: Utterance | None,
                                    text: _Text, options: VerdictOptions, nlp
                                    ) -> dialogue.Hit | None:
    """The caller's own notice ("ik neem dit gesprek op") in a mono call's speech labelled
    AGENT after the agent's first words (one voice for both): the speaker records, in the
    active voice, and it is no reply ("ja, ik neem alle gesprekken op"). A stereo call's
    channels keep the caller's words out of the agent's."""
    if (role != Role.AGENT or u is first or u.channel is not None
            or not options.callers_notice_in_agent_speech
            or dialogue.opens_with_reply(text.text)
            or dialogue.PASSIVE_AUXILIARIES & set(re.findall(r"\w+", text.text.lower()))):
        return None
    return dialogue.caller_notice_rules(text.text, nlp)



def _names_notice_purpose(text: str) -> bool:
    """Whether ``text`` has a word that starts with a notice's purpose, misheard by at most
    one letter ("kwaliteit", "knaliteits", "opleiding")."""
    return any(starts_with_misheard(w, MISHEARD_PURPOSES) for w in re.findall(r"\w+", text.lower()))


def _agent_talks_of_recording(timeline: RoleTimeline, nlp) -> bool:
    """Nobody asked, yet an agent utterance after the first holds a recording trigger, or
    words the recogniser may have misheard from one ("nee, op namens maken wij hier niet"):
    most often the answer to a question it lost (docs/decisions/recording-talk.md)."""
    agent = [u for u, role in timeline.utterances if role == Role.AGENT and u.text]
    return any(any(not c.rejected for c in language.find_notices(u.text, nlp))
               or dialogue.recording_hint(u.text, nlp) is not None for u in agent[1:])


def _answer_to_a_lost_question(timeline: RoleTimeline, options: VerdictOptions, nlp
                               ) -> tuple[str, tuple[Evidence, ...], frozenset[Utterance]] | None:
    """Nobody asked, yet after the opening the agent speaks of recording in words that open
    as a reply ("Ja, dat klopt, we nemen alle gesprekken op"): the answer to a question the
    recogniser lost, read as the answer (value, evidence, the utterances read) and not as a
    notice of the agent's own. A caller's own notice heard in the agent's voice ("ja, ik neem dit
    gesprek op") is no answer. None if there is none."""
    opening = set(opening_turn(timeline, options.opening_s))
    # the agent's speech read as the notices are ("Ja, | dit gesprek wordt opgenomen")
    for run, role in _speech_runs(timeline, frozenset(), options.notice_join_gap_s):
        said = _as_text(run)
        text = said.text
        if (role != Role.AGENT or opening.intersection(run)
                or not dialogue.opens_with_reply(text)
                or dialogue.caller_notice_rules(text, nlp) is not None
                or not any(not c.rejected for c in language.find_notices(text, nlp))):
            continue
        hit = dialogue.classify_answer(text)
        if hit is None or hit.detail == "no_answer":
            continue
        _, _, asr = said.times(hit.start_char, hit.end_char)
        return hit.detail, (Evidence(text, run[0].start, run[-1].end, role, hit.confidence, asr,
                                     f"reply={hit.detail}: {hit.text} (to a question not "
                                     "heard)"),), frozenset(run)
    return None


def _found(u: Utterance, role: Role, text: _Text, hit: dialogue.Hit, what: str
           ) -> tuple[Utterance, Evidence]:
    start, end, asr = text.times(hit.start_char, hit.end_char)
    detail = f"{what}: {hit.detail}" + (f" ({hit.doubt})" if hit.doubt else "")
    if not hit.counted:
        detail += " (not counted)"
    return u, Evidence(hit.text, start, end, role, hit.confidence, asr, detail)


def _reply(timeline: RoleTimeline, asked: Utterance, asker: Role, options: VerdictOptions,
           transcribed_s: float | None, classify, fallback: str, mixed=None
           ) -> tuple[str, tuple[Evidence, ...], frozenset[Utterance], tuple[str, ...]]:
    """The other side's reply to ``asked``: (value, evidence, utterances read, doubts). The
    reply is the speech of any role but the asker's and the IVR's that starts within
    ``answer_s`` of the end of ``asked``; the first utterance with a cue decides.
    ``mixed(text)``: every value the whole reply gives (more than one: "mixed")."""
    # the other side; when the asker's speech was labelled AGENT (one voice for both), any
    # speech after it but the IVR's
    others = (asker, Role.IVR) if asker == Role.CALLER else (Role.IVR,)
    window = [(u, role) for u, role in timeline.utterances
              if asked.end - 0.05 <= u.start <= asked.end + options.answer_s
              and u is not asked and role not in others and u.text]
    used = frozenset(u for u, _ in window)
    doubts: list[str] = []
    for u, role in window:
        text = _as_text([u])
        hit = classify(text.text)
        if hit is not None and hit.doubt:
            doubts.append("unclear")  # rules and model read it differently
        if hit is None or hit.detail == fallback:
            continue
        start, end, asr = text.times(hit.start_char, hit.end_char)
        ev = Evidence(u.text, u.start, u.end, role, hit.confidence, asr,
                      f"reply={hit.detail}: {hit.text}"
                      + (f" ({hit.doubt})" if hit.doubt else ""))
        if asr is not None and asr < options.min_word_probability:
            doubts.append("poorly_heard")
        if mixed is not None and len(mixed(" ".join(w.text for w, _ in window))) > 1:
            doubts.append("mixed")
        return hit.detail, (ev,), used, tuple(dict.fromkeys(doubts))
    # nothing in the reply decides it: look at it, unless it was said clearly
    evidence = tuple(Evidence(u.text, u.start, u.end, role, 0.5, _mean_probability([u]),
                              "reply: no cue") for u, role in window)
    if not window and transcribed_s is not None and transcribed_s < asked.end + options.answer_s:
        doubts.append("not_transcribed")
    else:
        heard = _mean_probability([u for u, _ in window])
        doubts.append("poorly_heard" if heard is not None and heard < options.min_heard_for_none
                      else "unclear")
    return fallback, evidence, used, tuple(dict.fromkeys(doubts))
