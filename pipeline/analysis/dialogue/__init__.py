"""What caller and agent say about recording after the opening: the caller's question
("wordt dit gesprek opgenomen?") and the agent's answer, the purpose a notice states, and the
caller's own notice ("ik neem dit gesprek op") with the agent's response.

Text rules only (match): each function finds a span with the cue that decided it, in
character offsets of the text it was given. ``pipeline.analysis.verdicts`` maps them to times and
roles and decides (set). The recording words come from the language stage's trigger ruler
(``language.find_notices``), so fuzzy verbs and misheard call nouns count here as there.
Rules were written on ``tests/data/recording_talk/dev.jsonl``; ``heldout.jsonl`` measures
them (``make eval-dialogue``, docs/decisions/recording-talk.md).

Modules: ``questions`` (the caller's question, the caller's own notice), ``replies`` (the
agent's answer and response), ``purposes`` (the notice's purposes); ``common`` holds what they
share.
"""

from pipeline.analysis.dialogue.common import Hit
from pipeline.analysis.dialogue.purposes import (
    PURPOSE_CONFIDENT,
    PurposeHit,
    PurposeReading,
    notice_purposes,
    purpose_scope,
    purpose_value,
    read_purposes,
)
from pipeline.analysis.dialogue.questions import (
    PASSIVE_AUXILIARIES,
    caller_notice_rules,
    find_caller_notice,
    find_question,
    misheard_recording_word,
    question_rules,
    recording_hint,
    sentence_at,
    speaks_for_self,
)
from pipeline.analysis.dialogue.replies import (
    answer_rules,
    answer_values,
    classify_answer,
    classify_objection,
    objection_rules,
    opens_with_reply,
)

__all__ = ["PASSIVE_AUXILIARIES", "PURPOSE_CONFIDENT", "Hit", "PurposeHit", "PurposeReading",
           "answer_rules", "answer_values", "caller_notice_rules", "classify_answer",
           "classify_objection",
           "find_caller_notice", "find_question", "notice_purposes", "objection_rules",
           "opens_with_reply", "purpose_scope", "purpose_value", "question_rules", "read_purposes",
           "misheard_recording_word", "recording_hint", "sentence_at", "speaks_for_self"]
