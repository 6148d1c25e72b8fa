"""Assemble the language stage, ``models/ner-nl``, from the trained NER and the rules' data.

As ``spacy assemble`` does, with ``training/ner-nl/assemble.cfg``: the trained ``ner`` is
sourced unchanged (its weights are copied, not retrained), its tokenizer and vocab are copied,
and spaCy's span ruler (``callcheck_ruler``) and the components ``callcheck_notices`` and
``callcheck_introductions`` (``pipeline.analysis.language.components``) are added. Their data
-- the ruler's patterns and the components' word lists -- are written here from
``pipeline.analysis.vocabulary`` and the lexicon of municipalities into ``training/ner-nl/assets``,
read by ``initialize`` and saved with the model. Then ``meta.json`` and the model's lines in
``models/SHA256SUMS`` (which ``load_nlp`` checks).

Usage (``make assemble-ner``; ``make train-ner`` trains first)::

    python training/ner_assemble.py                       # the NER of the committed model
    python training/ner_assemble.py --ner training/ner-nl/training/ner   # a new training run

It runs as a script from the spaCy project (``training/ner-nl/project.yml``), so it imports
nothing of ``training``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.util import get_sourced_components, load_config, load_model_from_config

from pipeline.analysis import vocabulary as v
from pipeline.analysis.language.components import PIPE_NAMES
from pipeline.analysis.language.lexicons import load_lexicons

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "training" / "ner-nl"
MODEL_DIR = ROOT / "models" / "ner-nl"
SHA256SUMS = ROOT / "models" / "SHA256SUMS"
STAGE_VERSION = "0.2.0"  # of the assembled stage; the trained NER keeps its own in meta.callcheck
UNHASHED = ("MODEL_CARD.md",)  # documentation, not read when the model loads
ASSETS = ("ruler_patterns.json", "notice_words.json", "introduction_words.json")


# --------------------------------------------------------------------------------------------
# the rules' data, from the vocabulary
# --------------------------------------------------------------------------------------------


def departments() -> list[str]:
    """Every department name the rules know, lower case."""
    return [d.lower() for d in v.DEPARTMENTS] + list(v.DEPARTMENT_VARIANTS)


# "met" misheard by a letter or two ("meth", "metzr", "mt", "mat"), not "met" itself
MET_MISHEARD = r"^(met[a-z]{1,2}|m[a-df-z]t|mt)$"


def ruler_patterns(municipalities: list[str] | tuple[str, ...]) -> list[dict]:
    """Patterns of the trigger ruler; labels are the evidence kinds the rules read."""
    pats: list[dict] = []

    def phrases(label: str, items, pid: str | None = None) -> None:
        for it in items:
            p: dict = {"label": label, "pattern": [{"LOWER": w} for w in it.split()]}
            if pid:
                p["id"] = pid
            pats.append(p)

    for phrase, pid in v.INTRO_PHRASES.items():
        phrases("INTRO", [phrase], pid)
    # the content word of an introduction misheard by one letter ("u sprekt met", "mijn naan
    # is"); and "met" lost after "u spreekt", taken only with a name from the lexicons
    you = {"LOWER": {"IN": ["u", "je", "jij"]}}
    speak = {"LOWER": {"FUZZY1": "spreekt"}}
    pats.append({"label": "INTRO", "id": "u_spreekt_met",
                 "pattern": [you, speak, {"LOWER": {"IN": ["met", "mee"]}}]})
    pats.append({"label": "INTRO", "id": "u_spreekt", "pattern": [you, speak]})
    # "met" misheard by a letter ("u spreekt meth mevrouw Meijer"), and "u heeft" with "u" heard
    # as "uw" or "heeft" by one letter ("uw heeft Thijs Dijkstra", "u heewt Pieter Bakker")
    pats.append({"label": "INTRO", "id": "u_spreekt_met",
                 "pattern": [you, speak, {"LOWER": {"REGEX": MET_MISHEARD}}]})
    pats.append({"label": "INTRO", "id": "u_heeft", "pattern": [
        {"LOWER": {"IN": ["u", "uw", "je", "jij"]}},
        {"LOWER": {"FUZZY1": "heeft", "REGEX": "^h"}}]})  # not "u geeft aan"
    pats.append({"label": "INTRO", "id": "mijn_naam_is", "pattern": [
        {"LOWER": {"IN": ["mijn", "m'n", "mn"]}}, {"LOWER": {"FUZZY1": "naam"}},
        {"LOWER": "is"}]})
    # "mijn" misheard or lost ("ijk naam Iris"): "naam" alone, taken only with a name from the
    # lexicons and not after a word that makes it someone else's ("uw naam", "de naam")
    pats.append({"label": "INTRO", "id": "naam",
                 "pattern": [{"LOWER": "naam"}, {"LOWER": "is", "OP": "?"}]})
    # "naam" lost ("mijn is Iris"): taken only with a name from the lexicons
    pats.append({"label": "INTRO", "id": "mijn_is", "pattern": [
        {"LOWER": {"IN": ["mijn", "m'n", "mn"]}}, {"LOWER": "is"}]})
    phrases("LINE", v.LINE_PHRASES)
    phrases("CALLER_CUE", v.CALLER_PHRASES)
    phrases("DEPT", departments())
    phrases("ANSWER_SENSE", v.ANSWER_SENSE)
    phrases("TITLE", [t for t in v.TITLES if " " in t])
    single_titles = [t for t in v.TITLES if " " not in t] + list(v.TITLE_VARIANTS)
    pats.append({"label": "TITLE", "pattern": [{"LOWER": {"IN": single_titles}}]})
    # "met" misheard by a letter before a title ("metp meneer Hendriks"): the title keeps it
    # from being any other word
    pats.append({"label": "INTRO", "id": "met", "pattern": [
        {"LOWER": {"REGEX": MET_MISHEARD}}, {"LOWER": {"IN": single_titles}}]})
    pats += [{"label": "TITLE", "pattern": [{"LOWER": {"FUZZY1": t}}]}
             for t in v.TITLES if t.isalpha()]
    single = sorted(set(v.GREETINGS) - set(v.GREETINGS_NOT_ALONE))
    pats.append({"label": "GREETING", "pattern": [{"LOWER": {"IN": single}}]})
    # a long greeting misheard by one letter ("goedewndag"); short ones would catch other words
    pats += [{"label": "GREETING", "pattern": [{"LOWER": {"FUZZY1": g}}]}
             for g in sorted(set(v.GREETINGS.values())) if len(g) >= 9]
    phrases("GREETING", v.GREETINGS_IN_TWO_WORDS)
    pats.append({"label": "ORG_HEAD", "pattern": [{"LOWER": {"REGEX": v.ORG_HEAD_RE}}]})
    pats.append({"label": "ORG_HEAD", "pattern": [{"LOWER": {"FUZZY1": "gemeente"}}]})
    for head in v.DEPARTMENT_HEADS:
        pats.append({"label": "DEPT", "pattern": [
            {"LOWER": head}, {"IS_ALPHA": True, "LOWER": {"NOT_IN": sorted(v.NAME_STOP_WORDS)}}]})
    # phrase patterns go through the tokenizer, so "'s-Hertogenbosch" splits as in the text
    for m in (*municipalities, *v.MUNICIPALITY_ALIASES):
        pats.append({"label": "MUNI", "pattern": m})
    # notices
    pats.append({"label": "REC_VERB", "id": "exact",
                 "pattern": [{"LOWER": {"IN": list(v.RECORD_VERBS)}}]})
    for word in v.RECORD_VERBS_FUZZY:
        pats.append({"label": "REC_VERB", "id": "fuzzy", "pattern": [{"LOWER": {"FUZZY1": word}}]})
    phrases("REC_VERB", v.RECORD_VERBS_SPLIT, "split")
    for particle, (verbs, not_between) in v.RECORD_SEPARABLE.items():
        pats.append({"label": "REC_SEP", "id": "separable", "pattern": [
            {"LOWER": {"IN": list(verbs)}},
            {"IS_PUNCT": False, "LOWER": {"NOT_IN": list(not_between)}, "OP": "{0,6}"},
            {"LOWER": particle}]})
    pats.append({"label": "REC_NOUN", "pattern": [{"LOWER": {"IN": list(v.RECORD_NOUNS)}}]})
    phrases("REC_NOUN", v.RECORD_NOUN_PHRASES)
    pats.append({"label": "CALL_NOUN", "pattern": [{"LOWER": {"REGEX": v.CALL_NOUN_RE}}]})
    pats.append({"label": "PURPOSE", "pattern": [{"LOWER": {"REGEX": v.PURPOSE_RE}}]})
    pats.append({"label": "NEGATION", "pattern": [{"LOWER": {"IN": list(v.NEGATIONS)}}]})
    return pats


def notice_words() -> dict:
    """The word lists of ``callcheck_notices`` (``pipeline.analysis.language.NoticeWords``)."""
    return {
        "data_nouns": sorted(v.DATA_NOUNS),
        "data_nouns_in_compounds": list(v.DATA_NOUNS_IN_COMPOUNDS),
        "containers": v.CONTAINERS_RE,
        "negation_exempt_near": sorted(v.NEGATION_EXEMPT_NEAR),
        "determiners": sorted(v.DETERMINERS),
        "question_verbs": sorted(v.QUESTION_VERBS),
        "garbled_participle": v.GARBLED_PARTICIPLE_RE,
        "not_garbled_participles": sorted(v.NOT_GARBLED_PARTICIPLES),
        "garbled_passive_participle": v.GARBLED_PASSIVE_PARTICIPLE_RE,
        "not_garbled_passive_participles": sorted(v.NOT_GARBLED_PASSIVE_PARTICIPLES),
        "worden_forms": sorted(v.WORDEN_FORMS),
        "separable_record_verbs": sorted(v.SEPARABLE_RECORD_VERBS),
        "separable_record_particles": sorted(v.SEPARABLE_RECORD_PARTICLES),
        "passive_aux": sorted(v.PASSIVE_AUX),
        "pronouns": sorted(v.PRONOUNS),
        "greetings": sorted(v.GREETINGS),
        "fillers": sorted(v.FILLERS),
        "misheard_call_nouns": list(v.MISHEARD_CALL_NOUNS),
        "misheard_purposes": list(v.MISHEARD_PURPOSES),
    }


def introduction_words() -> dict:
    """The word lists of ``callcheck_introductions`` (``...language.turn.IntroWords``)."""
    phrases = (*v.INTRO_PHRASES, *v.LINE_PHRASES, *v.ANSWER_SENSE, *v.CALLER_PHRASES,
               *departments(), *v.GREETINGS)
    return {
        "stop": sorted(v.NAME_STOP_WORDS),
        "greetings": dict(sorted(v.GREETINGS.items())),
        "fillers": sorted(v.FILLERS),
        "met_ok_before": sorted(v.MET_OK_BEFORE),
        "languages": sorted(v.LANGUAGES),
        "determiners": sorted(v.DETERMINERS),
        "department_endings": list(v.DEPARTMENT_ENDINGS),
        "municipality_aliases": dict(v.MUNICIPALITY_ALIASES),
        "hallucination_sentences": list(v.HALLUCINATION_SENTENCES),
        "hallucinations": list(v.HALLUCINATIONS),
        "phrase_words": sorted({w for phrase in phrases for w in phrase.split()}),
    }


def lexicons_of_model(ner: Path) -> Path:
    """Where the lexicons are: beside a trained NER, or inside an assembled model."""
    for d in (ner / "lexicons", ner / PIPE_NAMES[2] / "lexicons"):
        if (d / "manifest.json").exists():
            return d
    raise SystemExit(f"no lexicons under {ner}: train first (make train-ner)")


def write_assets(assets: Path, lexicons: Path) -> None:
    """The ruler's patterns and the components' word lists, for ``initialize``."""
    assets.mkdir(parents=True, exist_ok=True)
    munis = load_lexicons(lexicons).municipalities
    srsly.write_json(assets / ASSETS[0], ruler_patterns(munis))  # a list, as initialize wants
    srsly.write_json(assets / ASSETS[1], notice_words())
    srsly.write_json(assets / ASSETS[2], introduction_words())


# --------------------------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------------------------


def build(config: Path, ner: Path, assets: Path) -> Language:
    """The pipeline of ``config`` with its [paths] filled, initialised as ``spacy assemble``
    does: the sourced ``ner`` is left as it was trained."""
    lexicons = lexicons_of_model(ner)
    write_assets(assets, lexicons)
    overrides = {"paths.ner": str(ner), "paths.assets": str(assets),
                 "paths.lexicons": str(lexicons)}
    cfg = load_config(config, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(cfg, auto_fill=True)
    sourced = get_sourced_components(cfg.interpolate())
    nlp._link_components()
    with nlp.select_pipes(disable=[*sourced]):
        nlp.initialize()
    for key in overrides:  # this machine's paths are not part of the model
        nlp.config["paths"][key.split(".")[1]] = None
    trained = json.loads((ner / "meta.json").read_text("utf-8"))
    info = dict(trained.get("callcheck", {}))
    info.setdefault("ner_version", trained.get("version"))
    nlp.meta.update({
        "name": trained.get("name", "callcheck_ner"),
        "version": STAGE_VERSION,
        "description": "callcheck's Dutch language stage: a small NER (PER, ORG, LOC) trained "
                       "on generated call openings, the trigger ruler, and the recording-notice "
                       "and introduction components; see MODEL_CARD.md",
        "author": trained.get("author", "callcheck"),
        "license": trained.get("license", ""),
        "performance": trained.get("performance", {}),
        "callcheck": info,
    })
    return nlp


def checksum_lines(model: Path) -> list[str]:
    """``sha256  ner-nl/...`` for every file of ``model`` that loading reads."""
    out = []
    for f in sorted(p for p in model.rglob("*") if p.is_file()):
        rel = f.relative_to(model.parent).as_posix()
        if f.name not in UNHASHED:
            out.append(f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {rel}")
    return out


def update_checksums(model: Path, sums: Path = SHA256SUMS) -> None:
    """Replace the lines of ``model`` in ``sums`` (the other models' lines are kept)."""
    prefix = f"{model.name}/"
    note = (f"# {prefix}: the assembled language stage (training/ner_assemble.py, make "
            "assemble-ner); checked when it loads")
    kept = [ln for ln in sums.read_text("utf-8").splitlines()
            if ln.strip() and not ln.split()[-1].startswith(prefix) and ln != note]
    sums.write_text("\n".join([*kept, note, *checksum_lines(model)]) + "\n", "utf-8")


def assemble(config: Path, ner: Path, out: Path, assets: Path) -> Path:
    """Build and write the stage to ``out`` (replacing it: its model card is kept); update
    ``models/SHA256SUMS`` when ``out`` is the committed model."""
    nlp = build(config, ner, assets)
    tmp = out.parent / f".{out.name}.assembling"
    old = out.parent / f".{out.name}.replaced"
    for d in (tmp, old):
        shutil.rmtree(d, ignore_errors=True)
    nlp.to_disk(tmp)
    for name in UNHASHED:
        if (out / name).exists():
            shutil.copyfile(out / name, tmp / name)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    if out.resolve() == MODEL_DIR.resolve():
        update_checksums(out)
    logger.info("assembled %s: %s", out, ", ".join(nlp.pipe_names))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python training/ner_assemble.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT / "assemble.cfg",
                        help="the spaCy config of the stage")
    parser.add_argument("--ner", type=Path, default=MODEL_DIR,
                        help="the trained NER to source (a training run's output, or the "
                        "committed model, whose NER is taken unchanged)")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where the stage goes")
    parser.add_argument("--assets", type=Path, default=PROJECT / "assets",
                        help="where the patterns and word lists are written for initialize")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    assemble(args.config, args.ner.resolve(), args.out.resolve(), args.assets.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
