"""Training the models the runtime package loads; never imported by ``pipeline``.

* ``ner_train``       the spaCy NER of ``models/ner-nl`` (``make train-ner``), and its model card;
* ``ner_assemble``    the language stage ``models/ner-nl``: that NER with the rules' data;
* ``roles_train``     the agent-start model of ``models/roles`` (``make train-roles``);
* ``dialogue_train``  the recording-talk model of ``models/dialogue`` (``make train-dialogue``).
"""
