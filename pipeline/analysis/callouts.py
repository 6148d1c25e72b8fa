"""A caller's "hallo?" at the pick-up that the recogniser left out, heard in the audio.

A caller who hears nothing after the pick-up says "hallo?" (a third of a second to a second).
Whisper often writes nothing for so short a word; the diarization still has the speech, and the
role stage then reads it as the agent's first words, a second or two early. Where a short
stretch of speech right after a pick-up (hold music or ringback ending) has no words, the audio
is asked which it is: a call-out or the start of an opening. Whisper scores each text on that
stretch (the log-probability of its tokens, as names are checked in ``names.py``); a call-out
likelier than every opening start by ``callout_check_margin`` becomes a segment with its text,
so the role stage reads a call-out there. Nothing else is written: no other word is changed,
and a stretch the audio does not settle keeps no words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from pipeline.analysis.roles import PICKUP_KINDS, RoleOptions, after_pickup, wordless
from pipeline.analysis.vocabulary import CALL_OUT_TEXTS, OPENING_STARTS
from pipeline.types import Event, Segment, Word

Scorer = Callable[[np.ndarray, list[str]], list[float]]


def heard_call_outs(mono: np.ndarray, sample_rate: int, events: Sequence[Event],
                    segments: Sequence[Segment], speaker_turns, scorer: Scorer | None,
                    options: RoleOptions) -> list[Segment]:
    """Segments for the call-outs the audio holds where the transcript has no words: mono
    speech turns of ``callout_check_min_s``..``callout_check_max_s`` starting within
    ``pickup_window_s`` of a pick-up, scored by ``scorer`` (16 kHz; None: no check)."""
    if scorer is None or options.callout_check_margin <= 0 or sample_rate != 16000:
        return []
    pickups = [e.end for e in events if e.kind in PICKUP_KINDS]
    spans = [(s.start, s.end) for s in segments]
    texts = [*CALL_OUT_TEXTS, *OPENING_STARTS]
    pad = options.callout_check_pad_s
    out: list[Segment] = []
    for t in speaker_turns:
        if getattr(t, "channel", None) is not None:
            continue  # stereo: the caller's side is known by its channel
        if not options.callout_check_min_s <= t.end - t.start <= options.callout_check_max_s:
            continue
        if not after_pickup(t.start, pickups, options.pickup_window_s):
            continue
        if not wordless(t.start, t.end, spans):
            continue
        piece = mono[int(max(0.0, t.start - pad) * sample_rate):int((t.end + pad) * sample_rate)]
        scores = scorer(piece, texts)
        calls, opens = scores[:len(CALL_OUT_TEXTS)], scores[len(CALL_OUT_TEXTS):]
        best = int(np.argmax(calls))
        if calls[best] - max(opens) < options.callout_check_margin:
            continue
        text = CALL_OUT_TEXTS[best]
        words = text.split()
        step = (t.end - t.start) / len(words)
        mean = calls[best] / len(words)  # log-probability per word; as a word confidence:
        prob = round(math.exp(mean), 4)
        out.append(Segment(t.start, t.end, text,
                           tuple(Word(round(t.start + k * step, 3),
                                      round(t.start + (k + 1) * step, 3), w, prob)
                                 for k, w in enumerate(words)),
                           None, round(mean, 4), 0.0, 1.0))
    return out


__all__ = ["heard_call_outs"]
