"""The API key, from whichever source, and a server URL's password reach the server in the
``Authorization`` header and nowhere else: no file any command writes, no output."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.testing.hostile_drill import secrets_found
from agentwrite.testing.openai_server import OpenAIServer
from tests.test_dataset_export import _http_reply

KEY = 'sk-"drill"-Zq9/+='  # a quote, a slash: escaped forms are looked for too
PASSWORD = "pw-Drill-77"


@pytest.fixture(scope="module")
def server():
    with OpenAIServer(_http_reply) as srv:
        yield srv


def with_password(url: str) -> str:
    return url.replace("http://", f"http://drill:{PASSWORD}@")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env=env)


def authorizations(server: OpenAIServer, since: int) -> set[str | None]:
    return {r.headers.get("authorization") for r in server.requests[since:]}


@pytest.mark.parametrize("source", ["AGENTWRITE_API_KEY", "OPENAI_API_KEY", "config"])
def test_the_key_from_each_source_is_sent_and_written_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer, source: str
) -> None:
    monkeypatch.chdir(tmp_path)
    env, config = {}, []
    if source == "config":
        (tmp_path / "settings.yaml").write_text(f"api_key: {json.dumps(KEY)}\n")
        config = ["--config", "settings.yaml"]
    else:
        env[source] = KEY
    since = len(server.requests)
    result = invoke(
        "write", "Write a 600-word note", "-o", "doc.md", "--keep-run-dir", "--base-url", server.base_url,
        *config, env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert authorizations(server, since) == {f"Bearer {KEY}"}
    assert (tmp_path / "doc.md.run" / "checkpoints.sqlite").is_file()
    assert (
        secrets_found(tmp_path, [result.stdout, result.stderr], [KEY])
        == [str(tmp_path / "settings.yaml")][: len(config) // 2]
    )


def test_a_url_password_is_sent_as_basic_auth_and_recorded_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    monkeypatch.chdir(tmp_path)
    since = len(server.requests)
    result = invoke(
        "write", "Write a 600-word note", "-o", "doc.md", "--base-url", with_password(server.base_url)
    )
    assert result.exit_code == 0, result.output
    basic = "Basic " + base64.b64encode(f"drill:{PASSWORD}".encode()).decode()
    assert authorizations(server, since) == {basic}
    assert secrets_found(tmp_path, [result.stdout, result.stderr], [PASSWORD, "drill:"]) == []
    assert list(json.loads((tmp_path / "doc.md.json").read_text())["endpoints"]) == [server.base_url]


def test_an_unreachable_server_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"http://drill:{PASSWORD}@127.0.0.1:9/v1"  # the discard port: nothing listens there
    result = invoke(
        "write", "Write a 500-word note", "-o", str(tmp_path / "d.md"), "--base-url", url,
        "--max-retries", "0", env={"AGENTWRITE_API_KEY": KEY},
    )  # fmt: skip
    assert result.exit_code == 1 and "http://127.0.0.1:9/v1" in result.stderr, result.output
    assert secrets_found(tmp_path, [result.stdout, result.stderr], [PASSWORD, KEY]) == []


@pytest.mark.parametrize("key", ["sk-drill\r", "sk-drill\n", "sk-dr ill", "sk-drill-ключ", ""])
def test_a_key_that_cannot_be_a_header_is_bad_input_and_never_shown(
    tmp_path: Path, server: OpenAIServer, key: str
) -> None:
    since = len(server.requests)
    env = {"AGENTWRITE_API_KEY": key} if key else {}
    config = tmp_path / "c.yaml"
    config.write_text(f"api_key: {json.dumps(key)}\n")
    result = invoke(
        "write", "Write a note", "-o", str(tmp_path / "d.md"), "--base-url", server.base_url,
        *(["--config", str(config)] if not key else []), env=env,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "API key" in lines[0] and "Traceback" not in result.output
    assert len(server.requests) == since, "no request, and no retry"
    if key:
        assert "sk-dr" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


@pytest.mark.slow
def test_build_merge_export_and_eval_record_no_key_and_no_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAIServer
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text(
        "".join(
            json.dumps({"prompt": f"Write a 700-word essay on topic {i}.", "type": "essay", "length": 700})
            + "\n"
            for i in range(2)
        )
    )
    recipe = {
        "settings": {"api_key": KEY, "base_url": with_password(server.base_url), "max_continuations": 0}
    }
    (tmp_path / "recipe.yaml").write_text(json.dumps(recipe))
    outputs = []
    for args in (
        ["dataset", "build", "in.jsonl", "--out", "b", "--recipe", "recipe.yaml", "-q"],
        ["dataset", "merge", "b", "--out", "m"],
        ["dataset", "export", "m", "--format", "sharegpt", "--out", "m.jsonl"],
        ["dataset", "export", "m", "--format", "hf", "--out", "hf"],
        ["eval", "run", "in.jsonl", "--out", "e", "--target", "direct", "--limit", "1", "-q",
         "--base-url", with_password(server.base_url)],
        ["eval", "score", "e", "--judge-base-url", with_password(server.base_url), "--no-embeddings"],
        ["eval", "report", "e", "--out", "r"],
    ):  # fmt: skip
        result = invoke(*args, env={"AGENTWRITE_API_KEY": KEY})
        assert result.exit_code == 0, (args, result.output)
        outputs += [result.stdout, result.stderr]
    assert json.loads((tmp_path / "b" / "build.json").read_text())["sessions"][0]["settings"]["base_url"] == [
        server.base_url
    ]
    assert secrets_found(tmp_path, outputs, [KEY, PASSWORD]) == [str(tmp_path / "recipe.yaml")]
