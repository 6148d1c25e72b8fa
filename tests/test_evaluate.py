"""Evaluation helpers: the replay with reference transcripts and the cause of each miss."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from pipeline import cli
from pipeline.analysis.analyze import CallAnalyzer
from pipeline.analysis.audio import Audio
from pipeline.analysis.config import PipelineConfig
from pipeline.evaluation.evaluate import (
    attribute_misses,
    load_replayable,
    replay_with_reference,
    robustness,
    slice_metrics,
)
from pipeline.evaluation.oracles import (
    OracleDiarizer,
    OracleEvents,
    OracleRoles,
    OracleTranscriber,
    ReferenceLine,
    asr_noise,
    read_reference_transcript,
    reference_segment,
)
from pipeline.types import AudioInfo, CallResult, Event, Role, Segment, SpeakerTurn

FIXTURES = Path(__file__).resolve().parent.parent / "audio_fixtures"

LABEL = {"file": "a.wav", "notice_before_agent": "yes", "notice_by_agent": "no",
         "agent_name": "full", "agent_first": "Sanne", "agent_last": "de Vries",
         "agent_start_s": "20.00"}


def _row(**kw):
    row = {"file": "a.wav", "notice_before_agent": "yes", "notice_by_agent": "no",
           "agent_name": "full", "agent_first": "Sanne", "agent_last": "de Vries",
           "agent_start_s": "20.00", "error": ""}
    row.update(kw)
    return row


def test_a_miss_goes_to_the_first_replay_that_mends_it():
    results = {"a.wav": _row(notice_before_agent="no", notice_by_agent="yes",
                             agent_name="none", agent_first="", agent_last="")}
    replays = {"a.wav": {
        "reference_text": _row(notice_by_agent="yes", agent_name="none"),  # notice: asr
        "reference_text_and_roles": _row(notice_by_agent="yes"),  # name: roles
    }}
    a = attribute_misses([LABEL], results, replays)
    assert a["per_call"]["a.wav"] == {
        "notice_before_agent": "asr: yes -> no",
        "notice_by_agent": "rules: no -> yes",
        "agent_name": "roles: full -> none",
    }
    assert a["misses_by_cause"]["notice_before_agent"] == {"asr": 1, "roles": 0, "rules": 0}
    assert a["misses_by_cause"]["agent_name"] == {"asr": 0, "roles": 1, "rules": 0}
    assert a["reference_text"]["agent_name"]["accuracy"] == 0.0
    assert a["reference_text_and_roles"]["agent_name"]["accuracy"] == 1.0
    assert a["n_replayed"] == 1


def test_the_replays_are_scored_per_family_too():
    """A target "with the reference text" is read on each held-back family alone."""
    labels = [{**LABEL, "family": "tune"}, {**LABEL, "file": "b.wav", "family": "held"}]
    results = {"a.wav": _row(), "b.wav": _row(file="b.wav", notice_before_agent="no")}
    replays = {"a.wav": {"reference_text": _row(), "reference_text_and_roles": _row()},
               "b.wav": {"reference_text": _row(file="b.wav", notice_before_agent="no"),
                         "reference_text_and_roles": _row(file="b.wav")}}
    a = attribute_misses(labels, results, replays)
    fam = a["reference_text"]["slices"]["family"]
    assert fam["tune"]["notice_before_agent_f1"] == 1.0
    assert fam["held"]["notice_before_agent_f1"] == 0.0 and fam["held"]["n"] == 1
    assert a["reference_text_and_roles"]["slices"]["family"]["held"]["notice_before_agent_f1"] == 1.0


def test_calls_that_are_right_or_failed_have_no_cause():
    replays = {"a.wav": {"reference_text": _row(), "reference_text_and_roles": _row()}}
    assert attribute_misses([LABEL], {"a.wav": _row()}, replays)["per_call"] == {}
    failed = {"a.wav": _row(error="corrupt_audio", agent_name="")}
    assert attribute_misses([LABEL], failed, replays)["per_call"] == {}


def test_reference_transcript_lines_and_their_words(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1.0\t3.0\tIVR\tWelkom bij de gemeente.\n20.0\t22.0\tAGENT\tMet Sanne.\n")
    lines = read_reference_transcript(path)
    assert lines == [ReferenceLine(1.0, 3.0, Role.IVR, "Welkom bij de gemeente."),
                     ReferenceLine(20.0, 22.0, Role.AGENT, "Met Sanne.")]
    seg = reference_segment(lines[1], channel=1)
    assert [w.text for w in seg.words] == ["Met", "Sanne."]
    assert seg.words[0].start == 20.0 and seg.words[-1].end == pytest.approx(22.0)
    assert all(w.probability == 1.0 for w in seg.words) and seg.channel == 1


SR = 8000
LINES = [
    ReferenceLine(1.0, 3.0, Role.IVR, "Welkom bij de gemeente Zwolle."),
    ReferenceLine(3.5, 7.0, Role.IVR,
                  "Dit gesprek kan worden opgenomen voor trainingsdoeleinden."),
    ReferenceLine(20.0, 24.0, Role.AGENT,
                  "Goedemorgen, gemeente Zwolle, u spreekt met Sanne de Vries."),
    ReferenceLine(24.5, 28.0, Role.CALLER, "Goedemorgen, ik heb een vraag over afval."),
    ReferenceLine(31.0, 31.5, Role.AGENT, "Zeker."),  # not transcribed by the pipeline
]
RESULT = {  # the call JSON of a.wav (what the replay reads of it)
    "schema_version": "1.1", "file": "a.wav", "error": None,
    "audio": {"path": "a.wav", "duration_s": 32.0, "sample_rate": SR, "channels": 1,
              "codec": "pcm_s16le", "container": "wav", "sha256": "0"},
    "transcript": {"segments": [], "language": "nl", "duration_s": 30.0,
                   "model": {"name": "whisper", "sha256": None, "backend": "faster-whisper"}},
    "events": [{"start": 8.0, "end": 19.5, "kind": "music", "label": "", "confidence": 1.0}],
    "speaker_turns": [
        {"start": 1.0, "end": 7.0, "speaker": "S0", "channel": None},
        {"start": 20.0, "end": 24.0, "speaker": "S1", "channel": None},
        {"start": 24.5, "end": 28.0, "speaker": "S2", "channel": None},
    ],
}


def test_replay_runs_roles_and_verdicts_on_the_reference_text(nlp):
    """The pipeline's events and speaker turns with the reference text: the notice before
    the agent and the agent's full name are found; with the reference roles as well."""
    audio = Audio(np.zeros((1, 32 * SR), np.float32), SR,
                  AudioInfo("a.wav", 32.0, SR, 1, "pcm_s16le", "wav", "0"))
    rows = replay_with_reference(CallResult.from_dict(RESULT), LINES, audio, PipelineConfig(),
                                 nlp)
    for kind in ("reference_text", "reference_text_and_roles"):
        row = rows[kind]
        assert (row["notice_before_agent"], row["agent_name"], row["agent_first"],
                row["agent_last"], row["agent_start_s"]) == (
            "yes", "full", "Sanne", "de Vries", "20.00"), kind


