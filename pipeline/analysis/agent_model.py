"""The agent-start model: how likely a line utterance is the live agent's first words.

The role stage describes every candidate utterance by the evidence it has (``AGENT_FEATURES``:
wording, turn-taking, pick-up after hold or ringback, voice, position) and this model turns
that into a probability; the first candidate at or above the model's threshold is the agent
start. Two models exist:

* ``rules``: the hand-set weights callcheck used first (``RULE_WEIGHTS``), kept for comparison;
* the learned default: logistic regression over the same features, trained by
  ``python -m training.roles_train`` on the corpus's tuning families only and shipped in
  ``models/roles/agent_start.json`` with its card (``models/roles/MODEL_CARD.md``).

Weights live in one place (here, or the model file), never as constants in the role code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "roles"
DEFAULT_MODEL = MODEL_DIR / "agent_start.json"

AGENT_FEATURES: tuple[str, ...] = (
    "ivr_strong",  # a menu choice, a welcome or two IVR phrases
    "ivr_weak",  # one IVR word (often a mishearing)
    "greeting",  # a live greeting or introduction ("u spreekt met", "waarmee kan ik ...")
    "greeting_word",  # a greeting word only ("goedemorgen")
    "answered",  # another voice answers within a few seconds (nobody answers a recording)
    "followed_by_keys_or_hold",  # leads into key presses or hold music (a menu, a queue)
    "after_hold_or_ringback",  # starts just after hold music or ringback ends (a pick-up)
    "same_voice_as_ivr",  # the voice that spoke the menus
    "same_voice_as_ivr_picked_up",  # ... but answered, right after a pick-up
    "new_voice_after_ivr",  # a voice first heard after the IVR's
    "no_text",  # speech without recognised words
    "too_short",  # shorter than a spoken reply
    "before_later_hold",  # hold music or key presses come later in the call
    "first_after_last_hold",  # the first line speech after the last hold or key press
    "first_line_speech",  # the first speech heard from the line
    "new_voice",  # the first words of a voice not heard on the line before
    "after_other_voice",  # another voice spoke just before it (it answers someone)
    "voice_returns",  # its voice speaks again after another voice answered: a conversation
    "last_line_speech",  # nothing is heard from the line after it (a closed-office message)
    "greeting_later_other_voice",  # no greeting of its own; another voice greets soon after
    "announcement_words",  # recording-notice or announcement wording
    "caller_words",  # what callers say of their call ("ik heb een vraag over ...")
    "short_before_greeting",  # a short call ("hallo?") the line answers at once with a greeting
    "long_run_before_answer",  # inside one voice's long monologue before anyone answers
    "opens_answered_turn",  # stereo: first words of the stretch the caller's first reply answers
    "opens_answered_turn_mono",  # the same in a mono call, the reply told by diarization only
    "before_answered_turn",  # stereo: before that stretch (the phone system, as a rule)
    "transfer_follows",  # its voice hands the call to a colleague before the next hold
)

# the features that rest on the audio and the call's course, not on what the recogniser wrote:
# a start the model is sure of on wording alone is still reviewed (``words_only_start``), as
# wording read on one generator's phrasing does not carry to another's
AUDIO_CUES: frozenset[str] = frozenset({
    "answered", "after_hold_or_ringback", "same_voice_as_ivr_picked_up", "new_voice_after_ivr",
    "first_after_last_hold", "new_voice", "after_other_voice", "voice_returns",
    "short_before_greeting", "opens_answered_turn", "opens_answered_turn_mono",
})

# the hand-set score of the first callcheck releases: a candidate scoring 1.5 or more was the
# agent start; as a logistic model, probability = sigmoid(1.5 * (score - 1.0))
RULE_WEIGHTS: dict[str, float] = {
    "ivr_strong": -2.0, "ivr_weak": -1.0, "greeting": 2.0, "greeting_word": 0.75,
    "answered": 1.0, "followed_by_keys_or_hold": -1.5, "after_hold_or_ringback": 0.75,
    "same_voice_as_ivr_picked_up": -0.25, "same_voice_as_ivr": -1.0,
    "new_voice_after_ivr": 0.75, "no_text": -0.25, "too_short": -1.0,
}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class ModelError(ValueError):
    """An agent-start model file that cannot be used."""


def known_weights(path: Path, weights: dict, features: tuple[str, ...],
                  error: type[ValueError]) -> dict[str, float]:
    """A model file's weights as floats; one of a feature this callcheck does not compute
    (a model of another version) is ``error``: never silently ignored."""
    unknown = set(weights) - set(features)
    if unknown:
        raise error(f"{path}: features this callcheck does not compute: {sorted(unknown)}")
    return {k: float(v) for k, v in weights.items()}


@dataclass(frozen=True)
class AgentStartModel:
    """A logistic model over ``AGENT_FEATURES``: P(candidate is the agent's first words)."""

    name: str
    weights: dict[str, float]
    bias: float
    threshold: float  # the first candidate with probability >= threshold is the agent start
    sha256: str | None = None  # of the model file, when loaded from one
    meta: dict = field(default_factory=dict, compare=False)  # training data, measured results

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return round(_sigmoid(z), 4)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "features": list(AGENT_FEATURES),
                           "weights": self.weights, "bias": self.bias,
                           "threshold": self.threshold, "meta": self.meta}, indent=1) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> AgentStartModel:
        path = Path(path)
        try:
            raw = path.read_bytes()
            data = json.loads(raw)
            return cls(data["name"], known_weights(path, data["weights"], AGENT_FEATURES,
                                                   ModelError),
                       float(data["bias"]), float(data["threshold"]),
                       hashlib.sha256(raw).hexdigest(), data.get("meta", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            if isinstance(e, ModelError):
                raise
            raise ModelError(f"cannot load the agent-start model {path}: {e}") from e


RULES = AgentStartModel("rules", {k: 1.5 * w for k, w in RULE_WEIGHTS.items()}, -1.5,
                        round(_sigmoid(0.75), 4))


@functools.lru_cache(maxsize=8)
def agent_start_model(name: str = "default") -> AgentStartModel:
    """``"default"``: the shipped learned model (the rules where it is absent); ``"rules"``;
    or the path of a model file written by ``training.roles_train``."""
    if name == "rules":
        return RULES
    if name == "default":
        return AgentStartModel.load(DEFAULT_MODEL) if DEFAULT_MODEL.exists() else RULES
    return AgentStartModel.load(name)
