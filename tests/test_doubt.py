"""The doubt model: generic features of a finished call, the per-concern logistic model and
its file, the reasons it adds, and its training (thresholds on families left out)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from pipeline.analysis.doubt import (
    DEFAULT_MODEL,
    DOUBT_FEATURES,
    ConcernModel,
    DoubtModel,
    DoubtModelError,
    doubt_model,
    features,
    with_doubts,
)
from pipeline.types import (
    CallResult,
    Concern,
    Event,
    ReviewReason,
    decisions_in_doubt,
)
from tests.builders import call_result, segment, transcript


def _model(**thresholds: float) -> DoubtModel:
    """P(wrong) rises as the opening is heard worse: 0.5 at a mean word probability of 0.5."""
    concerns = {Concern(c): ConcernModel({"opening_probability": -10.0},
                                         {"opening_probability": 0.5},
                                         {"opening_probability": 1.0}, 0.0, t)
                for c, t in thresholds.items()}
    return DoubtModel("test", concerns)


def _heard(result: CallResult, prob: float) -> CallResult:
    segs = tuple(segment(s.start, s.end, s.text, prob=prob) for s in result.transcript.segments)
    return dataclasses.replace(result, transcript=transcript(*segs, duration_s=40.0))


def test_features_read_how_well_the_opening_and_the_evidence_were_heard():
    f = features(call_result(notice="yes"))
    assert set(f) == set(DOUBT_FEATURES)
    assert f["opening_probability"] == pytest.approx(0.9) and f["opening_low_share"] == 0.0
    assert f["name_given"] == 1.0 and f["name_probability"] == 0.9 and f["name_words"] == 1.0
    assert f["notice_found"] == 1.0 and f["notice_confidence"] == 0.9
    assert f["narrowband"] == 1.0 and f["stereo"] == 0.0 and f["start_pickup"] == 0.0
    assert f["before_words"] == pytest.approx(np.log1p(5))
    poor = features(_heard(call_result(), 0.3))
    assert poor["opening_probability"] == pytest.approx(0.3) and poor["opening_low_share"] == 1.0
    assert poor["opening_min_probability"] == pytest.approx(0.3)


def test_a_start_just_after_hold_music_is_a_pick_up_and_no_agent_has_no_opening():
    held = dataclasses.replace(call_result(), events=(Event(2.0, 8.5, "music"),))
    assert features(held)["start_pickup"] == 1.0
    nobody = features(call_result(agent_start=None, name="none"))
    assert nobody["start_confidence"] == 0.0 and nobody["opening_words"] == 0.0
    assert features(CallResult(file="x.wav", error="unreadable")) == {}


def test_features_are_the_same_from_the_call_json():
    """Training reads the call JSON; the pipeline scores the result it made: both must agree."""
    result = dataclasses.replace(call_result(notice="yes"), events=(Event(2.0, 8.5, "music"),))
    again = CallResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert features(again) == features(result)


def test_a_doubted_concern_is_flagged_and_the_verdicts_are_kept():
    model = _model(name=0.6, notice=0.9)
    sure = call_result()
    assert with_doubts(sure, model) is sure  # heard well: P(wrong) 0.02
    poor = _heard(call_result(), 0.4)  # P(wrong) 0.73: the name is doubted, the notice is not
    doubted = with_doubts(poor, model)
    v = doubted.verdicts
    assert v.review_reasons == (ReviewReason.MODEL_DOUBTS_NAME,) and v.needs_review
    assert (v.agent_name, v.agent_first) == (poor.verdicts.agent_name, poor.verdicts.agent_first)
    unsettled = decisions_in_doubt(v.review_reasons)
    assert "agent_name" in unsettled and "notice_before_agent" not in unsettled
    assert with_doubts(poor, None) is poor
    assert with_doubts(doubted, model) is doubted  # never added twice


def test_a_doubted_start_unsettles_every_decision():
    poor = with_doubts(_heard(call_result(), 0.1), _model(agent_start=0.5))
    assert poor.verdicts.review_reasons == (ReviewReason.MODEL_DOUBTS_START,)
    assert {"notice_before_agent", "agent_name", "agent_knows_recording"} <= decisions_in_doubt(
        poor.verdicts.review_reasons)


def test_a_model_file_round_trips_and_refuses_unknown_features(tmp_path):
    path = tmp_path / "doubt.json"
    path.write_text(_model(name=0.6, question=0.7).to_json())
    loaded = doubt_model(str(path))
    assert loaded.concerns[Concern.NAME].threshold == 0.6 and loaded.sha256
    assert set(loaded.concerns) == {Concern.NAME, Concern.QUESTION}
    assert doubt_model("off") is None
    data = json.loads(path.read_text())
    data["concerns"]["name"]["weights"]["loudness"] = 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(DoubtModelError, match="loudness"):
        DoubtModel.load(path)
    with pytest.raises(DoubtModelError, match="cannot load"):
        DoubtModel.load(tmp_path / "missing.json")


def test_the_threshold_weighs_a_wrong_verdict_let_through_against_reviews():
    from training.doubt_train import choose_threshold

    p = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8])
    y = np.array([0, 0, 0, 1, 0, 1, 1])
    # a wrong one costs 10 reviews: doubt from 0.3 on (one right call doubted, none let through)
    assert choose_threshold(p, y, 10.0) == (0.3, {"kept": 3, "wrong": 0, "doubted": 4,
                                                  "doubted_right": 1})
    # a wrong one costs half a review: doubt only where no right one is doubted; of equal
    # costs the highest threshold (0.41 .. 0.6 doubt the same two)
    assert choose_threshold(p, y, 0.5) == (0.6, {"kept": 5, "wrong": 1, "doubted": 2,
                                                 "doubted_right": 0})
    assert choose_threshold(p, np.zeros(7, dtype=int), 10.0)[0] == 1.0  # nothing to doubt
    assert choose_threshold(np.array([0.9]), np.array([1]), 10.0)[0] <= 0.9  # doubted


def test_training_labels_a_concern_wrong_by_any_of_its_decisions(tmp_path):
    from training.doubt_train import CONCERN_DECISIONS, examples

    result = call_result("calls/fam/a.wav", notice="yes", name="first", first="Sanne")
    (tmp_path / "calls" / "calls" / "fam").mkdir(parents=True)
    (tmp_path / "calls" / "calls" / "fam" / "a.wav.json").write_text(
        json.dumps(result.to_dict()))
    lab = {"file": "calls/fam/a.wav", "family": "fam", "notice_before_agent": "yes",
           "notice_by_agent": "yes", "agent_name": "first", "agent_first": "Sanne",
           "agent_last": "", "agent_start_s": "10.5", "agent_knows_recording": ""}
    [(family, f, wrong, _)] = examples(tmp_path, [lab])
    assert family == "fam" and f == features(result)
    assert wrong[Concern.NOTICE] == 1  # the agent's own notice was missed
    assert wrong[Concern.NAME] == 0 and wrong[Concern.AGENT_START] == 0
    assert Concern.QUESTION not in wrong  # not labelled: no example
    assert set(CONCERN_DECISIONS) == set(Concern)
    with pytest.raises(SystemExit, match="held-back"):
        examples(tmp_path, [{**lab, "family": "held-back-g"}])


def test_the_shipped_model_was_trained_on_tuning_families_only():
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"{DEFAULT_MODEL} is missing: train it with python -m training.doubt_train")
    model = doubt_model("default")
    assert model.sha256 and set(model.concerns) == set(Concern)
    assert not any(f.startswith("held-back") for f in model.meta["trained_on"])
    assert len(model.meta["trained_on"]) >= 2
    for concern in model.concerns.values():
        assert set(concern.weights) <= set(DOUBT_FEATURES) and 0.0 <= concern.threshold <= 1.0


def test_first_look_thresholds_fit_without_the_set_and_weigh_only_what_the_rules_decided():
    """The threshold comes from a phrasing set as rules that never saw it analysed it: the
    model is fitted without that set, and only the calls those rules left decided count."""
    from training.doubt_train import first_look_thresholds

    def row(fold, heard, wrong, flagged=False):
        f = dict.fromkeys(DOUBT_FEATURES, 0.0) | {"opening_probability": heard}
        reasons = "model_doubts_name" if flagged else ""
        return (fold, f, {Concern.NAME: wrong}, {"review_reasons": reasons})

    rng = np.random.default_rng(0)
    train = [row("a", h, int(h < 0.5)) for h in rng.uniform(0, 1, 60)]
    train.append(row("new", 0.1, 0))  # the set looked at: never fitted on
    look = [row("new", 0.9, 0), row("new", 0.8, 0), row("new", 0.3, 1),
            row("new", 0.2, 1, flagged=True)]  # the rules flagged this one: not counted
    (t, counts), = [v for c, v in first_look_thresholds(train, look, "new", 10.0).items()
                    if c == Concern.NAME]
    assert counts["rules_decided"] == 3 and counts["rules_wrong"] == 1
    assert counts["both_decided"] == 2 and counts["both_wrong"] == 0  # the 0.3 call doubted
    assert 0.0 < t < 1.0


def test_the_trainer_refuses_a_held_back_family_before_reading_anything(capsys):
    from training import doubt_train

    with pytest.raises(SystemExit) as e:
        doubt_train.main(["--analysed", "x", "--corpus", "y", "--families", "mbrola-b",
                          "human-d+held-back-g"])
    assert e.value.code == 2
    assert "never trained or cross-validated on" in capsys.readouterr().err
