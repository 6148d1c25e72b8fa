"""The corpus builder (``make corpus``): every family, shape and channel condition is built
with labels that agree with the audio. Built small, in a temporary folder; the MBROLA and
real-speech families need Debian packages that `.ci/run` installs, and skip with that reason
elsewhere."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES

sys.path.insert(0, str(FIXTURES))
import corpus  # noqa: E402
import generate  # noqa: E402

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


def _held_back_sets() -> list[str]:
    return [f.phrasing for f in corpus.FAMILIES.values() if f.held_back]


def test_every_shape_and_channel_is_reachable_and_each_held_back_set_is_its_familys_only():
    assert set(corpus.SHAPES) == {"menu_hold", "notice_direct", "ringback", "direct",
                                  "long_queue", "lookalike", "transfer", "no_agent",
                                  "caller_first"}
    for family in corpus.FAMILIES.values():
        assert set(family.shapes) == set(corpus.SHAPES)
    # every held-back family has a phrasing set of its own, spoken by no other family, and a
    # name the trainers refuse (corpus.HELD_BACK_PREFIX, which training.roles_train imports); no tuning family has
    held = _held_back_sets()
    assert {"C", "G"} <= set(held) and len(set(held)) == len(held)
    assert not set(held) & {f.phrasing for f in corpus.FAMILIES.values() if not f.held_back}
    for f in corpus.FAMILIES.values():
        assert f.name.startswith(corpus.HELD_BACK_PREFIX) == f.held_back, f.name
    # every set is spoken by some family, and the calls' generator keys never collide
    assert {f.phrasing for f in corpus.FAMILIES.values()} == set(corpus.PHRASING)
    assert len({f.slot for f in corpus.FAMILIES.values()}) == len(corpus.FAMILIES)
    codecs = {c[2] for c in corpus.CHANNELS}
    assert {"pcm16", "mu-law", "a-law", "gsm"} <= codecs
    assert {c[4] for c in corpus.CHANNELS if c[3] == 2} == {0, 1}  # caller left and right


def _talk_phrases(ph) -> set[str]:
    """The question, answer, caller-notice and response phrases of a set, as said."""
    pools = [ph.rec_question, ph.announce, *ph.rec_answer.values(),
             *ph.announce_response.values()]
    return {" ".join(x.replace("{Greet}, ", "").lower().rstrip(".?").split())
            for pool in pools for x in pool}


@pytest.mark.parametrize("name", ["human-f", "held-back-g", "human-h"])
def test_a_set_with_names_of_its_own_gives_its_agents_only_those(name):
    family = corpus.FAMILIES[name]
    ph = corpus.PHRASING[family.phrasing]
    assert ph.first_names and ph.surnames
    assert not set(ph.first_names) & set(corpus.FIRST_NAMES)
    assert not set(ph.surnames) & set(corpus.SURNAMES)
    own = {*ph.first_names, *ph.surnames}
    for other, oph in corpus.PHRASING.items():  # and none of another set's own names
        if other != family.phrasing:
            assert not own & {*oph.first_names, *oph.surnames}, other
    named = notices = 0
    for spec, _shape, _ in _specs(family, 60, talk=False):
        for part in spec.parts:
            intro = getattr(part, "intro", None)
            if intro is not None and (intro.first or intro.last):
                named += 1
                assert {intro.first, intro.last} - {""} <= own, intro
        notices += any(isinstance(p, generate.Agent) and p.notice for p in spec.parts)
    assert named > 30
    # the agent's own notice is drawn with the family's share (human-f 0.4, held-back-g 0.25,
    # human-h 0.3, 0.15 elsewhere)
    expected = 60 * family.agent_notice_p
    assert 0.5 * expected <= notices <= 1.5 * expected, notices


def test_a_familys_mbrola_speakers_are_drawn_within_its_own_pitch_and_speed():
    for name in ("human-f", "held-back-g", "human-h"):
        family = corpus.FAMILIES[name]
        seen = [v for spec, _, _ in _specs(family, 30, talk=False)
                for v in (spec.ivr_voice, spec.agent_voice, spec.caller_voice)]
        lo, hi = family.mbrola_pitch
        assert all(lo <= v.pitch <= hi for v in seen)
        lo, hi = family.mbrola_speed
        assert all(lo <= v.speed <= hi for v in seen)
    assert corpus.FAMILIES["human-f"].mbrola_pitch == (30, 70)  # the others' as before
    assert corpus.FAMILIES["held-back-g"].mbrola_speed != corpus.FAMILIES["human-f"].mbrola_speed
    assert corpus.FAMILIES["human-h"].mbrola_pitch != corpus.FAMILIES["human-f"].mbrola_pitch


def test_phrasing_sets_are_hand_labelled_and_the_held_back_talk_is_their_own():
    for name, ph in corpus.PHRASING.items():
        for phrase in (*ph.notice, *ph.agent_notice):  # every notice has hand-labelled purposes
            assert set(corpus.NOTICE_PURPOSES[phrase]) <= set(generate.PURPOSES), phrase
        for phrase in (*ph.lookalike, *_talk_phrases(ph)):  # no look-alike is labelled
            assert phrase not in corpus.NOTICE_PURPOSES, (name, phrase)
        assert set(ph.rec_answer) == set(generate.KNOWS_KINDS)
        assert set(ph.announce_response) == set(generate.OBJECTED_KINDS)
        pools = [ph.rec_question, ph.announce, *ph.rec_answer.values(),
                 *ph.announce_response.values()]
        assert all(len(pool) >= 2 for pool in pools), name  # several phrasings each
    notices = {p for ph in corpus.PHRASING.values() for p in (*ph.notice, *ph.agent_notice)}
    assert set(corpus.NOTICE_PURPOSES) == notices
    fixtures = {" ".join(x.lower().rstrip(".?").split()) for pool in (
        generate.RECORDING_QUESTIONS, generate.CALLER_ANNOUNCEMENTS,
        *generate.RECORDING_ANSWERS.values(), *generate.AGENT_RESPONSES.values()) for x in pool}
    held_sets = _held_back_sets()
    for k in held_sets:  # each held-back set's talk: in no other set and not in the fixtures
        held = _talk_phrases(corpus.PHRASING[k])
        others = [_talk_phrases(ph) for name, ph in corpus.PHRASING.items() if name != k]
        assert not held & (set().union(*others) | fixtures), k
    tuning = [_talk_phrases(corpus.PHRASING[k]) for k in corpus.PHRASING if k not in held_sets]
    for i, a in enumerate(tuning):  # no two tuning sets share a phrase either
        assert all(not a & b for b in tuning[i + 1:])


def test_no_sentence_of_a_held_back_set_is_in_another_set():
    def sentences(ph) -> set[str]:
        pools = [getattr(ph, f.name) for f in fields(ph)]
        flat = [x for pool in pools for x in (pool.values() if isinstance(pool, dict) else [pool])]
        return {" ".join(s.lower().split()) for pool in flat for x in pool
                for s in re.split(r"(?<=[.?!])\s+", x) if len(s.split()) >= 3}

    for k in _held_back_sets():
        held = sentences(corpus.PHRASING[k])
        for name, ph in corpus.PHRASING.items():
            if name != k:
                assert not held & sentences(ph), (k, name)


def _specs(family: corpus.Family, n: int, human=None, talk=True):
    for k in range(n):
        rng, t = corpus.call_generators(family, k)
        yield corpus.build_spec(k, family, rng, human, talk=t if talk else None)


def test_recording_talk_is_labelled_from_its_parts_and_changes_nothing_else():
    """Spec level (no audio): where the question and the caller's notice go, what the labels
    say, and that every other part of every call is what it is without them."""
    human = [corpus.Clip(f"/nonexistent/{w}{i}.ogg", f"Regel {i}.", w) for w in "mv"
             for i in range(5)]  # the specs only name the recordings
    asked = announced = calls = 0
    kinds, objections = set(), set()
    for family in corpus.FAMILIES.values():
        ph = corpus.PHRASING[family.phrasing]
        clips = human if family.engine.endswith("human") else None
        plain = list(_specs(family, 80, clips, talk=False))
        for (spec, shape, _), (bare, _, _) in zip(_specs(family, 80, clips), plain,
                                                  strict=True):
            parts = spec.parts
            talk = [p for p in parts if getattr(p, "asks_recording", False)
                    or getattr(p, "announces_recording", False)
                    or getattr(p, "answer", "") or getattr(p, "objected", "")]
            assert tuple(p for p in parts if p not in talk) == bare.parts
            assert replace(spec, parts=bare.parts) == bare  # voices, channel, levels too
            notice = any(getattr(p, "notice", False) for p in parts)
            labels = generate.recording_labels(spec.stem, parts, notice)
            if shape == "no_agent":
                assert not talk
                continue
            calls += 1
            for p in parts:  # notices: purposes from the hand table; answers: no notices
                if getattr(p, "notice", False):
                    said = [x for x in corpus.NOTICE_PURPOSES if p.text.endswith(x)]
                    assert said and p.purposes == corpus.NOTICE_PURPOSES[said[0]]
                if getattr(p, "answer", "") or getattr(p, "objected", ""):
                    assert not p.notice
            opening = next(i for i, p in enumerate(parts) if isinstance(p, generate.Agent))
            first = next(i for i in range(opening + 1, len(parts))
                         if isinstance(parts[i], generate.Caller))
            q = [i for i, p in enumerate(parts) if isinstance(p, generate.Caller)
                 and p.asks_recording]
            if q:
                asked += 1
                answer = parts[q[0] + 1]
                assert labels["agent_knows_recording"] == answer.answer
                assert answer.text in ph.rec_answer[answer.answer]
                assert parts[q[0]].text in ph.rec_question and not parts[q[0]].clip
                kinds.add(answer.answer)
                topic = first + 2 if parts[first].announces_recording else first
                done = [i for i in range(topic, q[0]) if isinstance(parts[i], generate.Agent)
                        and isinstance(parts[i + 1], generate.Caller)]
                assert isinstance(parts[q[0] - 1], generate.Agent) and 1 <= len(done) <= 2
            else:
                assert labels["agent_knows_recording"] == "not_asked"
            if parts[first].announces_recording:
                announced += 1
                response = parts[first + 1]
                assert labels["agent_objected"] == response.objected
                assert labels["caller_announced_recording"] == "yes"
                assert not parts[first].clip  # synthetic, in the human families too
                assert response.text in ph.announce_response[response.objected]
                objections.add(response.objected)
            else:
                assert labels["caller_announced_recording"] == "no"
                assert labels["agent_objected"] == ""
    assert 0.25 < asked / calls < 0.45 and 0.08 < announced / calls < 0.25
    assert kinds == set(generate.KNOWS_KINDS) and objections == set(generate.OBJECTED_KINDS)


@needs_tools
def test_espeak_family_builds_labelled_calls_that_match_their_audio(tmp_path):
    rows = corpus.build(tmp_path, 12, ["espeak-a"])
    assert len(rows) == 12 == len(_rows(tmp_path))
    assert list(_rows(tmp_path)[0])[-5:] == list(generate.RECORDING_LABELS)  # appended
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
        ph = corpus.PHRASING["A"]
        text = (tmp_path / "transcripts" / f"{stem}.txt").read_text()
        asked = any(q in text for q in ph.rec_question)
        assert (row["agent_knows_recording"] != "not_asked") == asked
        if asked:
            assert any(a in text for a in ph.rec_answer[row["agent_knows_recording"]])
        if row["notice_before_agent"] == row["notice_by_agent"] == "no":
            assert row["notice_purpose"] == "no_notice"


@needs_tools
def test_a_familys_calls_are_the_same_whichever_families_are_built_with_it(tmp_path,
                                                                          monkeypatch):
    other = corpus.Family("espeak-x", "espeak", "B", corpus._EVEN, slot=8)
    monkeypatch.setitem(corpus.FAMILIES, other.name, other)
    alone = corpus.build(tmp_path / "alone", 2, ["espeak-a"])
    mixed = corpus.build(tmp_path / "mixed", 4, ["espeak-x", "espeak-a"])
    assert [r for r in mixed if r["family"] == "espeak-a"] == alone
    for row in alone:
        assert (tmp_path / "alone" / row["file"]).read_bytes() == \
            (tmp_path / "mixed" / row["file"]).read_bytes()


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


@pytest.mark.skipif(not shutil.which("sox"), reason="needs sox (apt-get install sox)")
def test_a_recordings_label_ends_where_its_speech_does_not_where_its_reverb_does(tmp_path):
    # a "recording": 1 s of a loud voiced sound, then a decay of 3 dB per 50 ms for 1 s, as
    # fillets-ng's lines end; its audio keeps the decay, its label does not
    t = np.arange(2 * generate.SR) / generate.SR
    decay = np.where(t < 1.0, 1.0, 10 ** (-3.0 * (t - 1.0) / 0.05 / 20))
    voiced = np.sign(np.sin(2 * np.pi * 150 * t)) * np.sin(2 * np.pi * 3 * t) ** 2
    generate.write_pcm16(tmp_path / "line.wav", 0.5 * voiced * decay)
    spec = generate.CallSpec(
        stem="r", parts=(generate.Agent("Gemeente Breda.", intro=generate.Intro()),
                         generate.Caller("Hallo.", clip=str(tmp_path / "line.wav")),
                         generate.Caller("Hallo.", clip=str(tmp_path / "line.wav"))),
        ivr_voice=generate.Voice("nl+f2"), agent_voice=generate.Voice("nl+m2"),
        caller_voice=generate.Voice("nl+m4"))
    tts = generate.Tts(tmp_path)
    tts.say = lambda text, voice: np.full(generate.SR, 0.1, dtype=np.float32)  # no espeak
    rendered = generate.render(spec, tts)
    first, second = [s for s in rendered.segments if s.role == "CALLER"]
    audio, spoken = tts.clip(str(tmp_path / "line.wav"))
    heard = len(audio) / generate.SR
    assert heard > 1.4  # the decay is in the audio, down to 45 dB under the peak
    assert spoken / generate.SR == pytest.approx(first.end - first.start, abs=0.01)
    assert 1.0 <= first.end - first.start <= 1.6  # 30 dB of decay: half a second at most
    assert second.start >= first.start + heard  # the next part follows the audio, decay and all
    agent = next(s for s in rendered.segments if s.role == "AGENT")
    assert agent.end - agent.start == pytest.approx(1.0)  # synthetic speech: all of it


@needs_tools
@needs_mbrola
@needs_fillets
def test_mbrola_and_human_families_build(tmp_path):
    rows = corpus.build(tmp_path, 8, ["mbrola-b", "human-a", "held-back", "held-back-g"])
    assert {r["family"] for r in rows} == {"mbrola-b", "human-a", "held-back", "held-back-g"}
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