def _silent_call(seconds: int = 32) -> Audio:
    return Audio(np.zeros((1, seconds * SR), np.float32), SR,
                 AudioInfo("a.wav", float(seconds), SR, 1, "pcm_s16le", "wav", "0"))


def test_oracle_stages_swapped_into_the_analyzer_give_the_reference(nlp):
    """CallAnalyzer with the reference as its transcription, diarization and event stages:
    the transcript is the reference words (heard for sure), the speaker turns the given ones;
    the hook sees every step."""
    audio = _silent_call()
    turns = [SpeakerTurn(1.0, 7.0, "IVR"), SpeakerTurn(20.0, 24.0, "AGENT"),
             SpeakerTurn(24.5, 28.0, "CALLER")]
    analyzer = CallAnalyzer(PipelineConfig(), nlp=nlp,
                            transcriber=OracleTranscriber.from_reference(LINES, audio),
                            diarizer=OracleDiarizer(turns),
                            events=OracleEvents([Event(8.0, 19.5, "music")]))
    steps = []
    result = analyzer.analyze_audio(audio, "a.wav", hook=lambda step, _: steps.append(step))
    assert steps == ["events", "transcript_and_roles", "verdicts"]
    assert [s.text for s in result.transcript.segments] == [ln.text for ln in LINES]
    assert [w.text for w in result.transcript.segments[2].words] == LINES[2].text.split()
    assert {w.probability for s in result.transcript.segments for w in s.words} == {1.0}
    assert [(t.start, t.end, t.speaker) for t in result.speaker_turns] == [
        (t.start, t.end, t.speaker) for t in turns]
    assert [(e.start, e.end, e.kind) for e in result.events] == [(8.0, 19.5, "music")]
    assert result.timeline.agent_start_s == 20.0
    assert result.verdicts.agent_first == "Sanne"


