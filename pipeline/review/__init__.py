"""The QA review app: people check what the pipeline decided, and their verdicts are kept.

QA staff open ``callcheck review OUT`` in a browser, work through the flagged calls, listen to
the evidence and confirm or override each decision. Nothing the machine decided is ever
overwritten: reviews are appended to ``results.sqlite`` (table ``reviews``) with who, when,
why and which earlier review they replace, and the machine's value stays beside the human one.

Modules:

* ``reviews``  validation of review input, saving with conflict detection, history, the queue;
* ``media``    the recording of a call, transcoded once into a browser-playable WAV cache;
* ``views``    what the call page shows (timeline lanes, transcript with evidence highlighted);
* ``security`` token, CSRF, Host and security-header checks (a middleware);
* ``app``      the FastAPI app (server-rendered pages, a little vanilla JS) and ``serve``;
* ``export``   ``results.csv`` with the reviewed columns, optionally with pseudonymised agents;
* ``audit``    the audit sample: a random (stratified) sample of the unflagged calls for QA;
* ``reviews_csv``  the audit trail as CSV: ``callcheck reviews import`` / ``export``.
"""
