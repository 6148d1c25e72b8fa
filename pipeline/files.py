"""Files the runs write and read: paths that cannot escape their folder, and writes that
readers never see half done. Shared by the batch, the store, the report and the review app."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class UnsafePathError(ValueError):
    """A relative file name that would resolve outside its folder."""


class OutputPathError(UnsafePathError):
    """An input's name would place output outside the output folder."""


def resolve_inside(root: Path, rel: str, suffix: str = "") -> Path:
    """``root/<rel><suffix>`` resolved, refusing a ``rel`` that is absolute, has ``..`` or
    empty parts, or resolves (through symlinks) outside ``root``."""
    base = root.resolve()
    parts = Path(rel).parts
    if Path(rel).is_absolute() or any(p in ("..", "") for p in parts):
        raise UnsafePathError(f"unsafe file name {rel!r}")
    target = (base / (rel + suffix)).resolve()
    if base not in target.parents:
        raise UnsafePathError(f"{rel!r} resolves outside {base}")
    return target


def output_path(out: Path, rel: str, suffix: str) -> Path:
    """``OUT/calls/<rel><suffix>``, refusing names that would escape ``OUT/calls``."""
    try:
        return resolve_inside(out / "calls", rel, suffix)
    except UnsafePathError as e:
        raise OutputPathError(str(e)) from e


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write text (or bytes) so that readers see the old file or the whole new one, never a
    part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with (os.fdopen(fd, "wb") if isinstance(data, bytes)
              else os.fdopen(fd, "w", encoding="utf-8", newline="")) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