def test_oracle_roles_label_the_transcript_with_the_reference_roles(nlp):
    audio = _silent_call()
    analyzer = CallAnalyzer(PipelineConfig(), nlp=nlp, roles=OracleRoles(LINES[:4]),
                            transcriber=OracleTranscriber.from_reference(LINES, audio),
                            diarizer=OracleDiarizer([]), events=OracleEvents([]))
    tl = analyzer.analyze_audio(audio, "a.wav").timeline
    assert [(t.start, t.end, t.role) for t in tl.turns] == [
        (ln.start, ln.end, ln.role) for ln in LINES[:4]]
    assert [(u.text, r) for u, r in tl.utterances] == [(ln.text, ln.role) for ln in LINES[:4]]
    assert (tl.agent_start_s, tl.agent_start_confidence) == (20.0, 1.0)
    # a segment that is not a reference line takes the role of the line it overlaps most
    roles = OracleRoles(LINES)
    assert roles.role_of(Segment(19.0, 23.0, "x")) == Role.AGENT
    assert roles.role_of(Segment(28.5, 30.5, "x")) is None


def test_the_oracle_stages_answer_for_the_stretch_asked():
    audio = _silent_call()
    oracle = OracleTranscriber.from_reference(LINES, audio)
    part = oracle.transcribe(audio.samples, SR, start=3.5, end=24.5)
    assert [s.start for s in part.segments] == [3.5, 20.0]  # the lines that start in it
    assert part.model.name == "reference" and oracle.scorer() is None
    diarizer = OracleDiarizer.from_rttm(
        (FIXTURES / "rttm" / "call01_ivr_notice_full.rttm").read_text())
    assert {t.speaker for t in diarizer.turns} <= {"IVR", "AGENT", "CALLER"}  # no tones
    first = diarizer(np.zeros(10 * SR, np.float32), SR).turns
    assert first and all(t.start < 10.0 for t in first)
    assert diarizer(np.zeros(60 * SR, np.float32), SR).turns == diarizer.turns


def test_asr_noise_is_reproducible_and_follows_the_rate():
    text = "Goedemorgen, gemeente Zwolle, u spreekt met Sanne de Vries. " * 20
    clean = asr_noise(text, 0.0, random.Random(1))
    assert [w for w, _ in clean[:8]] == "goedemorgen gemeente zwolle u spreekt met sanne de".split()
    assert {p for _, p in clean} == {0.9}
    noisy = asr_noise(text, 0.3, random.Random(1))
    assert noisy == asr_noise(text, 0.3, random.Random(1))
    n = len(text.split())
    changed = n - sum(p == 0.9 for _, p in noisy)
    assert 0.2 * n < changed < 0.4 * n
    assert 0.05 * n < n - len(noisy) < 0.15 * n  # a third of the errors are lost words


