"""The corpus builder (``make corpus``): every family, shape and channel condition is built
with labels that agree with the audio. Built small, in a temporary folder; the MBROLA and
real-speech families need Debian packages that `.ci/run` installs, and skip with that reason
elsewhere."""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

sys.path.insert(0, str(FIXTURES))
import generate  # noqa: E402

import corpus  # noqa: E402

needs_tools = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                 reason="needs espeak-ng and sox (apt-get install espeak-ng "
                                 "sox libsox-fmt-all)")
needs_mbrola = pytest.mark.skipif(not corpus.have_mbrola(), reason=corpus.MBROLA_HINT)
needs_fillets = pytest.mark.skipif(not (corpus.FILLETS_ROOT / "sound").is_dir(),
                                   reason=corpus.FILLETS_HINT)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "labels.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_only_the_first_half_of_the_fillets_levels_is_used(tmp_path):
    root = tmp_path / "fillets"
    for level in ("a", "b", "c", "d"):
        (root / "script" / level).mkdir(parents=True)
        (root / "sound" / level / "nl").mkdir(parents=True)
    assert corpus.tuning_levels(root) == ["a", "b"]


def test_every_shape_and_channel_is_reachable_and_phrasing_c_is_held_back_only():
    assert set(corpus.SHAPES) == {"menu_hold", "notice_direct", "ringback", "direct",
                                  "long_queue", "lookalike", "transfer", "no_agent",
                                  "caller_first"}
    for family in corpus.FAMILIES.values():
        assert set(family.shapes) == set(corpus.SHAPES)
    held = [f for f in corpus.FAMILIES.values() if f.held_back]
    assert [f.phrasing for f in held] == ["C"]
    assert all(f.phrasing != "C" for f in corpus.FAMILIES.values() if not f.held_back)
    codecs = {c[2] for c in corpus.CHANNELS}
    assert {"pcm16", "mu-law", "a-law", "gsm"} <= codecs
    assert {c[4] for c in corpus.CHANNELS if c[3] == 2} == {0, 1}  # caller left and right


@needs_tools
def test_espeak_family_builds_labelled_calls_that_match_their_audio(tmp_path):
    rows = corpus.build(tmp_path, 12, ["espeak-a"])
    assert len(rows) == 12 == len(_rows(tmp_path))
    for row in rows:
        assert row["family"] == "espeak-a" and row["shape"] in corpus.SHAPES
        stem = Path(row["file"]).stem
        assert (tmp_path / row["file"]).is_file()
        rttm = (tmp_path / "rttm" / f"{stem}.rttm").read_text()
        if row["shape"] == "no_agent":
            assert row["agent_start_s"] == "" and "AGENT" not in rttm
            assert row["agent_name"] == "none"
        else:
            first_agent = min(float(x.split()[3]) for x in rttm.splitlines() if " AGENT " in x)
            assert abs(first_agent - float(row["agent_start_s"])) < 0.01
        if row["shape"] == "lookalike":
            assert row["notice_before_agent"] == "no"
        if row["shape"] == "notice_direct":
            assert row["notice_before_agent"] == "yes"


@needs_tools
def test_stereo_puts_the_caller_and_the_key_presses_on_the_labelled_side(tmp_path):
    ph = corpus.PHRASING["A"]
    spec = generate.CallSpec(
        stem="s", parts=(generate.Ivr(ph.menu[0]), generate.Dtmf("1", on_caller=True),
                         generate.Agent("Goedemorgen, met Bram.", intro=generate.Intro("Bram")),
                         generate.Caller("Hallo, ik heb een vraag.")),
        ivr_voice=generate.Voice("nl+f2"), agent_voice=generate.Voice("nl+m2"),
        caller_voice=generate.Voice("nl+m4"), channels=2, caller_channel=1, rate=8000,
        codec="a-law")
    tts = generate.Tts(tmp_path)
    rendered = generate.render(spec, tts)
    generate.write_call(rendered, tmp_path / "s.wav", tmp_path / "s.rttm", tmp_path / "s.txt",
                        tmp_path)  # checks the channel order against the spec
    audio, rate = generate.decode(tmp_path / "s.wav", tmp_path)
    assert rate == 8000 and audio.shape[1] == 2
    dtmf = next(s for s in rendered.segments if s.role == "TONE")
    a, b = int(dtmf.start * rate), int(dtmf.end * rate)
    caller_side, line_side = abs(audio[a:b, 1]).mean(), abs(audio[a:b, 0]).mean()
    assert caller_side > 10 * line_side


@needs_tools
def test_gsm_round_trip_keeps_the_labels_aligned(tmp_path):
    spec = generate.CallSpec(
        stem="g", parts=(generate.Ringback(1, 0.5),
                         generate.Agent("Gemeente Breda, goedemiddag.", intro=generate.Intro())),
        ivr_voice=generate.Voice("nl+f2"), agent_voice=generate.Voice("nl+m2"),
        caller_voice=generate.Voice("nl+m4"), rate=8000, codec="gsm")
    rendered = generate.render(spec, generate.Tts(tmp_path))
    written = generate.write_call(rendered, tmp_path / "g.wav", tmp_path / "g.rttm",
                                  tmp_path / "g.txt", tmp_path)  # alignment checked inside
    assert written.manifest["encoding"] == "gsm"


@needs_tools
@needs_mbrola
@needs_fillets
def test_mbrola_and_human_families_build(tmp_path):
    rows = corpus.build(tmp_path, 6, ["mbrola-b", "human-a", "held-back"])
    assert {r["family"] for r in rows} == {"mbrola-b", "human-a", "held-back"}
    human = [r for r in rows if r["family"] != "mbrola-b"]
    texts = "".join((tmp_path / "transcripts" / f"{Path(r['file']).stem}.txt").read_text()
                    for r in human)
    levels = set(corpus.tuning_levels())
    clips = corpus.fillets_clips()
    assert all(Path(c.path).parent.parent.name in levels for c in clips)
    assert any(c.text in texts for c in clips)  # real speech is in the calls


def test_a_missing_voice_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "have_mbrola", lambda: False)
    with pytest.raises(corpus.CorpusError, match="apt-get install mbrola"):
        corpus.build(tmp_path, 2, ["mbrola-b"])
    assert corpus.main(["--out", str(tmp_path), "--calls", "2", "--families", "mbrola-b"]) == 2
