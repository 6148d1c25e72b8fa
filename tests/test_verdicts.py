"""Call-level decisions from a role timeline: timing rules, whose words count, evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest

from builders import call, transcript
from builders import segment as seg
from pipeline.analysis.roles import assign_roles
from pipeline.analysis.verdicts import decide
from pipeline.types import ModelInfo, Role, SpeakerTurn, Transcript, decisions_in_doubt


def test_ivr_notice_before_agent(nlp):
    tl = call(["Welkom bij de gemeente Zwolle.",
               "Dit gesprek kan worden opgenomen voor trainingsdoeleinden."],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "yes" and v.notice_by_agent == "no"
    assert v.notice_source == "ivr"
    ev = v.notice_evidence[0]
    assert ev.role == Role.IVR and ev.start < tl.agent_start_s
    assert "opgenomen" in ev.text
    assert v.agent_name == "full"
    assert (v.agent_first, v.agent_last) == ("Sanne", "Jansen")
    assert v.name_evidence[0].start >= tl.agent_start_s
    assert v.organisation_named == "yes" and v.greeting == "goedemorgen"


def test_notice_after_agent_is_not_advance_notice(nlp):
    tl = call(["Welkom bij de gemeente Epe."], ["Goedemiddag, met Pieter."],
              ["Hallo, ik bel over een vergunning."],
              agent_after=["Ik meld u even dat dit gesprek wordt opgenomen."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "no"
    assert v.notice_by_agent == "yes" and v.notice_source == "agent"
    assert v.agent_name == "first" and v.agent_first == "Pieter"


def test_a_notice_the_recogniser_split_at_a_pause_is_read_whole(nlp):
    # what is recorded in one segment, the verb in the next: read apart, neither is a notice
    tl = call(["Welkom bij de gemeente Zwolle, om onze service te verbeteren worden gesprekken",
               "opgenomen."],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "yes" and v.notice_source == "ivr"
    ev = next(e for e in v.notice_evidence if "gesprekken" in e.text)
    assert ev.role == Role.IVR and ev.end <= tl.agent_start_s


def test_the_agents_words_are_not_read_with_the_callers(nlp):
    # a caller's line between two agent lines ends the agent's text
    tl = call(["Welkom bij de gemeente Epe."], ["Goedemiddag, met Pieter, gesprekken"],
              ["worden opgenomen."])
    v = decide(tl, nlp=nlp)
    assert v.notice_by_agent == "no" and v.notice_before_agent == "no"


def test_a_notice_read_through_a_garbled_participle_counts_but_is_flagged(nlp):
    tl = call(["Welkom bij de gemeente Zwolle.", "Let op, dit gesprek wordt volgenomen."],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "yes"
    assert "notice_low_confidence" in v.review_reasons
    assert "notice_before_agent" in decisions_in_doubt(v.review_reasons)


def test_negated_ivr_notice_is_no_notice(nlp):
    tl = call(["Welkom bij de gemeente Ede.", "Gesprekken worden niet opgenomen."],
              ["Gemeente Ede, goedemorgen, waarmee kan ik u helpen?"],
              ["Goedemorgen, met Jan de Boer, ik heb een vraag."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "no" and v.notice_source == "none"
    assert v.agent_name == "none"


def test_callers_own_name_is_not_the_agents(nlp):
    tl = call([], ["Goedemorgen, gemeente Bergen."],
              ["Goedemorgen, u spreekt met Pieter Bakker, ik heb een vraag."])
    v = decide(tl, nlp=nlp)
    assert v.agent_name == "none" and v.agent_first is None


def test_colleague_in_a_transfer_is_not_the_agents_name(nlp):
    tl = call(["Welkom bij de gemeente Utrecht."],
              ["Goedemiddag, ik verbind u door met mevrouw Jansen."], ["Dank u wel."])
    v = decide(tl, nlp=nlp)
    assert v.agent_name == "none"


def test_low_asr_confidence_on_the_name_needs_review(nlp):
    tl = call(["Welkom bij de gemeente Zwolle."], ["Goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen."], prob=0.2)
    v = decide(tl, nlp=nlp)
    assert v.needs_review and "low_asr_confidence_name" in v.review_reasons


def test_a_misheard_introduction_gives_a_guessed_kind_of_name_never_decided(nlp):
    """"mijn naam is direct": an introduction whose name is not read. "none" would report the
    agent as nameless; the kind its words look like is given, with the words as evidence and
    no name, and the call goes to review."""
    tl = call(["Welkom bij de gemeente Sneek."],
              ["Goedendag, mijn naam is direct, waar kan ik u mee helpen?"],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.agent_name == "first" and (v.agent_first, v.agent_last) == (None, None)
    assert "possible_name_missed" in v.review_reasons and v.needs_review
    ev = v.name_evidence[0]
    assert ev.text == "direct" and ev.detail.startswith("guessed first")
    assert ev.start >= tl.agent_start_s
    plain = decide(call(["Welkom bij de gemeente Sneek."],
                        ["Goedendag, gemeente Sneek, waarmee kan ik u helpen?"],
                        ["Goedemorgen, ik heb een vraag over afval."]), nlp=nlp)
    assert plain.agent_name == "none" and plain.name_evidence == ()
    # words the recogniser did not hear (the prompt's, say) give no kind, and say so
    unheard = decide(call(["Welkom bij de gemeente Sneek."],
                          ["Goedendag, mijn naam is direct, waar kan ik u mee helpen?"],
                          ["Goedemorgen, ik heb een vraag over afval."], prob=0.01), nlp=nlp)
    assert unheard.agent_name == "none" and unheard.name_evidence[0].text == "direct"
    assert {"possible_name_missed", "name_not_heard"} <= set(unheard.review_reasons)


def test_no_agent_needs_review(nlp):
    tl = call(["Welkom bij de gemeente Epe.", "Dit gesprek kan worden opgenomen."], [], [])
    v = decide(tl, nlp=nlp)
    assert v.agent_start_s is None
    assert v.needs_review and "no_agent_found" in v.review_reasons
    assert v.notice_before_agent == "yes"  # nobody answered: every notice came first


def test_weak_name_heard_poorly_is_flagged_not_asserted(nlp):
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    # a standalone word near a first name in the lexicon, in no introduction phrase: weak
    opening = ["Jomeen, goedemorgen, gemeente Zwolle."]
    clear = decide(call([], opening, caller, prob=0.9), nlp=nlp)
    assert clear.agent_name == "first" and clear.agent_first == "Jomeen"
    assert clear.name_evidence[0].confidence < 0.65
    unsure = decide(call([], opening, caller, prob=0.2), nlp=nlp)
    assert unsure.agent_name == "none" and unsure.agent_first is None
    assert "name_too_weak_to_count" in unsure.review_reasons and unsure.needs_review
    assert unsure.name_evidence[0].text == "Jomeen"  # the evidence stays for the reviewer
    # after an introduction phrase (here its verb misheard) a name was given all the same:
    # its kind is reported, its words are not
    phrase = decide(call([], ["Goedemiddag besprekt met Hugo Koster, waar kan ik u helpen?"],
                         caller, prob=0.2), nlp=nlp)
    assert phrase.agent_name == "full" and (phrase.agent_first, phrase.agent_last) == (None, None)
    assert "name_too_weak_to_count" in phrase.review_reasons
    assert phrase.name_evidence[0].text == "Hugo Koster"
    # a name the rules are sure of still counts when the recogniser was unsure
    sure = decide(call([], ["Goedemorgen, u spreekt met Sanne Jansen."], caller, prob=0.2),
                  nlp=nlp)
    assert sure.agent_name == "full" and "low_asr_confidence_name" in sure.review_reasons


def test_words_the_recogniser_did_not_hear_are_flagged_not_counted(nlp):
    # Whisper copies its prompt vocabulary over speech it cannot make out, at word
    # probabilities near 0.005: such a "notice" or "name" was never heard
    ivr = ["Welkom bij de gemeente Zwolle.", "Dit gesprek kan worden opgenomen."]
    opening = ["Goedemorgen, u spreekt met Sanne Jansen."]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    heard = decide(call(ivr, opening, caller, prob=0.12), nlp=nlp)
    assert heard.notice_before_agent == "yes" and heard.agent_name == "full"
    copied = decide(call(ivr, opening, caller, prob=0.006), nlp=nlp)
    assert copied.notice_before_agent == "no" and copied.notice_source == "none"
    assert copied.agent_name == "none" and copied.agent_first is None
    assert {"notice_words_not_heard", "name_not_heard"} <= set(copied.review_reasons)
    assert copied.needs_review
    assert copied.notice_evidence and copied.name_evidence  # kept for the reviewer


def test_agent_first_words_at_an_unrounded_time_open_the_agent_turn(nlp):
    """agent_start_s is rounded to ms where written out; the chosen utterance itself
    (0.2158 s) must still be the agent's, and its name part of the opening."""
    t0 = 0.2158
    segs = (seg(t0, t0 + 3.0, "Goedemorgen, gemeente Zwolle, u spreekt met Sanne Jansen."),
            seg(t0 + 3.5, t0 + 6.0, "Goedemorgen, ik heb een vraag over afval."))
    turns = [SpeakerTurn(t0, t0 + 3.0, "A"), SpeakerTurn(t0 + 3.5, t0 + 6.0, "B")]
    tr = Transcript(segs, "nl", 7.0, ModelInfo("fake", None, "fake"))
    tl = assign_roles(7.0, [], tr, turns)
    assert tl.agent_start_s == pytest.approx(t0, abs=1e-3)
    assert tl.turns_of(Role.AGENT)[0].start == pytest.approx(t0)
    assert not tl.turns_of(Role.IVR)
    v = decide(tl, nlp=nlp)
    assert (v.agent_name, v.agent_first, v.agent_last) == ("full", "Sanne", "Jansen")
    assert v.agent_start_s == 0.216  # rounded where written out


