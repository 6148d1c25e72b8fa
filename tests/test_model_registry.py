"""Bigger or other Whisper models by name: `callcheck models add NAME PATH`, and a clear error
when a named model is not on the machine and model hubs are off."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import models
from pipeline.analysis.transcribe import (
    TranscribeOptions,
    Transcriber,
    TranscriptionError,
    resolve_model,
)
from pipeline.cli import main


@pytest.fixture(autouse=True)
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLCHECK_REGISTRY", str(tmp_path / "registry.json"))
    return tmp_path / "registry.json"


def _fake_model(folder):
    folder.mkdir()
    for name in models.CT2_WHISPER_FILES:
        (folder / name).write_bytes(name.encode())
    return folder


def test_a_registered_directory_is_used_by_name_with_its_checksum(tmp_path, capsys):
    folder = _fake_model(tmp_path / "small-ct2")
    assert main(["models", "add", "small", str(folder)]) == 0
    assert "--model small" in capsys.readouterr().out
    path, sha = resolve_model("small")
    assert path == str(folder.resolve()) and sha == models.sha256_file(folder / "model.bin")
    assert main(["models", "list"]) == 0
    assert "small" in capsys.readouterr().out
    # the folder moved away: a clear error, not a hub download attempt
    (folder / "model.bin").unlink()
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    with pytest.raises(TranscriptionError, match="register it again"):
        resolve_model("small")


def test_a_folder_that_is_no_ctranslate2_whisper_is_refused(tmp_path, registry):
    (tmp_path / "empty").mkdir()
    with pytest.raises(models.ModelError, match="model.bin"):
        models.register("small", tmp_path / "empty")
    with pytest.raises(models.ModelError, match="cannot name"):
        models.register("default", _fake_model(tmp_path / "m"))
    assert main(["models", "add", "small", str(tmp_path / "empty")]) == 2
    assert not registry.exists()


def test_a_hub_name_offline_says_what_to_do(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TranscriptionError, match="callcheck models add large-v3"):
        resolve_model("large-v3")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert resolve_model("large-v3") == ("large-v3", None)  # online: faster-whisper fetches it


@pytest.mark.models
def test_the_local_base_model_registered_by_name_transcribes(tmp_path):
    base, sha = resolve_model("default")
    models.register("base-local", base)
    t = Transcriber(TranscribeOptions(model="base-local"))
    assert t.model_info.sha256 == sha
    silence = np.zeros(16000 * 2, np.float32)
    assert t.transcribe(silence).text == ""  # it loads and runs; nothing invented on silence
