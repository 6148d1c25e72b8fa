"""The committed Dutch NER model in ``models/ner-nl`` loads offline and finds unseen names."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest
import spacy

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "ner-nl"
MAX_SIZE_BYTES = 8_000_000  # "a few MB": model + lexicons


def _fold(name: str) -> int:
    # the split rule of training.ner_train.name_fold, repeated so this test needs no deduce
    return int(hashlib.sha1(name.lower().encode("utf-8")).hexdigest(), 16) % 5


# Names from the held-back fold (never in training sentences) and names in no lexicon at all.
UNSEEN = [
    ("Goedemorgen, gemeente Zwolle, u spreekt met Tjitske Gerritsen.", "Tjitske Gerritsen"),
    ("Met Hidde van der Ploeg, waarmee kan ik u helpen?", "Hidde van der Ploeg"),
    ("Ik verbind u door met mevrouw Willemsen.", "Willemsen"),
    ("goedemiddag mijn naam is marloes smeets", "marloes smeets"),
    ("Hallo, je spreekt met Menno Driessen van Burgerzaken.", "Menno Driessen"),
    ("Goedemorgen, u spreekt met Zwaantje Olthoff-Brinkers.", "Zwaantje Olthoff-Brinkers"),
]


@pytest.fixture(scope="module")
def ner():
    return spacy.load(MODEL_DIR)


def test_model_files_are_committed_and_small() -> None:
    assert (MODEL_DIR / "config.cfg").exists() and (MODEL_DIR / "meta.json").exists()
    assert (MODEL_DIR / "MODEL_CARD.md").exists()
    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file())
    assert size < MAX_SIZE_BYTES, f"model directory is {size / 1e6:.1f} MB"


def test_model_is_named_and_versioned() -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text("utf-8"))
    assert meta["lang"] == "nl" and meta["name"] == "callcheck_ner"
    assert meta["version"].count(".") == 2
    assert set(meta["labels"]["ner"]) == {"PER", "ORG", "LOC"}


def test_lexicons_match_their_manifest() -> None:
    lex = MODEL_DIR / "lexicons"
    manifest = json.loads((lex / "manifest.json").read_text("utf-8"))
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((lex / name).read_bytes()).hexdigest() == digest, name


def test_model_loads_without_network(monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise OSError("network access attempted while loading the model")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    nlp = spacy.load(MODEL_DIR)
    assert nlp.pipe_names == ["ner"]
    assert nlp("Met Sanne.") is not None


def test_test_names_are_unseen_in_training() -> None:
    for _, name in UNSEEN[:5]:
        for part in name.replace("-", " ").split():
            if part.lower() not in {"van", "der", "de"}:
                assert _fold(part) == 0, part


def test_finds_unseen_person_names(ner) -> None:
    found = 0
    for text, name in UNSEEN:
        pers = [e.text for e in ner(text).ents if e.label_ == "PER"]
        if any(name in p or p in name and len(p) > 3 for p in pers):
            found += 1
    assert found >= len(UNSEEN) - 1, f"found {found} of {len(UNSEEN)}"


def test_municipality_after_gemeente_is_not_a_person(ner) -> None:
    doc = ner("Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen.")
    pers = [e.text for e in doc.ents if e.label_ == "PER"]
    assert "Zwolle" not in " ".join(pers)