def test_robustness_curve_falls_as_the_text_gets_worse(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(32 * SR, np.float32), SR)
    (tmp_path / "out" / "calls").mkdir(parents=True)
    (tmp_path / "out" / "calls" / "a.wav.json").write_text(json.dumps(RESULT))
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "a.txt").write_text(
        "".join(f"{ln.start}\t{ln.end}\t{ln.role.value}\t{ln.text}\n" for ln in LINES))
    calls = load_replayable(tmp_path, tmp_path / "out", [LABEL], tmp_path / "refs",
                            PipelineConfig())
    curve = robustness(calls, [LABEL], PipelineConfig(), (0.0, 1.0), seeds=2)
    assert curve["0"]["agent_name_accuracy"] == 1.0
    assert curve["0"]["notice_before_agent_f1"] == 1.0
    assert curve["1"]["agent_name_accuracy"] == 0.0  # every word lost or misspelled
    # a notice misspelled by a letter is still found ("opgenoemen"), but not every time
    assert curve["1"]["notice_before_agent_f1"] < 1.0


def test_a_malformed_reference_transcript_says_where(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1.0\t3.0\tIVR\tWelkom.\n\n2.0\t4.0\tSPEAKER_1\tHallo.\n")
    with pytest.raises(ValueError, match=r"t\.txt:3: .*SPEAKER_1"):
        read_reference_transcript(path)


def test_replay_skips_a_call_with_a_bad_reference_and_goes_on(tmp_path, caplog):
    (tmp_path / "out" / "calls").mkdir(parents=True)
    (tmp_path / "refs").mkdir()
    (tmp_path / "out" / "calls" / "a.wav.json").write_text(
        '{"file": "a.wav", "error": null, "transcript": {"duration_s": 1.0}}')
    (tmp_path / "refs" / "a.txt").write_text("not a transcript line\n")
    calls = load_replayable(tmp_path, tmp_path / "out", [LABEL], tmp_path / "refs",
                            PipelineConfig())
    assert calls == []
    assert "no replay of a.wav" in caplog.text


@pytest.mark.parametrize("text", ["", "x", "0.1,1.5", "-0.1"])
def test_eval_refuses_bad_noise_rates(text):
    from pipeline.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "d", "--labels", "l.csv", "--out", "o",
                                   "--asr-noise", text])


def test_eval_takes_noise_rates():
    from pipeline.cli import build_parser

    args = build_parser().parse_args(["eval", "d", "--labels", "l.csv", "--out", "o",
                                      "--asr-noise", "0.1,0.25"])
    assert args.asr_noise == (0.1, 0.25)


def test_coverage_and_risk_count_only_what_was_decided_without_review():
    from pipeline.evaluation.evaluate import compute_metrics

    def lab(f, nb, name, start):
        return {"file": f, "notice_before_agent": nb, "notice_by_agent": "no",
                "agent_name": name, "agent_first": "", "agent_last": "", "agent_start_s": start,
                "shape": "direct" if f < "c" else "no_agent", "family": "x", "channel": "c"}

    def res(f, nb, name, start, reasons=""):
        return {"file": f, "notice_before_agent": nb, "notice_by_agent": "no",
                "agent_name": name, "agent_first": "", "agent_last": "", "agent_start_s": start,
                "needs_review": "yes" if reasons else "no", "review_reasons": reasons,
                "error": ""}

    labels = [lab("a", "yes", "first", "5.0"), lab("b", "no", "none", "3.0"),
              lab("c", "no", "none", ""), lab("d", "no", "none", "")]
    results = {
        "a": res("a", "no", "first", "5.2"),  # notice missed, decided: a confident wrong one
        "b": res("b", "no", "none", "3.1", "opening_poorly_heard"),  # name flagged
        "c": res("c", "no", "none", "", "no_agent_found"),  # flagged: nothing decided
        "d": res("d", "no", "none", "7.0"),  # an agent found where there is none
    }
    m, misses = compute_metrics(labels, results)
    nb = m["decided"]["notice_before_agent"]
    assert (nb["decided"], nb["wrong"], nb["coverage"], nb["risk"]) == (3, 1, 0.75, 0.3333)
    name = m["decided"]["agent_name"]
    assert (name["decided"], name["wrong"]) == (2, 0)  # b's name is in doubt, c's too
    start = m["decided"]["agent_start_s"]
    assert (start["decided"], start["wrong"]) == (3, 1)  # d: found where there is none
    assert m["agent_found"] == {"missed": 0.0, "no_agent_right": 0.5}
    assert any("d: no agent in the call" in x for x in misses)

    slices = slice_metrics(labels, results, {"a": (1.0, 10.0), "b": (0.0, 10.0)})
    assert set(slices) == {"shape", "family", "channel"}
    assert slices["shape"]["direct"]["n"] == 2
    assert slices["shape"]["direct"]["role_error_rate"] == 0.05
    assert slices["shape"]["no_agent"]["agent_found"]["no_agent_right"] == 0.5
    assert slices["shape"]["no_agent"]["role_error_rate"] is None


