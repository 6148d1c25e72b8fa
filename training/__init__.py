"""Training the models the runtime package loads; never imported by ``pipeline``.

* ``ner_train``       the spaCy NER of ``models/ner-nl`` (``make train-ner``);
* ``roles_train``     the agent-start model of ``models/roles`` (``make train-roles``);
* ``dialogue_train``  the recording-talk model of ``models/dialogue`` (``make train-dialogue``).
"""
