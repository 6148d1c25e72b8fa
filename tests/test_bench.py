"""The bench report: speed targets judged on the median of the long call's runs."""

from __future__ import annotations

from pipeline.evaluation.bench import _report


def _result(name, long_runs, fixture_s, rss=1500):
    verdicts = {"f.wav": {"agent_name": "first"}, "long.wav": {"agent_name": "full"}}
    return {"name": name, "load_s": 1.0, "peak_rss_mb": rss, "verdicts": verdicts,
            "per_file": {"f.wav": (60.0, fixture_s),
                         "long.wav": (180.0, sorted(long_runs)[len(long_runs) // 2])},
            "runs": {"f.wav": [fixture_s], "long.wav": long_runs}}


def test_long_call_targets_use_the_median_run_and_the_baseline_ratio():
    results = {"analyze:callcheck": _result("analyze:callcheck", [8.0, 12.0, 8.5], 10.0),
               "analyze:whisperx-style": _result("analyze:whisperx-style", [30.0, 31.0, 29.0],
                                                 11.0)}
    text = _report(results, ["f.wav"], ["long.wav"], 2)["text"]
    assert "long: 21.2x real time, 3.5x faster than the baseline" in text  # 180/8.5, 30/8.5
    assert "met      long call >= 20x real time" in text
    assert "callcheck [8.0, 12.0, 8.5], baseline [30.0, 31.0, 29.0]" in text
    slow = {**results, "analyze:callcheck": _result("analyze:callcheck", [9.5, 9.6, 9.4],
                                                    10.0, rss=2100)}
    text = _report(slow, ["f.wav"], ["long.wav"], 2)["text"]
    assert "NOT met  long call >= 20x real time" in text
    assert "NOT met  peak RSS <= 2048 MB" in text
    assert "met      same verdicts as the baseline" in text


def test_cli_timing_reports_first_call_and_each_loaded_call():
    cli = {"audio_s": 180.0, "copies": 4, "first_call_s": 18.0, "batch_s": 39.0,
           "per_call_loaded_s": 7.0, "plain_whole_file_s": 78.0, "vs_plain": 2.0}
    text = _report({"cli": cli}, ["f.wav"], ["long.wav"], 2)["text"]
    assert "1 call:  18.0 s wall (10.0x real time)" in text
    assert "4 calls: 39.0 s wall (18.5x real time)" in text  # 720 / 39
    assert "each call once the models are loaded: 7.0 s (25.7x real time)" in text
    assert "loading and start-up: 11.0 s" in text
    assert "4 calls: 78.0 s wall: callcheck is 2.0x faster (NOT met: target >= 3x" in text
    cli.update(plain_whole_file_s=120.0, vs_plain=120.0 / 39.0)
    assert "callcheck is 3.1x faster (met: target >= 3x" in _report(
        {"cli": cli}, ["f.wav"], ["long.wav"], 2)["text"]


def test_asr_section_prints_the_error_rate_table():
    row = {"wer": 0.45, "cer": 0.2, "rtf": 0.05}
    asr = {"real_speech_set": {"clips": 40, "words": 350, "seconds": 180.0},
           "real_speech": {"mulaw8": {s: row for s in ("callcheck", "plain-greedy",
                                                        "plain-beam5-prompt")}}}
    text = _report({"asr": asr}, ["f.wav"], [], 2)["text"]
    assert "Real speech: 40 fillets-ng utterances, 350 words" in text
    assert "| mulaw8 | 0.450 / 0.200 / 0.05 | 0.450 / 0.200 / 0.05 |" in text