# ------------------------------------------------------------------ what is said of recording

TALK = ("agent_knows_recording", "notice_contradicted", "notice_purpose",
        "caller_announced_recording", "agent_objected")


def _talk_label(file, knows="", contradicted="", purpose="", announced="", objected=""):
    return {**LABEL, "file": file, "agent_knows_recording": knows,
            "notice_contradicted": contradicted, "notice_purpose": purpose,
            "caller_announced_recording": announced, "agent_objected": objected}


def _talk_row(knows, contradicted, purpose, announced, objected, reasons="", **kw):
    return _row(agent_knows_recording=knows, notice_contradicted=contradicted,
                notice_purpose=purpose, caller_announced_recording=announced,
                agent_objected=objected, review_reasons=reasons, **kw)


def test_recording_talk_metrics_on_hand_made_labels_are_exact():
    from pipeline.evaluation.evaluate import compute_metrics

    labels = [
        _talk_label("a", "no", "yes", "training;quality", "no", ""),
        _talk_label("b", "yes", "no", "none_stated", "yes", "no"),
        _talk_label("c", "not_asked", "no", "no_notice", "yes", "yes"),
        _talk_label("d", "unsure", "", "quality", "no", ""),
        _talk_label("e"),  # not labelled for any of them
        _talk_label("f", "yes", "no", "", "", ""),  # its analysis failed
    ]
    results = {
        "a": _talk_row("no", "yes", "quality;training", "no", ""),  # purposes: same set
        "b": _talk_row("not_asked", "no", "none_stated", "yes", "unclear",
                       reasons="objection_unclear"),  # the question missed
        "c": _talk_row("yes", "no", "quality", "yes", "yes"),  # a question where none was
        "d": _talk_row("unsure", "no", "quality", "no", ""),
        "e": _talk_row("yes", "no", "quality", "no", ""),
        "f": {"file": "f", "error": "corrupt_audio"},
    }
    m, misses = compute_metrics(labels, results)
    knows = m["agent_knows_recording"]
    assert (knows["n"], knows["accuracy"]) == (5, 0.4)  # a and d of a, b, c, d, f
    assert knows["confusion"] == {"yes": {"not_asked": 1, "error": 1}, "no": {"no": 1},
                                  "unsure": {"unsure": 1}, "not_asked": {"yes": 1}}
    # asked in a, b, d, f; found asked in a, c, d: TP 2, FP 1, FN 2
    assert knows["question_detection"] == {"precision": 0.6667, "recall": 0.5, "f1": 0.5714,
                                           "accuracy": 0.4}
    purpose = m["notice_purpose"]
    assert (purpose["n"], purpose["exact_match"], purpose["accuracy"]) == (4, 0.75, 0.75)
    assert purpose["confusion"]["quality;training"] == {"quality;training": 1}
    assert purpose["confusion"]["no_notice"] == {"quality": 1}
    assert purpose["per_purpose"]["training"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert purpose["per_purpose"]["quality"]["precision"] == 0.6667
    contradicted = m["notice_contradicted"]
    assert (contradicted["n"], contradicted["accuracy"]) == (4, 0.75)  # f failed; d unlabelled
    objected = m["agent_objected"]  # labelled in b and c only
    assert objected["n"] == 2 and objected["accuracy"] == 0.5
    assert objected["confusion"] == {"no": {"unclear": 1}, "yes": {"yes": 1}}
    # b's objection was flagged for review: decided only in c, and right there
    assert objected["decided"] == {"n": 2, "decided": 1, "wrong": 0, "coverage": 0.5,
                                   "risk": 0.0}
    announced = m["caller_announced_recording"]
    assert announced["n"] == 4 and announced["accuracy"] == 1.0
    assert "b: agent_knows_recording yes -> not_asked" in misses
    assert "c: agent_objected yes -> yes" not in misses
    # the existing figures are still there, under the same keys
    assert {"n_calls", "n_failed", "notice_before_agent", "agent_name", "decided"} <= set(m)
    assert set(m["decided"]) == {"notice_before_agent", "notice_by_agent", "agent_name",
                                 "agent_start_s"}


def test_recording_talk_metrics_only_for_the_decisions_labelled():
    from pipeline.evaluation.evaluate import compute_metrics

    labels = [_talk_label("a", knows="no")]
    m, _ = compute_metrics(labels, {"a": _row()})  # a row of results from before them
    assert set(TALK) & set(m) == {"agent_knows_recording"}
    assert m["agent_knows_recording"]["confusion"] == {"no": {"none": 1}}
    m, _ = compute_metrics([LABEL], {"a.wav": _row()})
    assert not set(TALK) & set(m)


def test_labels_with_values_outside_the_vocabulary_are_refused(tmp_path):
    from pipeline.evaluation.evaluate import LabelsError, read_labels

    path = tmp_path / "labels.csv"
    path.write_text("file,agent_knows_recording,notice_purpose,agent_objected\n"
                    "a.wav,no,quality; training,\n"
                    "b.wav,not_asked,no_notice,none\n")
    assert [lab["notice_purpose"] for lab in read_labels(path)] == ["quality; training",
                                                                    "no_notice"]
    path.write_text("file,agent_knows_recording,notice_purpose\na.wav,no,quality\n"
                    "b.wav,perhaps,quality\n")
    with pytest.raises(LabelsError, match=r"labels\.csv:3: agent_knows_recording"):
        read_labels(path)
    path.write_text("file,notice_purpose\na.wav,quality;no_notice\n")
    with pytest.raises(LabelsError, match="notice_purpose"):
        read_labels(path)


def test_eval_prints_the_recording_talk_scores(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main
    from pipeline.evaluation import evaluate

    labels = [_talk_label("a", "no", "no", "quality", "yes", "no")]
    metrics, _ = evaluate.compute_metrics(labels, {"a": _talk_row("no", "no", "training",
                                                                  "yes", "no")})
    monkeypatch.setattr(cli, "run_eval", lambda *a, **kw: (metrics, []))
    assert main(["eval", str(tmp_path), "--labels", "l.csv", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "agent_knows_recording      acc 1.000  n 1" in text
    assert "question asked" in text and "exact match (as sets)" in text
    assert "quality                  -> training 1" in text

    def bad(*a, **kw):
        raise evaluate.LabelsError("l.csv:2: agent_objected: 'maybe' is not one of ...")

    monkeypatch.setattr(cli, "run_eval", bad)
    assert main(["eval", str(tmp_path), "--labels", "l.csv", "--out", str(tmp_path)]) == 2
    assert "agent_objected" in capsys.readouterr().err
