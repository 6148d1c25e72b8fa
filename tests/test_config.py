"""One pipeline config: TOML in, overrides, resolved TOML out, same fingerprint back."""

import pytest

from pipeline.analysis.config import ConfigError, PipelineConfig, load_config, to_toml


def test_resolved_config_round_trips_through_toml(tmp_path):
    config = load_config(None, {"transcribe": {"model": "/models/large", "beam_size": 2}})
    assert config.transcribe.model == "/models/large" and config.transcribe.beam_size == 2
    path = tmp_path / "config.toml"
    path.write_text(to_toml(config))
    again = load_config(path)
    assert again == config
    assert again.fingerprint() == config.fingerprint() != PipelineConfig().fingerprint()


def test_unknown_option_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[transcribe]\nbeam = 5\n")
    with pytest.raises(ConfigError, match="unknown option"):
        load_config(path)


def test_command_line_switches_set_the_question_search():
    from pipeline.cli import _analysis_config, build_parser

    args = build_parser().parse_args(["analyze", "calls", "--out", "o", "--question-search", "0"])
    assert _analysis_config(args).analysis.question_search_s == 0.0
    args = build_parser().parse_args(["analyze", "calls", "--out", "o"])
    assert _analysis_config(args).analysis.question_search_s == PipelineConfig().analysis \
        .question_search_s
