"""The agent-start model: the hand-set rules as a logistic model, the shipped learned model,
and its training (leave-one-family-out, first candidate at or above the threshold)."""

from __future__ import annotations

import json

import pytest

from pipeline.analysis.agent_model import (
    AGENT_FEATURES,
    DEFAULT_MODEL,
    RULE_WEIGHTS,
    RULES,
    AgentStartModel,
    ModelError,
    agent_start_model,
)
from training.roles_train import (
    THRESHOLDS,
    CallExamples,
    accuracy,
    choose,
    cross_validate,
    decide,
    fit,
    folds,
)


def test_the_rules_model_takes_a_score_of_1_5_as_before():
    at = {"greeting": 1.0, "after_hold_or_ringback": 1.0, "answered": 1.0, "ivr_weak": 1.0,
          "same_voice_as_ivr": 1.0}  # 2 + 0.75 + 1 - 1 - 1 = 1.75
    assert RULES.probability(at) >= RULES.threshold
    below = {"greeting": 1.0, "followed_by_keys_or_hold": 1.0, "answered": 0.0,
             "after_hold_or_ringback": 1.0}  # 2 - 1.5 + 0.75 = 1.25
    assert RULES.probability(below) < RULES.threshold
    exactly = {"greeting": 1.0, "no_text": 1.0, "ivr_weak": 1.0,
               "after_hold_or_ringback": 1.0}  # 2 - 0.25 - 1 + 0.75 = 1.5: taken
    assert sum(RULE_WEIGHTS[k] for k in exactly) == 1.5
    assert RULES.probability(exactly) >= RULES.threshold
    assert RULES.probability({**exactly, "same_voice_as_ivr_picked_up": 1.0}) < RULES.threshold
    assert set(RULE_WEIGHTS) <= set(AGENT_FEATURES)


def test_a_model_file_round_trips_and_refuses_unknown_features(tmp_path):
    model = AgentStartModel("m", {"greeting": 2.0, "answered": 1.0}, -1.0, 0.6,
                            meta={"families": ["a"]})
    path = tmp_path / "m.json"
    path.write_text(model.to_json())
    loaded = agent_start_model(str(path))
    assert loaded.weights == model.weights and loaded.threshold == 0.6 and loaded.sha256
    data = json.loads(path.read_text())
    data["weights"]["loudness"] = 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="loudness"):
        AgentStartModel.load(path)
    with pytest.raises(ModelError, match="cannot load"):
        AgentStartModel.load(tmp_path / "missing.json")


def _call(file, family, start, *cands):
    return CallExamples(file, family, start, tuple(cands))


GREET = {"greeting": 1.0, "answered": 1.0}
IVR = {"ivr_strong": 1.0, "followed_by_keys_or_hold": 1.0}
PICKUP = {"after_hold_or_ringback": 1.0, "answered": 1.0, "no_text": 1.0}


def _calls():
    calls = []
    for fam in ("a", "b", "c"):
        for k in range(6):
            calls.append(_call(f"{fam}{k}", fam, 20.0, (2.0, IVR), (20.0, GREET),
                               (25.0, {"caller_words": 1.0})))
            calls.append(_call(f"{fam}{k}p", fam, 30.0, (3.0, IVR), (30.0, PICKUP)))
            calls.append(_call(f"{fam}{k}n", fam, None, (1.0, IVR), (6.0, {"ivr_weak": 1.0})))
    return calls


def test_training_learns_from_the_candidates_up_to_the_true_start():
    calls = _calls()
    assert [t for _, t in calls[0].examples()] == [0, 1]  # the caller's turn after is left out
    assert [t for _, t in calls[2].examples()] == [0, 0]  # no agent: all negative
    model = fit(calls, 1.0)
    assert model.weights["greeting"] > 0 > model.weights["ivr_strong"]
    assert accuracy(model, calls, 0.5) == 1.0
    assert decide(model, calls[2], 0.5)  # nothing taken in a call without an agent


def test_cross_validation_leaves_each_family_out_and_picks_a_setting():
    cv = cross_validate(_calls())
    assert set(cv["1.0"]) == {"a", "b", "c"}
    c, threshold, acc = choose(cv)
    assert acc == 1.0 and 0.2 <= threshold <= 0.9


