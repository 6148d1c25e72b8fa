"""For ``spacy assemble --code``: registers the language stage's component factories."""

import pipeline.analysis.language.components  # noqa: F401
