"""The doubt model: how likely a verdict the rules would assert is wrong, from signals that do
not depend on phrasing.

The rules flag the kinds of error seen while tuning; each new phrasing set brings kinds of its
own (docs/decisions/doubt-model.md). This stage reads generic signals of the finished call
(how well the recogniser heard the evidence and the agent's opening, how sure the role stage
is of the agent start and on which cues, how fast and how much was said, the channel) and a
small logistic model per concern (``Concern``) turns them into the probability that the
concern's verdicts are wrong. At or above the concern's threshold the call gets that
concern's ``model_doubts_*`` reason: the verdicts stay, a person looks.

The model is trained by ``python -m training.doubt_train`` on the tuning families only, its
thresholds chosen on families left out in turn, and shipped in ``models/doubt/doubt.json``
with its card. Features are computed from the ``CallResult`` alone (its JSON holds all they
need), so a run's results can be re-scored and the model trained on them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.analysis.agent_model import AUDIO_CUES, known_weights
from pipeline.types import (
    CallResult,
    Concern,
    EventKind,
    Evidence,
    ReviewReason,
    Role,
    Verdicts,
)

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "doubt"
DEFAULT_MODEL = MODEL_DIR / "doubt.json"

DOUBT_FEATURES: tuple[str, ...] = (
    "start_confidence",  # the agent-start model's probability of the chosen start
    "start_audio_cues",  # how many audio cues back the start (agent_model.AUDIO_CUES)
    "start_pickup",  # the start follows hold music, ringback or a key press within 3 s
    "start_s",  # log(1 + seconds until the agent start)
    "before_words",  # log(1 + words heard before the agent start)
    "before_probability",  # their mean word probability (0 without words)
    "opening_words",  # log(1 + words of the agent's opening)
    "opening_probability",  # their mean word probability (0 without words)
    "opening_min_probability",  # the least sure word of the opening
    "opening_low_share",  # the share of its words heard below 0.5
    "opening_rate",  # its words per second of agent speech
    "opening_lower_start",  # the opening's first letter is lower case (heard mid-sentence)
    "name_given",  # a name was read
    "name_probability",  # the name's mean word probability
    "name_confidence",  # the name rule's confidence
    "name_not_in_lexicon",  # none of its words is a known first or last name
    "name_words",  # how many words the name has
    "name_next_probability",  # the word after the name (a surname heard poorly?)
    "opening_capitals",  # capitalised words inside sentences, not the name or organisation
    "notice_found",  # a recording notice was read
    "notice_confidence",  # the weakest notice evidence's rule confidence
    "notice_probability",  # the weakest notice evidence's word probability
    "question_found",  # the caller's question or the agent's answer was read
    "question_probability",  # the weakest of them by word probability
    "caller_notice_found",  # the caller's own notice was read
    "caller_notice_probability",  # the weakest of it and the response by word probability
    "agent_probability",  # mean word probability of all agent speech
    "caller_words",  # log(1 + the caller's words)
    "caller_probability",  # their mean word probability
    "narrowband",  # a telephone channel (8 kHz)
    "stereo",  # caller and line on channels of their own
)

# the review reason the model gives for each concern it doubts
DOUBT_REASONS: dict[Concern, ReviewReason] = {
    Concern.AGENT_START: ReviewReason.MODEL_DOUBTS_START,
    Concern.NAME: ReviewReason.MODEL_DOUBTS_NAME,
    Concern.NOTICE: ReviewReason.MODEL_DOUBTS_NOTICE,
    Concern.QUESTION: ReviewReason.MODEL_DOUBTS_ANSWER,
    Concern.CALLER_NOTICE: ReviewReason.MODEL_DOUBTS_CALLER_NOTICE,
}

_PICKUP_EVENTS = (EventKind.MUSIC, EventKind.RINGBACK, EventKind.DTMF)
_PICKUP_S = 3.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _weakest(evidence: tuple[Evidence, ...]) -> tuple[float, float]:
    """(rule confidence, word probability) of the weakest evidence; (1, 1) without any."""
    if not evidence:
        return 1.0, 1.0
    probs = [e.asr_confidence for e in evidence if e.asr_confidence is not None]
    return min(e.confidence for e in evidence), min(probs) if probs else 1.0


def features(result: CallResult, opening_s: float = 20.0) -> dict[str, float]:
    """The doubt features of one analysed call (``DOUBT_FEATURES``); empty without verdicts."""
    v, tl, tr = result.verdicts, result.timeline, result.transcript
    if v is None or tl is None:
        return {}
    words = [w for s in (tr.segments if tr else ()) for w in s.words]
    start = v.agent_start_s
    f = dict.fromkeys(DOUBT_FEATURES, 0.0)
    f["start_confidence"] = v.agent_start_confidence if start is not None else 0.0
    f["start_audio_cues"] = float(sum(r in AUDIO_CUES for r in tl.reasons))
    if start is not None:
        f["start_s"] = math.log1p(max(start, 0.0))
        f["start_pickup"] = float(any(
            e.kind in _PICKUP_EVENTS and 0.0 <= start - e.end <= _PICKUP_S for e in result.events))
    before = [w for w in words if start is None or w.start < start]
    f["before_words"] = math.log1p(len(before))
    f["before_probability"] = _mean([w.probability for w in before])

    by_role: dict[Role, list] = {}
    for w in words:
        by_role.setdefault(tl.role_at((w.start + w.end) / 2), []).append(w)
    agent = by_role.get(Role.AGENT, [])
    caller = by_role.get(Role.CALLER, [])
    f["agent_probability"] = _mean([w.probability for w in agent])
    f["caller_words"] = math.log1p(len(caller))
    f["caller_probability"] = _mean([w.probability for w in caller])

    if start is not None:
        first_caller = min([w.start for w in caller if w.start >= start]
                           + [start + opening_s])
        opening = [w for w in agent if start <= w.start < first_caller]
        probs = [w.probability for w in opening]
        f["opening_words"] = math.log1p(len(opening))
        f["opening_probability"] = _mean(probs)
        f["opening_min_probability"] = min(probs) if probs else 0.0
        f["opening_low_share"] = _mean([float(p < 0.5) for p in probs]) if probs else 1.0
        speech = sum(min(t.end, first_caller) - max(t.start, start) for t in tl.turns
                     if t.role == Role.AGENT and t.end > start and t.start < first_caller)
        f["opening_rate"] = min(len(opening) / speech, 6.0) if speech > 0.5 else 0.0
        f["opening_capitals"] = float(_capitals(opening, v))
    first = next((c for c in v.opening_text if c.isalpha()), "")
    f["opening_lower_start"] = float(first.islower())

    if v.name_evidence:
        n = v.name_evidence[0]
        f["name_given"] = float(v.agent_name != "none")
        f["name_confidence"], f["name_probability"] = _weakest(v.name_evidence[:1])
        f["name_not_in_lexicon"] = float("not_in_lexicon" in n.detail)
        f["name_words"] = float(len(n.text.split()))
        after = [w for w in words if w.start >= n.end - 0.01]
        f["name_next_probability"] = after[0].probability if after else 1.0
    if v.notice_evidence:
        f["notice_found"] = 1.0
        f["notice_confidence"], f["notice_probability"] = _weakest(v.notice_evidence)
    if v.question_evidence:
        f["question_found"] = 1.0
        f["question_probability"] = _weakest(v.question_evidence)[1]
    if v.caller_notice_evidence:
        f["caller_notice_found"] = 1.0
        f["caller_notice_probability"] = _weakest(v.caller_notice_evidence)[1]
    if result.audio is not None:
        f["narrowband"] = float(result.audio.sample_rate < 16000)
        f["stereo"] = float(result.audio.channels > 1)
    return f


def _capitals(opening: list, v: Verdicts) -> int:
    """Words written with a capital inside a sentence that are not the name read nor the
    organisation's: Whisper capitalises names, so these may be a name the rules missed."""
    known = {w.strip(".,!?:;").lower() for e in v.name_evidence for w in e.text.split()}
    known |= {w.lower() for w in (v.organisation or "").split()}
    count, sentence_start = 0, True
    for w in opening:
        word = w.text.strip()
        bare = word.strip(".,!?:;\"'")
        if bare[:1].isupper() and not sentence_start and bare.lower() not in known:
            count += 1
        sentence_start = word.endswith((".", "?", "!"))
    return count


