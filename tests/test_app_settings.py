"""The LangGraph server's runs send their requests only where its operator allows, and never
carry an API key: a run's context is refused, in one line, before any model is made."""

from __future__ import annotations

import re

import pytest

from agentwrite.errors import InputError
from agentwrite.graph.app import ServeContext, run_settings

OWN = "http://127.0.0.1:8000/v1"
OTHER = "http://127.0.0.1:8001/v1"


@pytest.fixture(autouse=True)
def operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTWRITE_BASE_URL", OWN)
    monkeypatch.setenv("AGENTWRITE_API_KEY", "sk-server-own")


def test_a_run_uses_the_servers_own_url_by_default() -> None:
    assert run_settings(ServeContext(settings={"mode": "parallel"})).base_url == [OWN]
    assert run_settings(ServeContext(settings={"base_url": [OWN]})).base_url == [OWN]


@pytest.mark.parametrize("name", ["base_url", "base_urls", "OPENAI_BASE_URL", "AGENTWRITE_BASE_URL"])
def test_a_run_may_not_send_requests_elsewhere(name: str) -> None:
    with pytest.raises(InputError, match=re.escape("may not send requests to " + OTHER)) as refused:
        run_settings(ServeContext(settings={name: f"http://user:pw@{OTHER.removeprefix('http://')}"}))
    assert "pw" not in str(refused.value)


def test_the_operator_allows_other_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTWRITE_ALLOWED_BASE_URLS", f"{OTHER},http://127.0.0.1:8002/v1")
    assert run_settings(ServeContext(settings={"base_url": [OTHER]})).base_url == [OTHER]
    with pytest.raises(InputError, match=re.escape("may not send requests to http://127.0.0.1:8003/v1")):
        run_settings(ServeContext(settings={"base_url": [OTHER, "http://127.0.0.1:8003/v1"]}))


@pytest.mark.parametrize("name", ["api_key", "API_KEY", "OPENAI_API_KEY", "AGENTWRITE_API_KEY", "api-key"])
def test_a_run_never_carries_a_key(name: str) -> None:
    with pytest.raises(InputError, match="may not carry an API key") as refused:
        run_settings(ServeContext(settings={name: "sk-from-the-client"}))
    assert "sk-" not in str(refused.value)


@pytest.mark.parametrize("name", ["allowed_base_urls", "allowed-base-urls"])
def test_a_run_may_not_widen_the_allow_list(name: str) -> None:
    with pytest.raises(InputError, match="may not change allowed_base_urls"):
        run_settings(ServeContext(settings={name: [OTHER], "base_url": [OTHER]}))