def test_a_passive_recording_with_the_subject_misheard_is_flagged_not_asserted(nlp):
    """"... kunnen [gesprekken] worden opgenomen" with the subject lost to ASR may be a notice
    when the phone system plays it, or a look-alike ("wijzigingen worden opgenomen in [a
    misheard register]"): the call goes to review with the evidence, the verdict stays "no"."""
    misheard = "Ter info, de strek kan worden opgenomen."
    tl = call(["Welkom bij de gemeente Zwolle.", misheard],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "no" and "weak_notice_evidence" in v.review_reasons
    assert "passive=worden" in v.notice_evidence[0].detail
    tl = call(["Welkom bij de gemeente Zwolle."],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."], agent_after=[misheard])
    v = decide(tl, nlp=nlp)
    assert v.notice_by_agent == "no" and v.notice_before_agent == "no"
    assert "weak_notice_evidence" in v.review_reasons


def test_a_passive_naming_a_misheard_call_is_a_notice_but_never_decided(nlp):
    """"Let op, dit bestrek wordt opgenomen" in the phone system's announcement: the call
    noun misheard by two letters, so the notice counts (before the agent) and the call goes
    to review with it (``notice_low_confidence``)."""
    tl = call(["Welkom bij de gemeente Zwolle.", "Let op, dit bestrek wordt opgenomen."],
              ["Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."])
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "yes" and v.notice_source == "ivr"
    assert "notice_low_confidence" in v.review_reasons
    assert "notice_before_agent" in decisions_in_doubt(v.review_reasons)
    assert "misheard=bestrek" in v.notice_evidence[0].detail


def test_a_none_or_no_from_speech_heard_poorly_needs_review(nlp):
    """No name and no notice found in an opening and announcements the recogniser heard
    poorly is no evidence that none was said: the call goes to review. Heard well, the same
    "none" / "no" stands without review."""
    ivr = ["Welkom bij de gemeente Ede.", "Voor afval, kies 1."]
    agent = ["Gemeente Ede, goedemorgen, waarmee kan ik u helpen?"]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    v = decide(call(ivr, agent, caller, prob=0.35), nlp=nlp)
    assert (v.notice_before_agent, v.agent_name) == ("no", "none")
    assert {"opening_poorly_heard", "announcements_poorly_heard"} <= set(v.review_reasons)
    # the agent's "no notice" rests on the same garbled words: unsettled too
    assert "agent_speech_poorly_heard" in v.review_reasons
    assert {"notice_by_agent", "agent_name"} <= decisions_in_doubt(v.review_reasons)
    clear = decide(call(ivr, agent, caller, prob=0.9), nlp=nlp)
    assert (clear.notice_before_agent, clear.agent_name) == ("no", "none")
    assert not clear.needs_review, clear.review_reasons


def test_a_notices_purpose_in_the_opening_without_a_notice_puts_the_agents_notice_in_doubt(nlp):
    # "wij nemen dit gesprek op voor de kwaliteit" with the recording words garbled
    ivr = ["Welkom bij de gemeente Ede."]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    v = decide(call(ivr, ["Mijn naam is Lotte, waarmee kan ik u helpen? Wanneer m 'n dit "
                          "gestorek op voor de kwaliteit."], caller, prob=0.9), nlp=nlp)
    assert v.notice_by_agent == "no"
    assert "purpose_without_notice" in v.review_reasons
    assert "notice_by_agent" in decisions_in_doubt(v.review_reasons)
    # an opening that names no purpose, or whose notice was read, is not flagged so
    v = decide(call(ivr, ["Mijn naam is Lotte, waarmee kan ik u helpen?"], caller, prob=0.9),
               nlp=nlp)
    assert "purpose_without_notice" not in v.review_reasons
    v = decide(call(ivr, ["Mijn naam is Lotte. Wij nemen dit gesprek op voor de kwaliteit."],
                    caller, prob=0.9), nlp=nlp)
    assert v.notice_by_agent == "yes" and "purpose_without_notice" not in v.review_reasons


def test_an_opening_with_far_fewer_words_than_its_speech_holds_is_no_evidence_of_none(nlp):
    # "Gemeente Roermond, met Eva van der Meer, goedemiddag" written as "Goedemiddag," (one
    # word for 3 s of the agent's speech): no name heard is no evidence that none was given
    ivr = ["Welkom bij de gemeente Ede."]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    v = decide(call(ivr, ["Goedemiddag,"], caller), nlp=nlp)
    assert v.agent_name == "none"
    assert {"opening_poorly_heard", "agent_speech_poorly_heard"} <= set(v.review_reasons)
    v = decide(call(ivr, ["Gemeente Ede, goedemorgen, waarmee kan ik u helpen?"], caller),
               nlp=nlp)
    assert v.agent_name == "none" and not v.needs_review, v.review_reasons


def test_a_start_on_wording_alone_is_reviewed_however_sure(nlp):
    """An agent start with no pick-up, new voice or reply behind it rests on wording, which a
    phrasing nobody tuned to breaks: the role stage says so (``words_only_start``) and the
    start is never decided without a look, whatever the model's probability."""
    segs = [seg(1.0, 5.0, "Goedemorgen, gemeente Ede, u spreekt met Sanne Jansen, waarmee kan "
                          "ik u helpen?"),
            seg(6.0, 9.0, "Ik kijk het even voor u na in het systeem.")]
    alone = assign_roles(10.0, [], transcript(*segs, duration_s=10.0),
                         [SpeakerTurn(1.0, 5.0, "A"), SpeakerTurn(6.0, 9.0, "A")])
    assert alone.agent_start_s == 1.0 and "words_only_start" in alone.reasons
    sure = replace(alone, agent_start_confidence=0.99)
    assert "unclear_agent_start" in decide(sure, nlp=nlp).review_reasons
    picked_up = call(["Welkom bij de gemeente Ede."],
                     ["Gemeente Ede, goedemorgen, u spreekt met Sanne Jansen."],
                     ["Goedemorgen, ik heb een vraag over afval."])
    assert picked_up.agent_start_confidence >= 0.95
    assert "words_only_start" not in picked_up.reasons
    assert "unclear_agent_start" not in decide(picked_up, nlp=nlp).review_reasons


def test_an_opening_that_starts_mid_sentence_is_no_evidence_of_no_name(nlp):
    """"Met Lotte. Waarmee kan ik u helpen?" written "daarmee kan ik weer helpen?": Whisper
    writes the rest of a sentence in lower case, so the opening's first words, where the
    name is, may be lost; "none" is flagged. The same opening in capitals is decided."""
    ivr = ["Welkom bij de gemeente Ede."]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    v = decide(call(ivr, ["daarmee kan ik weer helpen?"], caller), nlp=nlp)
    assert v.agent_name == "none" and "opening_starts_mid_sentence" in v.review_reasons
    assert "agent_name" in decisions_in_doubt(v.review_reasons)
    v = decide(call(ivr, ["Gemeente Ede, goedemorgen, waarmee kan ik u helpen?"], caller),
               nlp=nlp)
    assert "opening_starts_mid_sentence" not in v.review_reasons
    named = decide(call(ivr, ["met Sanne Jansen, waarmee kan ik u helpen?"], caller), nlp=nlp)
    assert named.agent_name == "full"
    assert "opening_starts_mid_sentence" not in named.review_reasons


def test_an_introduction_in_an_order_the_rules_do_not_know_is_no_evidence_of_no_name(nlp):
    """"Sjoerd spreekt u" heard as "short spreekt u": an introduction's verb and no name read;
    "none" is flagged, not asserted."""
    ivr = ["Welkom bij de gemeente Ede."]
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    v = decide(call(ivr, ["Goedemorgen, gemeente Ede, short spreekt u."], caller), nlp=nlp)
    assert v.agent_name == "none" and "possible_name_missed" in v.review_reasons


def test_a_garbled_notice_before_the_agent_keeps_no_notice_from_being_asserted(nlp):
    """"Voor trainingen ... kan uw telefoontje worden opgenongen": no notice read, but the
    announcements name a notice's purpose or a recording word misheard: "no" is flagged."""
    caller = ["Goedemorgen, ik heb een vraag over afval."]
    opening = ["Gemeente Ede, goedemorgen, u spreekt met Sanne Jansen."]
    for ivr in (["Voor trainingen en kwaliteitszonderzoek kan duurteelen van het orden."],
                ["Welkom bij de gemeente Ede, uw telefoontje kan worden opgenongen."]):
        v = decide(call(ivr, opening, caller), nlp=nlp)
        assert v.notice_before_agent == "no" and "possible_notice_missed" in v.review_reasons
        assert "notice_before_agent" in decisions_in_doubt(v.review_reasons)
    plain = decide(call(["Welkom bij de gemeente Ede."], opening, caller), nlp=nlp)
    assert "possible_notice_missed" not in plain.review_reasons


def test_a_found_name_and_notice_are_not_flagged_as_poorly_heard(nlp):
    tl = call(["Dit gesprek kan worden opgenomen voor trainingsdoeleinden."],
              ["Gemeente Ede, goedemorgen, u spreekt met Sanne Jansen."],
              ["Goedemorgen, ik heb een vraag over afval."], prob=0.55)
    v = decide(tl, nlp=nlp)
    assert v.notice_before_agent == "yes" and v.agent_name == "full"
    assert not {"opening_poorly_heard", "announcements_poorly_heard"} & set(v.review_reasons)


def test_no_notice_is_flagged_when_speech_before_the_agent_was_heard_poorly_whoever_said_it(nlp):
    """Diarization can put the IVR's voice with the caller's, so garbled announcements end up
    labelled CALLER; a "no" read from them is no evidence that no notice was played."""
    from dataclasses import replace

    tl = call(["Je spreekt een morgen op de nomen van de nureen."],
              ["Goedendag, klantcontactcentrum, wat kan ik voor u doen?"],
              ["Ja, goedendag, ik heb een vraag over de belastingen."], prob=0.3)
    as_caller = replace(tl, utterances=tuple((u, Role.CALLER if r == Role.IVR else r)
                                             for u, r in tl.utterances))
    assert not any(r == Role.IVR for _, r in as_caller.utterances)
    v = decide(as_caller, nlp=nlp)
    assert v.notice_before_agent == "no"
    assert "announcements_poorly_heard" in v.review_reasons
