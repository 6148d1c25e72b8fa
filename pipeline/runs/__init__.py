"""Many calls: the batch run, its results store, outputs and the study report.

* ``batch``    ``run_batch``: calls in parallel (threads or Dask), one call's error never stops
  the rest, results written atomically as they come;
* ``store``    ``results.sqlite``: calls, decisions, evidence, reviews, audits (SQLite);
* ``report``   the HTML/Markdown report that reads like the study, with ``study.json``;
* ``accuracy`` the accuracy measured from QA reviews and audits, for the report.
"""
