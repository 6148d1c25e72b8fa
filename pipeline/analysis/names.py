"""Names heard better: a misheard name is snapped to a lexicon name only when the audio says so.

Whisper base often writes a name it half heard as a near-miss ("Mariko van Den Berk" for
"Marieke van den Berg"). Spelling proposes the candidates (lexicon names within a few edits of
the heard word); the audio decides: each candidate is put in place of the heard word and the
whole segment is scored by Whisper itself, teacher-forced on the segment's audio
(CTranslate2's ``align``, the same pass that gives word timestamps). A candidate replaces the
heard word only when Whisper finds it about as likely as what it wrote (``margin``) and clearly
likelier than every other candidate (``separation``). Nothing is snapped from spelling alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from pipeline.analysis.language import lexicons_of
from pipeline.analysis.transcribe import WhisperScorer
from pipeline.analysis.verdicts import decide
from pipeline.types import ReviewReason, Role, Segment

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NameOptions:
    """Options of the name check (log-probabilities in nats, summed over the segment)."""

    snap: bool = True  # off: names stay as Whisper wrote them
    # lexicon names within this many letter edits are candidates: one for heard words up to
    # ``long_word`` letters, two for longer ones (two edits of a short word reach too many
    # other names: "keesp" -> "geest" before "kees")
    max_edits: int = 2
    long_word: int = 7
    max_candidates: int = 8  # scored per heard word (closest spellings first)
    min_length: int = 4  # shorter heard words are not snapped ("Bos", "Eva": too many twins)
    # a candidate may score at most this far below the heard text (Whisper's own choice under
    # greedy decoding usually scores highest; a real name a little below it is what it misheard)
    margin: float = 2.0
    separation: float = 1.0  # and must beat the next candidate by at least this much
    pad_s: float = 0.3  # audio kept around the segment that is scored


@dataclass(frozen=True)
class Snap:
    """One heard word replaced by a lexicon name, with the scores that allowed it."""

    heard: str
    name: str
    start: float
    end: float
    heard_score: float  # log-probability of the segment as Whisper wrote it
    score: float  # ... with the name in place of the heard word
    runner_up: float | None  # ... with the next best candidate

    def describe(self) -> str:
        return (f"snapped {self.heard!r} -> {self.name!r} (audio log-probability "
                f"{self.score:.1f} vs heard {self.heard_score:.1f})")


def lexicon_candidates(word: str, names: list[str], options: NameOptions) -> list[str]:
    """Lexicon names within ``max_edits`` of ``word`` (lower case), closest first."""
    edits = options.max_edits if len(word) >= options.long_word else min(1, options.max_edits)
    hits = process.extract(word.lower(), names, scorer=Levenshtein.distance,
                           score_cutoff=edits, limit=options.max_candidates)
    return [name for name, _, _ in sorted(hits, key=lambda h: (h[1], h[0])) if name != word]


def _styled(name: str, like: str) -> str:
    """``name`` (lower case) written in the case style of the heard word."""
    if like[:1].isupper():
        return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))
    return name


def snap_word(segment: Segment, index: int, audio: np.ndarray, scorer, names: list[str],
              options: NameOptions, sample_rate: int = 16000) -> Snap | None:
    """The lexicon name that word ``index`` of ``segment`` was, when the audio says so."""
    word = segment.words[index]
    heard = word.text.strip(" .,!?;:")
    if len(heard) < options.min_length or not heard.isalpha():
        return None
    cands = lexicon_candidates(heard, names, options)
    if not cands:
        return None
    texts = [w.text for w in segment.words]

    def with_word(text: str) -> str:
        return " ".join(texts[:index] + [word.text.replace(heard, text)] + texts[index + 1:])

    a = max(0, int((segment.start - options.pad_s) * sample_rate))
    b = min(audio.size, int((segment.end + options.pad_s) * sample_rate))
    if b - a < sample_rate // 2:
        return None
    styled = [_styled(c, heard) for c in cands]
    scores = scorer(audio[a:b], [with_word(heard)] + [with_word(c) for c in styled])
    heard_score, ranked = scores[0], sorted(zip(scores[1:], styled, strict=True), reverse=True)
    best, name = ranked[0]
    runner = ranked[1][0] if len(ranked) > 1 else None
    logger.debug("name %r: heard %.2f, candidates %s", heard, heard_score, ranked[:4])
    if best < heard_score - options.margin:
        return None
    if runner is not None and best - runner < options.separation:
        return None
    return Snap(heard, name, word.start, word.end, round(heard_score, 2), round(best, 2),
                None if runner is None else round(runner, 2))


def apply_snaps(segments: tuple[Segment, ...], snaps: dict[tuple[int, int], Snap]
                ) -> tuple[Segment, ...]:
    """``segments`` with word ``(segment index, word index)`` replaced by its snap."""
    out = list(segments)
    for (si, wi), snap in snaps.items():
        s = out[si]
        w = s.words[wi]
        words = (*s.words[:wi], replace(w, text=w.text.replace(snap.heard, snap.name)),
                 *s.words[wi + 1:])
        out[si] = replace(s, words=words, text=" ".join(x.text for x in words))
    return tuple(out)


def name_words(segments: tuple[Segment, ...], start: float, end: float, tokens: list[str]
               ) -> list[tuple[int, int]]:
    """(segment index, word index) of the words in ``start``..``end`` whose text is one of
    ``tokens`` (the name as the language stage read it)."""
    wanted = {t.lower() for t in tokens}
    out = []
    for si, s in enumerate(segments):
        if s.end < start - 0.05 or s.start > end + 0.05:
            continue
        for wi, w in enumerate(s.words):
            if (w.end > start - 0.05 and w.start < end + 0.05
                    and w.text.strip(" .,!?;:").lower() in wanted):
                out.append((si, wi))
    return out


__all__ = ["NameOptions", "Snap", "WhisperScorer", "apply_snaps", "lexicon_candidates", "snap_opening",
           "decide_with_snaps", "name_words", "snap_word"]


def snap_opening(timeline, verdicts, audio: np.ndarray, scorer, lexicons,
                 options: NameOptions, sample_rate: int = 16000):
    """The role timeline with the words of the agent's introduced name that are not lexicon
    names snapped where the audio supports it (see :func:`snap_word`); -> (timeline, snaps).
    ``verdicts``: the decisions made on ``timeline``, whose name evidence says where to look;
    ``lexicons``: ``language.Lexicons``."""
    if not options.snap or not verdicts.name_evidence:
        return timeline, ()
    ev = verdicts.name_evidence[0]
    wanted = {t.strip(" .,!?;:").lower() for t in ev.text.split()}
    interfixes = {w for seq in lexicons.interfixes for w in seq}
    wanted = {t for t in wanted if t and t not in interfixes and t not in lexicons.first_names
              and t not in lexicons.surnames and t not in lexicons.common_words}
    if not wanted:
        return timeline, ()
    names = lexicons.name_list
    snaps: list[Snap] = []
    utterances = list(timeline.utterances)
    for ui, (u, role) in enumerate(utterances):
        if role != Role.AGENT or u.end < ev.start - 0.05 or u.start > ev.end + 0.05:
            continue
        segments = u.segments
        for si, wi in name_words(segments, ev.start, ev.end, sorted(wanted)):
            snap = snap_word(segments[si], wi, audio, scorer, names, options, sample_rate)
            if snap is None:
                continue
            snaps.append(snap)
            segments = apply_snaps(segments, {(si, wi): snap})
            wanted.discard(snap.heard.lower())
        if segments is not u.segments:
            text = u.text
            for snap in snaps:
                text = text.replace(snap.heard, snap.name, 1)
            utterances[ui] = (replace(u, segments=segments, text=text), role)
    if not snaps:
        return timeline, ()
    return replace(timeline, utterances=tuple(utterances)), tuple(snaps)


def decide_with_snaps(timeline, verdicts, audio: np.ndarray, scorer, nlp, verdict_options,
                      options: NameOptions, sample_rate: int = 16000,
                      transcribed_s: float | None = None):
    """``verdicts`` decided again after :func:`snap_opening` (unchanged when nothing was
    snapped); the name evidence says what was snapped and on what scores. ``transcribed_s``:
    as for :func:`verdicts.decide`."""

    if scorer is None or not options.snap or not verdicts.name_evidence:
        return verdicts
    snapped, snaps = snap_opening(timeline, verdicts, audio, scorer, lexicons_of(nlp),
                                  options, sample_rate)
    if not snaps:
        return verdicts
    again = decide(snapped, verdict_options, nlp=nlp, transcribed_s=transcribed_s)
    note = "; ".join(s.describe() for s in snaps)
    evidence = tuple(replace(e, detail=f"{e.detail}; {note}" if e.detail else note)
                     for e in again.name_evidence)
    reasons = again.review_reasons
    if any(s.name.lower() in e.text.lower() for s in snaps for e in evidence):
        # a name the recogniser did not write, chosen by a few nats of audio score: on the
        # tuning calls such names were as often wrong as right ("Mervaal" -> "Meral" for
        # "mevrouw"), so the name is shown for review, never asserted
        reasons = tuple(dict.fromkeys((*reasons, ReviewReason.NAME_SNAPPED)))
    return replace(again, name_evidence=evidence, review_reasons=reasons,
                   needs_review=bool(reasons))
