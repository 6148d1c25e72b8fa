"""Measuring callcheck against labels: what the numbers in ``docs/`` come from.

* ``evaluate``      ``callcheck eval``: decisions, agent start, DER/IER against labelled calls,
  with any stage replaced by its reference (oracle) to see what each stage costs;
* ``asr_eval``      WER/CER on real human speech and telephone channels (``make eval-asr``);
* ``dialogue_eval`` the recording-talk rules and model on labelled text (``make eval-dialogue``);
* ``bench``         speed and memory (``make bench``).
"""