class DoubtModelError(ValueError):
    """A doubt model file that cannot be used."""


@dataclass(frozen=True)
class ConcernModel:
    """Logistic regression over standardised ``DOUBT_FEATURES``: P(the concern's verdicts are
    wrong); at or above ``threshold`` the concern is doubted."""

    weights: dict[str, float]
    means: dict[str, float]
    scales: dict[str, float]
    bias: float
    threshold: float

    def probability(self, f: dict[str, float]) -> float:
        z = self.bias + sum(w * (f.get(k, 0.0) - self.means.get(k, 0.0))
                            / (self.scales.get(k, 1.0) or 1.0) for k, w in self.weights.items())
        return round(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))), 4)


@dataclass(frozen=True)
class DoubtModel:
    """One ``ConcernModel`` per concern it was trained for."""

    name: str
    concerns: dict[Concern, ConcernModel]
    sha256: str | None = None
    meta: dict = field(default_factory=dict, compare=False)

    def probabilities(self, f: dict[str, float]) -> dict[Concern, float]:
        return {c: m.probability(f) for c, m in self.concerns.items()} if f else {}

    def doubts(self, f: dict[str, float]) -> list[ReviewReason]:
        """The ``model_doubts_*`` reasons of the concerns at or above their threshold."""
        return [DOUBT_REASONS[c] for c, p in self.probabilities(f).items()
                if p >= self.concerns[c].threshold]

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "features": list(DOUBT_FEATURES),
                           "concerns": {c.value: dataclasses.asdict(m)
                                        for c, m in self.concerns.items()},
                           "meta": self.meta}, indent=1) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> DoubtModel:
        path = Path(path)
        try:
            raw = path.read_bytes()
            data = json.loads(raw)
            concerns = {}
            for c, m in data["concerns"].items():
                concerns[Concern(c)] = ConcernModel(
                    known_weights(path, m["weights"], DOUBT_FEATURES, DoubtModelError),
                    {k: float(x) for k, x in m["means"].items()},
                    {k: float(x) for k, x in m["scales"].items()},
                    float(m["bias"]), float(m["threshold"]))
            return cls(data["name"], concerns, hashlib.sha256(raw).hexdigest(),
                       data.get("meta", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            if isinstance(e, DoubtModelError):
                raise
            raise DoubtModelError(f"cannot load the doubt model {path}: {e}") from e


@functools.lru_cache(maxsize=8)
def doubt_model(name: str = "default") -> DoubtModel | None:
    """``"default"``: the shipped model (None where it is absent); ``"off"``: none; or the
    path of a model file written by ``training.doubt_train``."""
    if name == "off":
        return None
    if name == "default":
        return DoubtModel.load(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else None
    return DoubtModel.load(name)


def with_doubts(result: CallResult, model: DoubtModel | None,
                opening_s: float = 20.0) -> CallResult:
    """``result`` with the model's doubts added to its review reasons (unchanged without a
    model or verdicts, or where nothing is doubted)."""
    if model is None or result.verdicts is None:
        return result
    added = [r for r in model.doubts(features(result, opening_s))
             if r not in result.verdicts.review_reasons]
    if not added:
        return result
    verdicts: Verdicts = dataclasses.replace(
        result.verdicts, needs_review=True,
        review_reasons=(*result.verdicts.review_reasons, *added))
    return dataclasses.replace(result, verdicts=verdicts)
