"""Every setting is a flag, generated from ``Settings``: help lists them, values reach the settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.cli.options import (
    EXPLICIT_FLAGS,
    NOT_FLAGS,
    ConfigFile,
    SettingsFlags,
    flag_names,
    with_setting_flags,
)
from agentwrite.cli.support import settings_from
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer

runner = CliRunner()
CLEAN_ENV = {"AGENTWRITE_BASE_URL": "", "OPENAI_BASE_URL": "", "COLUMNS": "200"}


def flags_of(name: str) -> list[str]:
    dashed = name.replace("_", "-")
    kind = Settings.model_fields[name].annotation
    return [f"--{dashed}", f"--no-{dashed}"] if kind in (bool, bool | None) else [f"--{dashed}"]


@pytest.fixture(scope="module")
def server():
    with OpenAIServer(writer_handler) as srv:
        yield srv


@pytest.mark.parametrize(
    "command", [["write"], ["plan"], ["dataset", "build"], ["eval", "run"], ["dataset", "instructions"]]
)
def test_help_lists_every_setting_but_the_api_key(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    skipped = {"seed"} if command == ["dataset", "instructions"] else set()  # its --seed seeds the draws
    for name in set(Settings.model_fields) - NOT_FLAGS - skipped:
        for flag in flags_of(name):
            assert flag in result.stdout, f"{flag} missing from {' '.join(command)} --help"
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "--api-key" not in text
    assert "AGENTWRITE_API_KEY or OPENAI_API_KEY" in text  # where the key comes from instead
    assert "AGENTWRITE_BASE_URL or OPENAI_BASE_URL" in text


def test_eval_score_takes_the_judges_settings() -> None:
    result = runner.invoke(app, ["eval", "score", "--help"], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert "--judge-base-url" in result.stdout and "--judge-model" in result.stdout
    assert "--max-retries" in result.stdout and "--timeout" in result.stdout
    assert " --model " not in result.stdout  # the judge's model is --judge-model
    assert "AGENTWRITE_API_KEY or OPENAI_API_KEY" in " ".join(result.stdout.replace("│", " ").split())


def test_help_text_is_the_settings_description() -> None:
    result = runner.invoke(app, ["write", "--help"], env=CLEAN_ENV)
    text = " ".join(result.stdout.replace("│", " ").split())
    for name in ("max_loop_cuts", "connect_timeout", "prior_text"):
        first_words = " ".join(Settings.model_fields[name].description.split()[:5])
        assert first_words in text, name
    assert "env AGENTWRITE_MAX_LOOP_CUTS" in text and "default 3" in text


def test_every_setting_is_a_generated_or_an_explicit_flag() -> None:
    names = flag_names()
    assert set(names) | NOT_FLAGS == set(Settings.model_fields)
    assert set(EXPLICIT_FLAGS) == {"base_url", "decoding"} and {"api_key", "allowed_base_urls"} == NOT_FLAGS


def test_flags_reach_the_settings_through_the_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config < environment < flag, for generated flags of each kind (number, bool, choice)."""
    seen: list[Settings] = []
    toy = typer.Typer()

    @toy.command()
    @with_setting_flags()
    def show(config: ConfigFile = None, *, settings_flags: SettingsFlags) -> None:
        seen.append(settings_from(config, **settings_flags))

    config = tmp_path / "c.yaml"
    config.write_text("timeout: 12\nmax_retries: 2\nmode: sketch\nstream: false\n")
    monkeypatch.setenv("AGENTWRITE_MAX_RETRIES", "7")
    args = ["--config", str(config), "--max-loop-cuts", "5", "--no-loop-guard", "--stream", "--prior-text",
            "digest", "--decoding", "writer.top_p=0.8", "--base-url", "http://h:1/v1"]  # fmt: skip
    result = runner.invoke(toy, args)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert settings.timeout == 12 and settings.mode == "sketch"  # config
    assert settings.max_retries == 7  # environment over config
    assert settings.max_loop_cuts == 5 and settings.loop_guard is False and settings.stream is True  # flags
    assert settings.prior_text == "digest" and settings.base_url == ["http://h:1/v1"]
    assert settings.decoding_for("writer").top_p == 0.8
    seen.clear()
    assert runner.invoke(toy, []).exit_code == 0
    assert seen[0] == Settings(max_retries=7)  # nothing given: nothing overridden


def test_the_decorator_refuses_a_command_that_shadows_a_setting() -> None:
    def clash(seed: int = 0, *, settings_flags: SettingsFlags) -> None: ...

    with pytest.raises(TypeError, match="seed"):
        with_setting_flags()(clash)
    with_setting_flags(skip=("seed",))(clash)  # the command's own --seed, on purpose

    def no_room(seed: int = 0) -> None: ...

    with pytest.raises(TypeError, match="settings_flags"):
        with_setting_flags()(no_room)


def test_plan_sends_what_the_generated_flags_say(server: OpenAIServer) -> None:
    before = len(server.requests)
    result = runner.invoke(
        app,
        ["plan", "Write a 1200-word essay on tea", "--base-url", server.base_url, "--no-stream",
         "--no-structured-output", "--temperature", "0.25", "--seed", "11"],
        env=CLEAN_ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sum(s["target_words"] for s in json.loads(result.stdout)["sections"]) == 1200
    chats = [r for r in server.requests[before:] if r.path.endswith("/chat/completions")]
    sent: dict[str, Any] = chats[0].body or {}
    assert not sent.get("stream") and "response_format" not in sent
    assert sent["temperature"] == 0.25 and sent["seed"] == 11
    before = len(server.requests)
    plain = runner.invoke(
        app, ["plan", "Write a 1200-word essay", "--base-url", server.base_url], env=CLEAN_ENV
    )
    assert plain.exit_code == 0, plain.output
    default = next(r.body for r in server.requests[before:] if r.path.endswith("/chat/completions"))
    assert default and default["stream"] is True and "response_format" in default and "seed" not in default


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--base-url", "ftp://example.com/v1"], "is not an http(s) URL"),
        (["--base-url", "http://127.0.0.1:9/v1", "--max-loop-cuts", "99"], "invalid setting max_loop_cuts"),
        (["--base-url", "http://127.0.0.1:9/v1", "--decoding", "nobody.top_p=1"], "nobody"),
    ],
)
def test_a_bad_setting_flag_exits_2_in_one_line(args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["plan", "Essay", *args], env=CLEAN_ENV)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("agentwrite: error:") and fragment in lines[0], lines


def test_a_choice_flag_refuses_other_values() -> None:
    result = runner.invoke(app, ["plan", "Essay", "--mode", "bogus"], env=CLEAN_ENV)
    assert result.exit_code == 2
    assert "sequential" in result.stderr and "Traceback" not in result.output
