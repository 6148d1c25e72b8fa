"""The language stage as the rest of callcheck calls it: load the assembled pipeline, find the
recording notices and introductions in a text, decide about an opening turn.

spaCy is imported where a pipeline is loaded, not at the top: ``pipeline.cli`` imports this
module (through ``dialogue`` and ``verdicts``) and ``callcheck --help`` must start at once.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.analysis.language.evidence import (
    INTRODUCTIONS_NAME,
    NOTICES_NAME,
    PIPE_NAMES,
    LanguageModelError,
)
from pipeline.analysis.language.introductions import NameCandidate
from pipeline.analysis.language.lexicons import Lexicons, load_lexicons
from pipeline.analysis.language.notices import NoticeCandidate, best_notice
from pipeline.analysis.language.opening import OpeningAnalysis, decide_opening
from pipeline.models import REPO_ROOT, SHA256SUMS, read_checksums, sha256_file

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "ner-nl"


def verify_model(path: Path = DEFAULT_MODEL_DIR) -> None:
    """Check the files of a model under ``models/`` against ``models/SHA256SUMS``: the rules
    are data in the model, so a pattern edited by hand is refused (assemble instead)."""
    prefix = f"{path.name}/"
    try:
        sums = {rel: d for rel, d in read_checksums().items() if rel.startswith(prefix)}
    except OSError as e:
        raise LanguageModelError(f"cannot read {SHA256SUMS}: {e}") from e
    if not sums:
        raise LanguageModelError(f"{SHA256SUMS} records no file of {path.name}/; assemble "
                                 "the model with: make assemble-ner")
    problems = []
    for rel, digest in sorted(sums.items()):
        file = path.parent / rel
        if not file.is_file():
            problems.append(f"{rel} missing")
        elif sha256_file(file) != digest:
            problems.append(f"{rel} changed")
    if problems:
        raise LanguageModelError(f"{path} does not match {SHA256SUMS.name}: "
                                 f"{'; '.join(problems)}; assemble it again with: make "
                                 "assemble-ner (or restore the committed files)")


@functools.lru_cache(maxsize=2)
def load_nlp(path: str | Path | None = None) -> Language:
    """The language stage assembled in ``path`` (default ``models/ner-nl``, checked against
    ``models/SHA256SUMS``): the trained NER, the trigger ruler and the notice and introduction
    components. Cached: repeated calls with the same path return the same pipeline."""
    import spacy

    import pipeline.analysis.language.components  # noqa: F401  (registers the factories)

    model = Path(path) if path is not None else DEFAULT_MODEL_DIR
    if not (model / "config.cfg").exists():
        raise LanguageModelError(f"no spaCy model in {model}; assemble it with: make assemble-ner")
    if model.resolve() == DEFAULT_MODEL_DIR.resolve():
        verify_model(DEFAULT_MODEL_DIR)
    try:
        nlp = spacy.load(model)
    except (OSError, ValueError) as e:
        raise LanguageModelError(f"cannot load the spaCy model in {model}: {e}") from e
    _require_stage(nlp)
    return nlp


def _require_stage(nlp: Language) -> None:
    missing = [name for name in PIPE_NAMES if name not in nlp.pipe_names]
    if missing:
        raise LanguageModelError(
            f"this pipeline is not callcheck's language stage (no {', '.join(missing)}); load "
            "it with pipeline.analysis.language.load_nlp()")


def _run(text: str, nlp: Language | None, skip: tuple[str, ...] = ()) -> Doc:
    nlp = nlp if nlp is not None else load_nlp()
    _require_stage(nlp)
    return nlp(text, disable=list(skip))


def lexicons_of(nlp: Language) -> Lexicons:
    """The name lexicons that go with the loaded pipeline ``nlp``."""
    if INTRODUCTIONS_NAME in getattr(nlp, "pipe_names", ()):
        return nlp.get_pipe(INTRODUCTIONS_NAME).lexicons
    return load_lexicons(DEFAULT_MODEL_DIR / INTRODUCTIONS_NAME / "lexicons")


def find_notices(text: str, nlp: Language | None = None, *, announcement: bool = False
                 ) -> list[NoticeCandidate]:
    """Every place that talks about recording, with evidence; look-alikes get low confidence.
    ``announcement``: ``text`` is a recorded announcement of the phone system (IVR)."""
    person, ivr = _cached_notices(text, nlp)
    return list(ivr if announcement else person)


@functools.lru_cache(maxsize=4096)
def _cached_notices(text: str, nlp: Language | None
                    ) -> tuple[tuple[NoticeCandidate, ...], tuple[NoticeCandidate, ...]]:
    """The same text is read again and again: by the notice rules, by the question and
    caller-notice rules of ``pipeline.analysis.dialogue`` (three times each), in every step of the
    search past the opening, and when a snapped name makes the verdicts be decided again."""
    doc = _run(text, nlp, skip=(INTRODUCTIONS_NAME,))
    return doc._.notices, doc._.announcement_notices


def has_notice(text: str, nlp: Language | None = None, *, announcement: bool = False
               ) -> NoticeCandidate | None:
    """The best non-negated notice in ``text``, or None (``announcement``: see
    :func:`find_notices`)."""
    return best_notice(find_notices(text, nlp, announcement=announcement))


def find_introductions(text: str, nlp: Language | None = None) -> list[NameCandidate]:
    """Candidate self-introductions of the speaker, with the name split into first/last.

    Names after a transfer ("ik verbind u door met ..."), an address to the caller
    ("goedemorgen meneer Bakker") or an organisation ("gemeente Bergen") are not candidates.
    """
    return list(_run(text, nlp, skip=(NOTICES_NAME,))._.introductions)


def analyze_opening(text: str, nlp: Language | None = None) -> OpeningAnalysis:
    """Decide notice, name and name category for the agent's opening turn ``text``."""
    doc = _run(text, nlp)
    return decide_opening(doc._.notices, doc._.introductions, doc._.opening_cues)
