"""Settings precedence: defaults < config file < environment < flags."""

import re
from pathlib import Path

import pytest

from agentwrite.errors import InputError
from agentwrite.settings import Settings, load_settings


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: from-file\ntemperature: 0.3\nmax_retries: 2\nmode: parallel\ntop-p: 0.9\n")
    monkeypatch.setenv("AGENTWRITE_MODEL", "from-env")
    monkeypatch.setenv("AGENTWRITE_MAX_RETRIES", "7")
    monkeypatch.setenv("AGENTWRITE_SEED", "")  # empty is unset
    settings = load_settings(config, overrides={"model": "from-flag", "temperature": None})
    assert settings.model == "from-flag"  # flag beats env and file
    assert settings.max_retries == 7  # env beats file
    assert settings.temperature == 0.3  # file beats default; a None flag is "not given"
    assert (settings.mode, settings.top_p, settings.seed) == ("parallel", 0.9, None)
    assert settings.timeout == Settings().timeout  # default


def test_mappings_merge_key_by_key_across_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("decoding:\n  writer: {min_p: 0.05}\n")
    monkeypatch.setenv("AGENTWRITE_DECODING", '{"judge": {"temperature": 0.1}}')
    settings = load_settings(config, overrides={"decoding": {"writer": {"temperature": 0.9}}})
    assert (settings.decoding["writer"].min_p, settings.decoding["writer"].temperature) == (0.05, 0.9)
    assert settings.decoding["judge"].temperature == 0.1


def test_toml_config_and_api_key_from_openai_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "run.toml"
    config.write_text('base_url = "http://127.0.0.1:8000/v1"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-1")
    monkeypatch.setenv("API_KEY", "not-ours")
    settings = load_settings(config)
    assert settings.base_url == ["http://127.0.0.1:8000/v1"]
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-1"
    assert "sk-1" not in repr(settings)
    monkeypatch.setenv("AGENTWRITE_API_KEY", "sk-2")
    both = load_settings()
    assert both.api_key is not None and both.api_key.get_secret_value() == "sk-2"
    flag = load_settings(overrides={"api_key": "sk-3"})
    assert flag.api_key is not None and flag.api_key.get_secret_value() == "sk-3"


def test_base_url_from_openai_env_below_agentwrite_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:1/v1")  # not ours
    assert Settings().base_url == []
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")
    assert Settings().base_url == load_settings().base_url == ["http://127.0.0.1:8000/v1"]
    monkeypatch.setenv("AGENTWRITE_BASE_URL", "http://127.0.0.1:8001/v1,http://127.0.0.1:8002/v1")
    assert load_settings().base_url == ["http://127.0.0.1:8001/v1", "http://127.0.0.1:8002/v1"]
    monkeypatch.delenv("AGENTWRITE_BASE_URL")
    config = tmp_path / "run.yaml"
    config.write_text("base_urls: [http://127.0.0.1:8003/v1]\n")
    assert load_settings(config).base_url == ["http://127.0.0.1:8000/v1"]  # env beats file
    flag = load_settings(config, overrides={"base_url": "http://127.0.0.1:8004/v1"})
    assert flag.base_url == Settings(base_url=["http://127.0.0.1:8004/v1"]).base_url
    assert flag.base_url == ["http://127.0.0.1:8004/v1"]
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert load_settings(config).base_url == ["http://127.0.0.1:8003/v1"]


@pytest.mark.parametrize("where", ["OPENAI_BASE_URL", "AGENTWRITE_BASE_URL", "config"])
def test_a_bad_base_url_is_named_as_the_setting(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "run.yaml"
    if where == "config":
        config.write_text("base_url: 127.0.0.1:8000\n")
    else:
        config.write_text("{}\n")
        monkeypatch.setenv(where, "127.0.0.1:8000")
    with pytest.raises(InputError, match=r"^invalid setting base_url: '127\.0\.0\.1:8000' is not an http"):
        load_settings(config)


def test_settings_made_directly_see_the_environment_below_their_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENTWRITE_MODEL", "from-env")
    monkeypatch.setenv("AGENTWRITE_MODE", "sketch")
    assert (Settings().model, Settings(mode="parallel").mode) == ("from-env", "parallel")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("temperature: hot\n", "invalid setting temperature"),
        ("no_such_setting: 1\n", "invalid setting no_such_setting"),
        ("- a list\n", "must hold a mapping"),
        ("key: [unclosed\n", "not valid YAML"),
        ("min_section_words: 900\nmax_section_words: 300\n", "must not exceed"),
    ],
)
def test_bad_config_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    with pytest.raises(InputError, match=message):
        load_settings(config)


def test_missing_config_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"config file .* does not exist"):
        load_settings(tmp_path / "absent.yaml")


def test_bad_environment_value_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTWRITE_MAX_RETRIES", "many")
    with pytest.raises(InputError, match="max_retries"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AGENTWRITE_BASE_URL", ",,,", "invalid setting base_url: lists no server URL"),
        ("AGENTWRITE_BASE_URL", "[]", "invalid setting base_url: lists no server URL"),
        ("AGENTWRITE_BASE_URL", "http://127.0.0.1:70000/v1", "port out of range"),
        (
            "AGENTWRITE_BASE_URL",
            "http://u:pw@127.0.0.1:0/v1",
            "'http://127.0.0.1:0/v1' has a port out of range",
        ),
        ("AGENTWRITE_BASE_URL", "http://127.0.0.1:8x/v1", "port out of range"),
        ("OPENAI_BASE_URL", "http://:8000/v1", "names no host"),
        (
            "AGENTWRITE_DECODING",
            "{bad",
            "invalid setting decoding: its environment variable is not valid JSON",
        ),
        ("AGENTWRITE_API_KEY", "sk-1\r\n", "the API key cannot be sent as an HTTP header"),
    ],
)
def test_unusable_settings_are_input_errors_that_show_no_secret(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match=re.escape(message)) as raised:
        load_settings()
    assert "pw" not in str(raised.value) and "sk-1" not in str(raised.value)