def test_a_sure_wrong_start_costs_more_than_a_miss_when_the_setting_is_chosen():
    """Of two settings, one more call right does not buy twice the wrong starts that are sure
    enough to skip review."""
    cell = {"accuracy": 0.0, "sure_wrong": 0.0}
    cv = {c: {f: {str(t): dict(cell) for t in THRESHOLDS} for f in ("a", "b")}
          for c in ("1.0", "3.0")}
    for f in ("a", "b"):
        cv["1.0"][f]["0.35"] = {"accuracy": 0.85, "sure_wrong": 0.01}
        cv["3.0"][f]["0.3"] = {"accuracy": 0.86, "sure_wrong": 0.03}
    assert choose(cv) == (1.0, 0.35, 0.85)
    cv["3.0"]["a"]["0.3"]["sure_wrong"] = cv["3.0"]["b"]["0.3"]["sure_wrong"] = 0.01
    assert choose(cv) == (3.0, 0.3, 0.86)


def test_of_two_equally_right_and_safe_settings_the_one_deciding_more_is_chosen():
    cell = {"accuracy": 0.0, "sure_wrong": 0.0, "decided": 0.0}
    cv = {c: {f: {str(t): dict(cell) for t in THRESHOLDS} for f in ("a", "b")}
          for c in ("0.3", "1.0")}
    for f in ("a", "b"):
        cv["0.3"][f]["0.4"] = {"accuracy": 0.86, "sure_wrong": 0.01, "decided": 0.15}
        cv["1.0"][f]["0.4"] = {"accuracy": 0.86, "sure_wrong": 0.01, "decided": 0.30}
    assert choose(cv) == (1.0, 0.4, 0.86)
    cv["1.0"]["a"]["0.4"]["decided"] = cv["1.0"]["b"]["0.4"]["decided"] = 0.10
    assert choose(cv) == (0.3, 0.4, 0.86)


def test_the_shipped_model_was_trained_without_the_held_back_families():
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"{DEFAULT_MODEL} is missing: train it with python -m training.roles_train")
    model = agent_start_model("default")
    assert model.name == "learned" and model.sha256
    trained = [f for fold in model.meta["families"] for f in fold.split("+")]
    assert not any(f.startswith("held-back") for f in trained)
    assert len(model.meta["families"]) >= 2
    assert 0.0 < model.threshold < 1.0


def test_the_trainers_refuse_every_held_back_family(capsys):
    """held-back and held-back-g (any family named held-back*) are measured on, never fitted."""
    from training import roles_pipeline_cv, roles_train

    assert folds(["espeak-a+human-a", "mbrola-b"]) == {
        "espeak-a": "espeak-a+human-a", "human-a": "espeak-a+human-a", "mbrola-b": "mbrola-b"}
    for fams in (["mbrola-b", "held-back"], ["held-back-g", "mbrola-b"],
                 ["human-d+held-back-g", "mbrola-b"]):
        with pytest.raises(ValueError, match="held-back"):
            folds(fams)
        base = ["--analysed", "x", "--corpus", "y", "--families", *fams]
        for main, argv in ((roles_train.main, base),
                           (roles_pipeline_cv.main, [*base, "--cache", "z", "--out", "w"])):
            with pytest.raises(SystemExit) as e:  # refused while parsing, nothing read
                main(argv)
            assert e.value.code == 2
            assert "never trained or cross-validated on" in capsys.readouterr().err


def test_training_judges_a_candidate_by_the_start_the_pipeline_reports():
    """Whisper's first word comes 1.4 s after the agent's voice starts (after hold music): the
    replay gives that candidate its voice onset, so a right pick is not taken for a miss."""
    import numpy as np

    from pipeline.analysis.audio import Audio
    from pipeline.analysis.config import PipelineConfig
    from training.roles_train import replay_candidates

    def seg(start, end, text):
        words = text.split()
        step = (end - start) / len(words)
        return {"start": start, "end": end, "text": text,
                "words": [{"start": start + k * step, "end": start + (k + 1) * step,
                           "text": w, "probability": 0.9} for k, w in enumerate(words)]}

    result = {
        "events": [{"start": 6.0, "end": 15.0, "kind": "music", "label": "",
                    "confidence": 0.9, "parts": []}],
        "speaker_turns": [{"start": 0.5, "end": 5.5, "speaker": "SPEAKER_00", "channel": None},
                          {"start": 15.2, "end": 19.0, "speaker": "SPEAKER_01", "channel": None},
                          {"start": 19.6, "end": 22.0, "speaker": "SPEAKER_00", "channel": None}],
        "transcript": {"segments": [
            seg(0.5, 5.5, "Welkom bij de gemeente, een moment geduld alstublieft."),
            seg(16.6, 19.0, "met Anna Jansen, waarmee kan ik u helpen?"),
            seg(19.6, 22.0, "Ja hallo, ik heb een vraag over afval.")],
            "language": "nl", "duration_s": 23.0},
    }
    audio = Audio(np.zeros((1, 23 * 16000), dtype=np.float32), 16000, None)
    options = PipelineConfig().roles
    starts = {c.utterance.start: start for start, c in replay_candidates(result, audio, options)}
    assert starts[16.6] == pytest.approx(15.2)  # the agent's voice, not its first word heard
    assert starts[0.5] == 0.5 and starts[19.6] == 19.6


