"""Settings precedence: defaults < config file < environment < flags."""

from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.settings import Settings, load_settings


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: from-file\ntemperature: 0.3\nmax_retries: 2\nmode: parallel\n")
    env = {"AGENTWRITE_MODEL": "from-env", "AGENTWRITE_MAX_RETRIES": "7"}
    settings = load_settings(config, env=env, overrides={"model": "from-flag", "temperature": None})
    assert settings.model == "from-flag"  # flag beats env and file
    assert settings.max_retries == 7  # env beats file
    assert settings.temperature == 0.3  # file beats default; a None flag is "not given"
    assert settings.mode == "parallel"
    assert settings.timeout == Settings().timeout  # default


def test_toml_config_and_api_key_from_openai_env(tmp_path: Path) -> None:
    config = tmp_path / "run.toml"
    config.write_text('base_url = "http://127.0.0.1:8000/v1"\n')
    settings = load_settings(config, env={"OPENAI_API_KEY": "sk-1"})
    assert settings.base_url == "http://127.0.0.1:8000/v1"
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-1"
    assert "sk-1" not in repr(settings)
    both = load_settings(env={"OPENAI_API_KEY": "sk-1", "AGENTWRITE_API_KEY": "sk-2"})
    assert both.api_key is not None and both.api_key.get_secret_value() == "sk-2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("temperature: hot\n", "invalid setting temperature"),
        ("no_such_setting: 1\n", "invalid setting no_such_setting"),
        ("- a list\n", "must hold a mapping"),
        ("key: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(InputError, match=message):
        load_settings(config, env={})


def test_bad_environment_value_is_an_input_error() -> None:
    with pytest.raises(InputError, match="max_retries"):
        load_settings(env={"AGENTWRITE_MAX_RETRIES": "many"})
