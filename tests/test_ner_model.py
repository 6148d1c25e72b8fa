"""The committed language stage in ``models/ner-nl``: it loads offline with ``spacy.load`` as a
whole (NER, trigger ruler, notice and introduction components), its rules are data files that
``models/SHA256SUMS`` covers, and its NER finds unseen names."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from pipeline.analysis import language
from pipeline.analysis.language import (
    components,  # registers the factories with spaCy
    stage,
)
from pipeline.models import read_checksums

MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "ner-nl"
MAX_SIZE_BYTES = 8_000_000  # "a few MB": model + lexicons
STAGE = ["ner", "callcheck_ruler", "callcheck_notices", "callcheck_introductions"]
RULE_DATA = ("callcheck_ruler/patterns", "callcheck_notices/words.json",
             "callcheck_introductions/words.json", "callcheck_introductions/lexicons/manifest.json")


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
    lex = MODEL_DIR / "callcheck_introductions" / "lexicons"
    manifest = json.loads((lex / "manifest.json").read_text("utf-8"))
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((lex / name).read_bytes()).hexdigest() == digest, name


def test_model_loads_without_network(monkeypatch) -> None:
    def no_network(*args, **kwargs):
        raise OSError("network access attempted while loading the model")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    nlp = spacy.load(MODEL_DIR)
    assert nlp.pipe_names == STAGE
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


# --------------------------------------------------------------------------------------------
# the whole stage as one spaCy pipeline
# --------------------------------------------------------------------------------------------


def test_spacy_load_returns_the_stage_with_its_results_on_the_doc(ner) -> None:
    assert ner.pipe_names == STAGE and tuple(STAGE[1:]) == components.PIPE_NAMES
    doc = ner("Gemeente Zwolle, goedemorgen, u spreekt met Sanne Jansen. "
              "Dit gesprek kan worden opgenomen voor kwaliteitsdoeleinden.")
    (notice,) = doc._.notices
    assert notice.recorded == "call" and notice.confidence >= language.NOTICE_MIN_CONFIDENCE
    assert [s.text for s in doc.spans["callcheck_notices"]] == [notice.text]
    (name,) = doc._.introductions
    assert (name.first, name.last, name.category) == ("Sanne", "Jansen", "full")
    assert [s.text for s in doc.spans["callcheck_names"]] == ["Sanne Jansen"]
    assert doc._.opening_cues.organisation == "gemeente Zwolle"
    assert {"INTRO", "ORG_HEAD", "MUNI", "REC_VERB"} <= {s.label_ for s in doc.spans["callcheck"]}


def test_plain_spacy_load_finds_the_components_by_entry_point() -> None:
    """No import of ours first: the installed package's spacy_factories entry points."""
    code = ("import sys, spacy; nlp = spacy.load(sys.argv[1]); "
            "doc = nlp('Dit gesprek wordt opgenomen.'); "
            "print(','.join(nlp.pipe_names), len(doc._.notices))")
    out = subprocess.run([sys.executable, "-c", code, str(MODEL_DIR)], capture_output=True,
                         text=True, check=True, cwd="/").stdout.split()
    assert out == ["ner,callcheck_ruler,callcheck_notices,callcheck_introductions", "1"]


def test_importing_the_language_package_does_not_import_spacy() -> None:
    """``pipeline.cli`` imports the package: spaCy (seconds) comes only with ``components``."""
    code = ("import sys, pipeline.analysis.language, pipeline.cli; "
            "print('spacy' in sys.modules, 'pipeline.analysis.language.components' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120, cwd=MODEL_DIR.parents[1])
    assert out.stdout.split() == ["False", "False"]


def test_spacys_assemble_command_builds_the_stage_from_the_config(tmp_path) -> None:
    """``spacy assemble training/ner-nl/assemble.cfg`` (with the assets written from the
    vocabulary) gives the committed stage: the NER's weights unchanged, the same rules."""
    from training import ner_assemble

    lexicons = MODEL_DIR / "callcheck_introductions" / "lexicons"
    ner_assemble.write_assets(tmp_path / "assets", lexicons)
    root = MODEL_DIR.parents[1]
    subprocess.run(
        [sys.executable, "-m", "spacy", "assemble", str(root / "training/ner-nl/assemble.cfg"),
         str(tmp_path / "stage"), "--code", str(root / "training/ner-nl/components.py"),
         "--paths.ner", str(MODEL_DIR), "--paths.assets", str(tmp_path / "assets"),
         "--paths.lexicons", str(lexicons)],
        capture_output=True, text=True, check=True, timeout=300)
    built = spacy.load(tmp_path / "stage")
    assert built.pipe_names == STAGE
    for rel in ("ner/model", "ner/moves", "tokenizer", "callcheck_ruler/patterns",
                "callcheck_notices/words.json", "callcheck_introductions/words.json"):
        assert (tmp_path / "stage" / rel).read_bytes() == (MODEL_DIR / rel).read_bytes(), rel


def test_the_rules_are_data_files_covered_by_the_checksums() -> None:
    sums = read_checksums()
    files = sorted(p for p in MODEL_DIR.rglob("*") if p.is_file() and p.name != "MODEL_CARD.md")
    assert files
    for path in files:
        rel = path.relative_to(MODEL_DIR.parent).as_posix()
        assert rel in sums, f"{rel} has no line in models/SHA256SUMS (make assemble-ner)"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[rel], rel
    assert not [r for r in sums if r.startswith("ner-nl/") and not (MODEL_DIR.parent / r).exists()]
    for rel in RULE_DATA:
        text = (MODEL_DIR / rel).read_text("utf-8")
        jsonl = "." not in rel  # the ruler's patterns: one JSON object a line
        rows = [json.loads(ln) for ln in text.splitlines()] if jsonl else [json.loads(text)]
        assert rows and rows[0]


def test_an_edited_rule_file_is_refused(tmp_path) -> None:
    copy = tmp_path / "ner-nl"
    shutil.copytree(MODEL_DIR, copy)
    stage.verify_model(copy)  # the committed sums, read for the copy's files
    with (copy / "callcheck_ruler" / "patterns").open("a", encoding="utf-8") as f:
        f.write('{"label":"REC_VERB","pattern":[{"LOWER":"bewaard"}]}\n')
    with pytest.raises(language.LanguageModelError, match="callcheck_ruler/patterns changed"):
        stage.verify_model(copy)