def test_the_review_curve_counts_starts_decided_and_wrong_per_level():
    from training.roles_train import review_curve

    # one call per family whose greeting comes long before its labelled start: a wrong pick
    wrong = [_call(f"{fam}w", fam, 40.0, (5.0, GREET)) for fam in ("a", "b", "c")]
    curve = review_curve(_calls() + wrong, 1.0, 0.5, levels=(0.0, 0.5, 1.0))
    assert set(curve) == {"0.0", "0.5", "1.0"}
    decided = [curve[k]["decided"] for k in ("0.0", "0.5", "1.0")]
    assert decided[0] >= decided[1] >= decided[2] == 0  # stricter: fewer decided
    assert curve["0.0"]["wrong"] == 3 and all(v["wrong"] <= v["decided"] for v in curve.values())


class _CountingTranscriber:
    """A transcriber stand-in that counts its decodes."""

    options = {"beam_size": 1}

    def __init__(self):
        self.decodes = 0

    def transcribe(self, samples, sample_rate=16000, **kw):
        self.decodes += 1
        return ("decoded", float(samples.sum()), kw["start"], kw["end"])

    def scorer(self):
        return "scorer"


def test_a_decode_cache_decodes_a_stretch_once(tmp_path):
    """A cached decode is read back only for the same audio, stretch and options; anything
    else is decoded (a stale result would judge a role change on words it never caused)."""
    import numpy as np

    from pipeline.runs.decode_cache import CachedTranscriber, DecodeCache

    inner = _CountingTranscriber()
    t = CachedTranscriber(inner, DecodeCache(tmp_path))
    a, b = np.ones(16000, dtype=np.float32), np.full(16000, 2.0, dtype=np.float32)
    first = t.transcribe(a, 16000, start=0.0, end=1.0, beam_size=None)
    assert t.transcribe(a, 16000, start=0.0, end=1.0, beam_size=None) == first
    assert inner.decodes == 1
    t.transcribe(a, 16000, start=0.0, end=0.5, beam_size=None)  # another stretch
    t.transcribe(a, 16000, start=0.0, end=1.0, beam_size=5)  # another beam
    assert t.transcribe(b, 16000, start=0.0, end=1.0, beam_size=None)[1] == 32000.0
    assert inner.decodes == 4
    # a new cache on the same folder reads what the first wrote
    again = CachedTranscriber(inner, DecodeCache(tmp_path))
    assert again.transcribe(a, 16000, start=0.0, end=1.0, beam_size=None) == first
    assert inner.decodes == 4 and again.scorer() == "scorer"


class _CountingDiarizer:
    """A diarizer stand-in that counts its runs."""

    def __init__(self, options):
        self.options, self.runs = options, 0

    def __call__(self, samples, sample_rate=16000):
        self.runs += 1
        return ("turns", self.options)


def test_a_decode_cache_keys_the_diarization_by_its_options(tmp_path):
    """Diarized with other options (another pipeline, another threshold), the same audio is
    diarized again, never read back from the first run's turns."""
    import numpy as np

    from pipeline.runs.decode_cache import CachedDiarizer, DecodeCache

    a = np.ones(16000, dtype=np.float32)
    one = _CountingDiarizer({"threshold": 0.5})
    d = CachedDiarizer(one, DecodeCache(tmp_path))
    assert d(a, 16000) == d(a, 16000) == ("turns", {"threshold": 0.5})
    assert one.runs == 1
    other = _CountingDiarizer({"threshold": 0.7})
    assert CachedDiarizer(other, DecodeCache(tmp_path))(a, 16000) == ("turns", {"threshold": 0.7})
    assert other.runs == 1
