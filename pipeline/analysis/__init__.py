"""One call, from audio to verdicts: the per-call stages and the pipeline that runs them.

Modules, in the order a call goes through them:

* ``audio``      decoding (PyAV, soundfile), resampling, stereo channels;
* ``events``     tones, ringback, DTMF, music, speech regions (signal processing, no model);
* ``diarize``    who speaks when (pyannote.audio with CAM++ embeddings, ``campplus``);
* ``transcribe`` Whisper through faster-whisper, windows, prompts, the opening's beam;
* ``callouts``   a caller's wordless "hallo?" at the pick-up, heard with the scorer;
* ``roles``      IVR / hold / agent / caller, with the learned agent start (``agent_model``);
* ``language``   the spaCy stage: NER, recording notices, introductions;
* ``names``      a near-miss name checked against the audio before it is snapped;
* ``dialogue``   the caller's question, the agent's answer, purposes (with ``dialogue_model``);
* ``verdicts``   decisions with evidence and review reasons;
* ``analyze``    ``CallAnalyzer``: the stages above in order, transcribing only what is needed;
* ``config``     ``PipelineConfig``, one table of options per stage (TOML).

Nothing here knows about batches, stores or reviews (``pipeline.runs``, ``pipeline.review``).
"""
