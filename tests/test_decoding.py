"""Decoding per role: settings layers, flags, and the fields that reach the server's request body."""

import json
from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.llm.decoding import ROLE_DEFAULTS, Decoding
from agentwrite.settings import load_settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from tests.test_cli_http import run_cli


def test_layers_role_defaults_run_wide_config_env_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("temperature: 0.5\ndecoding:\n  writer: {min_p: 0.05, top_p: 0.9}\n")
    monkeypatch.setenv(
        "AGENTWRITE_DECODING", json.dumps({"writer": {"top_p": 0.8}, "judge": {"max_tokens": 64}})
    )
    settings = load_settings(config, overrides={"decoding": {"writer": {"repetition_penalty": 1.1}}})
    writer = settings.decoding_for("writer")
    assert (writer.temperature, writer.top_p, writer.min_p, writer.repetition_penalty) == (
        0.5,
        0.8,
        0.05,
        1.1,
    )
    judge = settings.decoding_for("judge")
    assert (judge.temperature, judge.max_tokens) == (0.5, 64)  # the run-wide temperature covers every role
    monkeypatch.delenv("AGENTWRITE_DECODING")
    assert load_settings().decoding_for("judge") == ROLE_DEFAULTS["judge"]


def test_bad_decoding_settings_are_one_line_input_errors() -> None:
    with pytest.raises(InputError, match="decoding"):
        load_settings(overrides={"decoding": {"writer": {"temperature": 5}}})
    with pytest.raises(InputError, match="decoding"):
        load_settings(overrides={"decoding": {"editor": {"temperature": 0.5}}})


def test_stronger_raises_only_the_repetition_penalty() -> None:
    base = Decoding(temperature=0.7, repetition_penalty=1.05)
    assert base.stronger(0.1) == Decoding(temperature=0.7, repetition_penalty=1.15)
    assert base.stronger(0) is base


def test_each_role_reaches_the_request_body(tmp_path: Path) -> None:
    """Planner and writer fields, from a config file and from flags, as a vLLM server receives them."""
    config = tmp_path / "run.toml"
    config.write_text('[decoding.writer]\nfrequency_penalty = 0.3\nstop = ["THE END"]\n')
    out = tmp_path / "doc.md"
    with OpenAIServer(writer_handler) as server:
        result = run_cli(
            "write", "Write a 1200-word essay on tea", "-o", str(out), "--base-url", server.base_url,
            "--config", str(config), "--decoding", "planner.temperature=0.2",
            "--decoding", "writer.min_p=0.05", "--decoding",
            'writer.extra_body={"chat_template_kwargs": {"enable_thinking": false}}',
            env={},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        bodies = [r.body for r in server.completion_requests()]
    plan, sections = bodies[0], bodies[1:]
    assert "response_format" in plan
    assert plan["temperature"] == 0.2 and "min_p" not in plan and "frequency_penalty" not in plan
    assert sections and all("response_format" not in b for b in sections)
    for body in sections:
        assert body["min_p"] == 0.05 and body["frequency_penalty"] == 0.3 and body["stop"] == ["THE END"]
        assert body["temperature"] == ROLE_DEFAULTS["writer"].temperature
        assert body["repetition_penalty"] == ROLE_DEFAULTS["writer"].repetition_penalty
        assert body["chat_template_kwargs"] == {"enable_thinking": False}
    recorded = json.loads((tmp_path / "doc.md.json").read_text())["decoding"]
    assert recorded["planner"]["temperature"] == 0.2 and recorded["writer"]["min_p"] == 0.05
    assert set(recorded) == {"planner", "sketcher", "writer", "continuation", "judge"}


def test_a_bad_decoding_flag_exits_2_before_any_request(tmp_path: Path) -> None:
    with OpenAIServer(writer_handler) as server:
        result = run_cli(
            "write", "Write a 1200-word essay on tea", "-o", str(tmp_path / "d.md"),
            "--base-url", server.base_url, "--decoding", "writer.speed=3", env={},
        )  # fmt: skip
        assert server.completion_requests() == []
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("agentwrite: error: --decoding writer.speed=3")
    assert not (tmp_path / "d.md").exists()
