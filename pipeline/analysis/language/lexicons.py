"""Name and place lexicons of the language stage.

Extracted from the ``deduce`` lists by ``training.ner_train`` and saved with the introductions
component (``models/ner-nl/callcheck_introductions/lexicons``), so neither ``deduce`` nor the
network is needed at run time. ``manifest.json`` holds each file's sha256; the loader checks it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.analysis.language.evidence import LanguageModelError

LEXICON_FILES = (
    "first_names.txt",
    "surnames.txt",
    "interfixes.txt",
    "municipalities.txt",
    "common_words.txt",
    "common_surnames.txt",
    "common_first_names.txt",
)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Lexicons:
    """Name and place lists, lower case, as extracted by ``training.ner_train``."""

    first_names: frozenset[str]
    surnames: frozenset[str]
    interfixes: tuple[tuple[str, ...], ...]  # token sequences, longest first
    municipalities: tuple[str, ...]  # proper case, for display and phrase patterns
    common_words: frozenset[str]  # ordinary Dutch words (some are also names: "bos", "prins")
    first_rank: dict[str, int]  # frequent first names: lower-case name -> rank (0 = commonest)
    surname_rank: dict[str, int]  # frequent surnames (head word, e.g. "jong" of "de Jong")
    directory: Path | None = field(default=None, compare=False)  # the files they were read from

    @functools.cached_property
    def _deletes(self) -> dict[str, frozenset[str]]:
        """Symmetric-delete index (one deletion) for edit-distance-1 look-ups of names."""
        index: dict[str, set[str]] = {}
        for name in self.first_names | self.surnames:
            if len(name) < 4:
                continue
            for i in range(len(name)):
                index.setdefault(name[:i] + name[i + 1 :], set()).add(name)
            index.setdefault(name, set()).add(name)
        return {k: frozenset(v) for k, v in index.items()}

    @functools.cached_property
    def name_list(self) -> list[str]:
        """First names and surnames (alphabetic, three letters or more) as one sorted list:
        the candidates of ``pipeline.analysis.names`` (built once, on first use)."""
        return sorted(n for n in self.first_names | self.surnames if n.isalpha() and len(n) >= 3)

    def near(self, word: str) -> frozenset[str]:
        """Lexicon names within one edit of ``word`` (misheard names: "sanna", "jansn")."""
        from spacy.matcher.levenshtein import levenshtein

        w = word.lower()
        if len(w) < 4:
            return frozenset()
        keys = {w} | {w[:i] + w[i + 1 :] for i in range(len(w))}
        found: set[str] = set()
        for k in keys:
            found.update(self._deletes.get(k, ()))
        return frozenset(n for n in found if n != w and levenshtein(n, w) <= 1)


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


@functools.lru_cache(maxsize=4)
def load_lexicons(directory: str | Path) -> Lexicons:
    """Load and checksum-verify the lexicon files in ``directory`` (cached)."""
    d = Path(directory)
    manifest_path = d / MANIFEST
    if not manifest_path.exists():
        raise LanguageModelError(
            f"no lexicons in {d}; extract them with `make train-ner` (training/ner-nl)"
        )
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        for name in LEXICON_FILES:
            digest = hashlib.sha256((d / name).read_bytes()).hexdigest()
            if digest != manifest["sha256"][name]:
                raise LanguageModelError(f"{d / name}: checksum does not match {MANIFEST}")
    except (OSError, KeyError, ValueError) as e:
        raise LanguageModelError(f"lexicons in {d} are incomplete: {e}") from e
    lower = lambda xs: frozenset(x.lower() for x in xs)  # noqa: E731
    interfixes = sorted(
        {tuple(x.lower().split()) for x in _lines(d / "interfixes.txt")}, key=lambda t: (-len(t), t)
    )
    surname_rank: dict[str, int] = {}
    for i, s in enumerate(_lines(d / "common_surnames.txt")):
        surname_rank.setdefault(s.split()[-1].lower(), i)
    lexicons = Lexicons(
        first_names=lower(_lines(d / "first_names.txt")),
        surnames=lower(_lines(d / "surnames.txt")),
        interfixes=tuple(interfixes),
        municipalities=tuple(_lines(d / "municipalities.txt")),
        common_words=lower(_lines(d / "common_words.txt")),
        first_rank={s.lower(): i for i, s in enumerate(_lines(d / "common_first_names.txt"))},
        surname_rank=surname_rank,
        directory=d,
    )
    _ = lexicons._deletes  # build the fuzzy index now (~1 s), not in the first call's verdicts
    return lexicons


def copy_lexicons(lexicons: Lexicons, out: Path) -> None:
    """Write the files ``lexicons`` were read from (and their manifest) to ``out``."""
    if lexicons.directory is None:
        raise LanguageModelError("these lexicons were not read from files; nothing to save")
    out.mkdir(parents=True, exist_ok=True)
    for name in (*LEXICON_FILES, MANIFEST):
        src, dst = lexicons.directory / name, out / name
        if not (dst.exists() and src.samefile(dst)):
            shutil.copyfile(src, dst)
